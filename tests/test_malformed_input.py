"""Every input path answers malformed input with a clear error and carries on (issue 13)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.channels.limits import BadJson, depth, loads
from content.pack import ContentPack
from tests.test_console_jsonl import ROOT, Bot
from tests.test_whatsapp import Rig, close_rig, make_rig

DEEP = "[" * 1000 + "]" * 1000
HUGE_INT = '{"from": "u1", "text": "x", "n": ' + "9" * 5000 + "}"
HELLO = {"from": "u1", "text": "bonjour"}


def test_jsonl_survives_every_malformed_line(tmp_path: Path) -> None:
    bot = Bot(tmp_path / "bot.sqlite3")
    try:
        bad = [
            DEEP,
            '{"from": "u1", "text": ' + "[" * 5000 + "]" * 5000 + "}",
            HUGE_INT,
            '{"from": "u1", "text": "' + "a" * 200_000 + '"}',
            '{"from": "u1", "text": "\\ud800"',
            "nan",
            '{"from": 1e999, "text": "x"}',
            '{"from": "u1", "location": {"lat": NaN, "lon": 1}}',
            '{"from": "u1", "location": {"lat": 1e300, "lon": 1}}',
        ]
        for number, line in enumerate(bad, start=1):
            out = bot.send(line)
            assert out["in"] == number and "error" in out, (number, out)
        # The loop is alive and the conversation goes on.
        out = bot.send(HELLO)
        assert out["in"] == len(bad) + 1 and "langue" in out["replies"][0]["text"]
        assert bot.close() == 0
    finally:
        if bot.proc.poll() is None:
            bot.kill()


def test_jsonl_survives_bytes_that_are_not_utf8(tmp_path: Path) -> None:
    lines = b'\xff\xfe{"from": "u1"}\n{"from": "u1", "text": "bonjour"}\n'
    done = subprocess.run(
        [sys.executable, "-m", "bot", "chat", "--jsonl", "--db", str(tmp_path / "b.sqlite3")],
        input=lines,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    outputs = done.stdout.decode().splitlines()
    assert done.returncode == 0 and len(outputs) == 2
    assert '"error"' in outputs[0] and "langue" in outputs[1]


def test_limits_are_checked_before_parsing() -> None:
    assert depth('{"a": "[[[[[[", "b": [[1]]}') == 3
    for raw, reason in ((DEEP, "deeply"), (HUGE_INT, "unreadable"), ("x" * 2_000_000, "long")):
        try:
            loads(raw)
        except BadJson as exc:
            assert reason in str(exc) and exc.over_limit
        else:
            raise AssertionError(reason)


async def test_whatsapp_signed_body_nested_5000_deep_is_refused_cleanly(
    tmp_path: Path, pack: ContentPack
) -> None:
    rig = await make_rig(tmp_path, pack)
    try:
        await _nested_bodies(rig)
    finally:
        await close_rig(rig)


async def _nested_bodies(rig: Rig) -> None:
    raw = b'{"object": "whatsapp_business_account", "entry": ' + b"[" * 5000 + b"]" * 5000 + b"}"
    assert await rig.post({}, raw=raw) == 400
    big = b'{"entry": [' + b"9" * 5000 + b"]}"
    assert await rig.post({}, raw=big) == 400
    # And the webhook still works.
    sent = await rig.say("22370000009", "bonjour")
    assert sent and "langue" in sent[0].text


def test_ask_survives_bytes_that_are_not_utf8() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "ask"],
        input=b"\xff\xfe panne\neau potable\n",
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    lines = done.stdout.decode().splitlines()
    assert done.returncode == 0 and len(lines) == 2 and '"results"' in lines[1]

"""The JSON-lines contract of `civicbot chat --jsonl`, end to end through a subprocess."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from bot.channels.console import ConsoleChannel
from content.pack import ContentPack
from handlers.engine import default_flows
from handlers.flow import Flow, Router
from handlers.messages import Choice, Reply
from handlers.turn import Turn
from storage.records import NewOutboxMessage
from storage.sqlite import SqliteStore
from tests.conftest import FakeClock, make_engine

ROOT = Path(__file__).resolve().parent.parent


class Bot:
    """A running `civicbot chat --jsonl` process, one line in, one line out."""

    def __init__(self, db: Path, log: Path | None = None, **env: str) -> None:
        environment = os.environ | {"CIVICBOT_LOG_LEVEL": "WARNING"} | env
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "chat", "--jsonl", "--db", str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=log.open("w", encoding="utf-8") if log else subprocess.DEVNULL,
            text=True,
            encoding="utf-8",
            cwd=ROOT,
            env=environment,
        )

    def send(self, line: str | dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin and self.proc.stdout
        raw = line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)
        self.proc.stdin.write(raw + "\n")
        self.proc.stdin.flush()
        out = self.proc.stdout.readline()
        assert out, "the process closed its output"
        result: dict[str, Any] = json.loads(out)
        return result

    def close(self) -> int:
        assert self.proc.stdin
        self.proc.stdin.close()
        return self.proc.wait(timeout=30)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)


def ids(result: dict[str, Any]) -> list[str]:
    return [c["id"] for r in result["replies"] for c in r["choices"]]


def test_jsonl_contract_and_bad_lines(tmp_path: Path) -> None:
    bot = Bot(tmp_path / "bot.sqlite3")
    try:
        first = bot.send({"from": "a", "text": "bonjour", "name": "Awa", "lang": "fr"})
        assert first["in"] == 1
        reply = first["replies"][0]
        assert reply["chat"] == "a" and set(reply) >= {"chat", "text", "choices"}
        assert ids(first) == ["lang:fr", "lang:bm"]
        assert all(set(c) >= {"id", "label"} for c in reply["choices"])
        assert bot.send({"from": "a", "choice": "lang:fr"})["in"] == 2
        bad_lines: list[str] = [
            "not json at all",
            "[1, 2]",
            '"text"',
            "42",
            "{}",
            '{"text": "x"}',
            '{"from": "a"}',
            '{"from": "a", "text": 5}',
            '{"from": ["a"], "text": "x"}',
            '{"from": "a", "text": "x", "choice": "y"}',
            '{"from": "a", "chat_type": "channel", "text": "x"}',
            '{"from": "a", "location": {"lat": "north", "lon": 1}}',
            '{"from": "a", "media": {"kind": "video", "ref": "r"}}',
            "",
        ]
        for n, line in enumerate(bad_lines, start=3):
            out = bot.send(line)
            assert out["in"] == n and isinstance(out["error"], str) and out["error"], line
            assert "replies" not in out
        # The process carried on, and numbered the lines in order.
        after = bot.send({"from": "a", "text": "menu"})
        assert after["in"] == 3 + len(bad_lines)
        assert "menu:profile" in ids(after)
        media = bot.send({"from": "a", "media": {"kind": "photo", "ref": "file-1"}})
        assert media["replies"] and "fichier" in media["replies"][0]["text"]
        loc = bot.send({"from": "a", "location": {"lat": 12.65, "lon": -8}})
        assert "position" in loc["replies"][0]["text"]
        group = bot.send({"from": "a", "chat": "g1", "chat_type": "group", "text": "aide"})
        assert group["replies"][0]["chat"] == "g1"
    finally:
        assert bot.close() == 0


def test_sigkill_mid_stream_keeps_conversations_and_dedupes(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    bot = Bot(db)
    bot.send({"from": "a", "id": "a1", "text": "salut"})
    bot.send({"from": "a", "id": "a2", "text": "1"})
    bot.send({"from": "b", "id": "b1", "text": "salut"})
    bot.send({"from": "b", "id": "b2", "text": "2"})
    bot.send({"from": "a", "id": "a3", "text": "5"})  # profile
    at_age = bot.send({"from": "a", "id": "a4", "choice": "profile:edit:age"})
    assert "profile:age:15-19" in ids(at_age)
    # Written to the pipe but maybe not read: the process dies mid-stream.
    assert bot.proc.stdin
    bot.proc.stdin.write(json.dumps({"from": "b", "id": "b3", "text": "5"}) + "\n")
    bot.proc.stdin.flush()
    bot.kill()

    again = Bot(db)
    try:
        # a is still at the age step: "2" means 15-19 there.
        out = again.send({"from": "a", "id": "a5", "text": "2"})
        assert "15 à 19 ans" in out["replies"][-1]["text"]
        # b kept their language; b3 is either done or redone, never twice.
        redo = again.send({"from": "b", "id": "b3", "text": "5"})
        if redo["replies"]:
            assert "I ko" in redo["replies"][0]["text"]
        assert again.send({"from": "b", "id": "b3", "text": "5"})["replies"] == []
        # A message id seen before the kill is not processed again.
        assert again.send({"from": "a", "id": "a4", "choice": "profile:edit:age"})["replies"] == []
        menu = again.send({"from": "b", "id": "b4", "text": "menu"})
        assert "N ka josiraw" in json.dumps(menu, ensure_ascii=False)
    finally:
        assert again.close() == 0


class ForwardFlow(Flow):
    """A stand-in for a flow that notifies another chat (as a complaint forward does)."""

    name = "menu"
    stateless_choices = True

    async def show(self, turn: Turn, router: Router) -> None:
        turn.say("menu", [Choice("menu:forward", "forward")])

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        turn.send_later(
            NewOutboxMessage(
                channel="console",
                chat_id="cso-kayes",
                kind="forward",
                payload=Reply(text="Nouveau signalement").to_dict("cso-kayes"),
            )
        )
        turn.say("Transmis.")
        return True


async def test_messages_for_other_chats_appear_in_the_same_output(
    store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    flows = [f for f in default_flows() if f.name != "menu"] + [ForwardFlow()]
    console = ConsoleChannel(make_engine(store, pack, clock, flows=flows), store, clock)
    from bot.channels.console import parse_line

    await console.exchange(parse_line('{"from": "c", "text": "hi"}', clock()))
    await console.exchange(parse_line('{"from": "c", "choice": "lang:fr"}', clock()))
    out = await console.exchange(parse_line('{"from": "c", "choice": "menu:forward"}', clock()))
    assert [r["chat"] for r in out] == ["c", "cso-kayes"]
    assert out[1]["text"] == "Nouveau signalement"
    rows = await store.fetch_all("SELECT state FROM outbox")
    assert rows == [("sent",)]


def test_cli_version_and_help() -> None:
    version = subprocess.run(
        [sys.executable, "-m", "bot", "--version"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    assert version.stdout.startswith("civicbot ")
    helptext = subprocess.run(
        [sys.executable, "-m", "bot", "--help"],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    for word in ("run", "chat", "migrate"):
        assert word in helptext.stdout

"""A running bot reloads its content on SIGHUP, and refuses a broken pack."""

from __future__ import annotations

import shutil
import signal
import time
from pathlib import Path

import yaml

from content.pack import BUNDLED_PACK
from tests.test_console_jsonl import Bot


def _retitle(pack: Path, title: str) -> None:
    path = pack / "articles/services/eau-potable.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["title"]["fr"] = title
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def _title(bot: Bot) -> str:
    out = bot.send({"from": "a", "choice": "learn:article:eau-potable"})
    return str(out["replies"][-1]["text"]).split("\n")[0]


def _hup_and_wait(bot: Bot, expected: str) -> str:
    bot.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + 10
    seen = _title(bot)
    while seen != expected and time.monotonic() < deadline:
        time.sleep(0.1)
        seen = _title(bot)
    return seen


def test_sighup_reloads_and_a_broken_pack_is_refused(tmp_path: Path) -> None:
    pack = tmp_path / "pack"
    shutil.copytree(BUNDLED_PACK, pack)
    log = tmp_path / "stderr.log"
    bot = Bot(tmp_path / "bot.sqlite3", log=log, CIVICBOT_CONTENT=str(pack))
    try:
        bot.send({"from": "a", "text": "salut"})
        bot.send({"from": "a", "choice": "lang:fr"})
        original = _title(bot)
        _retitle(pack, "L'eau potable, nouvelle version")
        assert _hup_and_wait(bot, "L'eau potable, nouvelle version") == (
            "L'eau potable, nouvelle version"
        )
        (pack / "themes.yaml").write_text("themes: [", encoding="utf-8")
        _retitle(pack, "Titre jamais vu")
        bot.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert _title(bot) == "L'eau potable, nouvelle version"
        assert original != "L'eau potable, nouvelle version"
        logged = log.read_text(encoding="utf-8")
        assert "content pack refused" in logged and "themes.yaml: not valid YAML" in logged
    finally:
        assert bot.close() == 0

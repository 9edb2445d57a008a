"""JSON lines show a voice note as a reply's `audio` field; drafts play only where allowed."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from content.audio import AudioIndex, silent_opus
from content.pack import BUNDLED_PACK
from tests.test_console_jsonl import Bot, ids


def _pack_with_a_draft(tmp_path: Path) -> Path:
    pack = tmp_path / "pack"
    shutil.copytree(BUNDLED_PACK, pack)
    AudioIndex(pack).save_draft(
        "article:quota-genre:1",
        "fr",
        silent_opus(10),
        recorded_by="exemple-kayes",
        recorder=None,
        now=datetime(2026, 11, 28, tzinfo=UTC),
    )
    return pack


def _open_article(bot: Bot) -> dict[str, object]:
    bot.send({"from": "a", "text": "bonjour", "lang": "fr"})
    bot.send({"from": "a", "choice": "lang:fr"})
    return bot.send({"from": "a", "choice": "learn:article:quota-genre"})


def test_a_draft_is_played_only_where_the_deployment_serves_drafts(tmp_path: Path) -> None:
    pack = _pack_with_a_draft(tmp_path)
    bot = Bot(tmp_path / "a.sqlite3", CIVICBOT_CONTENT=str(pack))
    try:
        assert not any(i.startswith("audio:play:") for i in ids(_open_article(bot)))  # type: ignore[arg-type]
    finally:
        bot.close()
    bot = Bot(tmp_path / "b.sqlite3", CIVICBOT_CONTENT=str(pack), CIVICBOT_AUDIO_DRAFTS="fr")
    try:
        opened = _open_article(bot)
        assert "audio:play:article:quota-genre:1" in ids(opened)  # type: ignore[arg-type]
        played = bot.send({"from": "a", "choice": "audio:play:article:quota-genre:1"})
        [reply] = played["replies"]
        assert reply["audio"] == "audio/article-quota-genre-1.fr.ogg" and reply["text"] == ""
        # The screen stays: "1" is still the article's first choice (its next page).
        nxt = bot.send({"from": "a", "text": "1"})
        assert "Page 2/2" in nxt["replies"][-1]["text"]
    finally:
        bot.close()

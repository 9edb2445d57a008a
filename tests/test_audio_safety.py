"""Voice notes for the safety help: someone in danger reads the numbers at once, and hears the
help after them (if she prefers listening) or by a choice. Every turn is typed, as people type."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from content.audio import AudioIndex, file_name, silent_opus
from content.pack import BUNDLED_PACK, ContentPack, PackError, load_pack
from handlers.audio.play import PLAY
from storage.sqlite import SqliteStore
from tests.conftest import Chat, FakeClock, make_engine

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
KEYS = ("safety:violence", "safety:more")


def path_of(key: str, lang: str = "fr") -> str:
    return f"audio/{file_name(key, lang)}"


@pytest.fixture
def pack_dir(tmp_path: Path) -> Path:
    """The bundled pack with the help for violence and 'read more' recorded in French."""
    target = tmp_path / "pack"
    shutil.copytree(BUNDLED_PACK, target)
    index = AudioIndex(target)
    for n, key in enumerate(KEYS):
        index.save_draft(key, "fr", silent_opus(20 + n), recorded_by="desk", recorder=None, now=NOW)
        index.set_state(key, "fr", "approved")
    return target


@pytest.fixture
async def engine_chats(
    tmp_path: Path, pack_dir: Path, clock: FakeClock
) -> AsyncIterator[tuple[Chat, Chat]]:
    store = await SqliteStore.open(tmp_path / "safety.sqlite3")
    pack: ContentPack = load_pack(pack_dir)
    engine = make_engine(store, pack, clock)
    yield Chat(engine, clock, user="listener"), Chat(engine, clock, user="reader")
    await store.close()


def screen(chat: Chat) -> list[str]:
    return [c.id for c in next(r for r in reversed(chat.last) if r.choices).choices]


async def pick(chat: Chat, choice: str) -> None:
    await chat.say(str(screen(chat).index(choice) + 1))


async def start(chat: Chat, *, listens: bool) -> None:
    await chat.say("bonjour")
    await chat.say("1")
    if listens:
        await chat.say("menu")
        await pick(chat, "menu:profile")
        await pick(chat, "profile:listen:on")


async def test_a_listener_reads_the_numbers_first_then_hears_the_help(
    engine_chats: tuple[Chat, Chat],
) -> None:
    listener, _ = engine_chats
    await start(listener, listens=True)
    await listener.say("mon mari me frappe")
    first, *rest = listener.last
    # The text with the numbers is the very first message, with no voice note before it.
    assert "80 333" in first.text and "pas de votre faute" in first.text
    assert first.audio is None
    assert [r.audio for r in rest if r.audio] == [path_of("safety:violence")]
    assert not any(c.startswith(PLAY) for c in screen(listener))  # played, not offered
    await pick(listener, "safety:more")
    assert "One Stop" in listener.last[0].text and listener.last[0].audio is None
    assert [r.audio for r in listener.last if r.audio] == [path_of("safety:more")]


async def test_a_reader_gets_the_help_with_a_choice_to_listen(
    engine_chats: tuple[Chat, Chat],
) -> None:
    _, reader = engine_chats
    await start(reader, listens=False)
    await reader.say("mon mari me frappe")
    assert "80 333" in reader.last[0].text
    assert not any(r.audio for r in reader.last)  # nothing played unasked
    listen = f"{PLAY}safety:violence"
    assert screen(reader)[0] == "safety:more" and screen(reader)[-1] == listen
    await pick(reader, listen)
    assert [r.audio for r in reader.last] == [path_of("safety:violence")]
    await reader.say("1")  # the help's choices stay: 1 is still "read more"
    assert "One Stop" in reader.text


async def test_danger_before_a_language_is_chosen_is_answered_and_can_be_heard(
    engine_chats: tuple[Chat, Chat],
) -> None:
    _, reader = engine_chats
    await reader.say("mon mari me frappe")
    assert "80 333" in reader.last[0].text
    assert f"{PLAY}safety:violence" in [c.id for c in reader.last[0].choices]


async def test_a_help_without_recording_offers_nothing(engine_chats: tuple[Chat, Chat]) -> None:
    _, reader = engine_chats
    await start(reader, listens=False)
    await reader.say("on veut me marier de force")
    assert "Personne ne peut vous marier" in reader.last[0].text
    assert not any(c.startswith(PLAY) for r in reader.last for c in (x.id for x in r.choices))


def test_content_check_counts_safety_audio_and_refuses_unknown_safety_keys(
    pack_dir: Path,
) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bot", "content", "check", str(pack_dir)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    # Five kinds of danger and "read more".
    assert "barometer 0/12, safety 2/6, ui 0/" in out
    assert "safety 0/6" in out.split("audio bm:")[1]
    index = yaml.safe_load((pack_dir / "audio.yaml").read_text())
    # An interface string ("safety.more" is the button's label) is not a safety text.
    index["recordings"]["safety:fallback"] = index["recordings"]["safety:violence"]
    (pack_dir / "audio.yaml").write_text(yaml.safe_dump(index))
    with pytest.raises(PackError) as caught:
        load_pack(pack_dir)
    assert "recordings.safety:fallback.fr: no such safety in the pack" in caught.value.problems[0]

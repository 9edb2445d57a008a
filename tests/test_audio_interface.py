"""Voice notes for the interface messages a person who cannot read meets: first contact,
welcome, menu, help, the complaint prompts, "not understood" and a quiz's result. Every turn is
typed, as people type: words and numbers, no taps."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from content.audio import UI_VOICE_KEYS, AudioIndex, file_name, silent_opus
from content.pack import BUNDLED_PACK, ContentPack, PackError, load_pack
from handlers.audio.play import PLAY
from storage.sqlite import SqliteStore
from tests.conftest import Chat, FakeClock, make_engine

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def path_of(key: str, lang: str = "fr") -> str:
    return f"audio/{file_name(key, lang)}"


@pytest.fixture
def pack_dir(tmp_path: Path) -> Path:
    """The bundled pack with every interface recording approved in French; the bilingual
    first-contact greeting is filed under Bambara."""
    target = tmp_path / "pack"
    shutil.copytree(BUNDLED_PACK, target)
    index = AudioIndex(target)
    for n, key in enumerate(UI_VOICE_KEYS):
        lang = "bm" if key == "lang.first_contact" else "fr"
        index.save_draft(
            f"ui:{key}", lang, silent_opus(3 + n), recorded_by="desk", recorder=None, now=NOW
        )
        index.set_state(f"ui:{key}", lang, "approved")
    return target


@pytest.fixture
async def chat(tmp_path: Path, pack_dir: Path, clock: FakeClock) -> AsyncIterator[Chat]:
    store = await SqliteStore.open(tmp_path / "ui.sqlite3")
    pack: ContentPack = load_pack(pack_dir)
    yield Chat(make_engine(store, pack, clock), clock)
    await store.close()


def screen(chat: Chat) -> list[str]:
    """The choices of the last message that offered some: what a typed number picks from."""
    return [c.id for c in next(r for r in reversed(chat.last) if r.choices).choices]


async def pick(chat: Chat, choice: str) -> None:
    """Type the number of a choice on the current screen."""
    await chat.say(str(screen(chat).index(choice) + 1))


def heard(chat: Chat) -> list[str]:
    return [r.audio for r in chat.last if r.audio]


async def test_a_newcomer_hears_the_greeting_then_the_menu_by_typing_numbers(chat: Chat) -> None:
    await chat.say("bonjour")
    listen = f"{PLAY}ui:lang.first_contact"
    assert screen(chat) == ["lang:fr", "lang:bm", listen]  # the languages keep numbers 1 and 2
    await chat.say("3")
    # No language chosen yet: the bilingual greeting is played whatever language it is filed
    # under, and the language prompt stays the screen.
    assert heard(chat) == [path_of("ui:lang.first_contact", "bm")]
    await chat.say("1")
    assert "Bienvenue" in chat.text
    assert f"{PLAY}ui:lang.welcome" in chat.last[0].choices[-1].id
    assert screen(chat)[-1] == f"{PLAY}ui:menu.title"
    await chat.say("écouter")  # typed as a word, matched against the screen's label
    assert heard(chat) == [path_of("ui:menu.title")]
    await chat.say("aide")
    assert "MENU" in chat.text and screen(chat)[-1] == f"{PLAY}ui:help.text"
    await pick(chat, f"{PLAY}ui:help.text")
    assert heard(chat) == [path_of("ui:help.text")]


async def test_a_listener_hears_every_complaint_prompt_first(chat: Chat) -> None:
    await chat.say("bonjour")
    await chat.say("1")
    await chat.say("menu")
    await pick(chat, "menu:profile")
    await pick(chat, "profile:listen:on")
    assert "note vocale" in chat.text
    await chat.say("plainte")
    assert heard(chat) == [path_of("ui:complaint.home")]
    assert not any(c.startswith(PLAY) for c in screen(chat))  # played, not offered
    await pick(chat, "complaint:new")
    assert heard(chat) == [path_of("ui:complaint.ask_category")]
    await pick(chat, "complaint:cat:eau")
    assert heard(chat) == [path_of("ui:complaint.ask_commune")]
    await chat.say("Kayes")
    assert heard(chat) == [path_of("ui:complaint.ask_place")]
    await chat.say("quartier Plateau")
    # The description prompt's recording also says that a voice may be recognised.
    assert heard(chat) == [path_of("ui:complaint.ask_description")]
    assert "une voix peut être reconnue" in chat.text
    await chat.say("Le forage est en panne depuis trois semaines, les femmes vont au fleuve.")
    assert heard(chat) == [path_of("ui:complaint.ask_media")]
    await chat.say("continuer")
    assert heard(chat) == [path_of("ui:complaint.ask_consent")]
    await chat.say("🤔 ?")  # not understood: heard, then the screen again
    assert heard(chat) == [
        path_of("ui:input.not_understood"),
        path_of("ui:complaint.ask_consent"),
    ]
    assert "Je n'ai pas compris" in chat.last[0].text


async def test_not_understood_is_not_offered_to_readers(chat: Chat) -> None:
    await chat.say("bonjour")
    await chat.say("1")
    await chat.say("🙏")
    assert "Je n'ai pas compris" in chat.last[0].text
    assert not chat.last[0].choices and not heard(chat)
    assert screen(chat)[-1] == f"{PLAY}ui:menu.title"  # the menu below offers its own


async def test_a_quiz_result_can_be_heard(chat: Chat) -> None:
    await chat.say("bonjour")
    await chat.say("1")
    await chat.say("quiz")
    start = next(c for c in screen(chat) if c.startswith("quiz:start:"))
    await pick(chat, start)
    for _ in range(30):
        if any(c == f"{PLAY}ui:quiz.result" for c in screen(chat)):
            break
        await chat.say("1")  # an answer, then "next" (or the score after the last)
    assert "Votre score" in chat.text
    await pick(chat, f"{PLAY}ui:quiz.result")
    assert heard(chat) == [path_of("ui:quiz.result")]


def test_content_check_counts_interface_audio_and_refuses_other_keys(pack_dir: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "bot", "content", "check", str(pack_dir)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    count = len(UI_VOICE_KEYS)
    others = "article 0/98, quiz 0/48, barometer 0/12, safety 0/6"
    assert f"audio fr: {others}, ui {count - 1}/{count}" in out
    assert f"audio bm: {others}, ui 1/{count}" in out
    # A label (or any string no screen plays) takes no recording: it would never be heard.
    index = yaml.safe_load((pack_dir / "audio.yaml").read_text())
    index["recordings"]["ui:menu.learn"] = index["recordings"]["ui:menu.title"]
    (pack_dir / "audio.yaml").write_text(yaml.safe_dump(index))
    with pytest.raises(PackError) as caught:
        load_pack(pack_dir)
    assert "recordings.ui:menu.learn.fr: no such ui in the pack" in caught.value.problems[0]

"""Someone in danger gets help at once, in any state; the draft and the pack's rules hold."""

from __future__ import annotations

import pytest

from content.pack import ContentPack
from storage.sqlite import SqliteStore
from tests.conftest import Chat


@pytest.mark.parametrize(
    "message",
    [
        "mon mari me frappe",
        "on m'a violée",
        "on veut me marier de force, j'ai 14 ans",
        "un policier m'a menacé",
        "n cɛ bɛ n gosi",
    ],
)
async def test_help_at_once_with_sure_numbers_only(chat: Chat, message: str) -> None:
    await chat.onboard()
    await chat.say(message)
    assert "80 333" in chat.text and "18" in chat.text
    assert "80 00 11 32" not in chat.text  # marked C in the facts: never shown
    assert "rien trouvé" not in chat.text and "pas sûr" not in chat.text
    assert "safety:more" in chat.choices
    await chat.say("1")
    assert "One Stop" in chat.text and "Sources" in chat.text


async def test_nothing_of_the_message_is_kept(chat: Chat, store: SqliteStore) -> None:
    await chat.onboard()
    await chat.say("mon mari me frappe")
    rows = await store.fetch_all("SELECT query FROM search_queries")
    convo = await store.fetch_all("SELECT data, choices FROM conversations")
    assert not any("frappe" in str(row) for row in rows + convo)


async def test_a_newcomer_in_danger_gets_help_before_the_language(chat: Chat) -> None:
    await chat.say("on m a violer aidez moi")
    assert "80 333" in chat.text and "lang:fr" in chat.choices
    await chat.say("1")
    assert "menu:learn" in chat.choices and "80 333" not in chat.text  # not replayed


async def test_in_a_description_help_is_shown_and_the_draft_goes_on(chat: Chat) -> None:
    await chat.onboard()
    await chat.say("plainte")
    await chat.say("signaler un probleme")
    await chat.say("eau")
    await chat.say("Kayes")
    await chat.say("passer")
    await chat.say("Le gardien du forage m'a frappé quand j'ai demandé de l'eau.")
    assert "80 333" in chat.text
    assert "photo" in chat.text.lower(), chat.text  # the next step of the draft
    await chat.say("continuer")
    await chat.say("non")
    assert "Le gardien du forage" in chat.text  # the summary: nothing filed without her


async def test_civic_complaints_are_not_alarms(chat: Chat) -> None:
    await chat.onboard()
    for message in ["forage en panne", "le maire a pris l'argent du marché"]:
        await chat.say(message)
        assert "80 333" not in chat.text


def test_the_safety_part_of_the_pack(pack: ContentPack) -> None:
    safety = pack.safety
    assert safety is not None and "bm" in safety.needs_review
    shown = {line.number for line in safety.shown_lines()}
    assert "80 333" in shown and "80 00 11 32" not in shown and "80 00 11 16" not in shown
    assert safety.unknown_sources() == []


async def test_ok_and_confusion_lead_back_to_the_step(chat: Chat) -> None:
    await chat.onboard()
    await chat.say("plainte")
    await chat.say("signaler un probleme")
    categories = chat.choices
    await chat.say("ok")
    assert chat.choices == categories
    await chat.say("g pa compri")
    assert "numéro" in chat.text and chat.choices == categories
    await chat.say("merci")
    assert "Avec plaisir" in chat.text and chat.choices == categories

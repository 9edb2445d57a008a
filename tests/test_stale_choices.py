"""Old and foreign choice ids get the stale-choice answer in every flow, never an error."""

from __future__ import annotations

import pytest

from content.pack import ContentPack
from handlers.engine import Engine
from storage.sqlite import SqliteStore
from tests.conftest import Chat, FakeClock
from tests.test_dialog_quiz import Players, text

# Buttons of steps, pressed by someone who is somewhere else entirely.
FOREIGN = [
    "barometer:a:0:3",
    "barometer:a:1:9",
    "barometer:nocomment",
    "quiz:a:0:1",
    "quiz:next",
    "quiz:finish",
    "quiz:listed:yes",
    "gquiz:nosuchquiz:0:1",
    "complaint:cat:nothing",
    "complaint:consent:yes",
    "circle:open:nosuchcircle",
    "cso:take:XXXX-XXXX",
    "learn:article:no-such-article",
    "nosuchflow:x",
    "",
    ":::",
]


def stale_or_flow_text(chat: Chat, pack: ContentPack) -> None:
    error = pack.texts.get("fr", "error.generic")
    assert chat.last and all(error not in reply.text for reply in chat.last), chat.text


@pytest.mark.parametrize("start", ["menu:quiz", "menu:complaint", "menu:barometer", "menu:learn"])
async def test_foreign_buttons_in_every_flow(
    engine: Engine, clock: FakeClock, pack: ContentPack, start: str
) -> None:
    chat = Chat(engine, clock)
    await chat.onboard()
    await chat.tap(start)
    if start == "menu:quiz":
        await chat.tap(next(c for c in chat.choices if c.startswith("quiz:start:")))
    for choice in FOREIGN:
        await chat.tap(choice)
        stale_or_flow_text(chat, pack)


async def test_an_old_barometer_button_during_a_quiz(
    engine: Engine, clock: FakeClock, pack: ContentPack
) -> None:
    chat = Chat(engine, clock)
    await chat.onboard()
    await chat.tap("menu:quiz")
    start = next(c for c in chat.choices if c.startswith("quiz:start:"))
    await chat.tap(start)
    await chat.tap("barometer:a:0:3")
    assert pack.texts.get("fr", "input.stale_choice") in chat.text
    # Nothing broke: the quiz starts again and its question takes an answer.
    await chat.tap("menu:quiz")
    await chat.tap(start)
    await chat.tap(next(c for c in chat.choices if c.startswith("quiz:a:0:")))
    assert "quiz:next" in chat.choices


async def test_a_group_quiz_answer_from_a_private_chat_is_not_counted(
    store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    players = Players(store, pack, clock)
    group = "femmes-segou"
    for person in ("adja", "aicha"):
        await players.onboard(person)
    out = await players.send("adja", group, admin=True, text="/quiz redevabilite")
    right = players.right_choice(out, group, "redevabilite")
    answer = await players.send("aicha", None, choice=right)  # her private chat
    stale = pack.texts.get("fr", "input.stale_choice")
    assert stale in text(answer, "aicha")
    assert await store.fetch_all("SELECT COUNT(*) FROM group_answers") == [(0,)]


def test_group_averages_never_give_away_one_unlisted_score() -> None:
    from quiz.play import group_result

    # One player off the board: the average minus the board is her score, so both hide.
    hidden = group_result([(8, 10), (2, 10)], [("Étoile", 8, 10)])
    assert not hidden.shown and hidden.board == ()
    # Everyone on the board, or enough people off it: the figures are shown.
    assert group_result([(8, 10)], [("Étoile", 8, 10)]).shown
    assert group_result([(8, 10), (2, 10), (5, 10), (6, 10)], [("Étoile", 8, 10)]).shown

"""The current screen: a number typed after a pushed message acts on that message."""

from __future__ import annotations

from datetime import timedelta

import pytest

from content.pack import ContentPack
from storage.records import UserRecord, iso
from storage.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.test_barometer import People, _round
from tests.test_dialog_complaints import World, _submit, texts
from tests.test_dialog_quiz import Players, text


@pytest.fixture
def world(store: SqliteStore, pack: ContentPack, clock: FakeClock) -> World:
    return World(store, pack, clock)


async def test_a_cso_question_is_answered_by_typing_1_then_the_answer(
    world: World, clock: FakeClock
) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.onboard("fanta")
    reference, _ = await _submit(world, "fanta")
    # Days later, the citizen has moved on: she is reading the learn themes.
    clock.advance(days=3)
    await world.say("fanta", "menu")
    await world.say("fanta", "1")
    await world.tap("awa", f"cso:ask:{reference.replace('-', '')}", chat="cso-kayes")
    out = await world.say("awa", "Depuis quelle date exactement ?", chat="cso-kayes")
    assert "Depuis quelle date" in texts(out, "fanta")
    out = await world.say("fanta", "1")
    assert "réponse" in texts(out, "fanta").lower(), texts(out, "fanta")
    out = await world.say("fanta", "celui de Sido Sonikoura, depuis le 2 novembre")
    assert "Sido Sonikoura" in texts(out, "cso-kayes")
    assert "rien trouvé" not in texts(out, "fanta")


async def test_her_own_later_turn_replaces_the_pushed_screen(world: World) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.onboard("fanta")
    reference, _ = await _submit(world, "fanta")
    await world.tap("awa", f"cso:ask:{reference.replace('-', '')}", chat="cso-kayes")
    await world.say("awa", "Quel quartier ?", chat="cso-kayes")
    await world.say("fanta", "menu")
    out = await world.say("fanta", "1")  # the menu's first entry now, not the question
    assert "thème" in texts(out, "fanta").lower() or "droits" in texts(out, "fanta").lower()


async def test_a_circle_invitation_is_taken_up_by_typing_1(
    store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    players = Players(store, pack, clock)
    await players.onboard("lead")
    await players.send("lead", text="cercle")
    await players.send("lead", choice="circle:create")
    out = await players.send("lead", text="Femmes de Niono")
    code = out[0]["text"].split("invitation : ")[1].split()[0]
    await players.onboard("mariam")
    await players.send("mariam", text=code.lower())
    await players.send("mariam", text="mar-star")
    await players.send("mariam", choice="quiz:listed:yes")
    await players.send("mariam", text="menu")
    circle = next(
        c
        for c in players.answers(await players.send("lead", choice="circle:home"), "lead")
        if c.startswith("circle:open:")
    )
    cid = circle.split(":")[2]
    await players.send("lead", choice=circle)
    await players.send("lead", choice=f"circle:quiz:{cid}")
    await players.send("lead", choice=f"circle:q:{cid}:femmes-jeunes")
    out = await players.send("lead", choice=f"circle:d:{cid}:femmes-jeunes:24")
    assert any(r["chat"] == "mariam" for r in out)
    out = await players.send("mariam", text="1")
    quiz = pack.quizzes["femmes-jeunes"]
    first = pack.pick(quiz.questions[0].text, "fr")
    assert first[:30] in text(out, "mariam"), text(out, "mariam")


async def test_a_barometer_invitation_is_taken_up_by_typing_1(
    store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    people = People(store, pack, clock)
    async with store.transaction() as tx:
        tx.link_chat("console", "-100777", "bureau-programme", "nocode", clock())
    await people.join("awa", "ML010101")
    await people.send("awa", text="menu")
    await _round(store, clock, "bbg-typed", timedelta(hours=1))
    clock.advance(hours=2)
    out = await people.send("someone", text="bonjour")
    assert any(r["chat"] == "awa" for r in out), out
    out = await people.send("awa", text="1")
    assert any(c["id"].startswith("barometer:a:0:") for r in out for c in r["choices"]), out


async def test_screens_saved_before_labels_were_kept_still_load(
    store: SqliteStore, clock: FakeClock
) -> None:
    async with store.transaction() as tx:
        tx.save_user(UserRecord("t:1", "t", "1", clock(), clock(), language="fr"))
    await store._write_ops(  # an old row: plain ids in the choices column
        [
            lambda db: db.execute(
                "INSERT INTO conversations (user_key, flow, step, data, choices, updated_at) "
                "VALUES ('t:1', 'menu', 'main', '{}', '[\"menu:learn\"]', ?)",
                (iso(clock()),),
            )
        ]
    )
    async with store.transaction() as tx:
        loaded = await tx.get_conversation("t:1")
    assert loaded is not None and loaded.choices == ("menu:learn",) and loaded.labels == ()


async def test_the_question_can_also_be_taken_up_by_its_label(world: World) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.onboard("fanta")
    reference, _ = await _submit(world, "fanta")
    await world.tap("awa", f"cso:ask:{reference.replace('-', '')}", chat="cso-kayes")
    await world.say("awa", "Quel quartier ?", chat="cso-kayes")
    await world.say("fanta", "repondre")
    out = await world.say("fanta", "Quartier Plateau")
    assert "Quartier Plateau" in texts(out, "cso-kayes")


async def test_a_circle_code_as_first_message_is_used_after_the_language(
    store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    players = Players(store, pack, clock)
    await players.onboard("lead")
    await players.send("lead", text="cercle")
    await players.send("lead", choice="circle:create")
    out = await players.send("lead", text="Femmes de Niono")
    code = out[0]["text"].split("invitation : ")[1].split()[0]
    out = await players.send("newcomer", text=code)
    assert "lang:fr" in players.answers(out, "newcomer")
    out = await players.send("newcomer", text="1")
    assert "rejoint" in text(out, "newcomer"), text(out, "newcomer")


async def test_barometer_answers_survive_a_detour(
    store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    people = People(store, pack, clock)
    await people.join("awa", "ML010101")
    await _round(store, clock, "bbg-draft", timedelta(hours=1))
    clock.advance(hours=2)
    await people.send("someone", text="bonjour")
    await people.send("awa", text="1")  # the invitation
    out = await people.send("awa", text="4")  # first question: 4
    assert any(c["id"].startswith("barometer:a:1:") for r in out for c in r["choices"])
    await people.send("awa", text="aide")
    await people.send("awa", text="c quoi le budget communal")
    out = await people.send("awa", text="barometre")
    assert any(c["id"].startswith("barometer:a:1:") for r in out for c in r["choices"]), out

"""Records several people touch at once: nothing lost, no status change outside the lifecycle."""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import replace
from typing import Any

import pytest

from content.pack import ContentPack
from handlers.engine import default_flows
from handlers.flow import Flow, Router
from handlers.messages import Inbound
from handlers.quizzes.timers import tick_quizzes
from handlers.turn import Turn
from storage.sqlite import SqliteStore
from tests.conftest import Chat, FakeClock, make_engine
from tests.interleave import Interleave
from tests.test_dialog_complaints import World, _fill, _submit, ids, texts


class SharedWorld(World):
    """The complaints world, with turns that can be run at the same time in a chosen order."""

    def __init__(self, store: SqliteStore, pack: ContentPack, clock: FakeClock) -> None:
        self.gate = Interleave(store)
        super().__init__(self.gate, pack, clock)  # type: ignore[arg-type]
        self._concurrent = itertools.count()

    async def at_once(self, *turns: tuple[str, str, dict[str, Any]]) -> list[list[dict[str, Any]]]:
        """Run turns (name, user, inbound fields) at once; they commit in the order given."""
        self.gate.expect([name for name, _, _ in turns])

        async def one(user: str, fields: dict[str, Any]) -> list[dict[str, Any]]:
            chat = fields.pop("chat", None)
            return await self.send(user, chat, **fields)

        tasks = [asyncio.create_task(one(user, dict(f)), name=name) for name, user, f in turns]
        return list(await asyncio.gather(*tasks))


@pytest.fixture
def world(store: SqliteStore, pack: ContentPack, clock: FakeClock) -> World:
    return World(store, pack, clock)


@pytest.fixture
def shared(store: SqliteStore, pack: ContentPack, clock: FakeClock) -> SharedWorld:
    return SharedWorld(store, pack, clock)


async def _status(world: World, reference: str) -> tuple[Any, ...]:
    rows = await world.store.fetch_all(
        "SELECT status, voices, chat_id, contact FROM complaints WHERE reference = ?", (reference,)
    )
    return rows[0]


async def _events(world: World) -> list[str]:
    rows = await world.store.fetch_all("SELECT action FROM complaint_events ORDER BY id")
    return [row[0] for row in rows]


async def test_a_member_new_to_the_bot_resolves_with_a_note(world: World) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.onboard("fanta")
    reference, _ = await _submit(world, "fanta")
    ref = reference.replace("-", "")
    # Moussa never wrote to the bot, not even in the group: his first act is a button.
    out = await world.tap("moussa", f"cso:done:{ref}", chat="cso-kayes")
    assert "problème" not in texts(out, "cso-kayes")
    out = await world.say("moussa", "La pompe a été remplacée.", chat="cso-kayes")
    assert "résolu" in texts(out, "cso-kayes")
    assert "La pompe a été remplacée" in texts(out, "fanta")
    assert (await _status(world, reference))[0] == "resolved"


async def test_members_new_to_the_bot_ask_the_citizen_and_say_not_for_us(world: World) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.link("bureau-programme", "desk", member="desk-lead")
    await world.onboard("fanta")
    reference, _ = await _submit(world, "fanta")
    ref = reference.replace("-", "")
    await world.tap("issa", f"cso:ask:{ref}", chat="cso-kayes")
    out = await world.say("issa", "Quel quartier exactement ?", chat="cso-kayes")
    assert "Question transmise" in texts(out, "cso-kayes")
    assert "Quel quartier" in texts(out, "fanta")
    await world.tap("kadi", f"cso:notours:{ref}", chat="cso-kayes")
    out = await world.say("kadi", "Ce forage est privé.", chat="cso-kayes")
    assert "renvoyé au bureau" in texts(out, "cso-kayes")
    assert "Ce forage est privé" in texts(out, "desk")


async def test_a_stale_not_for_us_on_a_resolved_complaint_changes_nothing(world: World) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.link("bureau-programme", "desk", member="desk-lead")
    await world.onboard("fanta")
    reference, _ = await _submit(world, "fanta")
    ref = reference.replace("-", "")
    await world.tap("awa", f"cso:nonote:{ref}", chat="cso-kayes")
    before = await _events(world)
    # An old message's button, pressed days later.
    out = await world.tap("awa", f"cso:notours:{ref}", chat="cso-kayes")
    assert "résolu" in texts(out, "cso-kayes") and "pas possible" in texts(out, "cso-kayes")
    assert not texts(out, "fanta") and not texts(out, "desk")
    # Even typed as the reason would be, nothing moves.
    out = await world.say("awa", "Pas chez nous.", chat="cso-kayes")
    assert not texts(out, "fanta") and not texts(out, "desk")
    assert (await _status(world, reference))[0] == "resolved"
    assert await _events(world) == before
    routes = await world.store.fetch_all("SELECT partner_id, active FROM complaint_routes")
    assert routes == [("exemple-kayes", 1)]


async def test_a_voice_added_while_a_member_acknowledges_is_kept(shared: SharedWorld) -> None:
    await shared.link("exemple-kayes", "cso-kayes")
    await shared.onboard("fanta")
    reference, _ = await _submit(shared, "fanta")
    await shared.onboard("oumar")
    out = await _fill(shared, "oumar", place=False)
    voice = next(i for i in ids(out, "oumar") if i.startswith("complaint:voice:"))
    ref = reference.replace("-", "")
    # The member reads the complaint, the citizen's voice lands, then the member's turn commits.
    ack = ("cso", "awa", {"choice": f"cso:ack:{ref}", "chat": "cso-kayes"})
    await shared.at_once(("voice", "oumar", {"choice": voice}), ack)
    status, voices, _, _ = await _status(shared, reference)
    assert (status, voices) == ("acknowledged", 2)


async def test_two_members_resolving_at_once_resolve_once(shared: SharedWorld) -> None:
    await shared.link("exemple-kayes", "cso-kayes")
    await shared.onboard("fanta")
    reference, _ = await _submit(shared, "fanta")
    ref = reference.replace("-", "")
    first, second = await shared.at_once(
        ("a", "awa", {"choice": f"cso:nonote:{ref}", "chat": "cso-kayes"}),
        ("b", "binta", {"choice": f"cso:nonote:{ref}", "chat": "cso-kayes"}),
    )
    assert "Le citoyen est informé" in texts(first, "cso-kayes")
    assert "déjà été résolu par un autre membre" in texts(second, "cso-kayes")
    assert (await _events(shared)).count("resolved") == 1
    notices = await shared.store.fetch_all(
        "SELECT COUNT(*) FROM outbox WHERE chat_id = 'fanta' AND kind = 'notice'"
    )
    assert notices == [(1,)]


async def test_members_tapping_the_same_button_together_need_no_retry(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.onboard("fanta")
    reference, _ = await _submit(world, "fanta")
    ref = reference.replace("-", "")
    members = ["awa", "binta", "coumba", "djeneba", "fatou"]
    with caplog.at_level(logging.INFO, logger="handlers.engine"):
        # Five members who never wrote to the bot tap "Accusé de réception" in the same moment.
        await asyncio.gather(
            *(world.tap(m, f"cso:ack:{ref}", chat="cso-kayes") for m in members[1:]),
            world.tap(members[0], f"cso:ack:{ref}", chat="cso-kayes"),
        )
    assert (await _events(world)).count("ack") == 1
    # Each read the complaint after the one before had written: nobody's turn ran twice.
    assert not [r for r in caplog.records if "retried on fresh data" in r.getMessage()]


async def test_conflicting_buttons_apply_in_the_lifecycle_order(shared: SharedWorld) -> None:
    await shared.link("exemple-kayes", "cso-kayes")
    await shared.onboard("fanta")
    reference, _ = await _submit(shared, "fanta")
    ref = reference.replace("-", "")
    # Awa resolves while Binta, who read it as "submitted", marks it in progress.
    _, late = await shared.at_once(
        ("a", "awa", {"choice": f"cso:nonote:{ref}", "chat": "cso-kayes"}),
        ("b", "binta", {"choice": f"cso:progress:{ref}", "chat": "cso-kayes"}),
    )
    assert "déjà été résolu par un autre membre" in texts(late, "cso-kayes")
    assert (await _status(shared, reference))[0] == "resolved"
    assert await _events(shared) == ["submitted", "resolved"]


@pytest.mark.parametrize("order", [("forget", "cso"), ("cso", "forget")])
async def test_forget_during_a_cso_action_leaves_no_way_to_the_citizen(
    shared: SharedWorld, order: tuple[str, str]
) -> None:
    await shared.link("exemple-kayes", "cso-kayes")
    await shared.onboard("fanta")
    reference, _ = await _submit(shared, "fanta", consent=True)
    ref = reference.replace("-", "")
    await shared.say("fanta", "oublier")
    turns = {
        "forget": ("forget", "fanta", {"choice": "privacy:forget_yes"}),
        "cso": ("cso", "awa", {"choice": f"cso:ack:{ref}", "chat": "cso-kayes"}),
    }
    outs = await shared.at_once(*(turns[name] for name in order))
    cso_out = outs[order.index("cso")]
    assert "reçu" in texts(cso_out, "cso-kayes")
    _, _, chat_id, contact = await _status(shared, reference)
    assert (chat_id, contact) == (None, None)
    to_citizen = await shared.store.fetch_all(
        "SELECT COUNT(*) FROM outbox WHERE chat_id = 'fanta' AND state = 'pending'"
    )
    assert to_citizen == [(0,)]
    # Nor can a question reach her afterwards.
    await shared.tap("awa", f"cso:ask:{ref}", chat="cso-kayes")
    out = await shared.say("awa", "Encore là ?", chat="cso-kayes")
    assert "ne peut plus être joint" in texts(out, "cso-kayes") and not texts(out, "fanta")


async def test_a_question_sent_while_the_citizen_forgets_herself_never_reaches_her(
    shared: SharedWorld,
) -> None:
    await shared.link("exemple-kayes", "cso-kayes")
    await shared.onboard("fanta")
    reference, _ = await _submit(shared, "fanta", consent=True)
    ref = reference.replace("-", "")
    await shared.say("fanta", "oublier")
    await shared.tap("awa", f"cso:ask:{ref}", chat="cso-kayes")
    _, asked = await shared.at_once(
        ("forget", "fanta", {"choice": "privacy:forget_yes"}),
        ("cso", "awa", {"text": "Depuis quand ?", "chat": "cso-kayes"}),
    )
    assert "ne peut plus être joint" in texts(asked, "cso-kayes")
    assert not texts(asked, "fanta")
    questions = await shared.store.fetch_all("SELECT COUNT(*) FROM complaint_questions")
    assert questions == [(0,)]


def _group_inbound(clock: FakeClock, user: str, text: str, n: int) -> Inbound:
    return Inbound(
        channel="console",
        user_id=user,
        chat_id="grp",
        chat_type="group",
        received_at=clock(),
        message_id=f"g-{n}",
        admin=True,
        text=text,
    )


async def _group_rows(store: SqliteStore) -> list[str]:
    rows = await store.fetch_all(
        "SELECT payload FROM outbox WHERE chat_id = 'grp' ORDER BY created_at, rowid"
    )
    return [row[0] for row in rows]


async def test_the_quiz_clock_does_not_restart_a_stopped_group_quiz(
    store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    gate = Interleave(store)
    engine = make_engine(gate, pack, clock)  # type: ignore[arg-type]
    await engine.handle(_group_inbound(clock, "adja", "/quiz redevabilite", 1))
    clock.advance(seconds=31)
    gate.expect(["stop", "tick"])
    await asyncio.gather(
        asyncio.create_task(
            engine.handle(_group_inbound(clock, "adja", "/quiz stop", 2)), name="stop"
        ),
        asyncio.create_task(tick_quizzes(gate, pack, clock()), name="tick"),
    )
    runs = await store.fetch_all("SELECT status, position FROM group_quizzes")
    assert runs == [("finished", 0)]
    assert not any("Question 2/10" in row for row in await _group_rows(store))
    # And later ticks find nothing to do.
    clock.advance(seconds=60)
    assert await tick_quizzes(store, pack, clock()) == 0


async def test_a_reload_that_shortens_a_running_quiz_ends_it_cleanly(
    store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    engine = make_engine(store, pack, clock)
    await engine.handle(_group_inbound(clock, "adja", "/quiz redevabilite", 1))
    for _ in range(3):
        clock.advance(seconds=31)
        await tick_quizzes(store, pack, clock())
    quiz = pack.quizzes["redevabilite"]
    shorter = replace(
        pack,
        quizzes={
            **pack.quizzes,
            quiz.id: quiz.model_copy(update={"questions": quiz.questions[:2]}),
        },
    )
    clock.advance(seconds=31)
    assert await tick_quizzes(store, shorter, clock()) == 1
    assert await store.fetch_all("SELECT status FROM group_quizzes") == [("finished",)]
    assert "2 participant" not in (await _group_rows(store))[-1]


async def test_a_turn_in_flight_does_not_undo_a_stop_from_the_delivery_worker(
    store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    engine = make_engine(store, pack, clock)
    inbound = Inbound(channel="test", user_id="u", chat_id="u", received_at=clock(), text="salut")
    await engine.handle(inbound)
    async with store.transaction() as tx:
        session = await tx.load_session("test:u", "test", None)
        assert session.user is not None and not session.user.stopped
        # Meanwhile the platform says the person blocked the bot.
        await store.mark_stopped("test:u")
        tx.update_user("test:u", last_seen_at=clock())
    async with store.transaction() as tx:
        cached = await tx.load_session("test:u", "test", None)
        fresh = await tx.get_user("test:u")
    assert cached.user is not None and cached.user.stopped
    assert fresh is not None and fresh.stopped


class Basket(Flow):
    """A flow that keeps a list in its data, and fails after changing it when asked to."""

    name = "basket"
    stateless_choices = True

    async def show(self, turn: Turn, router: Router) -> None:
        turn.say(f"panier : {', '.join(turn.data.get('items', [])) or 'vide'}")

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        if choice == "basket:open":
            turn.goto("basket", "list", {"items": []})
        elif choice == "basket:boom":
            turn.data["items"].append("fantôme")
            data = turn.data
            data["items"].append("fantôme")
            turn.goto("basket", "list", data)
            raise RuntimeError("the flow fails after changing its data")
        await self.show(turn, router)
        return True


async def test_a_failing_flow_leaves_no_phantom_change_in_the_cached_conversation(
    store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    engine = make_engine(store, pack, clock, flows=[*default_flows(), Basket()])
    chat = Chat(engine, clock)
    await chat.onboard()
    await chat.tap("basket:open")
    out = await chat.tap("basket:boom")
    assert "problème" in chat.text and out
    await chat.tap("basket:look")
    assert "panier : vide" in chat.text

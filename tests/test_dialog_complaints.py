"""Complaints through the engine and the terminal channel: intake, routing, CSO work, follow-up."""

from __future__ import annotations

import itertools
import random
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.channels.console import ConsoleChannel
from complaints.reference import ALPHABET
from content.pack import ContentPack
from handlers.complaints.deadlines import check_deadlines
from handlers.engine import Engine, EngineSettings
from handlers.messages import Inbound, Location, Media
from storage.records import OutboxRecord
from storage.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.storage_backends import store as store  # each test on every backend

REF = re.compile(rf"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}")


class World:
    """Citizens and CSO chats talking to one engine through the terminal channel."""

    def __init__(self, store: SqliteStore, pack: ContentPack, clock: FakeClock, **settings: Any):
        self.store, self.pack, self.clock = store, pack, clock
        engine = Engine(
            store,
            lambda: pack,
            settings=EngineSettings(**settings),
            clock=clock,
            rng=random.Random(3),
        )
        self.console = ConsoleChannel(
            engine, store, clock, deadlines=lambda: check_deadlines(store, pack, clock())
        )
        self._ids = itertools.count()

    async def send(self, user: str, chat: str | None = None, **fields: Any) -> list[dict[str, Any]]:
        chat_type = "group" if chat and chat != user else "private"
        inbound = Inbound(
            channel="console",
            user_id=user,
            chat_id=chat or user,
            chat_type=chat_type,
            received_at=self.clock(),
            message_id=f"{id(self)}-{next(self._ids)}",
            name=user.title(),
            **fields,
        )
        return await self.console.exchange(inbound)

    async def say(self, user: str, text: str, chat: str | None = None) -> list[dict[str, Any]]:
        return await self.send(user, chat, text=text)

    async def tap(self, user: str, choice: str, chat: str | None = None) -> list[dict[str, Any]]:
        return await self.send(user, chat, choice=choice)

    async def onboard(self, user: str) -> None:
        await self.say(user, "bonjour")
        await self.tap(user, "lang:fr")

    async def link(self, partner: str, chat: str, member: str = "awa") -> list[dict[str, Any]]:
        code = f"CODE{partner[:4].upper()}{len(chat)}"
        await self.store.create_link_code(partner, code, self.clock() + timedelta(days=7))
        return await self.say(member, f"/lier {code}", chat=chat)


def texts(out: list[dict[str, Any]], chat: str) -> str:
    return "\n".join(r["text"] for r in out if r["chat"] == chat)


def ids(out: list[dict[str, Any]], chat: str) -> list[str]:
    return [c["id"] for r in out if r["chat"] == chat for c in r["choices"]]


@pytest.fixture
def world(store: SqliteStore, pack: ContentPack, clock: FakeClock) -> World:
    return World(store, pack, clock)


async def _fill(world: World, user: str, **kw: Any) -> list[dict[str, Any]]:
    """The intake up to the consent answer; returns what the bot said then."""
    await world.say(user, "plainte")
    await world.tap(user, "complaint:new")
    await world.tap(user, f"complaint:cat:{kw.get('category', 'eau')}")
    await world.say(user, kw.get("commune", "Kayes"))
    if kw.get("place", True):
        await world.say(user, "quartier Plateau")
    else:
        await world.tap(user, "complaint:skip_place")
    await world.say(user, kw.get("text", "La pompe du forage est en panne depuis deux semaines."))
    await world.tap(user, "complaint:media_done")
    return await world.tap(user, f"complaint:consent:{'yes' if kw.get('consent') else 'no'}")


async def _submit(world: World, user: str, **kw: Any) -> tuple[str, list[dict[str, Any]]]:
    """Whole intake; returns the reference and the last output (confirmation and forwards)."""
    out = await _fill(world, user, **kw)
    if "complaint:dup_no" in ids(out, user):
        await world.tap(user, "complaint:dup_no")
    out = await world.tap(user, "complaint:confirm")
    found = REF.search(texts(out, user))
    assert found, texts(out, user)
    return found[0], out


async def test_whole_intake_reaches_the_cso_chat(world: World) -> None:
    linked = await world.link("exemple-kayes", "cso-kayes")
    assert "OSC exemple, région de Kayes" in texts(linked, "cso-kayes")
    await world.onboard("fanta")
    out = await world.say("fanta", "plainte")
    assert ids(out, "fanta")[:2] == ["complaint:new", "complaint:mine"]
    out = await world.tap("fanta", "complaint:new")
    assert len([i for i in ids(out, "fanta") if i.startswith("complaint:cat:")]) == 12
    await world.tap("fanta", "complaint:cat:eau")
    out = await world.say("fanta", "kayes")
    assert "Où exactement" in texts(out, "fanta")
    await world.say("fanta", "quartier Plateau, forage près du marché")
    out = await world.say("fanta", "La pompe du forage est en panne depuis deux semaines.")
    assert "photo" in texts(out, "fanta")
    out = await world.send("fanta", media=Media("photo", "photo-123"))
    assert "Fichier reçu (1)" in texts(out, "fanta")
    out = await world.tap("fanta", "complaint:media_done")
    assert "Fanta" in texts(out, "fanta")  # exactly what would be shared
    out = await world.tap("fanta", "complaint:consent:yes")
    summary = texts(out, "fanta")
    assert "Eau potable" in summary and "Kayes Commune" in summary and "Fichiers : 1" in summary
    out = await world.tap("fanta", "complaint:confirm")
    mine = texts(out, "fanta")
    reference = REF.search(mine)
    assert reference and "OSC exemple, région de Kayes" in mine
    forwarded = texts(out, "cso-kayes")
    assert reference[0] in forwarded and "panne" in forwarded and "Plateau" in forwarded
    assert "Fanta" in forwarded  # consent given
    assert {"cso:ack", "cso:done", "cso:notours", "cso:ask"} <= {
        i.rsplit(":", 1)[0] for i in ids(out, "cso-kayes")
    }
    media = [r for r in out if r["chat"] == "cso-kayes" and r.get("media")]
    assert media and media[0]["media"]["ref"] == "photo-123"


async def test_anonymous_by_default(world: World) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.onboard("moussa")
    _, out = await _submit(world, "moussa")
    forwarded = texts(out, "cso-kayes")
    assert "anonyme" in forwarded and "Moussa" not in forwarded and "moussa" not in forwarded


async def test_anonymous_forward_hides_a_typed_phone_number(world: World) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.onboard("awa")
    text = "Le forage est en panne, appelez Awa au +223 70 12 34 56 ou awa@exemple.ml"
    _, out = await _submit(world, "awa", text=text)
    forwarded = texts(out, "cso-kayes")
    assert "panne" in forwarded and "[numéro masqué]" in forwarded
    assert "70 12 34 56" not in forwarded and "awa@exemple.ml" not in forwarded


async def test_ambiguous_commune_location_and_bamako(world: World) -> None:
    await world.onboard("ali")
    await world.say("ali", "plainte")
    await world.tap("ali", "complaint:new")
    await world.tap("ali", "complaint:cat:sante")
    out = await world.say("ali", "Benkadi")
    picks = [i for i in ids(out, "ali") if i.startswith("complaint:commune:")]
    assert len(picks) >= 2
    labels = [c["label"] for r in out for c in r["choices"] if c["id"] in picks]
    assert all("(" in label and "," in label for label in labels)  # cercle and region shown
    out = await world.send("ali", location=Location(12.6136, -8.0461))
    assert "Commune IV" in texts(out, "ali")
    assert "complaint:commune:ML090104" in ids(out, "ali")
    out = await world.tap("ali", "complaint:commune:ML090104")
    assert "Où exactement" in texts(out, "ali")


async def test_commune_routing_prefers_the_most_specific_cso(world: World) -> None:
    await world.link("exemple-bamako", "cso-bamako")
    await world.link("exemple-sante-bamako-c4", "cso-c4")
    await world.onboard("awa2")
    _, out = await _submit(
        world,
        "awa2",
        commune="commune 4",
        category="sante",
        text="Le centre de santé demande de l'argent pour la césarienne.",
    )
    assert texts(out, "cso-c4") and not texts(out, "cso-bamako")


async def test_cso_without_chat_falls_back_to_the_desk(world: World) -> None:
    await world.link("bureau-programme", "desk")
    await world.onboard("sali")
    reference, out = await _submit(world, "sali", commune="Sikasso")
    assert reference in texts(out, "desk")


async def test_nothing_is_lost_when_no_chat_is_linked(world: World, store: SqliteStore) -> None:
    await world.onboard("kadi")
    reference, _ = await _submit(world, "kadi")
    rows = await store.fetch_all("SELECT reference, status FROM complaints")
    assert rows == [(reference, "submitted")]


async def test_cancel_change_and_validation(world: World, store: SqliteStore) -> None:
    await world.onboard("bina")
    await world.say("bina", "plainte")
    await world.tap("bina", "complaint:new")
    await world.tap("bina", "complaint:cat:ecole")
    await world.say("bina", "Segou")
    await world.tap("bina", "complaint:skip_place")
    out = await world.say("bina", "x" * 600)
    # Too long: kept, cut at the limit and shown back (issue 14), then the next step.
    assert "gardé les 500" in texts(out, "bina") and "x" * 500 in texts(out, "bina")
    await world.tap("bina", "complaint:media_done")
    await world.tap("bina", "complaint:consent:no")
    await world.tap("bina", "complaint:change")
    await world.tap("bina", "complaint:edit:description")
    out = await world.say("bina", "court")
    assert "plus de détails" in texts(out, "bina")
    await world.say("bina", "Les enseignants sont absents depuis un mois.")
    await world.tap("bina", "complaint:change")
    await world.tap("bina", "complaint:edit:place")
    out = await world.say("bina", "école de Darsalam")
    assert "Darsalam" in texts(out, "bina") and "complaint:confirm" in ids(out, "bina")
    out = await world.tap("bina", "complaint:cancel")
    assert "vraiment annuler" in texts(out, "bina")  # a draft with content: asked first
    out = await world.tap("bina", "complaint:cancel_yes")
    assert "annulé" in texts(out, "bina")
    assert await store.fetch_all("SELECT COUNT(*) FROM complaints") == [(0,)]


async def test_intake_resumes_after_a_restart(
    tmp_path: Path, pack: ContentPack, clock: FakeClock
) -> None:
    first = await SqliteStore.open(tmp_path / "db.sqlite3")
    w = World(first, pack, clock)
    await w.onboard("nana")
    await w.say("nana", "plainte")
    await w.tap("nana", "complaint:new")
    await w.tap("nana", "complaint:cat:eau")
    await w.say("nana", "Kayes")
    await first.close()
    clock.advance(hours=3)
    second = await SqliteStore.open(tmp_path / "db.sqlite3")
    w2 = World(second, pack, clock)
    out = await w2.say("nana", "Quartier Liberté")
    assert "Décrivez le problème" in texts(out, "nana")
    await second.close()


async def test_every_cso_action_and_the_citizen_notices(world: World) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.onboard("fanta")
    reference, _ = await _submit(world, "fanta")
    ref = reference.replace("-", "")
    out = await world.tap("awa", f"cso:ack:{ref}", chat="cso-kayes")
    assert "par Awa" in texts(out, "cso-kayes")
    assert "reçu par l'association" in texts(out, "fanta")
    out = await world.tap("awa", f"cso:ack:{ref}", chat="cso-kayes")
    assert "pas possible" in texts(out, "cso-kayes")
    out = await world.tap("awa", f"cso:progress:{ref}", chat="cso-kayes")
    assert "en cours" in texts(out, "fanta")
    # Ask the citizen: relayed both ways without names.
    await world.tap("awa", f"cso:ask:{ref}", chat="cso-kayes")
    out = await world.say("awa", "Depuis quelle date exactement ?", chat="cso-kayes")
    question = [r for r in out if r["chat"] == "fanta"]
    assert (
        question
        and "Depuis quelle date" in question[0]["text"]
        and "Awa" not in question[0]["text"]
    )
    answer_id = question[0]["choices"][0]["id"]
    await world.tap("fanta", answer_id)
    out = await world.say("fanta", "Depuis le 2 novembre.")
    relayed = texts(out, "cso-kayes")
    assert "Depuis le 2 novembre" in relayed and "Fanta" not in relayed
    # Resolved with a note.
    await world.tap("awa", f"cso:done:{ref}", chat="cso-kayes")
    out = await world.say("awa", "Le forage est réparé.", chat="cso-kayes")
    assert "résolu" in texts(out, "fanta") and "Le forage est réparé" in texts(out, "fanta")
    events = await world.store.fetch_all("SELECT action, actor FROM complaint_events ORDER BY id")
    assert [e[0] for e in events] == [
        "submitted",
        "ack",
        "progress",
        "question",
        "answered",
        "resolved",
    ]
    assert events[1][1] == "console:awa"


async def test_not_ours_goes_back_to_the_desk(world: World) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.link("bureau-programme", "desk", member="desk-lead")
    await world.onboard("fanta")
    reference, _ = await _submit(world, "fanta")
    await world.tap("awa", f"cso:notours:{reference.replace('-', '')}", chat="cso-kayes")
    out = await world.say("awa", "C'est un forage privé, pas communal.", chat="cso-kayes")
    assert "forage privé" in texts(out, "desk") and reference in texts(out, "desk")
    assert "autre association" in texts(out, "fanta")
    routes = await world.store.fetch_all(
        "SELECT partner_id, active FROM complaint_routes ORDER BY partner_id"
    )
    assert routes == [("bureau-programme", 1), ("exemple-kayes", 0)]


async def test_outsiders_cannot_press_cso_buttons(world: World) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.link("exemple-segou", "cso-segou")
    await world.onboard("fanta")
    reference, _ = await _submit(world, "fanta")
    ref = reference.replace("-", "")
    await world.onboard("intrus")
    for user, chat in (("intrus", "intrus"), ("awa", "cso-segou"), ("fanta", "fanta")):
        out = await world.tap(user, f"cso:ack:{ref}", chat=chat)
        assert "réservé" in texts(out, chat), chat
    status = await world.store.fetch_all("SELECT status FROM complaints")
    assert status == [("submitted",)]


async def test_bad_link_code(world: World) -> None:
    out = await world.say("awa", "/lier NOPE1234", chat="cso-x")
    assert "inconnu ou expiré" in texts(out, "cso-x")


async def test_deadline_reminder_escalation_and_followup(world: World, clock: FakeClock) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.link("bureau-programme", "desk", member="desk-lead")
    await world.onboard("fanta")
    reference, _ = await _submit(world, "fanta")
    clock.advance(days=5, minutes=1)
    out = await world.say("fanta", "menu")
    assert "Rappel" in texts(out, "cso-kayes") and reference in texts(out, "cso-kayes")
    clock.advance(days=2)
    out = await world.say("fanta", "menu")
    assert "bureau" in texts(out, "desk") and reference in texts(out, "desk")
    out = await world.say("fanta", "menu")
    assert not texts(out, "desk")  # escalated once
    ref = reference.replace("-", "")
    await world.tap("awa", f"cso:done:{ref}", chat="cso-kayes")
    await world.tap("awa", f"cso:nonote:{ref}", chat="cso-kayes")
    clock.advance(days=7, minutes=1)
    out = await world.say("fanta", "menu")
    assert "vraiment réglé" in texts(out, "fanta")
    out = await world.tap("fanta", f"complaint:unsolved:{ref}")
    assert "rouvert" in texts(out, "fanta") and "rouvert" in texts(out, "cso-kayes")
    status = await world.store.fetch_all("SELECT status FROM complaints")
    assert status == [("reopened",)]


async def test_duplicates_add_a_voice(world: World) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.onboard("fanta")
    reference, _ = await _submit(world, "fanta")
    await world.onboard("oumar")
    out = await _fill(
        world,
        "oumar",
        place=False,
        text="Le forage est en panne depuis deux semaines, la pompe ne marche pas",
    )
    assert "semblable" in texts(out, "oumar") and "panne" not in texts(out, "oumar")
    voice = [i for i in ids(out, "oumar") if i.startswith("complaint:voice:")]
    out = await world.tap("oumar", voice[0])
    assert "2 voix" in texts(out, "oumar")
    out = await world.tap("awa", f"cso:ack:{reference.replace('-', '')}", chat="cso-kayes")
    assert texts(out, "oumar") and texts(out, "fanta")  # the follower hears too
    out = await world.tap("oumar", "complaint:mine")
    assert reference in str(out)


async def test_my_complaints_and_references_of_others(world: World) -> None:
    await world.onboard("fanta")
    reference, _ = await _submit(world, "fanta")
    out = await world.tap("fanta", "complaint:mine")
    assert any(reference in c["label"] for r in out for c in r["choices"])
    out = await world.say("fanta", reference.lower().replace("-", " "))
    assert "Statut : envoyé" in texts(out, "fanta")
    await world.onboard("curieux")
    out = await world.say("curieux", reference)
    # Someone else's reference is answered like any unknown words: nothing about it shows.
    assert "Statut" not in texts(out, "curieux") and "Kayes" not in texts(out, "curieux")
    out = await world.tap("curieux", f"complaint:show:{reference.replace('-', '')}")
    assert "Je ne trouve aucun de vos signalements" in texts(out, "curieux")


async def test_daily_limit(store: SqliteStore, pack: ContentPack, clock: FakeClock) -> None:
    world = World(store, pack, clock, complaint_daily_limit=2)
    await world.onboard("spam")
    for n in range(2):
        await _submit(world, "spam", text=f"Problème numéro {n} très différent {n * 'x'} école")
    await world.say("spam", "plainte")
    await world.tap("spam", "complaint:new")
    await world.tap("spam", "complaint:cat:autre")
    await world.say("spam", "Mopti")
    await world.tap("spam", "complaint:skip_place")
    await world.say("spam", "Encore un autre problème sans rapport.")
    await world.tap("spam", "complaint:media_done")
    out = await world.tap("spam", "complaint:consent:no")
    if "complaint:dup_no" in ids(out, "spam"):
        await world.tap("spam", "complaint:dup_no")
    out = await world.tap("spam", "complaint:confirm")
    assert "déjà envoyé 2 signalements" in texts(out, "spam")


async def test_forget_keeps_complaints_anonymous(world: World) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.onboard("fanta")
    reference, _ = await _submit(world, "fanta", consent=True)
    await world.say("fanta", "oublier")
    await world.tap("fanta", "privacy:forget_yes")
    rows = await world.store.fetch_all(
        "SELECT reference, user_key, chat_id, contact, contact_consent FROM complaints"
    )
    assert rows == [(reference, None, None, None, 0)]
    out = await world.tap("awa", f"cso:ack:{reference.replace('-', '')}", chat="cso-kayes")
    assert "reçu" in texts(out, "cso-kayes") and not texts(out, "fanta")


async def test_a_cso_chat_that_never_receives_hands_over_to_the_desk(world: World) -> None:
    from bot.delivery import DeliveryWorker, RetryPolicy, SendError
    from handlers.complaints.deadlines import reroute_undelivered
    from handlers.messages import Reply

    class Unreachable:
        async def send(
            self, chat_id: str, reply: Reply, row: OutboxRecord | None = None
        ) -> str | None:
            raise SendError("chat unreachable")

    await world.link("bureau-programme", "desk", member="desk-lead")
    # The Kayes CSO's chat is on another platform, which keeps failing.
    code = "FLAKYKAY"
    await world.store.create_link_code("exemple-kayes", code, world.clock() + timedelta(days=1))
    await world.console.exchange(
        Inbound(
            channel="flaky",
            user_id="k",
            chat_id="kayes-group",
            chat_type="group",
            received_at=world.clock(),
            text=f"/lier {code}",
        )
    )
    await world.onboard("fanta")
    reference, out = await _submit(world, "fanta")
    assert not texts(out, "desk")
    worker = DeliveryWorker(
        world.store,
        {"flaky": Unreachable()},
        clock=world.clock,
        policy=RetryPolicy(max_attempts=3, base_seconds=1),
        on_dead=lambda row: reroute_undelivered(world.store, world.pack, world.clock(), row),
    )
    for _ in range(3):  # retried, then given up
        await worker.run_once()
        world.clock.advance(minutes=5)
    out = await world.say("fanta", "menu")
    assert reference in texts(out, "desk") and "n'a pas pu être remis" in texts(out, "desk")
    routes = await world.store.fetch_all("SELECT partner_id FROM complaint_routes ORDER BY 1")
    assert routes == [("bureau-programme",), ("exemple-kayes",)]


async def test_cso_steps_in_a_group_leave_the_private_chat_alone(world: World) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.onboard("fanta")
    reference, _ = await _submit(world, "fanta")
    # The CSO member is also a citizen, halfway through a report in private.
    await world.onboard("awa")
    await world.say("awa", "plainte")
    await world.tap("awa", "complaint:new")
    await world.tap("awa", f"cso:ask:{reference.replace('-', '')}", chat="cso-kayes")
    out = await world.say("awa", "1")  # private: the first category, not the group's step
    assert "Dans quelle commune" in texts(out, "awa")
    out = await world.say("awa", "14", chat="cso-kayes")  # a number is a fine question too
    assert "Question transmise" in texts(out, "cso-kayes") and "« 14 »" in texts(out, "fanta")


async def test_stop_holds_back_questions_and_follow_ups(world: World, clock: FakeClock) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.onboard("fanta")
    reference, _ = await _submit(world, "fanta")
    ref = reference.replace("-", "")
    await world.tap("awa", f"cso:ask:{ref}", chat="cso-kayes")
    await world.say("fanta", "stop")
    out = await world.say("awa", "Quelle date ?", chat="cso-kayes")
    assert not texts(out, "fanta")
    await world.tap("awa", f"cso:done:{ref}", chat="cso-kayes")
    out = await world.tap("awa", f"cso:nonote:{ref}", chat="cso-kayes")
    assert not texts(out, "fanta")
    clock.advance(days=8)
    out = await world.say("awa", "menu")
    assert not texts(out, "fanta")


async def test_forget_scrubs_the_actor_and_the_contact_copies(world: World) -> None:
    await world.link("exemple-kayes", "cso-kayes")
    await world.onboard("fanta")
    reference, _ = await _submit(world, "fanta", consent=True)
    await world.tap("fanta", f"complaint:unsolved:{reference.replace('-', '')}")  # no effect
    await world.say("fanta", "oublier")
    await world.tap("fanta", "privacy:forget_yes")
    actors = await world.store.fetch_all(
        "SELECT actor FROM complaint_events WHERE actor IS NOT NULL"
    )
    assert ("console:fanta",) not in actors
    payloads = await world.store.fetch_all("SELECT payload FROM outbox WHERE kind = 'forward'")
    assert payloads and not any("Fanta" in p[0] for p in payloads)


async def test_a_voice_counts_once(world: World) -> None:
    await world.onboard("fanta")
    _reference, _ = await _submit(world, "fanta")
    await world.onboard("oumar")
    for attempt in range(2):
        out = await _fill(world, "oumar", place=False)
        offered = [i for i in ids(out, "oumar") if i.startswith("complaint:voice:")]
        if attempt == 0:
            await world.tap("oumar", offered[0])
        else:
            assert offered == []  # already following it: not offered again
            await world.tap("oumar", "complaint:cancel")
    voices = await world.store.fetch_all("SELECT voices FROM complaints")
    assert voices == [(2,)]


async def test_words_that_look_like_references_are_searched(world: World) -> None:
    await world.onboard("sidi")
    out = await world.say("sidi", "urgences")
    assert "Je ne trouve aucun de vos signalements" not in texts(out, "sidi")


async def test_a_position_outside_mali(world: World) -> None:
    await world.onboard("ali")
    await world.say("ali", "plainte")
    await world.tap("ali", "complaint:new")
    await world.tap("ali", "complaint:cat:eau")
    out = await world.send("ali", location=Location(48.85, 2.35))
    assert "pas au Mali" in texts(out, "ali")

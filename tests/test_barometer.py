"""The Good Governance Barometer: scorecard, scoring, and whole rounds through the engine."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from barometer.scoring import Response, previous_results, score_round
from bot.channels.console import ConsoleChannel
from content.pack import ContentPack
from handlers.barometer.rounds import announce_actions
from handlers.clocks import run_clocks
from handlers.engine import Engine
from handlers.messages import Inbound
from storage.barometer_records import BarometerRound
from storage.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.storage_backends import store as store  # each test on every backend

COMMUNE = "ML010101"
OTHER = "ML010102"
CSO_CHAT = "-100777"


class People:
    """Citizens and a CSO chat on the terminal channel, with the clocks run after each input."""

    def __init__(self, store: SqliteStore, pack: ContentPack, clock: FakeClock) -> None:
        self.store, self.pack, self.clock = store, pack, clock
        engine = Engine(store, lambda: pack, clock=clock, rng=random.Random(3))
        self.console = ConsoleChannel(
            engine, store, clock, deadlines=lambda: run_clocks(store, pack, clock())
        )
        self._ids = itertools.count()

    async def send(self, user: str, **fields: Any) -> list[dict[str, Any]]:
        inbound = Inbound(
            channel="console",
            user_id=user,
            chat_id=user,
            chat_type="private",
            received_at=self.clock(),
            message_id=str(next(self._ids)),
            **fields,
        )
        return await self.console.exchange(inbound)

    async def join(self, user: str, commune: str | None, stopped: bool = False) -> None:
        await self.send(user, text="bonjour")
        await self.send(user, choice="lang:fr")
        async with self.store.transaction() as tx:
            record = await tx.get_user(f"console:{user}")
            assert record is not None
            tx.save_user(
                replace(
                    record,
                    commune=commune,
                    region=commune[:4] if commune else None,
                    stopped=stopped,
                )
            )

    async def answer_all(self, user: str, scores: list[int], start: str) -> list[dict[str, Any]]:
        out = await self.send(user, choice=start)
        for n, score in enumerate(scores):
            assert f"barometer:a:{n}:{score}" in ids(out, user), text(out, user)
            out = await self.send(user, choice=f"barometer:a:{n}:{score}")
        return out


def ids(out: list[dict[str, Any]], chat: str) -> list[str]:
    return [c["id"] for r in out if r["chat"] == chat for c in r["choices"]]


def text(out: list[dict[str, Any]], chat: str) -> str:
    return "\n".join(r["text"] for r in out if r["chat"] == chat)


@pytest.fixture
def people(store: SqliteStore, pack: ContentPack, clock: FakeClock) -> People:
    return People(store, pack, clock)


def test_the_scorecard_has_the_barometer_criteria(pack: ContentPack) -> None:
    barometer = pack.barometer
    assert barometer is not None
    assert [c.id for c in barometer.criteria] == [
        "efficacite",
        "etat-de-droit",
        "redevabilite",
        "participation",
        "equite",
    ]
    assert all(1 <= len(c.questions) <= 3 for c in barometer.criteria)
    assert [s["fr"] for s in barometer.scale] == [
        "Très mauvais",
        "Mauvais",
        "Moyen",
        "Bon",
        "Très bon",
    ]
    assert barometer.needs_review == {"bm": True}
    for _, question in barometer.questions():
        assert question.text["fr"]


def test_small_groups_show_no_average_and_no_distribution() -> None:
    criteria = [("a", ["q1", "q2"]), ("b", ["q3"])]
    big = [Response("X", {"q1": 4, "q2": 2, "q3": 5}) for _ in range(5)]
    # In Y only four people answered: nothing about them but the count.
    small = [Response("Y", {"q1": 1, "q3": 1}) for _ in range(4)]
    results = score_round(big + small, criteria)
    assert results["X"]["criteria"]["a"] == {
        "respondents": 5,
        "average": 3.0,
        "distribution": [0, 5, 0, 5, 0],
        "previous": None,
        "change": None,
    }
    assert results["Y"]["respondents"] == 4
    assert results["Y"]["criteria"]["a"]["average"] is None
    assert results["Y"]["criteria"]["a"]["distribution"] is None
    # Five people in X, but only those who answered a criterion's questions count for it.
    partial = [Response("Z", {"q1": 3}) for _ in range(5)] + [Response("Z", {"q3": 2})]
    z = score_round(partial, criteria)["Z"]["criteria"]
    assert (z["a"]["respondents"], z["a"]["average"]) == (5, 3.0)
    assert (z["b"]["respondents"], z["b"]["average"]) == (1, None)


def test_comparison_uses_the_latest_earlier_round_of_each_commune() -> None:
    criteria = [("a", ["q1"])]
    old = score_round([Response("X", {"q1": 2}) for _ in range(5)], criteria)
    older = score_round([Response("X", {"q1": 5}) for _ in range(5)], criteria)
    before = previous_results([(("X",), old), (("X",), older)], ["X", "W"])
    assert set(before) == {"X"}
    new = score_round([Response("X", {"q1": 3}) for _ in range(6)], criteria, before)
    assert new["X"]["criteria"]["a"]["previous"] == 2.0
    assert new["X"]["criteria"]["a"]["change"] == 1.0


async def _round(
    store: SqliteStore, clock: FakeClock, round_id: str, opens_in: timedelta
) -> BarometerRound:
    record = BarometerRound(
        id=round_id,
        communes=(COMMUNE,),
        opens_at=clock() + opens_in,
        closes_at=clock() + opens_in + timedelta(days=7),
        status="scheduled",
        created_at=clock(),
        partner_id="bureau-programme",
    )
    async with store.transaction() as tx:
        tx.save_barometer_round(record)
    return record


async def test_a_whole_round_open_invite_answer_change_close_results_actions(
    people: People, store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    assert pack.partner("bureau-programme") is not None
    async with store.transaction() as tx:
        tx.link_chat("console", CSO_CHAT, "bureau-programme", "nocode", clock())
    citizens = ["awa", "bintou", "cheick", "drissa", "fanta", "gaoussou"]
    for name in citizens:
        await people.join(name, COMMUNE)
    await people.join("stopped", COMMUNE, stopped=True)
    await people.join("elsewhere", OTHER)
    record = await _round(store, clock, "bbg-test1", timedelta(hours=1))

    # Nothing happens before the first day.
    assert "barometer:round" not in str(await people.send("awa", text="menu"))
    clock.advance(hours=2)
    out = await people.send("elsewhere", text="menu")
    invited = {
        r["chat"] for r in out if any(c["id"] == "barometer:round:bbg-test1" for c in r["choices"])
    }
    assert invited == set(citizens), "only people of the commune who did not say stop"
    # A second tick does not invite twice.
    assert not any("barometer:round" in str(r) for r in await people.send("elsewhere", text="menu"))

    barometer = pack.barometer
    assert barometer is not None
    count = len(barometer.questions())
    # Five people answer everything with 4; cheick first answers 1 then changes to 2.
    for name in ["awa", "bintou", "drissa", "fanta"]:
        out = await people.answer_all(name, [4] * count, "barometer:round:bbg-test1")
        assert "commentaire" in text(out, name)
        out = await people.send(name, choice="barometer:nocomment")
        assert "Merci" in text(out, name)
    out = await people.answer_all("cheick", [1] * count, "barometer:round:bbg-test1")
    await people.send("cheick", text="Le forage de Bangassi est en panne depuis un an.")
    out = await people.send("cheick", text="barometre")
    assert "déjà répondu" in text(out, "cheick")
    change = next(i for i in ids(out, "cheick") if i.startswith("barometer:change:"))
    await people.answer_all("cheick", [2] * count, change)
    await people.send("cheick", choice="barometer:nocomment")
    # Gaoussou answers only the first question ("don't know" for the rest).
    await people.answer_all("gaoussou", [5] + [0] * (count - 1), "barometer:round:bbg-test1")
    await people.send("gaoussou", choice="barometer:nocomment")

    async with store.transaction() as tx:
        answers = await tx.barometer_responses(record.id)
    assert len(answers) == 6, "one answer set per person, changes replace it"
    assert sorted(a.answers[barometer.criteria[0].questions[0].id] for a in answers) == [
        2,
        4,
        4,
        4,
        4,
        5,
    ]
    assert [a.comment for a in answers if a.comment] == []

    clock.advance(days=8)
    out = await people.send("elsewhere", text="menu")
    results = text(out, "awa")
    assert "Résultats du baromètre" in results and "participants : 6" in results
    # Efficacité: 6 respondents (awa..fanta 4, cheick 2, gaoussou 5 on one question).
    assert "Efficacité : 3,8/5" in results
    # Other criteria: only the five who answered them; Gaoussou said "I don't know".
    assert "Équité : 3,6/5" in results
    assert text(out, CSO_CHAT) == results, "the CSO's chat gets the same results"
    assert "Résultats" not in text(out, "elsewhere") and "Résultats" not in text(out, "stopped")
    # Too late to answer now.
    out = await people.send("awa", choice="barometer:round:bbg-test1")
    assert "fermé" in text(out, "awa")

    told = await announce_actions(store, pack, record.id, "Réparer le forage avant mars.", clock())
    assert told == 6
    out = await people.send("elsewhere", text="menu")
    assert "Réparer le forage avant mars." in text(out, "bintou")
    assert "Réparer le forage avant mars." in text(out, CSO_CHAT)

    # The next round compares with this one.
    await _round(store, clock, "bbg-test2", timedelta(hours=1))
    clock.advance(hours=2)
    await people.send("elsewhere", text="menu")
    for name in ["awa", "bintou", "cheick", "drissa", "fanta"]:
        await people.answer_all(name, [5] * count, "barometer:round:bbg-test2")
        await people.send(name, choice="barometer:nocomment")
    clock.advance(days=8)
    out = await people.send("elsewhere", text="menu")
    assert "Efficacité : 5,0/5 (+1,2 depuis le baromètre précédent)" in text(out, "awa")


async def test_without_an_open_round_the_keyword_says_so(people: People) -> None:
    await people.join("awa", COMMUNE)
    out = await people.send("awa", text="baromètre")
    assert "Aucun baromètre" in text(out, "awa")


async def test_someone_outside_the_communes_chooses_one(
    people: People, store: SqliteStore, clock: FakeClock
) -> None:
    await people.join("nomad", None)
    record = replace(await _round(store, clock, "bbg-two", timedelta(0)), communes=(COMMUNE, OTHER))
    async with store.transaction() as tx:
        tx.save_barometer_round(record)
    await people.send("nomad", text="menu")
    out = await people.send("nomad", text="barometre")
    assert f"barometer:go:bbg-two:{OTHER}" in ids(out, "nomad")
    out = await people.send("nomad", choice=f"barometer:go:bbg-two:{OTHER}")
    assert "barometer:a:0:3" in ids(out, "nomad")


async def test_a_cso_opens_a_round_and_announces_actions_from_its_chat(
    people: People, store: SqliteStore, clock: FakeClock
) -> None:
    async with store.transaction() as tx:
        tx.link_chat("console", CSO_CHAT, "exemple-kayes", "nocode", clock())
    for name in ("awa", "bintou"):
        await people.join(name, COMMUNE)

    async def cso(text_: str, chat: str = CSO_CHAT) -> str:
        out = await people.console.exchange(
            Inbound(
                channel="console",
                user_id="lead",
                chat_id=chat,
                chat_type="group",
                received_at=clock(),
                message_id=str(next(people._ids)),
                text=text_,
            )
        )
        return text(out, chat)

    assert "réservée" in await cso("/barometre ouvrir ML010101 2026-11-28 2026-12-05", "-999")
    assert "Pour ouvrir" in await cso("/barometre ouvrir ML999999 2026-11-28 2026-12-05")
    today = clock().date()
    answer = await cso(f"/barometre ouvrir {COMMUNE} {today} {today + timedelta(days=7)}")
    assert "Personnes invitées : 2" in answer
    round_id = answer.split()[1]
    async with store.transaction() as tx:
        record = await tx.barometer_round(round_id)
    assert record is not None and record.partner_id == "exemple-kayes"
    assert "Aucun tour" in await cso("/barometre actions bbg-nope Réparer.")
    assert "aux participants (0)" in await cso(f"/barometre actions {round_id} Réparer le forage.")

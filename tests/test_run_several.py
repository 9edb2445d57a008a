"""Several `civicbot run` processes on one throwaway PostgreSQL (issue 20).

Real processes behind the fake WhatsApp Graph and Telegram Bot API servers, which record
every send: timers fire once whichever processes are alive, one process polls Telegram,
webhooks are spread across processes (Meta's redeliveries to another one), the platform rate
holds for the deployment, and a process killed in the middle loses nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
import pytest

from handlers.messages import Reply
from storage.postgres.store import PostgresStore
from storage.records import GroupQuizRecord, NewOutboxMessage, UserRecord
from tests.deployment import Deployment, busiest_second, deliver, post_whatsapp, session, until
from tests.fake_graph import FakeGraph, text
from tests.fake_telegram import FakeTelegram, text_update


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    fake = await FakeTelegram().start()
    yield fake
    await fake.stop()


def _questions(fake: FakeTelegram, chat: str, n: int) -> int:
    """How many times question `n` of a group quiz was posted in `chat`."""
    return sum(1 for c in fake.sent(chat) if c.text.startswith(f"Question {n}/"))


async def test_timers_and_polling_run_once_with_three_processes_and_after_the_leader_dies(
    pg_url: str, telegram: FakeTelegram, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    store = await PostgresStore.open(pg_url)
    try:
        async with store.transaction() as tx:
            # One group's question is due now, another's once the first leader is dead.
            for chat, due in (("-1001", now), ("-1002", now + timedelta(seconds=12))):
                tx.start_group_quiz(
                    GroupQuizRecord(f"q{chat}", "telegram", chat, "redevabilite", 1, 0, due, now)
                )
    finally:
        await store.close()
    deployment = Deployment(pg_url, tmp_path, telegram=telegram)
    try:
        await deployment.start(3)
        for uid in range(501, 506):
            telegram.push(text_update(uid, "bonjour"))
        await until(lambda: _questions(telegram, "-1001", 2) >= 1, 20, "the first tick")
        leader = deployment.leader()
        assert leader is not None
        assert [p.leads() for p in deployment.processes].count(True) == 1
        await until(lambda: all(telegram.sent(u) for u in range(501, 506)), 20, "the answers")
        deployment.kill(leader)
        # Updates sent while nobody polls wait at Telegram for the next leader's poll.
        for uid in range(506, 511):
            telegram.push(text_update(uid, "bonjour"))
        await until(lambda: _questions(telegram, "-1002", 2) >= 1, 30, "the second tick")
        await until(lambda: deployment.leader() not in (None, leader), 5, "a new leader")
        await until(lambda: all(telegram.sent(u) for u in range(506, 511)), 20, "the answers")
        await asyncio.sleep(1.0)
        # Every update answered once (the language prompt), before and after the new leader.
        assert [len(telegram.sent(u)) for u in range(501, 511)] == [1] * 10
        # Both quizzes moved on once: one closing message and one next question each.
        for chat in ("-1001", "-1002"):
            assert _questions(telegram, chat, 2) == 1
            assert sum(1 for c in telegram.sent(chat) if "Réponse" in c.text) == 1
        # Polling ran in one process at a time: Telegram never saw two pollers at once.
        assert telegram.conflicts == 0
    finally:
        await deployment.stop()


# --- WhatsApp webhooks spread across processes --------------------------------------------

SCRIPT = ("bonjour", "1", "menu")  # the language prompt, French chosen, the menu again
RATE = 8  # messages per second for the whole deployment (the fake Graph records each send)


@pytest.fixture
async def graph() -> AsyncIterator[FakeGraph]:
    fake = await FakeGraph().start()
    yield fake
    await fake.stop()


def _texts(graph: FakeGraph, wa_id: str) -> list[str]:
    return [sent.text for sent in graph.sent(wa_id)]


async def _converse(
    http: aiohttp.ClientSession,
    deployment: Deployment,
    graph: FakeGraph,
    users: list[str],
    expected: list[int],
    *,
    redeliver: bool,
) -> None:
    """Every user goes through SCRIPT; step k goes to one process and, as Meta redelivers
    when it is slow to hear back, the very same message to another at the same moment."""
    processes = deployment.processes
    for step, words in enumerate(SCRIPT):
        bodies = {wa_id: text(wa_id, words) for wa_id in users}
        posts = []
        for n, wa_id in enumerate(users):
            first = (n + step) % len(processes)
            posts.append(deliver(http, processes, bodies[wa_id], first))
            if redeliver:
                posts.append(deliver(http, processes, bodies[wa_id], first + 1))
        await asyncio.gather(*posts)
        total = expected[step] * len(users)
        await until(lambda: len(graph.sent()) >= total, 60, f"the replies to {words!r}")  # noqa: B023


async def _reference(
    http: aiohttp.ClientSession,
    deployment: Deployment,
    graph: FakeGraph,
    script: tuple[str, ...] = SCRIPT,
) -> list[int]:
    """What one user, alone and without redeliveries, receives after each step of a script."""
    counts: list[int] = []
    process = deployment.processes[0]
    for words in script:
        before = len(graph.sent("22370009999"))
        assert await post_whatsapp(http, process, text("22370009999", words)) == 200
        await until(lambda: len(graph.sent("22370009999")) > before, 30, "the reference")  # noqa: B023
        await asyncio.sleep(1.0)  # a turn's replies go together: let the last of them arrive
        counts.append(len(graph.sent("22370009999")))
    return counts


async def _campaign(pg_url: str, users: list[str], name: str) -> None:
    """The rows `civicbot campaign send` writes: one per recipient, all due now."""
    store = await PostgresStore.open(pg_url)
    try:
        async with store.transaction() as tx:
            now = datetime.now(UTC)
            for wa_id in users:
                reply = Reply(text=f"Campagne {name}: votez le 10 décembre")
                tx.enqueue(
                    NewOutboxMessage(
                        "whatsapp",
                        wa_id,
                        "campaign",
                        reply.to_dict(wa_id),
                        f"whatsapp:{wa_id}",
                        f"campaign:{name}:whatsapp:{wa_id}",
                    ),
                    now,
                )
    finally:
        await store.close()


async def test_two_processes_answer_every_message_once_in_order_within_one_rate(
    pg_url: str, graph: FakeGraph, tmp_path: Path
) -> None:
    deployment = Deployment(
        pg_url,
        tmp_path,
        graph=graph,
        # Quiet hours (21:00-07:00 by default) would hold the campaign until morning: this
        # test ran red every evening.
        extra={"CIVICBOT_WHATSAPP_RATE": str(RATE), "CIVICBOT_QUIET_HOURS": "off"},
    )
    users = [f"2237000{n:04d}" for n in range(24)]
    try:
        await deployment.start(2)
        async with session() as http:
            cumulative = await _reference(http, deployment, graph)
            reference = _texts(graph, "22370009999")
            graph.calls.clear()
            await _converse(http, deployment, graph, users, cumulative, redeliver=True)
        await asyncio.sleep(2.0)  # anything sent twice would arrive by now
        for wa_id in users:
            # Each message answered once (redeliveries were not), in the order they were sent.
            assert _texts(graph, wa_id) == reference, wa_id
        await _campaign(pg_url, users, "eid")
        await until(
            lambda: sum("Campagne eid" in s.text for s in graph.sent()) >= len(users),
            60,
            "the campaign",
        )
        await asyncio.sleep(2.0)
        for wa_id in users:
            assert _texts(graph, wa_id)[-1].startswith("Campagne eid")
            assert sum("Campagne" in t for t in _texts(graph, wa_id)) == 1
        # Both processes answered, and together they kept to the phone number's rate
        # (a bucket of RATE tokens refilled at RATE a second: at most 2 * RATE in a second).
        stamps = [s.at for s in graph.sent()]
        assert busiest_second(stamps) <= 2 * RATE + 1
    finally:
        codes = await deployment.stop()
    assert codes == [0, 0]
    handled = [p.logs().count('"message": "handled ') for p in deployment.processes]
    assert all(handled), handled  # both processes took turns


async def test_a_process_killed_in_the_middle_of_a_burst_loses_and_repeats_nothing(
    pg_url: str, graph: FakeGraph, tmp_path: Path
) -> None:
    deployment = Deployment(
        pg_url, tmp_path, graph=graph, extra={"CIVICBOT_DELIVERY_LEASE_SECONDS": "3"}
    )
    users = [f"2237100{n:04d}" for n in range(30)]
    try:
        doomed, *others = await deployment.start(3)
        async with session() as http:
            await _reference(http, deployment, graph, (*SCRIPT, "aide"))
            reference = _texts(graph, "22370009999")
            graph.calls.clear()
            # The burst: every user goes through the script, the last step all at once to
            # the doomed process, whose sends hang at Meta when it dies.
            for words in SCRIPT:
                await asyncio.gather(
                    *(deliver(http, others, text(wa_id, words), n) for n, wa_id in enumerate(users))
                )
                await asyncio.sleep(1.5)
            graph.gate.clear()
            bodies = [text(wa_id, "aide") for wa_id in users]
            for body in bodies:
                assert await post_whatsapp(http, doomed, body) == 200
            await asyncio.sleep(1.0)
            deployment.kill(doomed)
            await doomed.proc.wait()
            graph.gate.set()
            # Meta redelivers what it does not know was received; here: all of it, elsewhere.
            await asyncio.gather(*(deliver(http, others, body, n) for n, body in enumerate(bodies)))
            await asyncio.sleep(8.0)  # the doomed process's leases lapse, the others take over
        assert graph.dropped > 0  # it died with sends in flight
        for wa_id in users:
            # Everything answered, once each, in order: as for a user nobody killed.
            assert _texts(graph, wa_id) == reference, wa_id
    finally:
        await deployment.stop()


async def test_a_row_waiting_for_the_window_is_woken_by_a_message_to_another_process(
    pg_url: str, graph: FakeGraph, tmp_path: Path
) -> None:
    """A CSO notice to a chat whose 24 hours are over waits (no template); the user then
    writes through the process whose worker did not park it: the notice goes at once."""
    wa_id = "22372000001"
    key = f"whatsapp:{wa_id}"
    deployment = Deployment(pg_url, tmp_path, graph=graph)
    try:
        await deployment.start(2)
        store = await PostgresStore.open(pg_url)
        try:
            now = datetime.now(UTC)
            long_ago = now - timedelta(days=2)
            async with store.transaction() as tx:
                tx.save_user(
                    UserRecord(
                        key, "whatsapp", wa_id, long_ago, long_ago, "fr", last_inbound_at=long_ago
                    )
                )
                tx.enqueue(
                    NewOutboxMessage(
                        "whatsapp",
                        wa_id,
                        "notice",
                        Reply(text="Avis: votre plainte avance").to_dict(wa_id),
                        key,
                    ),
                    now,
                )
        finally:
            await store.close()
        waits = "waits for the user to write"
        await until(lambda: any(waits in p.logs() for p in deployment.processes), 20, "the wait")
        parker = next(n for n, p in enumerate(deployment.processes) if waits in p.logs())
        other = deployment.processes[1 - parker]
        assert not graph.sent(wa_id)
        async with session() as http:
            assert await post_whatsapp(http, other, text(wa_id, "bonjour")) == 200
        # Not a week later: within a few delivery ticks of the user's message.
        await until(
            lambda: any("Avis: votre plainte" in s.text for s in graph.sent(wa_id)),
            10,
            "the notice",
        )
    finally:
        await deployment.stop()

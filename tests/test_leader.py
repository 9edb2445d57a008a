"""Several processes on one PostgreSQL: one leader at a time, one rate budget, timers once.

Each `PostgresStore` here has its own pool, as each `civicbot run` process has.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from bot.channels.rate import SharedRate
from bot.channels.telegram.flood import FloodControl
from bot.leader import Leadership, Work
from content.pack import ContentPack
from handlers.clocks import run_clocks
from storage.postgres.leader import LOCK_LEADER, PgLeaderLock
from storage.postgres.store import PostgresStore
from storage.records import GroupQuizRecord

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture
async def stores(pg_url: str) -> AsyncIterator[list[PostgresStore]]:
    """Three processes' stores on one database."""
    opened = [await PostgresStore.open(pg_url) for _ in range(3)]
    yield opened
    for store in opened:
        await store.close()


class Terms:
    """Who ran the leader's work, and when each term ended."""

    def __init__(self) -> None:
        self.running: set[int] = set()
        self.started: list[int] = []

    def work(self, who: int) -> Work:
        async def run(until: asyncio.Event) -> None:
            self.running.add(who)
            self.started.append(who)
            try:
                await until.wait()
            finally:
                self.running.discard(who)

        return run


async def _until(condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.05)


async def test_one_process_leads_and_another_takes_over_when_it_dies(
    stores: list[PostgresStore],
) -> None:
    terms = Terms()
    stop = asyncio.Event()
    leaders = [
        Leadership(store.leader_lock("civicbot-leader"), [("timers", terms.work(n))], every=0.2)
        for n, store in enumerate(stores)
    ]
    runs = [asyncio.create_task(leader.run(stop)) for leader in leaders]
    try:
        await _until(lambda: len(terms.running) == 1)
        await asyncio.sleep(1.0)  # the others keep trying, and fail
        assert len(terms.started) == 1 and len(terms.running) == 1
        [first] = terms.running
        # The leader's connection dies as it would with its process (SIGKILL, a lost host).
        await stores[1 - min(first, 1)].fetch_all(
            "SELECT pg_terminate_backend(pid) FROM pg_locks "
            "WHERE locktype = 'advisory' AND classid = $1 AND granted",
            [LOCK_LEADER],
        )
        await _until(lambda: len(terms.started) == 2 and len(terms.running) == 1)
        assert first not in terms.running  # the old leader stopped its work too
        assert leaders[first].leading is False
        await asyncio.sleep(1.0)
        assert len(terms.started) == 2  # and nobody else started meanwhile
    finally:
        stop.set()
        await asyncio.gather(*runs)
    assert not terms.running


class _AnswerLost:
    """A pooled connection whose answers are lost after the server has acted on the query,
    as when the task is cancelled while the answer comes back."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def fetchval(self, *args: Any) -> Any:
        await self.conn.fetchval(*args)
        raise asyncio.CancelledError

    def terminate(self) -> None:
        self.conn.terminate()


class _Pool:
    def __init__(self, pool: Any) -> None:
        self.pool = pool

    async def acquire(self) -> _AnswerLost:
        return _AnswerLost(await self.pool.acquire())

    async def release(self, conn: _AnswerLost) -> None:
        await self.pool.release(conn.conn)


async def test_a_lock_granted_as_its_contender_is_cancelled_does_not_stay_in_the_pool(
    stores: list[PostgresStore],
) -> None:
    lock = PgLeaderLock(_Pool(stores[0].pool), "r")  # type: ignore[arg-type]
    with pytest.raises(asyncio.CancelledError):
        await lock.acquire()
    # The connection that got the lock was closed, not pooled: another process may lead.
    other = stores[1].leader_lock("r")
    deadline = time.monotonic() + 5
    while not await other.acquire():
        assert time.monotonic() < deadline, "the lock stayed with a pooled connection"
        await asyncio.sleep(0.05)
    await other.release()


async def test_the_leader_connection_has_the_server_probe_a_lost_host_within_seconds(
    stores: list[PostgresStore],
) -> None:
    lock = stores[0].leader_lock("r")
    assert await lock.acquire()
    try:
        conn = lock._conn
        assert conn is not None
        settings = [
            await conn.fetchval(f"SHOW {name}")
            for name in ("tcp_keepalives_idle", "tcp_keepalives_interval", "tcp_keepalives_count")
        ]
        assert settings == ["10", "5", "3"], settings
    finally:
        await lock.release()


async def test_a_leader_that_stops_hands_over_at_once(stores: list[PostgresStore]) -> None:
    terms = Terms()
    first_stop, second_stop = asyncio.Event(), asyncio.Event()
    first = Leadership(stores[0].leader_lock("r"), [("w", terms.work(0))], every=0.2)
    second = Leadership(stores[1].leader_lock("r"), [("w", terms.work(1))], every=0.2)
    one = asyncio.create_task(first.run(first_stop))
    await _until(lambda: terms.running == {0})
    two = asyncio.create_task(second.run(second_stop))
    await asyncio.sleep(0.6)
    assert terms.running == {0}
    first_stop.set()
    await one
    await _until(lambda: terms.running == {1}, timeout=5)
    second_stop.set()
    await two


async def test_two_processes_never_send_faster_than_the_shared_rate(
    stores: list[PostgresStore],
) -> None:
    rate, burst = 20.0, 5.0
    gates = [SharedRate(store, "whatsapp:106540352242922", rate, burst) for store in stores[:2]]
    sent: list[float] = []

    async def send(gate: SharedRate) -> None:
        await gate.take()
        sent.append(time.monotonic())

    start = time.monotonic()
    await asyncio.gather(*(send(gates[n % 2]) for n in range(70)))
    elapsed = time.monotonic() - start
    assert len(sent) == 70
    # 70 sends at 20/s after a burst of 5 take at least 3.25 s, whichever process sends them.
    assert elapsed > (70 - burst) / rate * 0.9
    sent.sort()
    busiest = max(sum(1 for t in sent if s <= t < s + 1.0) for s in sent)
    assert busiest <= rate + burst + 1


async def test_a_group_question_closes_once_when_every_process_ticks(
    stores: list[PostgresStore], pack: ContentPack
) -> None:
    run = GroupQuizRecord(
        "q1", "telegram", "-100200", "redevabilite", 1, 0, NOW + timedelta(seconds=30), NOW
    )
    async with stores[0].transaction() as tx:
        tx.start_group_quiz(run)
    later = NOW + timedelta(seconds=31)
    # Three leaders at once (a leader change in the middle of a tick): one closes it.
    done = await asyncio.gather(*(run_clocks(store, pack, later) for store in stores))
    assert sorted(done) == [0, 0, 1]
    [(position,)] = await stores[0].fetch_all("SELECT position FROM group_quizzes")
    assert position == 1
    rows = await stores[0].fetch_all("SELECT payload FROM outbox WHERE chat_id = '-100200'")
    assert len(rows) == 2  # the closed question edited, the next one posted: once each


async def test_two_telegram_processes_keep_to_one_overall_rate(
    stores: list[PostgresStore],
) -> None:
    rate = 10.0
    floods = [
        FloodControl(rate, 100.0, 6000.0, shared=SharedRate(store, "telegram:4242", rate))
        for store in stores[:2]
    ]
    sent: list[float] = []

    async def send(n: int) -> None:
        # Every send to its own chat: only the overall limit applies.
        await floods[n % 2].wait(str(1000 + n), group=False)
        sent.append(time.monotonic())

    await asyncio.gather(*(send(n) for n in range(40)))
    sent.sort()
    busiest = max(sum(1 for t in sent if s <= t < s + 1.0) for s in sent)
    assert busiest <= 2 * rate + 1  # a full bucket of `rate`, then `rate` a second

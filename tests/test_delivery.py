"""The outbox delivery worker: retries with backoff, gives up cleanly, loses nothing."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from bot.delivery import DeliveryWorker, RetryPolicy, SendError
from handlers.messages import Reply
from storage.records import NewOutboxMessage, OutboxRecord
from storage.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.storage_backends import store as store  # each test on every backend


class FlakySender:
    """Fails the first `failures` sends, then delivers."""

    def __init__(self, failures: int = 0, error: SendError | None = None) -> None:
        self.failures = failures
        self.error = error or SendError("network down")
        self.delivered: list[tuple[str, Reply]] = []
        self.calls = 0

    async def send(self, chat_id: str, reply: Reply, row: OutboxRecord | None = None) -> str | None:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        self.delivered.append((chat_id, reply))
        return f"msg-{self.calls}"


async def enqueue(store: SqliteStore, clock: FakeClock, text: str = "Votre plainte avance") -> str:
    async with store.transaction() as tx:
        row_id = tx.enqueue(
            NewOutboxMessage(
                channel="console",
                chat_id="citizen",
                kind="notice",
                payload=Reply(text=text).to_dict("citizen"),
            ),
            clock(),
        )
    return row_id


def worker(
    store: SqliteStore, sender: FlakySender, clock: FakeClock, **kw: object
) -> DeliveryWorker:
    return DeliveryWorker(
        store, {"console": sender}, clock=clock, rng=random.Random(1), policy=RetryPolicy(**kw)
    )  # type: ignore[arg-type]


async def test_delivers_and_records(store: SqliteStore, clock: FakeClock) -> None:
    row_id = await enqueue(store, clock)
    sender = FlakySender()
    assert await worker(store, sender, clock).run_once() == 1
    assert sender.delivered[0][0] == "citizen"
    assert sender.delivered[0][1].text == "Votre plainte avance"
    row = await store.get_outbox(row_id)
    assert row and row.state == "sent" and row.platform_message_id == "msg-1"


async def test_retries_with_growing_backoff_then_delivers(
    store: SqliteStore, clock: FakeClock
) -> None:
    row_id = await enqueue(store, clock)
    sender = FlakySender(failures=2)
    w = worker(store, sender, clock, base_seconds=10)
    assert await w.run_once() == 0
    first = await store.get_outbox(row_id)
    assert first and first.state == "failed" and first.attempts == 1
    assert first.last_error == "network down"
    gap1 = first.next_attempt_at - clock()
    assert timedelta(seconds=8) <= gap1 <= timedelta(seconds=12)
    assert await w.run_once() == 0  # not due yet
    assert sender.calls == 1
    clock.now = first.next_attempt_at
    assert await w.run_once() == 0
    second = await store.get_outbox(row_id)
    assert second and second.attempts == 2
    assert second.next_attempt_at - clock() > gap1
    clock.now = second.next_attempt_at
    assert await w.run_once() == 1
    done = await store.get_outbox(row_id)
    assert done and done.state == "sent" and done.attempts == 3


async def test_gives_up_after_max_attempts(store: SqliteStore, clock: FakeClock) -> None:
    row_id = await enqueue(store, clock)
    sender = FlakySender(failures=99)
    w = worker(store, sender, clock, max_attempts=3, base_seconds=1)
    for _ in range(5):
        await w.run_once()
        clock.advance(hours=1)
    row = await store.get_outbox(row_id)
    assert row and row.state == "dead" and row.attempts == 3 and sender.calls == 3


async def test_permanent_error_and_retry_after(store: SqliteStore, clock: FakeClock) -> None:
    dead_id = await enqueue(store, clock)
    await worker(store, FlakySender(1, SendError("blocked", permanent=True)), clock).run_once()
    row = await store.get_outbox(dead_id)
    assert row and row.state == "dead"
    later_id = await enqueue(store, clock)
    await worker(store, FlakySender(1, SendError("429", retry_after=37)), clock).run_once()
    row = await store.get_outbox(later_id)
    assert row and row.next_attempt_at == clock() + timedelta(seconds=37)


async def test_unexpected_exception_is_retried_not_lost(
    store: SqliteStore, clock: FakeClock
) -> None:
    row_id = await enqueue(store, clock)

    class Broken:
        async def send(
            self, chat_id: str, reply: Reply, row: OutboxRecord | None = None
        ) -> str | None:
            raise ValueError("bug in a channel")

    await DeliveryWorker(store, {"console": Broken()}, clock=clock).run_once()
    row = await store.get_outbox(row_id)
    assert row and row.state == "failed" and "bug in a channel" in (row.last_error or "")


async def test_nothing_is_lost_when_the_process_dies(tmp_path: Path, clock: FakeClock) -> None:
    path = tmp_path / "bot.sqlite3"
    first = await SqliteStore.open(path)
    row_id = await enqueue(first, clock)
    # The worker leased the row and the process died before sending: no mark was written.
    assert len(await first.claim_due_outbox(clock(), 10, 120, ["console"])) == 1
    await first.close()
    second = await SqliteStore.open(path)
    sender = FlakySender()
    w = worker(second, sender, clock)
    assert await w.run_once() == 0  # still leased
    clock.advance(seconds=121)
    assert await w.run_once() == 1
    row = await second.get_outbox(row_id)
    assert row and row.state == "sent"
    await second.close()


async def test_rows_of_unconfigured_channels_wait(store: SqliteStore, clock: FakeClock) -> None:
    row_id = await enqueue(store, clock)
    w = DeliveryWorker(store, {"telegram": FlakySender()}, clock=clock)
    assert await w.run_once() == 0
    row = await store.get_outbox(row_id)
    assert row and row.state == "pending" and row.attempts == 0


async def test_chats_are_served_side_by_side_each_in_order(
    store: SqliteStore, clock: FakeClock
) -> None:
    import asyncio

    class Slow:
        def __init__(self) -> None:
            self.active = 0
            self.most = 0
            self.order: list[tuple[str, str]] = []

        async def send(
            self, chat_id: str, reply: Reply, row: OutboxRecord | None = None
        ) -> str | None:
            self.active += 1
            self.most = max(self.most, self.active)
            await asyncio.sleep(0.01)
            self.order.append((chat_id, reply.text))
            self.active -= 1
            return None

    async with store.transaction() as tx:
        for n in range(3):
            for chat in ("a", "b", "c"):
                tx.enqueue(
                    NewOutboxMessage(
                        "console", chat, "notice", Reply(text=f"{chat}{n}").to_dict(chat)
                    ),
                    clock(),
                )
    slow = Slow()
    assert await DeliveryWorker(store, {"console": slow}, clock=clock).run_once() == 9
    assert slow.most > 1  # several chats at once
    for chat in ("a", "b", "c"):
        assert [t for c, t in slow.order if c == chat] == [f"{chat}0", f"{chat}1", f"{chat}2"]


def test_a_turn_holds_its_replies_longer_than_a_delivery_lease() -> None:
    # A worker sends one row per lease; a turn sends all its replies in one hold. Equal, a
    # live process's second or third reply would be taken over and sent twice.
    from bot.inbox import hold_for

    for lease in (3.0, 60.0):
        assert hold_for(lease) >= 2 * lease

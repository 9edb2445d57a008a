"""A send whose outcome is unknown is counted as a possible duplicate (issue 13)."""

from __future__ import annotations

import random

from bot.commands.campaign import report, send, status
from bot.delivery import DeliveryWorker, SendError
from handlers.messages import Reply
from storage.records import OutboxRecord
from storage.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.test_campaigns import NO_QUIET, add_user, drain, example


class TimesOutOnce:
    """A platform that receives the first message but whose answer never comes back."""

    def __init__(self) -> None:
        self.received: list[str] = []

    async def send(self, chat_id: str, reply: Reply, row: OutboxRecord | None = None) -> str | None:
        self.received.append(chat_id)
        if len(self.received) == 1:
            raise SendError("TimeoutError: no answer", unknown=True)
        return f"id-{len(self.received)}"


async def test_a_timed_out_send_shows_as_a_possible_duplicate(
    store: SqliteStore, clock: FakeClock
) -> None:
    for i in range(3):
        await add_user(store, clock, "telegram", f"t{i}")
    await send(store, example(), NO_QUIET, clock)
    platform = TimesOutOnce()
    worker = DeliveryWorker(store, {"telegram": platform}, clock=clock, rng=random.Random(1))
    await drain(worker, clock, seconds=600)
    # One person got the message twice: the campaign says so rather than "3 sent, all fine".
    assert len(platform.received) == 4 and len(set(platform.received)) == 3
    figures = await status(store, "eid-10-decembre")
    assert figures and figures["sent"] == 3 and figures["possible_duplicates"] == 1
    reach = await report(store, "eid-10-decembre")
    assert reach and reach["possible_duplicates"] == 1


async def test_rows_in_flight_at_a_crash_become_due_and_counted(
    store: SqliteStore, clock: FakeClock
) -> None:
    await add_user(store, clock, "telegram", "t1")
    await send(store, example(), NO_QUIET, clock)
    clock.advance(seconds=60)
    # A worker leased the row, then the process died before it could record anything.
    [leased] = await store.claim_due_outbox(clock(), 10, 120, ["telegram"])
    assert await store.recover_outbox(clock()) == 1
    platform = TimesOutOnce()
    platform.received.append("before the crash")
    worker = DeliveryWorker(store, {"telegram": platform}, clock=clock)
    assert await worker.run_once() == 1
    figures = await status(store, "eid-10-decembre")
    assert figures and figures["possible_duplicates"] == 1 and leased.chat_id == "t1"

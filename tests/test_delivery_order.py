"""One chat's outbox rows arrive in order; a row being retried holds back only its own chat."""

from __future__ import annotations

import random
from datetime import timedelta

from bot.delivery import DeliveryWorker, SendError
from handlers.messages import Reply
from storage.records import NewOutboxMessage, OutboxRecord
from storage.sqlite import SqliteStore
from tests.conftest import FakeClock


class OnceBroken:
    """Fails the first send of one text, delivers everything else."""

    def __init__(self, broken_text: str) -> None:
        self.broken_text = broken_text
        self.failed = False
        self.delivered: list[tuple[str, str]] = []

    async def send(self, chat_id: str, reply: Reply, row: OutboxRecord | None = None) -> str | None:
        if reply.text == self.broken_text and not self.failed:
            self.failed = True
            raise SendError("network down")
        self.delivered.append((chat_id, reply.text))
        return str(len(self.delivered))


async def _queue(store: SqliteStore, clock: FakeClock, rows: list[tuple[str, str]]) -> None:
    async with store.transaction() as tx:
        for chat, text in rows:
            tx.enqueue(
                NewOutboxMessage("console", chat, "forward", Reply(text=text).to_dict(chat)),
                clock(),
            )


async def test_a_failed_row_holds_back_its_chat_and_only_its_chat(
    store: SqliteStore, clock: FakeClock
) -> None:
    # A complaint's text, then its photo, to one CSO chat; another chat's rows beside.
    await _queue(
        store,
        clock,
        [("cso", "texte"), ("other", "a1"), ("cso", "photo"), ("other", "a2"), ("cso", "fin")],
    )
    sender = OnceBroken("texte")
    worker = DeliveryWorker(store, {"console": sender}, clock=clock, rng=random.Random(1))
    await worker.run_once()
    assert sender.delivered == [("other", "a1"), ("other", "a2")]
    # The photo is due and nothing else is leased, yet it waits for its text.
    clock.advance(seconds=5)
    assert await worker.run_once() == 0
    await _queue(store, clock, [("cso", "encore"), ("other", "a3")])
    await worker.run_once()
    assert sender.delivered[-1] == ("other", "a3")
    assert [t for c, t in sender.delivered if c == "cso"] == []
    # Once the text goes, everything after it follows in order.
    clock.advance(minutes=5)
    while await worker.run_once():
        pass
    assert [t for c, t in sender.delivered if c == "cso"] == ["texte", "photo", "fin", "encore"]


async def test_a_dead_row_does_not_block_its_chat(store: SqliteStore, clock: FakeClock) -> None:
    await _queue(store, clock, [("cso", "perdu"), ("cso", "suivant")])

    class Refused(OnceBroken):
        async def send(
            self, chat_id: str, reply: Reply, row: OutboxRecord | None = None
        ) -> str | None:
            if reply.text == "perdu":
                raise SendError("message too long", permanent=True)
            return await super().send(chat_id, reply)

    sender = Refused("")
    await DeliveryWorker(store, {"console": sender}, clock=clock).run_once()
    assert sender.delivered == [("cso", "suivant")]


async def test_only_the_lease_holder_records_the_outcome(
    store: SqliteStore, clock: FakeClock
) -> None:
    await _queue(store, clock, [("cso", "texte")])
    (row,) = await store.claim_due_outbox(clock(), 10, 60, ["console"], owner="first")
    # The first worker stalls past its lease; a second one takes the row over.
    later = clock() + timedelta(seconds=61)
    (again,) = await store.claim_due_outbox(later, 10, 60, ["console"], owner="second")
    assert again.id == row.id
    assert not await store.mark_failed(
        row.id, "timeout", later + timedelta(minutes=1), later, "first"
    )
    assert await store.mark_sent(row.id, later, "tg-1", owner="second")
    stored = await store.get_outbox(row.id)
    assert stored is not None and stored.state == "sent" and stored.attempts == 1


async def test_a_running_worker_prunes_old_inbound_ids(
    store: SqliteStore, clock: FakeClock
) -> None:
    async with store.transaction() as tx:
        tx.claim_inbound("console", "old", clock() - timedelta(days=30))
        tx.claim_inbound("console", "new", clock())
    worker = DeliveryWorker(
        store, {"console": OnceBroken("")}, clock=clock, inbound_retention=timedelta(days=7)
    )
    assert await worker.prune_if_due() == 1
    assert await store.fetch_all("SELECT message_id FROM processed_inbound") == [("new",)]


async def test_the_sender_is_given_the_row_it_sends(store: SqliteStore, clock: FakeClock) -> None:
    # Two rows with the same text: only the row itself says which is the campaign.
    async with store.transaction() as tx:
        for kind in ("notice", "campaign"):
            tx.enqueue(
                NewOutboxMessage("console", "c1", kind, Reply(text="Même texte").to_dict("c1")),
                clock(),
            )
    seen: list[str] = []

    class Recording(OnceBroken):
        async def send(
            self, chat_id: str, reply: Reply, row: OutboxRecord | None = None
        ) -> str | None:
            assert row is not None and row.chat_id == chat_id
            seen.append(row.kind)
            return await super().send(chat_id, reply, row)

    await DeliveryWorker(store, {"console": Recording("")}, clock=clock).run_once()
    assert seen == ["notice", "campaign"]

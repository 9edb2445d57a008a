"""Storage contract of the durable inbox and held replies, on SQLite and on PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from storage.ports_inbox import NewInbound, chat_key
from storage.records import NewOutboxMessage, UserRecord
from tests.storage_backends import store as store

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
LEASE = 60.0


def inbound(n: int, chat: str = "", channel: str = "whatsapp") -> NewInbound:
    return NewInbound(channel, f"key-{n}", f"payload {n}", chat_key(channel, chat))


async def test_an_inbound_stored_twice_is_kept_once_and_leased_oldest_first(store: Any) -> None:
    await store.store_inbound([inbound(1), inbound(2)], NOW)
    await store.store_inbound([inbound(1), inbound(3, channel="telegram")], NOW)
    rows = await store.lease_inbound(["whatsapp"], "pump-a", NOW, 10, LEASE)
    assert [r.payload for r in rows] == ["payload 1", "payload 2"]
    assert await store.inbound_left(["whatsapp"]) == 2
    assert await store.inbound_left(["telegram"]) == 1
    await store.inbound_handled([r.id for r in rows])
    assert await store.inbound_left(["whatsapp"]) == 0


async def test_a_leased_row_goes_to_nobody_else_until_its_lease_lapses(store: Any) -> None:
    await store.store_inbound([inbound(1)], NOW)
    [row] = await store.lease_inbound(["whatsapp"], "pump-a", NOW, 10, LEASE)
    assert await store.lease_inbound(["whatsapp"], "pump-b", NOW, 10, LEASE) == []
    # pump-a died: once its lease lapses, pump-b takes the row.
    later = NOW + timedelta(seconds=LEASE + 1)
    [taken] = await store.lease_inbound(["whatsapp"], "pump-b", later, 10, LEASE)
    assert taken.id == row.id and taken.payload == "payload 1"


async def test_a_renewed_lease_outlives_its_first_term(store: Any) -> None:
    await store.store_inbound([inbound(1)], NOW)
    [row] = await store.lease_inbound(["whatsapp"], "pump-a", NOW, 10, LEASE)
    await store.renew_inbound([row.id], "pump-a", NOW + timedelta(seconds=3 * LEASE))
    # Only the holder renews: another owner's renewal changes nothing.
    await store.renew_inbound([row.id], "pump-b", NOW)
    later = NOW + timedelta(seconds=2 * LEASE)
    assert await store.lease_inbound(["whatsapp"], "pump-b", later, 10, LEASE) == []


async def test_one_chat_is_handed_out_in_order_across_pumps(store: Any) -> None:
    await store.store_inbound([inbound(1, "alice"), inbound(2, "bob"), inbound(3, "alice")], NOW)
    [first] = await store.lease_inbound(["whatsapp"], "pump-a", NOW, 1, LEASE)
    assert first.payload == "payload 1"
    # Alice's second message waits while her first is with pump-a; Bob's goes to pump-b.
    rows = await store.lease_inbound(["whatsapp"], "pump-b", NOW, 10, LEASE)
    assert [r.payload for r in rows] == ["payload 2"]
    await store.inbound_handled([first.id])
    rows = await store.lease_inbound(["whatsapp"], "pump-b", NOW, 10, LEASE)
    assert [r.payload for r in rows] == ["payload 3"]


async def test_inbounds_without_a_chat_are_not_held_back(store: Any) -> None:
    await store.store_inbound([inbound(1), inbound(2)], NOW)
    await store.lease_inbound(["whatsapp"], "pump-a", NOW, 1, LEASE)
    rows = await store.lease_inbound(["whatsapp"], "pump-b", NOW, 10, LEASE)
    assert [r.payload for r in rows] == ["payload 2"]


async def _held(store: Any, owner: str) -> str:
    async with store.transaction() as tx:
        tx.save_user(UserRecord("whatsapp:1", "whatsapp", "1", NOW, NOW))
    async with store.transaction() as tx:
        message = NewOutboxMessage("whatsapp", "1", "reply", {"text": "Bonjour"}, "whatsapp:1")
        outbox_id: str = tx.enqueue_held(message, NOW, 120, owner)
    return outbox_id


async def test_a_held_reply_is_not_sent_by_the_worker_until_given_back(store: Any) -> None:
    outbox_id = await _held(store, "turns-a")
    assert await store.claim_due_outbox(NOW, 10, 60, ["whatsapp"], owner="worker") == []
    # Only its holder gives it back.
    await store.release_outbox([outbox_id], owner="turns-b")
    assert await store.claim_due_outbox(NOW, 10, 60, ["whatsapp"], owner="worker") == []
    await store.release_outbox([outbox_id], owner="turns-a")
    [row] = await store.claim_due_outbox(NOW, 10, 60, ["whatsapp"], owner="worker")
    assert row.id == outbox_id and row.payload == {"text": "Bonjour"}
    # Given back unsent: sending it is no possible duplicate.
    assert await store.mark_sent(outbox_id, NOW, "wamid.1", owner="worker")
    assert await store.possible_duplicates() == 0


async def test_a_row_taken_over_from_a_lapsed_lease_counts_as_a_possible_duplicate(
    store: Any,
) -> None:
    # The holder of a reply died (or stalled) mid-send: once its hold lapses, the worker
    # sends it again, and it may have arrived already.
    held = await _held(store, "turns-a")
    later = NOW + timedelta(seconds=121)
    [row] = await store.claim_due_outbox(later, 10, 60, ["whatsapp"], owner="worker-a")
    assert row.id == held
    # So with a worker that died holding a row: another worker takes it once it lapses.
    last = later + timedelta(seconds=61)
    [again] = await store.claim_due_outbox(last, 10, 60, ["whatsapp"], owner="worker-b")
    assert again.id == held
    assert await store.mark_sent(held, last, "wamid.2", owner="worker-b")
    assert await store.possible_duplicates() == 1
    # A row nobody held before its claim is certain.
    async with store.transaction() as tx:
        message = NewOutboxMessage("whatsapp", "1", "notice", {"text": "Avis"}, "whatsapp:1")
        fresh = tx.enqueue(message, last)
    [row] = await store.claim_due_outbox(last, 10, 60, ["whatsapp"], owner="worker-b")
    assert row.id == fresh
    assert await store.mark_sent(fresh, last, "wamid.3", owner="worker-b")
    assert await store.possible_duplicates() == 1


async def test_a_sent_held_reply_is_forgotten_unless_it_may_be_a_duplicate(store: Any) -> None:
    sent = await _held(store, "turns-a")
    await store.reply_done(sent, NOW, "wamid.1")
    assert await store.get_outbox(sent) is None
    unsure = await _held(store, "turns-a")
    await store.mark_uncertain(unsure)
    await store.reply_done(unsure, NOW, "wamid.2")
    row = await store.get_outbox(unsure)
    assert row is not None and row.state == "sent" and row.platform_message_id == "wamid.2"
    assert await store.possible_duplicates() == 1


async def test_a_held_reply_taken_by_a_worker_stays_the_workers_counted_uncertain(
    store: Any,
) -> None:
    held = await _held(store, "turns-a")
    # The direct send outlasted the hold: a worker took the row and sends it too.
    later = NOW + timedelta(seconds=121)
    [row] = await store.claim_due_outbox(later, 10, 60, ["whatsapp"], owner="worker")
    assert row.id == held
    # The holder's send ends now: the row is not its to delete or to mark sent.
    await store.reply_done(held, later, "wamid.held", owner="turns-a")
    assert await store.get_outbox(held) is not None
    assert await store.mark_sent(held, later, "wamid.worker", owner="worker")
    row = await store.get_outbox(held)
    assert row is not None and row.state == "sent" and row.platform_message_id == "wamid.worker"
    assert await store.possible_duplicates() == 1


async def test_a_held_reply_done_by_its_holder_is_forgotten(store: Any) -> None:
    held = await _held(store, "turns-a")
    await store.reply_done(held, NOW, "wamid.1", owner="turns-a")
    assert await store.get_outbox(held) is None
    assert await store.possible_duplicates() == 0


async def test_a_restart_takes_over_only_lapsed_leases_on_postgresql(pg_url: str) -> None:
    from storage.postgres.store import PostgresStore

    store = await PostgresStore.open(pg_url)
    try:
        outbox_id = await _held(store, "turns-of-a-live-process")
        # Another process still holds the reply: a process starting now leaves it alone.
        assert await store.recover_outbox(NOW + timedelta(seconds=60)) == 0
        row = await store.get_outbox(outbox_id)
        assert row is not None and row.state == "pending"
        assert await store.claim_due_outbox(NOW, 10, 60, ["whatsapp"], owner="w") == []
        # Its lease lapsed (the process died): due again, counted as a possible duplicate.
        later = NOW + timedelta(seconds=121)
        assert await store.recover_outbox(later) == 1
        [claimed] = await store.claim_due_outbox(later, 10, 60, ["whatsapp"], owner="w")
        assert claimed.id == outbox_id
        assert await store.mark_sent(outbox_id, later, "wamid.9", owner="w")
        assert await store.possible_duplicates() == 1
    finally:
        await store.close()


async def test_sqlite_releases_every_held_reply_at_start(tmp_path: Path) -> None:
    from storage.sqlite import SqliteStore

    store = await SqliteStore.open(tmp_path / "one-writer.sqlite3")
    try:
        outbox_id = await _held(store, "turns-a")
        # One writer per file: whatever is leased belonged to the process that died.
        assert await store.recover_outbox(NOW + timedelta(seconds=1)) == 1
        later = NOW + timedelta(seconds=1)
        [claimed] = await store.claim_due_outbox(later, 10, 60, ["whatsapp"], owner="w")
        assert claimed.id == outbox_id
    finally:
        await store.close()

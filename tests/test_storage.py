"""Storage contract tests, run against every backend of tests/storage_backends.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.ports import DuplicateInbound, Session
from storage.records import ConversationRecord, NewOutboxMessage, UserRecord
from storage.sqlite import SqliteStore
from tests.storage_backends import store as store  # every test runs on every backend

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def user(key: str = "telegram:42", **changes: object) -> UserRecord:
    base = UserRecord(
        key=key, channel="telegram", external_id="42", created_at=NOW, last_seen_at=NOW
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def notice(chat: str = "c1", **changes: object) -> NewOutboxMessage:
    base = NewOutboxMessage(
        channel="console", chat_id=chat, kind="notice", payload={"text": "bonjour", "choices": []}
    )
    return replace(base, **changes)  # type: ignore[arg-type]


async def test_user_round_trip(store: SqliteStore) -> None:
    saved = user(
        language="bm",
        region="ML01",
        commune="ML010101",
        age_group="15-19",
        gender="f",
        contact_consent=True,
        stopped=True,
        entry_source="radio",
        last_inbound_at=NOW,
    )
    async with store.transaction() as tx:
        tx.save_user(saved)
    async with store.transaction() as tx:
        assert await tx.get_user(saved.key) == saved
        tx.save_user(replace(saved, language="fr", stopped=False))
    async with store.transaction() as tx:
        loaded = await tx.get_user(saved.key)
    assert loaded is not None and loaded.language == "fr" and not loaded.stopped


async def test_missing_user_is_none(store: SqliteStore) -> None:
    async with store.transaction() as tx:
        assert await tx.get_user("nobody:1") is None
        assert await tx.get_conversation("nobody:1") is None


async def test_conversation_round_trip_with_unicode_data(store: SqliteStore) -> None:
    conv = ConversationRecord(
        user_key="telegram:42",
        flow="profile",
        step="commune",
        updated_at=NOW,
        data={"typed": "Ségou ɛɔɲ", "n": 3},
        choices=("profile:skip",),
    )
    async with store.transaction() as tx:
        tx.save_user(user())
        tx.save_conversation(conv)
    async with store.transaction() as tx:
        assert await tx.get_conversation("telegram:42") == conv


async def test_conversation_needs_its_user(store: SqliteStore) -> None:
    conv = ConversationRecord(user_key="ghost:1", flow="menu", step="main", updated_at=NOW)
    with pytest.raises(Exception, match="FOREIGN KEY"):
        async with store.transaction() as tx:
            tx.save_conversation(conv)


async def test_claim_inbound_once_per_channel(store: SqliteStore) -> None:
    async with store.transaction() as tx:
        tx.claim_inbound("telegram", "m1", NOW)
        tx.save_user(user())
    async with store.transaction() as tx:
        seen = await tx.load_session("telegram:42", "telegram", "m1")
        other = await tx.load_session("telegram:42", "whatsapp", "m1")
    assert seen.seen and not other.seen
    assert seen.user == user() and seen.conversation is None
    with pytest.raises(DuplicateInbound):
        async with store.transaction() as tx:
            tx.save_user(user(language="bm"))
            tx.claim_inbound("telegram", "m1", NOW)
    async with store.transaction() as tx:
        # The duplicate's other writes were rolled back with it.
        assert (await tx.get_user("telegram:42")) == user()
        tx.claim_inbound("whatsapp", "m1", NOW)


async def test_load_session_of_a_stranger(store: SqliteStore) -> None:
    async with store.transaction() as tx:
        session = await tx.load_session("nobody:1", "nobody", None)
    assert session == Session(False, None, None)


async def test_failed_transaction_leaves_nothing(store: SqliteStore) -> None:
    with pytest.raises(RuntimeError):
        async with store.transaction() as tx:
            tx.save_user(user())
            tx.claim_inbound("telegram", "m1", NOW)
            raise RuntimeError("crash mid-way")
    async with store.transaction() as tx:
        assert await tx.get_user("telegram:42") is None
        assert not (await tx.load_session("telegram:42", "telegram", "m1")).seen


async def test_delete_user_cascades_to_conversation_and_pending_notices(
    store: SqliteStore,
) -> None:
    async with store.transaction() as tx:
        tx.save_user(user())
        tx.save_conversation(
            ConversationRecord(user_key="telegram:42", flow="menu", step="main", updated_at=NOW)
        )
        to_user = tx.enqueue(notice(user_key="telegram:42"), NOW)
        to_cso = tx.enqueue(notice(chat="cso-chat"), NOW)
    async with store.transaction() as tx:
        tx.delete_user("telegram:42")
    async with store.transaction() as tx:
        assert await tx.get_conversation("telegram:42") is None
    assert await store.get_outbox(to_user) is None
    assert await store.get_outbox(to_cso) is not None


async def test_enqueue_dedupe_key(store: SqliteStore) -> None:
    async with store.transaction() as tx:
        first = tx.enqueue(notice(dedupe_key="complaint-1:cso-a"), NOW)
        second = tx.enqueue(notice(dedupe_key="complaint-1:cso-a"), NOW)
    assert await store.get_outbox(first) is not None
    assert await store.get_outbox(second) is None


async def test_outbox_lease_send_and_retry(store: SqliteStore) -> None:
    async with store.transaction() as tx:
        row_id = tx.enqueue(notice(), NOW)
    claimed = await store.claim_due_outbox(NOW, 10, 60, ["console"])
    assert [r.id for r in claimed] == [row_id]
    assert claimed[0].payload == {"text": "bonjour", "choices": []}
    # Leased: not handed out again until the lease lapses (a worker that died mid-send).
    assert await store.claim_due_outbox(NOW, 10, 60, ["console"]) == []
    again = await store.claim_due_outbox(NOW + timedelta(seconds=61), 10, 60, ["console"])
    assert [r.id for r in again] == [row_id]
    await store.mark_failed(row_id, "timeout", NOW + timedelta(minutes=5), NOW)
    row = await store.get_outbox(row_id)
    assert row and row.state == "failed" and row.attempts == 1 and row.last_error == "timeout"
    assert await store.claim_due_outbox(NOW + timedelta(minutes=4), 10, 60, ["console"]) == []
    later = NOW + timedelta(minutes=6)
    assert len(await store.claim_due_outbox(later, 10, 60, ["console"])) == 1
    await store.mark_sent(row_id, later, "tg-99")
    row = await store.get_outbox(row_id)
    assert row and row.state == "sent" and row.attempts == 2 and row.platform_message_id == "tg-99"
    assert row.sent_at == later
    assert await store.claim_due_outbox(later + timedelta(days=1), 10, 60, ["console"]) == []


async def test_outbox_dead_and_channel_filter(store: SqliteStore) -> None:
    async with store.transaction() as tx:
        row_id = tx.enqueue(notice(), NOW)
    assert await store.claim_due_outbox(NOW, 10, 60, ["telegram"]) == []
    await store.mark_failed(row_id, "blocked", None, NOW)
    row = await store.get_outbox(row_id)
    assert row and row.state == "dead"
    assert await store.claim_due_outbox(NOW + timedelta(days=9), 10, 60, ["console"]) == []


async def test_prune_inbound(store: SqliteStore) -> None:
    async with store.transaction() as tx:
        tx.claim_inbound("t", "old", NOW - timedelta(days=10))
        tx.claim_inbound("t", "new", NOW)
    assert await store.prune_inbound(NOW - timedelta(days=7)) == 1
    async with store.transaction() as tx:
        assert not (await tx.load_session("t:1", "t", "old")).seen
        assert (await tx.load_session("t:1", "t", "new")).seen


async def test_pragmas_and_reopen_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    first = await SqliteStore.open(path)
    async with first.transaction() as tx:
        tx.save_user(user())
    assert await first.fetch_all("PRAGMA journal_mode") == [("wal",)]
    assert await first.fetch_all("PRAGMA foreign_keys") == [(1,)]
    assert (await first.fetch_all("PRAGMA busy_timeout"))[0][0] >= 1000
    await first.close()
    second = await SqliteStore.open(path)
    assert await second.migrate() == []
    async with second.transaction() as tx:
        assert await tx.get_user("telegram:42") is not None
    await second.close()

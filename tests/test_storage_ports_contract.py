"""Storage contract of the WhatsApp window, Open311 listing, campaign and operators' ports."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.open311_records import PublicQuery
from storage.ports_window import SendFailure
from storage.records import ComplaintRecord, NewOutboxMessage, UserRecord
from tests.storage_backends import store as store

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
WAIT = "whatsapp window:"


async def _sent_row(store: Any, chat: str, platform_id: str) -> str:
    """A whatsapp reply row leased by a worker and sent as `platform_id`."""
    async with store.transaction() as tx:
        tx.save_user(UserRecord(f"whatsapp:{chat}", "whatsapp", chat, NOW, NOW, language="bm"))
        message = NewOutboxMessage("whatsapp", chat, "notice", {"text": "Avis"}, f"whatsapp:{chat}")
        tx.enqueue(message, NOW)
    [row] = await store.claim_due_outbox(NOW, 10, 60, ["whatsapp"], owner="w")
    assert await store.mark_sent(row.id, NOW, platform_id, owner="w")
    outbox_id: str = row.id
    return outbox_id


async def test_the_window_reads_the_users_language_and_last_message(store: Any) -> None:
    assert await store.user_window("whatsapp:1") is None
    assert await store.user_language("whatsapp:1") is None
    async with store.transaction() as tx:
        tx.save_user(
            UserRecord("whatsapp:1", "whatsapp", "1", NOW, NOW, language="bm", last_inbound_at=NOW)
        )
    assert await store.user_window("whatsapp:1") == ("bm", NOW)
    assert await store.user_language("whatsapp:1") == "bm"


async def test_a_row_waiting_for_the_user_is_found_and_woken(store: Any) -> None:
    outbox_id = await _sent_row(store, "1", "wamid.1")
    later = NOW + timedelta(days=7)
    failed = await store.fail_sent(
        "whatsapp", "wamid.1", SendFailure(f"{WAIT} template refused (132001)", "failed", later)
    )
    assert [(r.id, r.state, r.chat_id) for r in failed] == [(outbox_id, "failed", "1")]
    assert await store.waiting_chats("whatsapp", WAIT) == {"1"}
    assert await store.waiting_chats("telegram", WAIT) == set()
    assert await store.wake_waiting("whatsapp", "1", WAIT, NOW) == 1
    [row] = await store.claim_due_outbox(NOW, 10, 60, ["whatsapp"], owner="w")
    assert row.id == outbox_id
    # Leased by the worker now: the window finds what it is sending.
    assert await store.leased_payloads("whatsapp", "1", NOW) == [("notice", row.payload)]
    assert await store.leased_payloads("whatsapp", "1", NOW + timedelta(minutes=2)) == []


async def test_a_failure_marks_the_payload_and_counts_attempts(store: Any) -> None:
    outbox_id = await _sent_row(store, "1", "wamid.1")
    retry = NOW + timedelta(minutes=5)
    marks = {"_status": "failed", "_closed": "2026-11-28T09:00:00+00:00"}
    [row] = await store.fail_sent(
        "whatsapp", "wamid.1", SendFailure("whatsapp 131000: oops", "retry", retry, 3, marks)
    )
    assert row.state == "failed" and row.user_key == "whatsapp:1"
    record = await store.get_outbox(outbox_id)
    assert record.payload == {"text": "Avis"} | marks and record.attempts == 2
    assert record.next_attempt_at == retry and record.last_error == "whatsapp 131000: oops"
    [row] = await store.fail_sent("whatsapp", "wamid.1", SendFailure("again", "retry", retry, 3))
    assert row.state == "dead"  # attempts spent
    assert await store.fail_sent("whatsapp", "wamid.unknown", SendFailure("x", "dead")) == []


async def test_a_delivery_status_never_goes_back(store: Any) -> None:
    outbox_id = await _sent_row(store, "1", "wamid.1")
    await store.mark_status("whatsapp", "wamid.1", "_status", "read", [])
    await store.mark_status("whatsapp", "wamid.1", "_status", "delivered", ["read"])
    record = await store.get_outbox(outbox_id)
    assert record.payload["_status"] == "read"


async def test_a_campaign_keeps_its_definition(store: Any) -> None:
    assert await store.campaign_definition("eid") is None
    await store.begin_campaign("eid", "digest", '{"name": "eid"}', NOW)
    assert await store.campaign_definition("eid") == '{"name": "eid"}'


async def test_the_operators_read_schema_and_outbox_figures(store: Any) -> None:
    applied, shipped = await store.schema_versions()
    assert applied == shipped > 0
    await _sent_row(store, "1", "wamid.1")
    async with store.transaction() as tx:
        message = NewOutboxMessage(
            "whatsapp", "1", "campaign", {"text": "x"}, "whatsapp:1", "campaign:eid:whatsapp:1"
        )
        tx.enqueue(message, NOW)
    await store.fail_sent("whatsapp", "wamid.1", SendFailure("whatsapp 131000: x", "dead"))
    assert sorted(await store.outbox_depth()) == [("campaign", "pending", 1), ("notice", "dead", 1)]
    assert await store.delivery_failures() == [("whatsapp 131000: x", 1)]
    assert await store.campaign_states() == [("eid", "pending", 1)]


def _complaint(n: int, category: str, status: str = "submitted") -> ComplaintRecord:
    at = NOW + timedelta(hours=n)
    return ComplaintRecord(
        id=f"k{n}",
        reference=f"ABCD-000{n}",
        channel="test",
        lang="fr",
        category=category,
        commune="ML010101",
        description="Pompe en panne",
        status=status,
        created_at=at,
        updated_at=at,
        ack_due_at=at,
    )


async def test_the_public_listing_filters_pages_and_publishes_the_resolution(store: Any) -> None:
    async with store.transaction() as tx:
        tx.insert_complaint(_complaint(1, "eau"))
        tx.insert_complaint(replace(_complaint(2, "eau"), status="resolved"))
        tx.insert_complaint(_complaint(3, "ecole"))
        tx.insert_complaint(_complaint(4, "violence"))
        tx.add_route("k2", "cso-a", NOW)
        tx.add_event("k2", "resolved", NOW, "cso-a", note="Pompe réparée")
    window = {"start": NOW, "end": NOW + timedelta(days=1)}
    everything = await store.public_requests(
        PublicQuery(**window, limit=10, hidden_categories=("violence",))
    )
    assert [r.record.reference for r in everything] == ["ABCD-0003", "ABCD-0002", "ABCD-0001"]
    [resolved] = await store.public_requests(
        PublicQuery(**window, limit=10, statuses=("resolved",), categories=("eau",))
    )
    assert resolved.partners == ("cso-a",) and resolved.note == "Pompe réparée"
    page = await store.public_requests(PublicQuery(**window, limit=1, offset=1))
    assert [r.record.reference for r in page] == ["ABCD-0003"]
    by_reference = await store.public_requests(
        PublicQuery(**window, limit=10, references=("ABCD-0001", "ABCD-0004"))
    )
    assert [r.record.reference for r in by_reference] == ["ABCD-0004", "ABCD-0001"]

"""The complaints port on every backend: what a CSO and a forgotten citizen rely on."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from storage.records import NewOutboxMessage, QuestionRecord, UserRecord
from tests.storage_backends import store as store
from tests.test_storage_contract import NOW, complaint

CITIZEN = UserRecord("test:7", "test", "7", NOW, NOW)


async def test_forgetting_a_citizen_keeps_the_complaint_without_a_way_to_reach_her(
    store: Any,
) -> None:
    record = replace(
        complaint(), user_key=CITIZEN.key, chat_id="7", contact="+223 70 00 00 00",
        contact_consent=True, media=(("photo", "file-1"),),
    )  # fmt: skip
    async with store.transaction() as tx:
        tx.save_user(CITIZEN)
        tx.insert_complaint(record)
        tx.add_route("k1", "cso-a", NOW)
        tx.add_event("k1", "submitted", NOW, actor=CITIZEN.key)
        tx.enqueue(
            NewOutboxMessage(
                "console", "cso-chat", "forward", {"text": "k1: appelez le +223 70 00 00 00"}
            ),
            NOW,
        )
        tx.save_question(QuestionRecord("q1", "k1", "cso-a", "test", "7", "Où ?", NOW))
    async with store.transaction() as tx:
        assert (await tx.complaint_by_reference("ABCD-EFGH")) == record
        assert await tx.recipients("k1") == [(CITIZEN.key, "test", "7", "fr")]
        tx.delete_user(CITIZEN.key)
    async with store.transaction() as tx:
        kept = await tx.complaint_by_id("k1")
        assert await tx.question("q1") is None
        assert await tx.recipients("k1") == []
    assert kept is not None and kept.description == "Pompe en panne"
    assert kept.user_key is None and kept.chat_id is None and kept.contact is None
    (forward,) = await store.claim_due_outbox(NOW, 10, 60, ["console"])
    assert "+223" not in forward.payload["text"]
    exported = await store.export_complaints(partner_id="cso-a")
    assert [(c.reference, routes) for c, routes in exported] == [("ABCD-EFGH", ["cso-a"])]


async def test_a_link_code_links_a_chat_once_and_deadlines_come_due(store: Any) -> None:
    await store.create_link_code("cso-a", "LINK42", NOW + timedelta(hours=1))
    async with store.transaction() as tx:
        assert await tx.link_code_partner("LINK42", NOW) == "cso-a"
        tx.link_chat("test", "group-1", "cso-a", "LINK42", NOW)
        tx.insert_complaint(complaint())
    async with store.transaction() as tx:
        assert await tx.link_code_partner("LINK42", NOW) is None
        assert await tx.partner_chats("cso-a") == [("test", "group-1")]
        assert await tx.partner_of_chat("test", "group-1") == "cso-a"
    assert [c.id for c in await store.complaints_needing_attention(NOW)] == ["k1"]
    async with store.transaction() as tx:
        tx.set_complaint_flags("k1", "submitted", escalated=True)
    assert await store.complaints_needing_attention(NOW) == []
    assert [(p, ch, chat) for p, ch, chat, _ in await store.linked_chats()] == [
        ("cso-a", "test", "group-1")
    ]

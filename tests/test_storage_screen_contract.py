"""Storage contract for the current screen: the choices and the labels the person read.

Typed words ("suite", "oui", "ségou") are matched against the labels of the screen; a backend
that kept only the ids would leave every typed word to search.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from storage.records import ConversationRecord, NewOutboxMessage, UserRecord
from tests.storage_backends import store as store

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


def _user() -> UserRecord:
    return UserRecord(
        key="test:u1", channel="test", external_id="u1", created_at=NOW, last_seen_at=NOW
    )


async def _conversation(store: Any) -> ConversationRecord | None:
    async with store.transaction() as tx:
        found: ConversationRecord | None = await tx.get_conversation("test:u1")
    return found


async def test_the_labels_of_a_screen_are_kept(store: Any) -> None:
    screen = ConversationRecord(
        user_key="test:u1",
        flow="learn",
        step="article",
        updated_at=NOW,
        data={"article": "quota-genre"},
        choices=("learn:page:quota-genre:2", "menu:main"),
        labels=(("Suite", ""), ("Menu principal", "Menu")),
    )
    async with store.transaction() as tx:
        tx.insert_user(_user())
        tx.save_conversation(screen)
    loaded = await _conversation(store)
    assert loaded is not None
    assert loaded.choices == screen.choices
    assert loaded.labels == screen.labels


async def test_a_message_sent_from_the_outbox_becomes_the_screen(store: Any) -> None:
    async with store.transaction() as tx:
        tx.insert_user(_user())
        tx.save_conversation(
            ConversationRecord(
                user_key="test:u1", flow="menu", step="main", updated_at=NOW, choices=("a",)
            )
        )
        outbox_id = tx.enqueue(
            NewOutboxMessage(
                channel="test",
                chat_id="u1",
                kind="text",
                user_key="test:u1",
                payload={
                    "text": "Le forage a-t-il été réparé ?",
                    "choices": [
                        {"id": "complaint:answer:k1", "label": "Répondre", "short_label": None}
                    ],
                },
            ),
            NOW,
        )
    later = NOW + timedelta(minutes=5)
    assert await store.mark_sent(outbox_id, later, "p1")
    loaded = await _conversation(store)
    assert loaded is not None
    assert loaded.choices == ("complaint:answer:k1",)
    assert loaded.labels == (("Répondre", ""),)
    assert loaded.updated_at == later

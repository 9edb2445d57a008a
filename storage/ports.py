"""Storage ports: what the engine and the delivery worker need from a database."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Protocol

from storage.records import (
    ConversationRecord,
    NewOutboxMessage,
    OutboxRecord,
    UserRecord,
)


class Transaction(Protocol):
    """One unit of work: everything in it is committed together or not at all."""

    async def claim_inbound(self, channel: str, message_id: str, now: datetime) -> bool:
        """Record a platform message id; False if it was processed before."""
        ...

    async def get_user(self, key: str) -> UserRecord | None:
        """Load a user by key."""
        ...

    async def save_user(self, user: UserRecord) -> None:
        """Insert or update a user."""
        ...

    async def delete_user(self, key: str) -> None:
        """Delete a user and everything that hangs off them."""
        ...

    async def get_conversation(self, user_key: str) -> ConversationRecord | None:
        """Load the user's conversation state."""
        ...

    async def save_conversation(self, conversation: ConversationRecord) -> None:
        """Insert or update the user's conversation state."""
        ...

    async def enqueue(self, message: NewOutboxMessage, now: datetime) -> str | None:
        """Add an outbox row; None if a row with the same dedupe key exists."""
        ...


class Store(Protocol):
    """A database behind the ports."""

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Open a write transaction (serialised with every other writer)."""
        ...

    async def claim_due_outbox(
        self, now: datetime, limit: int, lease_seconds: float, channels: Sequence[str]
    ) -> list[OutboxRecord]:
        """Lease due outbox rows of these channels; a lease that lapses makes them due again."""
        ...

    async def mark_sent(self, outbox_id: str, now: datetime, platform_id: str | None) -> None:
        """Record a successful delivery."""
        ...

    async def mark_failed(
        self, outbox_id: str, error: str, retry_at: datetime | None, now: datetime
    ) -> None:
        """Record a failed attempt; `retry_at=None` gives up (state dead)."""
        ...

    async def get_outbox(self, outbox_id: str) -> OutboxRecord | None:
        """Load one outbox row."""
        ...

    async def prune_inbound(self, before: datetime) -> int:
        """Forget processed message ids older than `before`."""
        ...

    async def close(self) -> None:
        """Close connections."""
        ...

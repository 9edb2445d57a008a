"""Core ports: the user's turn (session, user, conversation, outbox) and outbox delivery."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from storage.records import (
    ConversationRecord,
    NewOutboxMessage,
    OutboxRecord,
    SearchRecord,
    UserRecord,
)


@dataclass(frozen=True, slots=True)
class Session:
    """What a turn starts from: was the message seen, who is the user, where are they."""

    seen: bool
    user: UserRecord | None
    conversation: ConversationRecord | None


class CoreTransaction(Protocol):
    """One unit of work: its writes are committed together, or not at all.

    Reads see committed data, not the writes queued earlier in the same unit of work: a flow
    keeps what it just wrote in memory.
    """

    async def load_session(self, user_key: str, channel: str, message_id: str | None) -> Session:
        """Everything a turn needs to start, in one round trip."""
        ...

    async def get_user(self, key: str) -> UserRecord | None:
        """Load a user by key."""
        ...

    async def get_conversation(self, user_key: str) -> ConversationRecord | None:
        """Load the user's conversation state."""
        ...

    def claim_inbound(self, channel: str, message_id: str, now: datetime) -> None:
        """Record a platform message id; the commit raises DuplicateInbound if it was known."""
        ...

    def save_user(self, user: UserRecord) -> None:
        """Create a user or set all its columns (seeding and imports; turns use update_user)."""
        ...

    def insert_user(self, user: UserRecord) -> None:
        """Create a user row unless it exists (before any row that refers to it)."""
        ...

    def update_user(self, key: str, **changes: Any) -> None:
        """Change only these columns of a user row."""
        ...

    def delete_user(self, key: str) -> None:
        """Delete a user and everything that hangs off them."""
        ...

    def save_conversation(self, conversation: ConversationRecord) -> None:
        """Insert or update the user's conversation state."""
        ...

    def enqueue(self, message: NewOutboxMessage, now: datetime) -> str:
        """Add an outbox row and return its id; a row whose dedupe key exists is not added."""
        ...

    def record_read(self, user_key: str, article_id: str, now: datetime) -> None:
        """Note that a user opened an article."""
        ...

    def record_search(self, search: SearchRecord) -> None:
        """Keep a search query and how well it was answered (no user key)."""
        ...

    async def articles_read(self, user_key: str) -> set[str]:
        """The articles a user has opened."""
        ...


class DeliveryStore(Protocol):
    """What the delivery worker needs: leased outbox rows, their outcome, stopped users."""

    async def mark_stopped(self, user_key: str) -> None:
        """Send nothing more to this user unasked (they blocked the bot, or the chat is gone)."""
        ...

    async def claim_due_outbox(
        self,
        now: datetime,
        limit: int,
        lease_seconds: float,
        channels: Sequence[str],
        owner: str | None = None,
    ) -> list[OutboxRecord]:
        """Lease due outbox rows of these channels, oldest first; a lapsed lease frees them.

        A chat's rows keep their order: a row is not taken while an earlier row of its chat
        is being retried (failed, not yet due) or is leased by someone else. A row taken over
        from a lapsed lease is marked uncertain (its holder may have sent it before it died):
        once sent it counts among the possible duplicates.
        """
        ...

    async def release_outbox(self, outbox_ids: Sequence[str], owner: str | None = None) -> None:
        """Give back leased rows unsent (they wait behind an earlier row being retried)."""
        ...

    async def is_stopped(self, user_key: str) -> bool:
        """Whether this user said stop (or blocked the bot); an unknown user counts as stopped."""
        ...

    async def postpone_outbox(self, kind: str, until: datetime, now: datetime) -> int:
        """Make the due rows of a kind wait until `until`, without counting an attempt."""
        ...

    async def mark_sent(
        self, outbox_id: str, now: datetime, platform_id: str | None, owner: str | None = None
    ) -> bool:
        """Record a successful delivery; False if the lease was no longer this owner's."""
        ...

    async def mark_failed(
        self,
        outbox_id: str,
        error: str,
        retry_at: datetime | None,
        now: datetime,
        owner: str | None = None,
    ) -> bool:
        """Record a failed attempt (`retry_at=None` gives up: dead); False if not our lease."""
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


class TokenStore(Protocol):
    """Short tokens for payloads too long for a platform's button data."""

    async def save_token(self, payload: str, now: datetime) -> str:
        """Store a payload under a short token (the same payload gets the same token)."""
        ...

    async def load_token(self, token: str) -> str | None:
        """The payload a token stands for, if any."""
        ...


@runtime_checkable
class UncertainOutbox(Protocol):
    """Outbox rows whose send may or may not have arrived."""

    async def mark_uncertain(self, outbox_id: str) -> None:
        """A send of this row timed out: it may have arrived."""
        ...

    async def possible_duplicates(self, kind: str | None = None, prefix: str | None = None) -> int:
        """Rows sent after an attempt whose outcome was unknown."""
        ...

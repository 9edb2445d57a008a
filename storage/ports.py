"""Storage ports: what the engine and the delivery worker need from a database."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from storage.records import (
    ComplaintRecord,
    ConversationRecord,
    NewOutboxMessage,
    OutboxRecord,
    QuestionRecord,
    SearchGap,
    SearchRecord,
    UserRecord,
)


class DuplicateInbound(Exception):
    """The inbound message was processed by another turn first; its writes were rolled back."""


@dataclass(frozen=True, slots=True)
class Session:
    """What a turn starts from: was the message seen, who is the user, where are they."""

    seen: bool
    user: UserRecord | None
    conversation: ConversationRecord | None


class ComplaintTransaction(Protocol):
    """Complaint reads and writes within a unit of work."""

    async def complaint_by_reference(self, reference: str) -> ComplaintRecord | None:
        """A complaint by its reference code."""
        ...

    async def complaint_by_id(self, complaint_id: str) -> ComplaintRecord | None:
        """A complaint by id."""
        ...

    async def complaints_of(self, user_key: str) -> list[ComplaintRecord]:
        """A citizen's complaints and those they follow, newest first."""
        ...

    async def count_complaints_since(self, user_key: str, since: datetime) -> int:
        """How many complaints a citizen submitted since a moment."""
        ...

    async def open_complaints_at(
        self, commune: str, category: str, since: datetime
    ) -> list[ComplaintRecord]:
        """Open complaints of a commune and category since a moment."""
        ...

    async def routes_of(self, complaint_id: str) -> list[str]:
        """The CSOs a complaint is with now."""
        ...

    async def partner_chats(self, partner_id: str) -> list[tuple[str, str]]:
        """The (channel, chat) pairs linked to a CSO."""
        ...

    async def partner_of_chat(self, channel: str, chat_id: str) -> str | None:
        """The CSO a chat is linked to, if any."""
        ...

    async def link_code_partner(self, code: str, now: datetime) -> str | None:
        """The CSO a link code was made for, while it is valid."""
        ...

    async def recipients(self, complaint_id: str) -> list[tuple[str, str, str, str]]:
        """Who hears of a complaint's progress: (user key, channel, chat, language)."""
        ...

    async def question(self, question_id: str) -> QuestionRecord | None:
        """A CSO's question by id."""
        ...

    def save_complaint(self, record: ComplaintRecord) -> None:
        """Insert or update a complaint."""
        ...

    def add_route(self, complaint_id: str, partner_id: str, now: datetime) -> None:
        """Send a complaint to a CSO (again)."""
        ...

    def drop_route(self, complaint_id: str, partner_id: str) -> None:
        """A CSO no longer handles a complaint."""
        ...

    def add_event(
        self,
        complaint_id: str,
        action: str,
        now: datetime,
        partner_id: str | None = None,
        actor: str | None = None,
        note: str | None = None,
    ) -> None:
        """Record what happened to a complaint, by whom and when."""
        ...

    def add_follower(self, complaint_id: str, user_key: str, now: datetime) -> None:
        """A citizen adds their voice to a complaint and follows it."""
        ...

    def link_chat(
        self, channel: str, chat_id: str, partner_id: str, code: str, now: datetime
    ) -> None:
        """Link a chat to a CSO and spend the one-time code."""
        ...

    def save_question(self, record: QuestionRecord) -> None:
        """Keep a CSO's question, or its answer."""
        ...


class Transaction(ComplaintTransaction, Protocol):
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
        """Insert or update a user."""
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


class Store(Protocol):
    """A database behind the ports."""

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Open a unit of work, committed when the block ends without an error."""
        ...

    async def search_gaps(self, since: datetime, limit: int) -> list[SearchGap]:
        """The most frequent queries answered badly or not at all since a moment."""
        ...

    async def complaints_needing_attention(self, now: datetime) -> list[ComplaintRecord]:
        """Open complaints past their acknowledgement date, and resolved ones to follow up."""
        ...

    async def mark_stopped(self, user_key: str) -> None:
        """Send nothing more to this user unasked (they blocked the bot, or the chat is gone)."""
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

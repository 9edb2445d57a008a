"""Frozen records that cross the storage ports."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Literal

OutboxState = Literal["pending", "sent", "failed", "dead"]


def iso(moment: datetime) -> str:
    """Format a moment as the UTC ISO text stored in every timestamp column."""
    if moment.tzinfo is not UTC:  # most moments are UTC already: no copy for them
        moment = moment.astimezone(UTC)
    return _iso_utc(moment)


@lru_cache(maxsize=1024)
def _iso_utc(moment: datetime) -> str:
    # Cached: a turn stamps its moment on several rows (the claim, the user, the conversation,
    # the reply rows), and formatting costs more than a lookup. In UTC, equal is one instant.
    return moment.isoformat(timespec="microseconds")


def from_iso(text: str) -> datetime:
    """Parse a stored timestamp."""
    return datetime.fromisoformat(text)


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A person on one channel, with the little we keep about them."""

    key: str
    channel: str
    external_id: str
    created_at: datetime
    last_seen_at: datetime
    language: str | None = None
    region: str | None = None
    commune: str | None = None
    age_group: str | None = None
    gender: str | None = None
    contact_consent: bool = False
    stopped: bool = False
    entry_source: str | None = None
    last_inbound_at: datetime | None = None

    def __repr__(self) -> str:
        # The external id can be a phone number: never print it.
        return f"UserRecord(channel={self.channel!r}, language={self.language!r})"


@dataclass(frozen=True, slots=True)
class ConversationRecord:
    """Where a user is in a conversation: flow, step, its data and the choices offered."""

    user_key: str
    flow: str
    step: str
    updated_at: datetime
    data: dict[str, Any] = field(default_factory=dict)
    choices: tuple[str, ...] = ()
    # What the person read beside each choice (label, short label or ""), in the same order:
    # typed words are matched against it. Empty for screens saved before labels were kept.
    labels: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class NewOutboxMessage:
    """A message to send outside the current reply, written in the same transaction."""

    channel: str
    chat_id: str
    kind: str
    payload: dict[str, Any]
    user_key: str | None = None
    dedupe_key: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """A stored outbox row and its delivery state."""

    id: str
    channel: str
    chat_id: str
    kind: str
    payload: dict[str, Any]
    state: OutboxState
    attempts: int
    next_attempt_at: datetime
    created_at: datetime
    user_key: str | None = None
    last_error: str | None = None
    sent_at: datetime | None = None
    platform_message_id: str | None = None


@dataclass(frozen=True, slots=True)
class SearchRecord:
    """A search and how it went; the query is folded text, never tied to a user."""

    query: str
    lang: str
    outcome: Literal["confident", "uncertain", "none"]
    score: float
    asked_at: datetime
    article_id: str | None = None


@dataclass(frozen=True, slots=True)
class SearchGap:
    """A query people keep asking that the content does not answer well."""

    query: str
    count: int
    unanswered: int
    best_article: str | None
    last_asked: datetime


@dataclass(frozen=True, slots=True)
class ComplaintRecord:
    """A citizen's report about a public service, and where it stands."""

    id: str
    reference: str
    channel: str
    lang: str
    category: str
    commune: str
    description: str
    status: str
    created_at: datetime
    updated_at: datetime
    ack_due_at: datetime
    user_key: str | None = None
    chat_id: str | None = None
    place: str | None = None
    media: tuple[tuple[str, str], ...] = ()
    contact_consent: bool = False
    contact: str | None = None
    voices: int = 1
    public: bool = False
    reminded: bool = False
    escalated: bool = False
    resolved_at: datetime | None = None
    followup_asked: bool = False

    def __repr__(self) -> str:
        # Descriptions and contacts are personal: only the reference and status print.
        return f"ComplaintRecord(reference={self.reference!r}, status={self.status!r})"


@dataclass(frozen=True, slots=True)
class QuestionRecord:
    """A question a CSO asked a citizen about a complaint."""

    id: str
    complaint_id: str
    partner_id: str
    channel: str
    chat_id: str
    question: str
    asked_at: datetime
    answer: str | None = None
    answered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class GroupQuizRecord:
    """A quiz running in a group chat: which question, until when, and its posted message."""

    id: str
    channel: str
    chat_id: str
    quiz_id: str
    seed: int
    position: int
    deadline: datetime
    started_at: datetime
    status: str = "running"
    question_row: str | None = None


@dataclass(frozen=True, slots=True)
class CircleQuizRecord:
    """A quiz a circle's facilitator started, to be played by each member until a deadline."""

    id: str
    circle_id: str
    quiz_id: str
    deadline: datetime
    started_at: datetime
    status: str = "running"

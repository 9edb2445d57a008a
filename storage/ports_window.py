"""The outbox port of a channel with a reply window (WhatsApp's 24 hours) and delivery statuses.

Rows that wait for the user to write again carry an error starting with a channel's prefix;
delivery statuses and the moment a platform said the window was closed are marks kept in the
row's payload (top-level keys), so that the sender sees them when it tries the row again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, Protocol


@dataclass(frozen=True, slots=True)
class SendFailure:
    """What to write to the rows a platform reported failed after accepting them.

    `state`: 'failed' (due again at `retry_at`), 'dead', or 'retry' (one more attempt
    counted, due at `retry_at`; dead once `max_attempts` are spent).
    """

    error: str
    state: Literal["failed", "dead", "retry"]
    retry_at: datetime | None = None
    max_attempts: int = 0
    marks: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class FailedRow:
    """An outbox row a failure was written to, as it is now."""

    id: str
    state: str
    user_key: str | None
    chat_id: str


class WindowStore(Protocol):
    """Outbox reads and writes of a channel whose free-form messages need an open window."""

    async def user_window(self, user_key: str) -> tuple[str | None, datetime | None] | None:
        """The user's (language, last inbound moment), or None for an unknown user."""
        ...

    async def user_language(self, user_key: str) -> str | None:
        """The user's language, if known (cheap: read from memory when the store can)."""
        ...

    async def waiting_chats(self, channel: str, error_prefix: str) -> set[str]:
        """Chats with failed rows whose last error starts with `error_prefix`."""
        ...

    async def leased_payloads(
        self, channel: str, chat_id: str, now: datetime
    ) -> list[tuple[str, dict[str, Any]]]:
        """(kind, payload) of this chat's unsent rows leased past `now`, by due time."""
        ...

    async def wake_waiting(
        self, channel: str, chat_id: str, error_prefix: str, now: datetime
    ) -> int:
        """Make this chat's rows waiting (error prefix) due at `now`; return how many."""
        ...

    async def mark_status(
        self, channel: str, platform_id: str, key: str, status: str, unless: Sequence[str]
    ) -> None:
        """Set payload[key] = status on the row sent as `platform_id`, unless one of `unless`."""
        ...

    async def fail_sent(
        self, channel: str, platform_id: str, failure: SendFailure
    ) -> list[FailedRow]:
        """Write a failure (and its payload marks) to the rows sent as `platform_id`."""
        ...

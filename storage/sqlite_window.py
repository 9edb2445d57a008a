"""SQLite outbox reads and writes behind WhatsApp's reply window and delivery statuses."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.cache import Lru
from storage.ports_window import FailedRow, SendFailure
from storage.records import ConversationRecord, UserRecord, from_iso, iso


def _like(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class WindowStoreMixin:
    """The window's queries of the SQLite store (JSON payloads as text, json_set marks)."""

    cache: Lru[str, tuple[UserRecord, ConversationRecord | None]]

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def user_language(self, user_key: str) -> str | None:
        """The user's language, if known (from the session cache, else the database)."""
        cached = self.cache.get(user_key)
        if cached is not None:
            return cached[0].language
        found = await self.user_window(user_key)
        return found[0] if found else None

    async def user_window(self, user_key: str) -> tuple[str | None, datetime | None] | None:
        """The user's (language, last inbound moment), or None for an unknown user."""
        rows = await self.fetch_all(
            "SELECT language, last_inbound_at FROM users WHERE key = ?", (user_key,)
        )
        if not rows:
            return None
        return rows[0][0], from_iso(rows[0][1]) if rows[0][1] else None

    async def waiting_chats(self, channel: str, error_prefix: str) -> set[str]:
        """Chats with failed rows whose last error starts with `error_prefix`."""
        rows = await self.fetch_all(
            "SELECT DISTINCT chat_id FROM outbox WHERE channel = ? AND state = 'failed' "
            "AND last_error LIKE ? ESCAPE '\\'",
            (channel, _like(error_prefix)),
        )
        return {str(row[0]) for row in rows}

    async def leased_payloads(
        self, channel: str, chat_id: str, now: datetime
    ) -> list[tuple[str, dict[str, Any]]]:
        """(kind, payload) of this chat's unsent rows leased past `now`, by due time."""
        rows = await self.fetch_all(
            "SELECT kind, payload FROM outbox WHERE channel = ? AND chat_id = ? "
            "AND state IN ('pending', 'failed') AND locked_until > ? ORDER BY next_attempt_at",
            (channel, chat_id, iso(now)),
        )
        return [(str(kind), json.loads(payload)) for kind, payload in rows]

    async def wake_waiting(
        self, channel: str, chat_id: str, error_prefix: str, now: datetime
    ) -> int:
        """Make this chat's rows waiting (error prefix) due at `now`; return how many."""
        rows = await self.fetch_all(
            "UPDATE outbox SET next_attempt_at = ? WHERE channel = ? AND chat_id = ? "
            "AND state = 'failed' AND last_error LIKE ? ESCAPE '\\' RETURNING id",
            (iso(now), channel, chat_id, _like(error_prefix)),
        )
        return len(rows)

    async def mark_status(
        self, channel: str, platform_id: str, key: str, status: str, unless: Sequence[str]
    ) -> None:
        """Set payload[key] = status on the row sent as `platform_id`, unless one of `unless`."""
        path = "$." + key
        marks = ",".join("?" * len(unless))
        later = f"AND coalesce(json_extract(payload, ?), '') NOT IN ({marks})" if unless else ""
        await self.fetch_all(
            "UPDATE outbox SET payload = json_set(payload, ?, ?) "  # noqa: S608 - marks only
            f"WHERE channel = ? AND platform_message_id = ? {later}",
            (path, status, channel, platform_id, *((path, *unless) if unless else ())),
        )

    async def fail_sent(
        self, channel: str, platform_id: str, failure: SendFailure
    ) -> list[FailedRow]:
        """Write a failure (and its payload marks) to the rows sent as `platform_id`."""
        payload = "payload"
        marks: list[Any] = []
        for key, value in failure.marks.items():
            payload = f"json_set({payload}, ?, ?)"
            marks += ["$." + key, value]
        params: tuple[Any, ...]
        if failure.state == "dead":
            sets, params = "state = 'dead'", ()
        elif failure.state == "failed":
            sets, params = "state = 'failed', next_attempt_at = ?", (iso(_at(failure)),)
        else:
            sets = (
                "state = CASE WHEN attempts + 1 >= ? THEN 'dead' ELSE 'failed' END, "
                "attempts = attempts + 1, next_attempt_at = ?"
            )
            params = (failure.max_attempts, iso(_at(failure)))
        rows = await self.fetch_all(
            f"UPDATE outbox SET {sets}, last_error = ?, locked_until = NULL, "  # noqa: S608
            f"payload = {payload} WHERE channel = ? AND platform_message_id = ? "
            "RETURNING id, state, user_key, chat_id",
            (*params, failure.error, *marks, channel, platform_id),
        )
        return [FailedRow(str(r[0]), str(r[1]), r[2], str(r[3])) for r in rows]


def _at(failure: SendFailure) -> datetime:
    if failure.retry_at is None:
        raise ValueError(f"a {failure.state!r} failure needs retry_at")
    return failure.retry_at

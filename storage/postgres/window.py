"""PostgreSQL outbox reads and writes behind WhatsApp's reply window and delivery statuses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import asyncpg

from storage.ports_window import FailedRow, SendFailure


def _like(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


class PgWindowStoreMixin:
    """The window's queries of the PostgreSQL store (jsonb payloads, jsonb_set marks)."""

    pool: asyncpg.Pool

    async def user_window(self, user_key: str) -> tuple[str | None, datetime | None] | None:
        """The user's (language, last inbound moment), or None for an unknown user."""
        row = await self.pool.fetchrow(
            "SELECT language, last_inbound_at FROM users WHERE key = $1", user_key
        )
        return (row[0], row[1]) if row is not None else None

    async def user_language(self, user_key: str) -> str | None:
        """The user's language, if known."""
        language: str | None = await self.pool.fetchval(
            "SELECT language FROM users WHERE key = $1", user_key
        )
        return language

    async def waiting_chats(self, channel: str, error_prefix: str) -> set[str]:
        """Chats with failed rows whose last error starts with `error_prefix`."""
        rows = await self.pool.fetch(
            "SELECT DISTINCT chat_id FROM outbox WHERE channel = $1 AND state = 'failed' "
            "AND last_error LIKE $2",
            channel,
            _like(error_prefix),
        )
        return {str(row[0]) for row in rows}

    async def leased_payloads(
        self, channel: str, chat_id: str, now: datetime
    ) -> list[tuple[str, dict[str, Any]]]:
        """(kind, payload) of this chat's unsent rows leased past `now`, by due time."""
        rows = await self.pool.fetch(
            "SELECT kind, payload FROM outbox WHERE channel = $1 AND chat_id = $2 "
            "AND state IN ('pending', 'failed') AND locked_until > $3 "
            "ORDER BY next_attempt_at, seq",
            channel,
            chat_id,
            now,
        )
        return [(str(row[0]), dict(row[1])) for row in rows]

    async def wake_waiting(
        self, channel: str, chat_id: str, error_prefix: str, now: datetime
    ) -> int:
        """Make this chat's rows waiting (error prefix) due at `now`; return how many."""
        status: str = await self.pool.execute(
            "UPDATE outbox SET next_attempt_at = $1 WHERE channel = $2 AND chat_id = $3 "
            "AND state = 'failed' AND last_error LIKE $4",
            now,
            channel,
            chat_id,
            _like(error_prefix),
        )
        return int(status.split()[-1])

    async def mark_status(
        self, channel: str, platform_id: str, key: str, status: str, unless: Sequence[str]
    ) -> None:
        """Set payload[key] = status on the row sent as `platform_id`, unless one of `unless`."""
        await self.pool.execute(
            "UPDATE outbox SET payload = jsonb_set(payload, ARRAY[$1::text], to_jsonb($2::text)) "
            "WHERE channel = $3 AND platform_message_id = $4 "
            "AND NOT coalesce(payload->>$1, '') = ANY($5::text[])",
            key,
            status,
            channel,
            platform_id,
            list(unless),
        )

    async def fail_sent(
        self, channel: str, platform_id: str, failure: SendFailure
    ) -> list[FailedRow]:
        """Write a failure (and its payload marks) to the rows sent as `platform_id`."""
        marks = {key: value for key, value in failure.marks.items()}
        params: list[Any] = [failure.error, marks, channel, platform_id]
        if failure.state == "dead":
            sets = "state = 'dead'"
        elif failure.state == "failed":
            params.append(_at(failure))
            sets = "state = 'failed', next_attempt_at = $5"
        else:
            params += [_at(failure), failure.max_attempts]
            sets = (
                "state = CASE WHEN attempts + 1 >= $6 THEN 'dead' ELSE 'failed' END, "
                "attempts = attempts + 1, next_attempt_at = $5"
            )
        rows = await self.pool.fetch(
            f"UPDATE outbox SET {sets}, last_error = $1, locked_until = NULL, "  # noqa: S608
            "locked_by = NULL, payload = payload || $2::jsonb "
            "WHERE channel = $3 AND platform_message_id = $4 "
            "RETURNING id, state, user_key, chat_id",
            *params,
        )
        return [FailedRow(str(r[0]), str(r[1]), r[2], str(r[3])) for r in rows]


def _at(failure: SendFailure) -> datetime:
    if failure.retry_at is None:
        raise ValueError(f"a {failure.state!r} failure needs retry_at")
    return failure.retry_at

"""PostgreSQL storage of the durable inbox, leased to the pumps of any number of processes.

A pump leases rows with `FOR UPDATE SKIP LOCKED` under a lease naming its owner; a lease that
lapses (its process died) frees the row for another pump. Leases are taken one process at a
time under an advisory lock, so each sees the leases the others committed: a row is not taken
while an earlier row of its chat is leased by someone else, which keeps a chat in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import asyncpg

from storage.ids import new_outbox_id
from storage.ports_inbox import InboxRow, NewInbound
from storage.records import NewOutboxMessage

LOCK_INBOX_LEASE = 4  # advisory lock namespace (store.py holds 1-3)

_LEASE_SQL = (
    "WITH free AS (SELECT i.id FROM inbox i "
    "WHERE i.channel = ANY($1::text[]) AND (i.locked_until IS NULL OR i.locked_until <= $2) "
    "AND NOT EXISTS (SELECT 1 FROM inbox e WHERE i.chat <> '' AND e.channel = i.channel "
    "AND e.chat = i.chat AND e.id < i.id AND e.locked_until > $2 "
    "AND e.locked_by IS DISTINCT FROM $3) "
    "ORDER BY i.id LIMIT $4 FOR UPDATE OF i SKIP LOCKED) "
    "UPDATE inbox i SET locked_by = $3, locked_until = $5 FROM free WHERE i.id = free.id "
    "RETURNING i.id, i.channel, i.payload"
)


class PgInboxTransactionMixin:
    """Held reply rows queued in a turn's unit of work."""

    ops: list[Any]

    def enqueue_held(
        self, message: NewOutboxMessage, now: datetime, held_for: float, owner: str | None = None
    ) -> str:
        """An outbox row `owner` means to send itself now; the worker's after `held_for` s."""
        outbox_id = new_outbox_id()
        until = now + timedelta(seconds=held_for)

        async def enqueue(conn: asyncpg.Connection) -> None:
            await conn.execute(
                "INSERT INTO outbox (id, channel, chat_id, user_key, kind, payload, state, "
                "next_attempt_at, locked_until, locked_by, created_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $7)",
                outbox_id,
                message.channel,
                message.chat_id,
                message.user_key,
                message.kind,
                message.payload,
                now,
                until,
                owner,
            )

        self.ops.append(enqueue)
        return outbox_id


class PgInboxStoreMixin:
    """The durable inbox and held replies of the PostgreSQL store."""

    pool: asyncpg.Pool

    async def store_inbound(self, items: Sequence[NewInbound], now: datetime) -> None:
        """Store inbounds durably, all or none; a known dedupe key is stored once."""
        if not items:
            return
        # One statement is atomic by itself: no BEGIN/COMMIT round trips around it.
        await self.pool.execute(
            "INSERT INTO inbox (channel, dedupe_key, chat, payload, received_at) "
            "SELECT c, k, h, p, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) "
            "WITH ORDINALITY AS i (c, k, h, p, n) ORDER BY n "
            "ON CONFLICT (dedupe_key) DO NOTHING",
            [i.channel for i in items],
            [i.dedupe_key for i in items],
            [i.chat for i in items],
            [i.payload for i in items],
            now,
        )

    async def lease_inbound(
        self,
        channels: Sequence[str],
        owner: str,
        now: datetime,
        limit: int,
        lease_seconds: float,
    ) -> list[InboxRow]:
        """Lease free stored inbounds of these channels to `owner`, oldest first."""
        if not channels or limit <= 0:
            return []
        until = now + timedelta(seconds=lease_seconds)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1, 0)", LOCK_INBOX_LEASE)
            rows = await conn.fetch(_LEASE_SQL, list(channels), now, owner, limit, until)
        return sorted((InboxRow(r[0], r[1], r[2]) for r in rows), key=lambda row: row.id)

    async def renew_inbound(self, inbox_ids: Sequence[int], owner: str, until: datetime) -> None:
        """Extend `owner`'s leases of rows still being handled."""
        if inbox_ids:
            await self.pool.execute(
                "UPDATE inbox SET locked_until = $3 WHERE id = ANY($1::bigint[]) "
                "AND locked_by = $2",
                list(inbox_ids),
                owner,
                until,
            )

    async def inbound_handled(self, inbox_ids: Sequence[int]) -> None:
        """Forget handled inbounds (their text with them)."""
        if inbox_ids:
            await self.pool.execute(
                "DELETE FROM inbox WHERE id = ANY($1::bigint[])", list(inbox_ids)
            )

    async def inbound_left(self, channels: Sequence[str]) -> int:
        """How many stored inbounds of these channels are not yet handled."""
        count = await self.pool.fetchval(
            "SELECT COUNT(*) FROM inbox WHERE channel = ANY($1::text[])", list(channels)
        )
        return int(count)

    async def recover_outbox(self, now: datetime) -> int:
        """At start: rows whose lease lapsed become due now, marked uncertain.

        Several processes share the database: a row leased by a live one is left to it, and
        only a lapsed lease (its holder died, or stalled past it) is taken over.
        """
        status: str = await self.pool.execute(
            "UPDATE outbox SET locked_until = NULL, locked_by = NULL, uncertain = true "
            "WHERE state IN ('pending', 'failed') AND locked_until <= $1",
            now,
        )
        return int(status.split()[-1])

    async def reply_done(
        self, outbox_id: str, now: datetime, platform_id: str | None, owner: str | None = None
    ) -> None:
        """A held reply went (or can never go): its row goes, unless it may be a duplicate.

        Sent replies are not kept (they hold what people were told); one whose first try
        timed out stays as sent, so that the possible duplicate is counted. A row another
        worker took meanwhile (the hold lapsed) stays its, marked uncertain.
        """
        # One statement (atomic, one round trip): the three parts touch disjoint rows.
        mine = "id = $3 AND ($4::text IS NULL OR locked_by = $4)"
        await self.pool.execute(
            f"WITH gone AS (DELETE FROM outbox WHERE {mine} AND NOT uncertain), "  # noqa: S608
            "taken AS (UPDATE outbox SET uncertain = true WHERE id = $3 "
            "AND $4::text IS NOT NULL AND locked_by IS DISTINCT FROM $4) "
            "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = $1, "
            "locked_until = NULL, locked_by = NULL, platform_message_id = $2 "
            f"WHERE {mine} AND uncertain",
            now,
            platform_id,
            outbox_id,
            owner,
        )

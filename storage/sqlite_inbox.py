"""The durable inbox and the reply rows a turn writes beside its state (issue 13).

An inbound is stored before the platform is told it arrived, and deleted once handled; the
replies of a turn are outbox rows written in the turn's own transaction, leased by this
process so that it sends them at once, and left to the delivery worker after a crash.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from storage.records import NewOutboxMessage, iso

Op = Any  # Callable[[sqlite3.Connection], None], kept loose to avoid an import cycle


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One stored inbound, not yet handled."""

    id: int
    channel: str
    payload: str


def inbox_key(channel: str, platform_id: str) -> str:
    """The dedupe key of an inbound: hashed, so no platform id (Meta's embed the phone) stays."""
    return hashlib.sha256(f"{channel}\x00{platform_id}".encode()).hexdigest()[:32]


def _store(rows: Sequence[tuple[str, str, str]], stamp: str, db: sqlite3.Connection) -> None:
    db.executemany(
        "INSERT INTO inbox (channel, dedupe_key, payload, received_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (dedupe_key) DO NOTHING",
        [(channel, key, payload, stamp) for channel, key, payload in rows],
    )


def _enqueue_held(
    outbox_id: str, message: NewOutboxMessage, stamp: str, until: str, db: sqlite3.Connection
) -> None:
    db.execute(
        "INSERT INTO outbox (id, channel, chat_id, user_key, kind, payload, state, "
        "next_attempt_at, locked_until, created_at) VALUES (?,?,?,?,?,?,'pending',?,?,?)",
        (
            outbox_id,
            message.channel,
            message.chat_id,
            message.user_key,
            message.kind,
            json.dumps(message.payload, ensure_ascii=False),
            stamp,
            until,
            stamp,
        ),
    )


class InboxTransactionMixin:
    """Reply rows written in a turn's transaction."""

    ops: list[Op]

    def enqueue_held(self, message: NewOutboxMessage, now: datetime, held_for: float) -> str:
        """An outbox row this process means to send itself now; the worker's after `held_for`."""
        outbox_id = uuid.uuid4().hex
        until = iso(now + timedelta(seconds=held_for))
        self.ops.append(partial(_enqueue_held, outbox_id, message, iso(now), until))
        return outbox_id


class InboxStoreMixin:
    """Inbox queries of the SQLite store."""

    checkpoint_after_inbox: bool

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def _write_ops(self, ops: list[Any]) -> None:
        raise NotImplementedError

    async def fetch_short(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def _write_short(self, ops: list[Any]) -> None:
        raise NotImplementedError

    async def _commit(self, ops: Sequence[Op]) -> None:
        raise NotImplementedError

    async def store_inbound(self, items: Sequence[tuple[str, str, str]], now: datetime) -> None:
        """Store (channel, dedupe key, payload) items durably, in one transaction."""
        if items:
            await self._commit([partial(_store, list(items), iso(now))])

    async def pending_inbound(self, after: int, limit: int) -> list[InboxRow]:
        """Stored inbounds not yet handled, oldest first, with an id above `after`."""
        rows = await self.fetch_short(
            "SELECT id, channel, payload FROM inbox WHERE id > ? ORDER BY id LIMIT ?",
            (after, limit),
        )
        return [InboxRow(int(r[0]), str(r[1]), str(r[2])) for r in rows]

    async def inbound_handled(self, inbox_ids: Sequence[int]) -> None:
        """Forget handled inbounds (their text with them)."""

        def delete(db: sqlite3.Connection) -> None:
            db.executemany("DELETE FROM inbox WHERE id = ?", [(i,) for i in inbox_ids])

        if inbox_ids:
            await self._write_short([delete])
        if self.checkpoint_after_inbox:
            # Someone was forgotten: the zeroed inbox rows reach the database file now.
            self.checkpoint_after_inbox = False
            await self.fetch_all("PRAGMA wal_checkpoint(TRUNCATE)")

    async def recover_outbox(self, now: datetime) -> int:
        """At start (the only writer): rows leased by a dead process become due, as uncertain.

        A row that was leased may have been in flight when the process died: it may have
        reached its chat, so a second send is counted as a possible duplicate.
        """
        count: list[int] = []

        def release(db: sqlite3.Connection) -> None:
            cursor = db.execute(
                "UPDATE outbox SET locked_until = NULL, uncertain = 1 "
                "WHERE state IN ('pending', 'failed') AND locked_until > ?",
                (iso(now),),
            )
            count.append(cursor.rowcount)

        await self._write_ops([release])
        return count[0]

    async def release_outbox(self, outbox_ids: Sequence[str]) -> None:
        """Hand held rows to the delivery worker now (a send failed, or another chat)."""

        def release(db: sqlite3.Connection) -> None:
            db.executemany(
                "UPDATE outbox SET locked_until = NULL WHERE id = ? AND state = 'pending'",
                [(i,) for i in outbox_ids],
            )

        if outbox_ids:
            await self._write_short([release])

    async def reply_done(self, outbox_id: str, now: datetime, platform_id: str | None) -> None:
        """A held reply went (or can never go): its row goes, unless it may be a duplicate.

        Sent replies are not kept (they hold what people were told); one whose first try
        timed out stays as sent, so that the possible duplicate is counted.
        """

        def done(db: sqlite3.Connection) -> None:
            db.execute("DELETE FROM outbox WHERE id = ? AND uncertain = 0", (outbox_id,))
            db.execute(
                "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?, "
                "locked_until = NULL, platform_message_id = ? WHERE id = ?",
                (iso(now), platform_id, outbox_id),
            )

        # Group commit: under load many marks share one transaction, so each lands sooner
        # after its send (a kill in between makes a possible duplicate).
        await self._commit([done])

    async def mark_uncertain(self, outbox_id: str) -> None:
        """A send of this row timed out: it may have arrived."""

        def mark(db: sqlite3.Connection) -> None:
            db.execute("UPDATE outbox SET uncertain = 1 WHERE id = ?", (outbox_id,))

        await self._write_short([mark])

    async def possible_duplicates(self, kind: str | None = None, prefix: str | None = None) -> int:
        """Rows sent after an attempt whose outcome was unknown: each may have arrived twice."""
        sql = "SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND uncertain = 1"
        params: list[Any] = []
        if kind is not None:
            sql += " AND kind = ?"
            params.append(kind)
        if prefix is not None:
            sql += " AND dedupe_key >= ? AND dedupe_key < ?"
            params += [prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)]
        rows = await self.fetch_all(sql, params)
        return int(rows[0][0])

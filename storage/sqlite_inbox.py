"""The durable inbox and the reply rows a turn writes beside its state (issue 13).

An inbound is stored before the platform is told it arrived, and deleted once handled; the
replies of a turn are outbox rows written in the turn's own transaction, leased by this
process so that it sends them at once, and left to the delivery worker after a crash.
Inbox leases live in memory: one process writes a SQLite file (its writer lock), so a lease
need not outlive it; the rows do, and a restart leases them afresh.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from storage import fastjson
from storage.ids import new_outbox_id
from storage.ports_inbox import InboxRow, NewInbound
from storage.ports_inbox import inbox_key as inbox_key
from storage.records import NewOutboxMessage, iso

Op = Any  # Callable[[sqlite3.Connection], None], kept loose to avoid an import cycle


@dataclass(slots=True)
class _Lease:
    owner: str
    until: datetime
    channel: str
    chat: str


def _store(rows: Sequence[NewInbound], stamp: str, db: sqlite3.Connection) -> None:
    db.executemany(
        "INSERT INTO inbox (channel, dedupe_key, payload, received_at, chat) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT (dedupe_key) DO NOTHING",
        [(row.channel, row.dedupe_key, row.payload, stamp, row.chat) for row in rows],
    )


def _enqueue_held(
    outbox_id: str,
    message: NewOutboxMessage,
    stamp: str,
    until: str,
    owner: str | None,
    db: sqlite3.Connection,
) -> None:
    db.execute(
        "INSERT INTO outbox (id, channel, chat_id, user_key, kind, payload, state, "
        "next_attempt_at, locked_until, locked_by, created_at) "
        "VALUES (?,?,?,?,?,?,'pending',?,?,?,?)",
        (
            outbox_id,
            message.channel,
            message.chat_id,
            message.user_key,
            message.kind,
            fastjson.dumps(message.payload),
            stamp,
            until,
            owner,
            stamp,
        ),
    )


class InboxTransactionMixin:
    """Reply rows written in a turn's transaction."""

    ops: list[Op]

    def enqueue_held(
        self, message: NewOutboxMessage, now: datetime, held_for: float, owner: str | None = None
    ) -> str:
        """An outbox row `owner` means to send itself now; the worker's after `held_for` s."""
        outbox_id = new_outbox_id()
        until = iso(now + timedelta(seconds=held_for))
        self.ops.append(partial(_enqueue_held, outbox_id, message, iso(now), until, owner))
        return outbox_id


class InboxStoreMixin:
    """Inbox queries of the SQLite store."""

    checkpoint_after_inbox: bool
    _inbox_leases: dict[int, _Lease]

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

    async def store_inbound(self, items: Sequence[NewInbound], now: datetime) -> None:
        """Store inbounds durably, in one transaction; a known dedupe key is stored once."""
        if items:
            await self._commit([partial(_store, list(items), iso(now))])

    async def lease_inbound(
        self,
        channels: Sequence[str],
        owner: str,
        now: datetime,
        limit: int,
        lease_seconds: float,
    ) -> list[InboxRow]:
        """Lease free stored inbounds of these channels to `owner`, oldest first."""
        leases = self._inbox_leases
        for row_id in [i for i, lease in leases.items() if lease.until <= now]:
            del leases[row_id]
        if not channels or limit <= 0:
            return []
        marks = ", ".join("?" * len(channels))
        rows = await self.fetch_short(
            f"SELECT id, channel, chat, payload FROM inbox WHERE channel IN ({marks}) "  # noqa: S608
            "AND id NOT IN (SELECT value FROM json_each(?)) ORDER BY id LIMIT ?",
            (*channels, json.dumps(list(leases)), limit),
        )
        # A chat with a row leased by another owner waits (its rows come after that one).
        blocked = {(v.channel, v.chat) for v in leases.values() if v.owner != owner and v.chat}
        until = now + timedelta(seconds=lease_seconds)
        taken: list[InboxRow] = []
        for row_id, channel, chat, payload in rows:
            if chat and (channel, chat) in blocked:
                continue
            leases[int(row_id)] = _Lease(owner, until, str(channel), str(chat))
            taken.append(InboxRow(int(row_id), str(channel), str(payload)))
        return taken

    async def renew_inbound(self, inbox_ids: Sequence[int], owner: str, until: datetime) -> None:
        """Extend `owner`'s leases of rows still being handled."""
        for row_id in inbox_ids:
            lease = self._inbox_leases.get(row_id)
            if lease is not None and lease.owner == owner:
                lease.until = until

    async def inbound_left(self, channels: Sequence[str]) -> int:
        """How many stored inbounds of these channels are not yet handled."""
        marks = ", ".join("?" * len(channels)) or "NULL"
        rows = await self.fetch_all(
            f"SELECT COUNT(*) FROM inbox WHERE channel IN ({marks})",  # noqa: S608 - marks only
            tuple(channels),
        )
        return int(rows[0][0])

    async def inbound_handled(self, inbox_ids: Sequence[int]) -> None:
        """Forget handled inbounds (their text with them)."""

        def delete(db: sqlite3.Connection) -> None:
            db.executemany("DELETE FROM inbox WHERE id = ?", [(i,) for i in inbox_ids])

        if inbox_ids:
            # In the group commit: under load, with the turns and reply marks of the moment.
            await self._commit([delete])
            for row_id in inbox_ids:
                self._inbox_leases.pop(row_id, None)
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
                "UPDATE outbox SET locked_until = NULL, locked_by = NULL, uncertain = 1 "
                "WHERE state IN ('pending', 'failed') AND locked_until > ?",
                (iso(now),),
            )
            count.append(cursor.rowcount)

        await self._write_ops([release])
        return count[0]

    async def reply_done(
        self, outbox_id: str, now: datetime, platform_id: str | None, owner: str | None = None
    ) -> None:
        """A held reply went (or can never go): its row goes, unless it may be a duplicate.

        Sent replies are not kept (they hold what people were told); one whose first try
        timed out stays as sent, so that the possible duplicate is counted. A row another
        worker took meanwhile (the hold lapsed) stays its, marked uncertain.
        """

        def done(db: sqlite3.Connection) -> None:
            if owner is not None:
                # The usual case first, in one statement: the row is still ours and certain.
                gone = db.execute(
                    "DELETE FROM outbox WHERE id = ? AND locked_by = ? AND uncertain = 0",
                    (outbox_id, owner),
                )
                if gone.rowcount:
                    return
                taken = db.execute(
                    "UPDATE outbox SET uncertain = 1 WHERE id = ? AND locked_by IS NOT ?",
                    (outbox_id, owner),
                )
                if taken.rowcount:
                    return
            db.execute("DELETE FROM outbox WHERE id = ? AND uncertain = 0", (outbox_id,))
            db.execute(
                "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = ?, "
                "locked_until = NULL, locked_by = NULL, platform_message_id = ? WHERE id = ?",
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

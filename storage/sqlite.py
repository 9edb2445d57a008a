"""The SQLite implementation of the storage ports, on aiosqlite."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import aiosqlite

from storage.migrations import load_migrations
from storage.records import (
    ConversationRecord,
    NewOutboxMessage,
    OutboxRecord,
    UserRecord,
    from_iso,
    iso,
)

log = logging.getLogger(__name__)

_USER_COLUMNS = (
    "key, channel, external_id, language, region, commune, age_group, gender, "
    "contact_consent, stopped, entry_source, created_at, last_seen_at, last_inbound_at"
)
_OUTBOX_COLUMNS = (
    "id, channel, chat_id, user_key, kind, payload, state, attempts, next_attempt_at, "
    "last_error, platform_message_id, created_at, sent_at"
)


def _opt_time(text: str | None) -> datetime | None:
    return from_iso(text) if text else None


def _user(row: aiosqlite.Row) -> UserRecord:
    return UserRecord(
        key=row[0],
        channel=row[1],
        external_id=row[2],
        language=row[3],
        region=row[4],
        commune=row[5],
        age_group=row[6],
        gender=row[7],
        contact_consent=bool(row[8]),
        stopped=bool(row[9]),
        entry_source=row[10],
        created_at=from_iso(row[11]),
        last_seen_at=from_iso(row[12]),
        last_inbound_at=_opt_time(row[13]),
    )


def _outbox(row: aiosqlite.Row) -> OutboxRecord:
    return OutboxRecord(
        id=row[0],
        channel=row[1],
        chat_id=row[2],
        user_key=row[3],
        kind=row[4],
        payload=json.loads(row[5]),
        state=row[6],
        attempts=row[7],
        next_attempt_at=from_iso(row[8]),
        last_error=row[9],
        platform_message_id=row[10],
        created_at=from_iso(row[11]),
        sent_at=_opt_time(row[12]),
    )


class SqliteTransaction:
    """The transaction port over the single writer connection."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self._db = db

    async def claim_inbound(self, channel: str, message_id: str, now: datetime) -> bool:
        """Record a platform message id; False if it was processed before."""
        cursor = await self._db.execute(
            "INSERT INTO processed_inbound (channel, message_id, processed_at) VALUES (?, ?, ?) "
            "ON CONFLICT DO NOTHING",
            (channel, message_id, iso(now)),
        )
        return cursor.rowcount == 1

    async def get_user(self, key: str) -> UserRecord | None:
        """Load a user by key."""
        async with self._db.execute(
            f"SELECT {_USER_COLUMNS} FROM users WHERE key = ?",  # noqa: S608 - constant columns
            (key,),
        ) as cursor:
            row = await cursor.fetchone()
        return _user(row) if row else None

    async def save_user(self, user: UserRecord) -> None:
        """Insert or update a user."""
        await self._db.execute(
            f"INSERT INTO users ({_USER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) "  # noqa: S608
            "ON CONFLICT (key) DO UPDATE SET language=excluded.language, "
            "region=excluded.region, commune=excluded.commune, age_group=excluded.age_group, "
            "gender=excluded.gender, contact_consent=excluded.contact_consent, "
            "stopped=excluded.stopped, entry_source=excluded.entry_source, "
            "last_seen_at=excluded.last_seen_at, last_inbound_at=excluded.last_inbound_at",
            (
                user.key,
                user.channel,
                user.external_id,
                user.language,
                user.region,
                user.commune,
                user.age_group,
                user.gender,
                int(user.contact_consent),
                int(user.stopped),
                user.entry_source,
                iso(user.created_at),
                iso(user.last_seen_at),
                iso(user.last_inbound_at) if user.last_inbound_at else None,
            ),
        )

    async def delete_user(self, key: str) -> None:
        """Delete a user; their conversation and pending notices go with them (cascade)."""
        await self._db.execute("DELETE FROM users WHERE key = ?", (key,))

    async def get_conversation(self, user_key: str) -> ConversationRecord | None:
        """Load the user's conversation state."""
        async with self._db.execute(
            "SELECT flow, step, data, choices, updated_at FROM conversations WHERE user_key = ?",
            (user_key,),
        ) as cursor:
            row = await cursor.fetchone()
        if row is None:
            return None
        return ConversationRecord(
            user_key=user_key,
            flow=row[0],
            step=row[1],
            data=json.loads(row[2]),
            choices=tuple(json.loads(row[3])),
            updated_at=from_iso(row[4]),
        )

    async def save_conversation(self, conversation: ConversationRecord) -> None:
        """Insert or update the user's conversation state."""
        await self._db.execute(
            "INSERT INTO conversations (user_key, flow, step, data, choices, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (user_key) DO UPDATE SET "
            "flow=excluded.flow, step=excluded.step, data=excluded.data, "
            "choices=excluded.choices, updated_at=excluded.updated_at",
            (
                conversation.user_key,
                conversation.flow,
                conversation.step,
                json.dumps(conversation.data, ensure_ascii=False),
                json.dumps(list(conversation.choices)),
                iso(conversation.updated_at),
            ),
        )

    async def enqueue(self, message: NewOutboxMessage, now: datetime) -> str | None:
        """Add an outbox row; None if a row with the same dedupe key exists."""
        outbox_id = uuid.uuid4().hex
        cursor = await self._db.execute(
            "INSERT INTO outbox (id, channel, chat_id, user_key, kind, payload, state, "
            "next_attempt_at, dedupe_key, created_at) VALUES (?,?,?,?,?,?,'pending',?,?,?) "
            "ON CONFLICT (dedupe_key) DO NOTHING",
            (
                outbox_id,
                message.channel,
                message.chat_id,
                message.user_key,
                message.kind,
                json.dumps(message.payload, ensure_ascii=False),
                iso(now),
                message.dedupe_key,
                iso(now),
            ),
        )
        return outbox_id if cursor.rowcount == 1 else None


class SqliteStore:
    """One writer connection per process (WAL, busy timeout, foreign keys)."""

    def __init__(self, db: aiosqlite.Connection, path: str) -> None:
        self._db = db
        self._path = path
        # One connection carries one transaction at a time: writers queue here.
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        return f"SqliteStore(path={self._path!r})"

    @classmethod
    async def open(cls, path: str | Path, *, migrate: bool = True) -> SqliteStore:
        """Open (and create) the database, set its pragmas and apply migrations."""
        target = str(path)
        if target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        db = await aiosqlite.connect(target, isolation_level=None)
        try:
            await db.execute("PRAGMA journal_mode = WAL")
            await db.execute("PRAGMA synchronous = NORMAL")
            await db.execute("PRAGMA busy_timeout = 5000")
            await db.execute("PRAGMA foreign_keys = ON")
            store = cls(db, target)
            if migrate:
                await store.migrate()
        except BaseException:
            await db.close()
            raise
        return store

    async def migrate(self) -> list[int]:
        """Apply every migration not yet applied; return the versions applied now."""
        applied_now: list[int] = []
        async with self._lock:
            await self._db.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
            )
            async with self._db.execute("SELECT version FROM schema_migrations") as cursor:
                done = {row[0] for row in await cursor.fetchall()}
            for migration in load_migrations():
                if migration.version in done:
                    continue
                await self._db.execute("BEGIN IMMEDIATE")
                try:
                    # executescript would commit first; run statement by statement instead.
                    for statement in _statements(migration.sql):
                        await self._db.execute(statement)
                    await self._db.execute(
                        "INSERT INTO schema_migrations (version, name, applied_at) "
                        "VALUES (?, ?, datetime('now'))",
                        (migration.version, migration.name),
                    )
                    await self._db.execute("COMMIT")
                except BaseException:
                    await self._db.execute("ROLLBACK")
                    raise
                log.info("applied migration %04d_%s", migration.version, migration.name)
                applied_now.append(migration.version)
        return applied_now

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        """Open a write transaction (`BEGIN IMMEDIATE`), committed on success."""
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                yield SqliteTransaction(self._db)
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.execute("COMMIT")

    async def claim_due_outbox(
        self, now: datetime, limit: int, lease_seconds: float, channels: Sequence[str]
    ) -> list[OutboxRecord]:
        """Lease due outbox rows of these channels; a lease that lapses makes them due again."""
        stamp = iso(now)
        marks = ",".join("?" * len(channels))
        async with self.transaction():
            async with self._db.execute(
                f"SELECT {_OUTBOX_COLUMNS} FROM outbox "  # noqa: S608 - constant columns
                f"WHERE state IN ('pending', 'failed') AND channel IN ({marks}) "
                "AND next_attempt_at <= ? AND (locked_until IS NULL OR locked_until <= ?) "
                "ORDER BY next_attempt_at, created_at LIMIT ?",
                (*channels, stamp, stamp, limit),
            ) as cursor:
                rows = [_outbox(row) for row in await cursor.fetchall()]
            until = iso(now + timedelta(seconds=lease_seconds))
            await self._db.executemany(
                "UPDATE outbox SET locked_until = ? WHERE id = ?",
                [(until, row.id) for row in rows],
            )
        return rows

    async def mark_sent(self, outbox_id: str, now: datetime, platform_id: str | None) -> None:
        """Record a successful delivery."""
        async with self.transaction():
            await self._db.execute(
                "UPDATE outbox SET state='sent', attempts=attempts+1, sent_at=?, "
                "locked_until=NULL, last_error=NULL, platform_message_id=? WHERE id=?",
                (iso(now), platform_id, outbox_id),
            )

    async def mark_failed(
        self, outbox_id: str, error: str, retry_at: datetime | None, now: datetime
    ) -> None:
        """Record a failed attempt; `retry_at=None` gives up (state dead)."""
        async with self.transaction():
            await self._db.execute(
                "UPDATE outbox SET state=?, attempts=attempts+1, last_error=?, "
                "next_attempt_at=?, locked_until=NULL WHERE id=?",
                (
                    "failed" if retry_at else "dead",
                    error[:500],
                    iso(retry_at or now),
                    outbox_id,
                ),
            )

    async def get_outbox(self, outbox_id: str) -> OutboxRecord | None:
        """Load one outbox row."""
        async with (
            self._lock,
            self._db.execute(
                f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE id = ?",  # noqa: S608
                (outbox_id,),
            ) as cursor,
        ):
            row = await cursor.fetchone()
        return _outbox(row) if row else None

    async def prune_inbound(self, before: datetime) -> int:
        """Forget processed message ids older than `before`."""
        async with self.transaction():
            cursor = await self._db.execute(
                "DELETE FROM processed_inbound WHERE processed_at < ?", (iso(before),)
            )
        return cursor.rowcount

    async def fetch_all(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Run a read query (for statistics, tests and the CLI)."""
        async with self._lock, self._db.execute(sql, params) as cursor:
            return [tuple(row) for row in await cursor.fetchall()]

    async def close(self) -> None:
        """Close the connection."""
        await self._db.close()


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (migrations keep `;` out of strings and comments)."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]

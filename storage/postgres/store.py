"""The PostgreSQL implementation of the core ports (asyncpg), for several bot processes.

Unlike the SQLite store this one keeps no cache of sessions: other processes write the same
rows. A unit of work holds one pooled connection in one transaction: a turn's `load_session`
first takes a transaction-scoped advisory lock keyed by the user, so one person's turns are
serialised across processes until the commit; the writes are queued and run at the end, so
reads see committed data only, as the ports promise.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from storage import fastjson
from storage.errors import DuplicateInbound, StaleRecord
from storage.ids import new_outbox_id
from storage.ports_core import Session
from storage.ports_inbox import inbox_key
from storage.postgres.audio import PgAudioStoreMixin, PgAudioTransactionMixin
from storage.postgres.barometer import PgBarometerStoreMixin, PgBarometerTransactionMixin
from storage.postgres.campaigns import PgCampaignStoreMixin
from storage.postgres.complaints import (
    PgComplaintStoreMixin,
    PgComplaintTransactionMixin,
    anonymise,
)
from storage.postgres.cso_inbox import PgCsoInboxTransactionMixin
from storage.postgres.inbox import PgInboxStoreMixin, PgInboxTransactionMixin
from storage.postgres.leader import PgLeaderStoreMixin
from storage.postgres.link import PgLinkCodeTransactionMixin
from storage.postgres.migrations import load_pg_migrations
from storage.postgres.open311 import PgOpen311StoreMixin
from storage.postgres.ops import PgOpsStoreMixin
from storage.postgres.quizzes import PgQuizStoreMixin, PgQuizTransactionMixin
from storage.postgres.rate import PgRateStoreMixin
from storage.postgres.stats import PgStatsStoreMixin
from storage.postgres.window import PgWindowStoreMixin
from storage.records import (
    ConversationRecord,
    NewOutboxMessage,
    OutboxRecord,
    SearchGap,
    SearchRecord,
    UserRecord,
)
from storage.screens import pushed_screen, screen_columns, screen_items

log = logging.getLogger(__name__)

Op = Callable[[asyncpg.Connection], Awaitable[None]]

# Advisory lock namespaces (the two-key form): a user's turns, outbox claims, migrations.
LOCK_USER = 1
LOCK_OUTBOX_CLAIM = 2
LOCK_MIGRATIONS = 3

# The server probes an idle connection after 10 s and gives up after 3 unanswered probes
# 5 s apart: a process whose host is lost (power, partition) loses its session locks (the
# leader's role) and transaction locks (a user's turn) in about 25 s, not the system's ~2 h.
KEEPALIVES = {
    "tcp_keepalives_idle": "10",
    "tcp_keepalives_interval": "5",
    "tcp_keepalives_count": "3",
}

_USER_COLUMNS = (
    "key, channel, external_id, language, region, commune, age_group, gender, "
    "contact_consent, stopped, entry_source, created_at, last_seen_at, last_inbound_at"
)
_USER_FIELDS = tuple(column.strip() for column in _USER_COLUMNS.split(","))
_CONVERSATION_COLUMNS = "user_key, flow, step, data, choices, updated_at"
_OUTBOX_COLUMNS = (
    "id, channel, chat_id, user_key, kind, payload, state, attempts, next_attempt_at, "
    "last_error, platform_message_id, created_at, sent_at"
)
_USER_PREFIXED = ", ".join("u." + name for name in _USER_FIELDS)
_SESSION_SQL = (
    "SELECT EXISTS (SELECT 1 FROM processed_inbound WHERE channel = $1 AND message_id = $2), "  # noqa: S608
    f"{_USER_PREFIXED}, c.flow, c.step, c.data, c.choices, c.updated_at "
    "FROM (SELECT 1) AS one LEFT JOIN users u ON u.key = $3 "
    "LEFT JOIN conversations c ON c.user_key = $3"
)
_CLAIM_SQL = (
    "WITH due AS (SELECT o.id FROM outbox o "  # noqa: S608 - constant column names
    "WHERE o.state IN ('pending', 'failed') AND o.channel = ANY($1::text[]) "
    "AND o.next_attempt_at <= $2 AND (o.locked_until IS NULL OR o.locked_until <= $2) "
    "AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.channel = o.channel "
    "AND e.chat_id = o.chat_id AND e.state IN ('pending', 'failed') "
    "AND (e.created_at, e.seq) < (o.created_at, o.seq) "
    "AND ((e.state = 'failed' AND e.next_attempt_at > $2) OR e.locked_until > $2)) "
    "ORDER BY o.created_at, o.seq LIMIT $3 FOR UPDATE OF o SKIP LOCKED) "
    # A lease that lapsed (its holder died or stalled mid-send) may hide a send that went.
    "UPDATE outbox o SET locked_until = $4, locked_by = $5, "
    "uncertain = o.uncertain OR o.locked_until IS NOT NULL FROM due WHERE o.id = due.id "
    "RETURNING " + ", ".join("o." + c.strip() for c in _OUTBOX_COLUMNS.split(",")) + ", o.seq"
)
# Columns a turn may change; key, channel, external id and creation never change.
_USER_MUTABLE = frozenset(
    {
        "language",
        "region",
        "commune",
        "age_group",
        "gender",
        "contact_consent",
        "stopped",
        "entry_source",
        "last_seen_at",
        "last_inbound_at",
    }
)


def lock_key(text: str) -> int:
    """A stable signed 32-bit key for an advisory lock (Python's hash() differs per process)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=4).digest(), signed=True)


def _user(row: Sequence[Any]) -> UserRecord:
    return UserRecord(**dict(zip(_USER_FIELDS, row, strict=True)))


def _conversation(row: Sequence[Any]) -> ConversationRecord:
    return ConversationRecord(
        user_key=row[0],
        flow=row[1],
        step=row[2],
        data=row[3],
        **screen_columns(list(row[4] or [])),
        updated_at=row[5],
    )


def _outbox(row: Sequence[Any]) -> OutboxRecord:
    names = (column.strip() for column in _OUTBOX_COLUMNS.split(","))
    return OutboxRecord(**dict(zip(names, row, strict=True)))


async def _init_connection(conn: asyncpg.Connection) -> None:
    # JSON columns cross the ports as Python values, as they do from SQLite, through the
    # same codec as SQLite's message path (a conversation, a reply row per turn).
    await conn.set_type_codec(
        "jsonb", encoder=fastjson.dumps, decoder=fastjson.loads, schema="pg_catalog"
    )


async def _keep_session(conn: asyncpg.Connection) -> None:
    """A connection back in the pool needs no reset query: it carries no session state.

    asyncpg's default reset (unlock all, close cursors, unlisten, RESET ALL) is a round trip
    on every release, about four per turn. Nothing here leaves session state on a pooled
    connection: locks are transaction-scoped except the leader's, which unlocks itself or
    terminates its connection (leader.py), and nobody SETs, LISTENs or DECLAREs. An open
    transaction is still rolled back by asyncpg before this runs.
    """


def _translate(exc: Exception) -> Exception:
    """A foreign key that fails means a row read by the turn was deleted meanwhile."""
    if isinstance(exc, asyncpg.ForeignKeyViolationError):
        return StaleRecord(f"FOREIGN KEY constraint failed ({exc.constraint_name})")
    if isinstance(exc, asyncpg.DeadlockDetectedError):
        # Two processes' units of work crossed on shared rows; PostgreSQL rolled this one back.
        return StaleRecord("deadlock with another unit of work")
    return exc


class PostgresTransaction(
    PgComplaintTransactionMixin,
    PgQuizTransactionMixin,
    PgBarometerTransactionMixin,
    PgAudioTransactionMixin,
    PgLinkCodeTransactionMixin,
    PgCsoInboxTransactionMixin,
    PgInboxTransactionMixin,
):
    """A unit of work on one pooled connection: reads now, writes queued until the commit."""

    def __init__(self, store: PostgresStore) -> None:
        self._store = store
        self._conn: asyncpg.Connection | None = None
        self.ops: list[Op] = []
        self._locked: set[str] = set()

    async def _connection(self, user_lock: int | None = None) -> asyncpg.Connection:
        if self._conn is None:
            conn = await self._store.pool.acquire()
            # BEGIN and a turn's user lock go in one simple-protocol round trip (the key is
            # an int, so the text is safe); asyncpg's Transaction would send BEGIN alone.
            sql = "BEGIN"
            if user_lock is not None:
                sql += f"; SELECT pg_advisory_xact_lock({LOCK_USER}, {int(user_lock)})"
            try:
                await conn.execute(sql)
            except BaseException:
                # BEGIN may have run and the lock failed (lock_timeout, cancelled): roll back
                # here, or the pool finds a transaction open and logs an error as it does.
                try:
                    await conn.execute("ROLLBACK")
                except Exception:
                    conn.terminate()  # busy or broken: it leaves the pool
                await self._store.pool.release(conn)
                raise
            self._conn = conn
        return self._conn

    async def finish(self, ok: bool) -> None:
        """Run the queued writes and commit (ok), or roll back; always give the connection back."""
        committed = False
        try:
            if ok and (self.ops or self._conn is not None):
                conn = await self._connection()
                try:
                    for op in self.ops:
                        await op(conn)
                except Exception as exc:
                    raise _translate(exc) from exc
                status = await conn.execute("COMMIT")
                committed = True
                if status != "COMMIT":  # the server rolled back instead
                    raise StaleRecord(f"transaction not committed ({status})")
        finally:
            if self._conn is not None:
                try:
                    if not committed:
                        await self._conn.execute("ROLLBACK")
                finally:
                    await self._store.pool.release(self._conn)
                    self._conn = None

    async def lock_user(self, user_key: str) -> None:
        """Hold this user's turn lock until the unit of work ends, in every process."""
        if user_key in self._locked:
            return
        if self._conn is None:
            await self._connection(user_lock=lock_key(user_key))
        else:
            await self._conn.execute(
                "SELECT pg_advisory_xact_lock($1, $2)", LOCK_USER, lock_key(user_key)
            )
        self._locked.add(user_key)

    async def load_session(self, user_key: str, channel: str, message_id: str | None) -> Session:
        """Take the user's lock, then the seen-before check, user and conversation in one query."""
        await self.lock_user(user_key)
        conn = await self._connection()
        hashed = inbox_key(channel, message_id) if message_id is not None else None
        row = tuple(await conn.fetchrow(_SESSION_SQL, channel, hashed, user_key))
        user = _user(row[1:15]) if row[1] is not None else None
        conversation = _conversation((user_key, *row[15:20])) if row[15] is not None else None
        return Session(bool(row[0]), user, conversation)

    async def get_user(self, key: str) -> UserRecord | None:
        """Load a user by key."""
        conn = await self._connection()
        row = await conn.fetchrow(
            f"SELECT {_USER_COLUMNS} FROM users WHERE key = $1",  # noqa: S608 - constant columns
            key,
        )
        return _user(row) if row is not None else None

    async def get_conversation(self, user_key: str) -> ConversationRecord | None:
        """Load the user's conversation state."""
        conn = await self._connection()
        row = await conn.fetchrow(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE user_key = $1",  # noqa: S608
            user_key,
        )
        return _conversation(row) if row is not None else None

    def claim_inbound(self, channel: str, message_id: str, now: datetime) -> None:
        """Record a platform message id; the commit raises DuplicateInbound if it was known."""

        async def claim(conn: asyncpg.Connection) -> None:
            # Another process inserting the same id first makes this one wait for its commit.
            # Stored hashed: Meta's message ids embed the sender's phone number.
            status = await conn.execute(
                "INSERT INTO processed_inbound (channel, message_id, processed_at) "
                "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                channel,
                inbox_key(channel, message_id),
                now,
            )
            if status != "INSERT 0 1":
                raise DuplicateInbound(message_id)

        self.ops.append(claim)

    def insert_user(self, user: UserRecord) -> None:
        """Create a user row unless it exists (before any row that refers to it)."""

        async def insert(conn: asyncpg.Connection) -> None:
            await conn.execute(
                f"INSERT INTO users ({_USER_COLUMNS}) VALUES "  # noqa: S608 - constant columns
                "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14) ON CONFLICT (key) DO NOTHING",
                *(getattr(user, name) for name in _USER_FIELDS),
            )

        self.ops.append(insert)

    def save_user(self, user: UserRecord) -> None:
        """Create a user or set all its columns (seeding and imports; turns use update_user)."""
        self.insert_user(user)
        self.ops.append(_updater(user.key, {n: getattr(user, n) for n in sorted(_USER_MUTABLE)}))

    def update_user(self, key: str, **changes: Any) -> None:
        """Change only these columns of a user row."""
        unknown = set(changes) - _USER_MUTABLE
        if unknown:
            raise ValueError(f"not a changeable user column: {sorted(unknown)}")
        if changes:
            self.ops.append(_updater(key, dict(changes)))

    def delete_user(self, key: str) -> None:
        """Delete a user and everything that hangs off them."""

        async def delete(conn: asyncpg.Connection) -> None:
            # Complaints stay, anonymous, for the CSOs' work; the conversation, reading history
            # and pending notices to this user go with the user row (ON DELETE CASCADE).
            await anonymise(key, conn)
            await conn.execute("DELETE FROM users WHERE key = $1", key)

        self.ops.append(delete)

    def save_conversation(self, conversation: ConversationRecord) -> None:
        """Insert or update the user's conversation state."""

        async def save(conn: asyncpg.Connection) -> None:
            await conn.execute(
                f"INSERT INTO conversations ({_CONVERSATION_COLUMNS}) "  # noqa: S608
                "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (user_key) DO UPDATE SET "
                "flow = excluded.flow, step = excluded.step, data = excluded.data, "
                "choices = excluded.choices, updated_at = excluded.updated_at",
                conversation.user_key,
                conversation.flow,
                conversation.step,
                conversation.data,
                screen_items(conversation.choices, conversation.labels),
                conversation.updated_at,
            )

        self.ops.append(save)

    def enqueue(self, message: NewOutboxMessage, now: datetime) -> str:
        """Add an outbox row and return its id; a row whose dedupe key exists is not added."""
        outbox_id = new_outbox_id()

        async def enqueue(conn: asyncpg.Connection) -> None:
            await conn.execute(
                "INSERT INTO outbox (id, channel, chat_id, user_key, kind, payload, state, "
                "next_attempt_at, dedupe_key, created_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $7) "
                "ON CONFLICT (dedupe_key) DO NOTHING",
                outbox_id,
                message.channel,
                message.chat_id,
                message.user_key,
                message.kind,
                message.payload,
                now,
                message.dedupe_key,
            )

        self.ops.append(enqueue)
        return outbox_id

    def record_read(self, user_key: str, article_id: str, now: datetime) -> None:
        """Note that a user opened an article."""

        async def read(conn: asyncpg.Connection) -> None:
            await conn.execute(
                "INSERT INTO article_reads (user_key, article_id, first_read_at, last_read_at) "
                "VALUES ($1, $2, $3, $3) ON CONFLICT (user_key, article_id) DO UPDATE SET "
                "last_read_at = excluded.last_read_at, times = article_reads.times + 1",
                user_key,
                article_id,
                now,
            )

        self.ops.append(read)

    def record_search(self, search: SearchRecord) -> None:
        """Keep a search query and how well it was answered (no user key)."""

        async def record(conn: asyncpg.Connection) -> None:
            await conn.execute(
                "INSERT INTO search_queries (query, lang, outcome, article_id, score, asked_at) "
                "VALUES ($1, $2, $3, $4, $5, $6)",
                search.query,
                search.lang,
                search.outcome,
                search.article_id,
                round(search.score, 4),
                search.asked_at,
            )

        self.ops.append(record)

    async def articles_read(self, user_key: str) -> set[str]:
        """The articles a user has opened."""
        conn = await self._connection()
        rows = await conn.fetch(
            "SELECT article_id FROM article_reads WHERE user_key = $1", user_key
        )
        return {row[0] for row in rows}


def _updater(key: str, changes: dict[str, Any]) -> Op:
    # Only what the turn changed: a `stopped` set meanwhile by the delivery worker stays.
    assignments = ", ".join(f"{column} = ${n}" for n, column in enumerate(changes, start=2))

    async def update(conn: asyncpg.Connection) -> None:
        await conn.execute(
            f"UPDATE users SET {assignments} WHERE key = $1",  # noqa: S608 - checked columns
            key,
            *changes.values(),
        )

    return update


class PostgresStore(
    PgComplaintStoreMixin,
    PgQuizStoreMixin,
    PgBarometerStoreMixin,
    PgCampaignStoreMixin,
    PgStatsStoreMixin,
    PgAudioStoreMixin,
    PgInboxStoreMixin,
    PgWindowStoreMixin,
    PgOpen311StoreMixin,
    PgOpsStoreMixin,
    PgRateStoreMixin,
    PgLeaderStoreMixin,
):
    """A pool of connections to one PostgreSQL database, shared by any number of processes."""

    def __init__(self, pool: asyncpg.Pool, where: str) -> None:
        self.pool = pool
        self._where = where
        # Names this process's leases when the caller names no owner.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"

    def __repr__(self) -> str:
        return f"PostgresStore({self._where})"

    @classmethod
    async def open(
        cls, url: str, *, migrate: bool = True, min_size: int = 1, max_size: int = 10
    ) -> PostgresStore:
        """Connect a pool to the database the URL names and apply migrations."""
        pool = await asyncpg.create_pool(
            url,
            min_size=min_size,
            max_size=max_size,
            init=_init_connection,
            reset=_keep_session,
            server_settings=KEEPALIVES,
        )
        # Host and database only: the URL may carry a password.
        parts = urlsplit(url)
        store = cls(pool, f"{parts.hostname or 'localhost'}{parts.path}")
        try:
            if migrate:
                await store.migrate()
        except BaseException:
            await pool.close()
            raise
        return store

    async def migrate(self) -> list[int]:
        """Apply the missing migrations under an advisory lock, all or none.

        Processes starting together on one fresh database: the first takes the lock and
        migrates, the others wait for it, then find the versions applied when they look again.
        """
        migrations = load_pg_migrations()
        async with self.pool.acquire() as conn:
            if {m.version for m in migrations} <= await _applied(conn):
                return []
            applied: list[int] = []
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock($1, 0)", LOCK_MIGRATIONS)
                await conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, "
                    "name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
                )
                done = await _applied(conn)
                for migration in migrations:
                    if migration.version in done:
                        continue
                    await conn.execute(migration.sql)
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
                        migration.version,
                        migration.name,
                    )
                    applied.append(migration.version)
        for version in applied:
            log.info("applied PostgreSQL migration %04d", version)
        return applied

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PostgresTransaction]:
        """A unit of work whose writes are committed in one transaction, or not at all."""
        tx = PostgresTransaction(self)
        try:
            yield tx
        except BaseException:
            await tx.finish(ok=False)
            raise
        await tx.finish(ok=True)

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run one query (PostgreSQL placeholders: $1, $2...)."""
        async with self.pool.acquire() as conn:
            return [tuple(row) for row in await conn.fetch(sql, *params)]

    async def _in_transaction(self, fn: Callable[[asyncpg.Connection], Awaitable[None]]) -> None:
        """Run `fn(connection)` in one transaction."""
        async with self.pool.acquire() as conn, conn.transaction():
            await fn(conn)

    async def _execute(self, sql: str, *params: Any) -> str:
        async with self.pool.acquire() as conn:
            status: str = await conn.execute(sql, *params)
            return status

    async def save_token(self, payload: str, now: datetime) -> str:
        """Store a payload under a short token (the same payload gets the same token)."""
        token = hashlib.blake2s(payload.encode("utf-8"), digest_size=9).hexdigest()
        await self._execute(
            "INSERT INTO channel_tokens (token, payload, created_at) VALUES ($1, $2, $3) "
            "ON CONFLICT (token) DO NOTHING",
            token,
            payload,
            now,
        )
        return token

    async def load_token(self, token: str) -> str | None:
        """The payload a token stands for, if any."""
        rows = await self.fetch_all("SELECT payload FROM channel_tokens WHERE token = $1", [token])
        return str(rows[0][0]) if rows else None

    async def mark_stopped(self, user_key: str) -> None:
        """Send nothing more to this user unasked (they blocked the bot, or the chat is gone)."""
        await self._execute("UPDATE users SET stopped = true WHERE key = $1", user_key)

    async def is_stopped(self, user_key: str) -> bool:
        """Whether this user said stop (or blocked the bot); an unknown user counts as stopped."""
        rows = await self.fetch_all("SELECT stopped FROM users WHERE key = $1", [user_key])
        return not rows or bool(rows[0][0])

    async def postpone_outbox(self, kind: str, until: datetime, now: datetime) -> int:
        """Make the due rows of a kind wait until `until`, without counting an attempt."""
        status = await self._execute(
            "UPDATE outbox SET next_attempt_at = $1, locked_until = NULL "
            "WHERE kind = $2 AND state IN ('pending', 'failed') AND next_attempt_at <= $3",
            until,
            kind,
            now,
        )
        return int(status.split()[-1])

    async def search_gaps(self, since: datetime, limit: int) -> list[SearchGap]:
        """The most frequent queries answered badly or not at all since a moment."""
        rows = await self.fetch_all(
            "SELECT query, COUNT(*), COUNT(*) FILTER (WHERE outcome = 'none'), "
            "MAX(article_id), MAX(asked_at) FROM search_queries "
            "WHERE outcome != 'confident' AND asked_at >= $1 "
            "GROUP BY query ORDER BY COUNT(*) DESC, MAX(asked_at) DESC LIMIT $2",
            [since, limit],
        )
        return [SearchGap(r[0], r[1], r[2], r[3], r[4]) for r in rows]

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
        from a lapsed lease is marked uncertain: it may have been sent. Claims from all
        processes take turns on one advisory lock, so each sees the leases the others committed
        (SKIP LOCKED alone would let two workers take rows of one chat out of order).
        """
        until = now + timedelta(seconds=lease_seconds)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1, 0)", LOCK_OUTBOX_CLAIM)
            rows = await conn.fetch(
                _CLAIM_SQL,
                list(channels),
                now,
                limit,
                until,
                owner,
            )
        ordered = sorted(rows, key=lambda row: (row["created_at"], row["seq"]))
        return [_outbox(tuple(row)[:-1]) for row in ordered]

    async def release_outbox(self, outbox_ids: Sequence[str], owner: str | None = None) -> None:
        """Give back leased rows unsent (they wait behind an earlier row being retried)."""
        if outbox_ids:
            await self._execute(
                "UPDATE outbox SET locked_until = NULL, locked_by = NULL "
                "WHERE id = ANY($1::text[]) AND locked_by IS NOT DISTINCT FROM $2",
                list(outbox_ids),
                owner,
            )

    async def mark_sent(
        self, outbox_id: str, now: datetime, platform_id: str | None, owner: str | None = None
    ) -> bool:
        """Record a successful delivery (False if the lease was no longer this owner's); a
        message with choices becomes its recipient's screen."""
        changed: list[bool] = []

        async def sent(conn: asyncpg.Connection) -> None:
            row = await conn.fetchrow(
                "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_at = $1, "
                "locked_until = NULL, locked_by = NULL, last_error = NULL, "
                "platform_message_id = $2 "
                "WHERE id = $3 AND ($4::text IS NULL OR locked_by = $4) "
                "RETURNING user_key, payload",
                now,
                platform_id,
                outbox_id,
                owner,
            )
            changed.append(row is not None)
            if row is None or row[0] is None:
                return  # another worker's lease: it records the outcome, and the screen
            choices, labels = pushed_screen(row[1] if isinstance(row[1], dict) else {})
            if not choices:
                return
            # Recorded when sent, not when queued: the screen is what the person last saw.
            # Its time counts as activity, so an old conversation does not expire under it.
            await conn.execute(
                "UPDATE conversations SET choices = $1, updated_at = GREATEST(updated_at, $2) "
                "WHERE user_key = $3",
                screen_items(choices, labels),
                now,
                row[0],
            )

        await self._in_transaction(sent)
        return changed == [True]

    async def mark_failed(
        self,
        outbox_id: str,
        error: str,
        retry_at: datetime | None,
        now: datetime,
        owner: str | None = None,
    ) -> bool:
        """Record a failed attempt (`retry_at=None` gives up: dead); False if not our lease."""
        status = await self._execute(
            "UPDATE outbox SET state = $1, attempts = attempts + 1, last_error = $2, "
            "next_attempt_at = $3, locked_until = NULL, locked_by = NULL "
            "WHERE id = $4 AND ($5::text IS NULL OR locked_by = $5)",
            "failed" if retry_at else "dead",
            error[:500],
            retry_at or now,
            outbox_id,
            owner,
        )
        return status == "UPDATE 1"

    async def get_outbox(self, outbox_id: str) -> OutboxRecord | None:
        """Load one outbox row."""
        rows = await self.fetch_all(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE id = $1",  # noqa: S608
            [outbox_id],
        )
        return _outbox(rows[0]) if rows else None

    async def prune_inbound(self, before: datetime) -> int:
        """Forget processed message ids older than `before`."""
        status = await self._execute(
            "DELETE FROM processed_inbound WHERE processed_at < $1", before
        )
        return int(status.split()[-1])

    async def close(self) -> None:
        """Close the pool."""
        await self.pool.close()


async def _applied(conn: asyncpg.Connection) -> set[int]:
    if await conn.fetchval("SELECT to_regclass('schema_migrations')") is None:
        return set()  # a fresh database: not even the table yet
    return {row[0] for row in await conn.fetch("SELECT version FROM schema_migrations")}

"""The SQLite implementation of the storage ports: short work on the event loop, long on a thread.

Every round trip to aiosqlite's thread costs a thread hand-off (a future, a queue, a wake-up
of each thread; about 0.1 ms idle and far more on a busy machine), more than the SQL itself.
So each unit of work queues its writes in memory and commits them at once (`BEGIN IMMEDIATE`
... `COMMIT`), and a turn loads what it needs in one query, or from a write-through cache of
recent sessions kept by this store (the only writer of the database). That short work (a
turn's commit, its keyed reads) runs on the event loop itself, on the same connection, when
the thread is idle: no hand-off at all. Long work (migrations, checkpoints, exports, stats)
stays on the thread. If another process holds the write lock, the loop does not wait: the
work goes to the thread, which waits there (busy timeout). Units of work that finish while a
commit is under way on the thread are committed together in the next one (group commit),
each in its own savepoint, so one failing unit never touches another.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import aiosqlite

from complaints.scrub import scrub_contacts
from storage import fastjson
from storage.cache import Lru
from storage.errors import DuplicateInbound, StaleRecord, has_precondition
from storage.ids import new_outbox_id
from storage.migrations import load_migrations
from storage.ports import Session
from storage.records import (
    ConversationRecord,
    NewOutboxMessage,
    OutboxRecord,
    SearchGap,
    SearchRecord,
    UserRecord,
    from_iso,
    iso,
)
from storage.screens import pushed_screen, screen_columns, screen_items
from storage.sqlite_audio import AudioStoreMixin, AudioTransactionMixin
from storage.sqlite_barometer import BarometerStoreMixin, BarometerTransactionMixin
from storage.sqlite_campaigns import CampaignStoreMixin
from storage.sqlite_complaints import (
    ComplaintStoreMixin,
    ComplaintTransactionMixin,
    anonymise,
)
from storage.sqlite_cso_inbox import CsoInboxTransactionMixin
from storage.sqlite_inbox import InboxStoreMixin, InboxTransactionMixin, inbox_key
from storage.sqlite_leader import LeaderStoreMixin
from storage.sqlite_link import LinkCodeTransactionMixin
from storage.sqlite_open311 import Open311StoreMixin
from storage.sqlite_ops import OpsStoreMixin
from storage.sqlite_quiz import QuizStoreMixin, QuizTransactionMixin
from storage.sqlite_rate import RateStoreMixin
from storage.sqlite_stats import StatsStoreMixin
from storage.sqlite_window import WindowStoreMixin

log = logging.getLogger(__name__)

T = TypeVar("T")
Op = Callable[[sqlite3.Connection], None]

# How long work on the thread waits for another process's write lock; on the loop, no wait.
BUSY_TIMEOUT_MS = 5000

_USER_COLUMNS = (
    "key, channel, external_id, language, region, commune, age_group, gender, "
    "contact_consent, stopped, entry_source, created_at, last_seen_at, last_inbound_at"
)
_CONVERSATION_COLUMNS = "user_key, flow, step, data, choices, updated_at"
_OUTBOX_COLUMNS = (
    "id, channel, chat_id, user_key, kind, payload, state, attempts, next_attempt_at, "
    "last_error, platform_message_id, created_at, sent_at"
)
# Built from the constant column names only.
_USER_PREFIXED = ", ".join("u." + column.strip() for column in _USER_COLUMNS.split(","))
_SESSION_SQL = (
    "SELECT EXISTS (SELECT 1 FROM processed_inbound WHERE channel = ? AND message_id = ?), "  # noqa: S608
    f"{_USER_PREFIXED}, "
    "c.flow, c.step, c.data, c.choices, c.updated_at "
    "FROM (SELECT 1) LEFT JOIN users u ON u.key = ? LEFT JOIN conversations c ON c.user_key = ?"
)


def _opt_time(text: str | None) -> datetime | None:
    return from_iso(text) if text else None


def _user(row: Sequence[Any]) -> UserRecord:
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


def _conversation(row: Sequence[Any]) -> ConversationRecord:
    return ConversationRecord(
        user_key=row[0],
        flow=row[1],
        step=row[2],
        data=fastjson.loads(row[3]),
        **screen_columns(fastjson.loads(row[4])),
        updated_at=from_iso(row[5]),
    )


def _screen_json(choices: Sequence[str], labels: Sequence[tuple[str, str]]) -> str:
    """The `choices` column as JSON text."""
    return fastjson.dumps(screen_items(choices, labels))


def _outbox(row: Sequence[Any]) -> OutboxRecord:
    return OutboxRecord(
        id=row[0],
        channel=row[1],
        chat_id=row[2],
        user_key=row[3],
        kind=row[4],
        payload=fastjson.loads(row[5]),
        state=row[6],
        attempts=row[7],
        next_attempt_at=from_iso(row[8]),
        last_error=row[9],
        platform_message_id=row[10],
        created_at=from_iso(row[11]),
        sent_at=_opt_time(row[12]),
    )


def _write(ops: Sequence[Op], db: sqlite3.Connection) -> None:
    """Run queued writes as one transaction, on the connection's thread."""
    db.execute("BEGIN IMMEDIATE")
    try:
        for op in ops:
            op(db)
        # Inside the try: a COMMIT that fails (disk full, busy) must not leave a transaction open.
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise


def _write_batch(units: Sequence[Sequence[Op]], db: sqlite3.Connection) -> list[Exception | None]:
    """Commit several units of work in one transaction, each all-or-nothing in a savepoint."""
    outcomes: list[Exception | None] = []
    db.execute("BEGIN IMMEDIATE")
    try:
        for ops in units:
            db.execute("SAVEPOINT unit")
            try:
                for op in ops:
                    op(db)
            except Exception as exc:
                db.execute("ROLLBACK TO unit")
                outcomes.append(_stale_if_vanished(exc))
            else:
                outcomes.append(None)
            db.execute("RELEASE unit")
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return outcomes


def _write_unit(ops: Sequence[Op], db: sqlite3.Connection) -> Exception | None:
    """Commit one unit of work alone: `_write_batch` of one unit, without the savepoint."""
    db.execute("BEGIN IMMEDIATE")
    try:
        try:
            for op in ops:
                op(db)
        except Exception as exc:
            db.execute("ROLLBACK")
            return _stale_if_vanished(exc)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return None


def _busy(exc: sqlite3.OperationalError, db: sqlite3.Connection) -> bool:
    """Another process holds the lock and nothing of ours is open: the work may go again.

    In WAL mode only `BEGIN IMMEDIATE` (the write lock) or a read during another process's
    recovery answers busy, both before any statement of ours ran: nothing was done yet.
    """
    code = getattr(exc, "sqlite_errorcode", None)
    return code is not None and code & 0xFF == sqlite3.SQLITE_BUSY and not db.in_transaction


def _stale_if_vanished(exc: Exception) -> Exception:
    """A foreign key that fails means a row read by the turn was deleted meanwhile (`oublier`)."""
    if isinstance(exc, sqlite3.IntegrityError) and "FOREIGN KEY" in str(exc):
        return StaleRecord(str(exc))
    return exc


def _claim(channel: str, message_id: str, stamp: str, db: sqlite3.Connection) -> None:
    # Stored hashed: Meta's message ids embed the sender's phone number.
    cursor = db.execute(
        "INSERT INTO processed_inbound (channel, message_id, processed_at) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (channel, inbox_key(channel, message_id), stamp),
    )
    if cursor.rowcount != 1:
        raise DuplicateInbound(message_id)


def _insert_user(user: UserRecord, db: sqlite3.Connection) -> None:
    db.execute(
        f"INSERT INTO users ({_USER_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?) "  # noqa: S608
        "ON CONFLICT (key) DO NOTHING",
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


def _column_value(value: Any) -> Any:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return iso(value)
    return value


def _save_user(user: UserRecord, db: sqlite3.Connection) -> None:
    _insert_user(user, db)
    columns = {name: getattr(user, name) for name in sorted(_USER_MUTABLE)}
    _update_user(user.key, columns, db)


def _update_user(key: str, changes: dict[str, Any], db: sqlite3.Connection) -> None:
    # Only what the turn changed: a `stopped` set meanwhile by the delivery worker stays.
    assignments = ", ".join(f"{column} = ?" for column in changes)
    db.execute(
        f"UPDATE users SET {assignments} WHERE key = ?",  # noqa: S608 - checked column names
        (*(_column_value(v) for v in changes.values()), key),
    )


def _save_conversation(conversation: ConversationRecord, db: sqlite3.Connection) -> None:
    db.execute(
        f"INSERT INTO conversations ({_CONVERSATION_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "  # noqa: S608
        "ON CONFLICT (user_key) DO UPDATE SET flow=excluded.flow, step=excluded.step, "
        "data=excluded.data, choices=excluded.choices, updated_at=excluded.updated_at",
        (
            conversation.user_key,
            conversation.flow,
            conversation.step,
            fastjson.dumps(conversation.data),
            _screen_json(conversation.choices, conversation.labels),
            iso(conversation.updated_at),
        ),
    )


def _delete_user(key: str, db: sqlite3.Connection) -> None:
    # Complaints stay, anonymous, for the CSOs' work; the conversation, reading history and
    # pending notices to this user go with the user row (ON DELETE CASCADE).
    anonymise(key, db)
    _scrub_texts(key, db)
    db.execute("DELETE FROM users WHERE key = ?", (key,))


def _scrub_texts(key: str, db: sqlite3.Connection) -> None:
    """Phone numbers and e-mails the person typed leave her complaints, answers and forwards."""
    for complaint_id, description, place in db.execute(
        "SELECT id, description, place FROM complaints WHERE user_key = ?", (key,)
    ).fetchall():
        db.execute(
            "UPDATE complaints SET description = ?, place = ? WHERE id = ?",
            (scrub_contacts(description), place and scrub_contacts(place), complaint_id),
        )
        for question_id, answer in db.execute(
            "SELECT id, answer FROM complaint_questions WHERE complaint_id = ? "
            "AND answer IS NOT NULL",
            (complaint_id,),
        ).fetchall():
            db.execute(
                "UPDATE complaint_questions SET answer = ? WHERE id = ?",
                (scrub_contacts(answer), question_id),
            )
        for row_id, payload in db.execute(
            "SELECT id, payload FROM outbox WHERE payload LIKE ?", (f"%{complaint_id}%",)
        ).fetchall():
            data = json.loads(payload)
            data["text"] = scrub_contacts(str(data.get("text", "")))
            db.execute(
                "UPDATE outbox SET payload = ? WHERE id = ?",
                (json.dumps(data, ensure_ascii=False), row_id),
            )


def _enqueue(outbox_id: str, message: NewOutboxMessage, stamp: str, db: sqlite3.Connection) -> None:
    db.execute(
        "INSERT INTO outbox (id, channel, chat_id, user_key, kind, payload, state, "
        "next_attempt_at, dedupe_key, created_at) VALUES (?,?,?,?,?,?,'pending',?,?,?) "
        "ON CONFLICT (dedupe_key) DO NOTHING",
        (
            outbox_id,
            message.channel,
            message.chat_id,
            message.user_key,
            message.kind,
            fastjson.dumps(message.payload),
            stamp,
            message.dedupe_key,
            stamp,
        ),
    )


def _record_read(user_key: str, article_id: str, stamp: str, db: sqlite3.Connection) -> None:
    db.execute(
        "INSERT INTO article_reads (user_key, article_id, first_read_at, last_read_at) "
        "VALUES (?, ?, ?, ?) ON CONFLICT (user_key, article_id) DO UPDATE SET "
        "last_read_at = excluded.last_read_at, times = times + 1",
        (user_key, article_id, stamp, stamp),
    )


def _record_search(search: SearchRecord, db: sqlite3.Connection) -> None:
    db.execute(
        "INSERT INTO search_queries (query, lang, outcome, article_id, score, asked_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        (
            search.query,
            search.lang,
            search.outcome,
            search.article_id,
            round(search.score, 4),
            iso(search.asked_at),
        ),
    )


class _TurnReads:
    """What a unit of work reads through: keyed reads, run on the loop when the thread is idle."""

    def __init__(self, store: SqliteStore) -> None:
        self._owner = store

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a short read query, without a hand-off when possible."""
        return await self._owner.fetch_short(sql, params)

    async def _write_ops(self, ops: list[Any]) -> None:
        """Writes outside the unit of work (an atomic link code), as the store does them."""
        await self._owner._write_ops(ops)


class SqliteTransaction(
    ComplaintTransactionMixin,
    QuizTransactionMixin,
    BarometerTransactionMixin,
    CsoInboxTransactionMixin,
    AudioTransactionMixin,
    InboxTransactionMixin,
    LinkCodeTransactionMixin,
):
    """A unit of work: reads go to the database, writes wait for the commit."""

    _store: _TurnReads

    def __init__(self, store: SqliteStore) -> None:
        self._store = _TurnReads(store)
        self._owner = store
        self.ops: list[Op] = []
        # What the cache learns if the commit succeeds: a user key -> its new session parts.
        self.users: dict[str, UserRecord | None] = {}
        self.inserted: dict[str, UserRecord] = {}
        self.user_changes: dict[str, dict[str, Any]] = {}
        self.conversations: dict[str, ConversationRecord | None] = {}
        self.claimed: list[tuple[str, str]] = []

    async def load_session(self, user_key: str, channel: str, message_id: str | None) -> Session:
        """Seen-before check, user and conversation: from the cache, or in one query."""
        cache = self._owner.cache
        seen = message_id is not None and (channel, message_id) in self._owner.recent
        cached = cache.get(user_key)
        if cached is not None:
            return Session(seen, cached[0], cached[1])
        hashed = inbox_key(channel, message_id) if message_id is not None else None
        rows = await self._store.fetch_all(_SESSION_SQL, (channel, hashed, user_key, user_key))
        row = rows[0]
        user = _user(row[1:15]) if row[1] is not None else None
        conversation = _conversation((user_key, *row[15:20])) if row[15] is not None else None
        if user is not None:
            cache.put(user_key, (user, conversation))
        return Session(bool(row[0]), user, conversation)

    async def get_user(self, key: str) -> UserRecord | None:
        """Load a user by key."""
        rows = await self._store.fetch_all(
            f"SELECT {_USER_COLUMNS} FROM users WHERE key = ?",  # noqa: S608 - constant columns
            (key,),
        )
        return _user(rows[0]) if rows else None

    async def get_conversation(self, user_key: str) -> ConversationRecord | None:
        """Load the user's conversation state."""
        rows = await self._store.fetch_all(
            f"SELECT {_CONVERSATION_COLUMNS} FROM conversations WHERE user_key = ?",  # noqa: S608
            (user_key,),
        )
        return _conversation(rows[0]) if rows else None

    def claim_inbound(self, channel: str, message_id: str, now: datetime) -> None:
        """Record a platform message id; the commit raises DuplicateInbound if it was known."""
        self.ops.append(partial(_claim, channel, message_id, iso(now)))
        self.claimed.append((channel, message_id))

    def insert_user(self, user: UserRecord) -> None:
        """Create a user row unless it exists (before any row that refers to it)."""
        self.ops.append(partial(_insert_user, user))
        self.inserted[user.key] = user

    def save_user(self, user: UserRecord) -> None:
        """Create a user or set all its columns (seeding and imports; turns use update_user)."""
        self.ops.append(partial(_save_user, user))
        self.users[user.key] = user
        self.user_changes.pop(user.key, None)

    def update_user(self, key: str, **changes: Any) -> None:
        """Change only these columns of a user row."""
        unknown = set(changes) - _USER_MUTABLE
        if unknown:
            raise ValueError(f"not a changeable user column: {sorted(unknown)}")
        if not changes:
            return
        self.ops.append(partial(_update_user, key, dict(changes)))
        self.user_changes.setdefault(key, {}).update(changes)

    def delete_user(self, key: str) -> None:
        """Delete a user and everything that hangs off them."""
        self.ops.append(partial(_delete_user, key))
        self.users[key] = None
        self.conversations[key] = None

    def save_conversation(self, conversation: ConversationRecord) -> None:
        """Insert or update the user's conversation state."""
        self.ops.append(partial(_save_conversation, conversation))
        self.conversations[conversation.user_key] = conversation

    def enqueue(self, message: NewOutboxMessage, now: datetime) -> str:
        """Add an outbox row and return its id; a row whose dedupe key exists is not added."""
        outbox_id = new_outbox_id()
        self.ops.append(partial(_enqueue, outbox_id, message, iso(now)))
        return outbox_id

    def record_read(self, user_key: str, article_id: str, now: datetime) -> None:
        """Note that a user opened an article."""
        self.ops.append(partial(_record_read, user_key, article_id, iso(now)))

    def record_search(self, search: SearchRecord) -> None:
        """Keep a search query and how well it was answered (no user key)."""
        self.ops.append(partial(_record_search, search))

    async def articles_read(self, user_key: str) -> set[str]:
        """The articles a user has opened."""
        rows = await self._store.fetch_all(
            "SELECT article_id FROM article_reads WHERE user_key = ?", (user_key,)
        )
        return {row[0] for row in rows}


class _UnitOfWork:
    """`async with store.transaction() as tx`: commits `tx` if the block ends without error."""

    __slots__ = ("_store", "_tx")

    def __init__(self, store: SqliteStore, tx: SqliteTransaction) -> None:
        self._store = store
        self._tx = tx

    async def __aenter__(self) -> SqliteTransaction:
        return self._tx

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is None:
            await self._store._end(self._tx)


class SqliteStore(
    ComplaintStoreMixin,
    QuizStoreMixin,
    BarometerStoreMixin,
    StatsStoreMixin,
    CampaignStoreMixin,
    AudioStoreMixin,
    Open311StoreMixin,
    InboxStoreMixin,
    WindowStoreMixin,
    OpsStoreMixin,
    RateStoreMixin,
    LeaderStoreMixin,
):
    """One connection per process (WAL, foreign keys): short work on the loop, long on a thread."""

    def __init__(
        self, db: aiosqlite.Connection, raw: sqlite3.Connection, path: str, cache_size: int
    ) -> None:
        self._db = db
        self._raw = raw
        self._path = path
        self.cache: Lru[str, tuple[UserRecord, ConversationRecord | None]] = Lru(cache_size)
        # Recently processed message ids: redeliveries are caught before any work is done.
        self.recent: Lru[tuple[str, str], bool] = Lru(cache_size * 4)
        self._pending: list[tuple[Sequence[Op], asyncio.Future[None]]] = []
        # Hand-offs to the thread started (by the loop) and finished (by the thread): one
        # writer each, so no lock. Equal means the thread is idle and the loop may use the
        # connection itself: nothing else can start while the loop runs.
        self._started = 0
        self._finished = 0
        self.checkpoint_after_inbox = False
        self._inbox_leases = {}  # inbox row id -> lease (one process per file: in memory)
        self._flusher: asyncio.Task[None] | None = None
        # Roles led in this process (one process per file: it leads them all).
        self._leaders: set[str] = set()

    def __repr__(self) -> str:
        return f"SqliteStore(path={self._path!r})"

    @classmethod
    async def open(
        cls, path: str | Path, *, migrate: bool = True, cache_size: int = 20_000
    ) -> SqliteStore:
        """Open (and create) the database, set its pragmas and apply migrations."""
        target = str(path)
        if target != ":memory:":
            Path(target).parent.mkdir(parents=True, exist_ok=True)
        # Used from the loop too, never at the same time as from the thread (see `_short`).
        db = await aiosqlite.connect(target, isolation_level=None, check_same_thread=False)
        try:
            # aiosqlite has no public way to run a function on its thread; its own methods use
            # `_execute`, and so do we, to run long work there in one hand-off. The tests
            # cover it, and pyproject caps the aiosqlite version.
            raw: sqlite3.Connection = db._conn
            store = cls(db, raw, target, cache_size)
            await store._run(_configure)  # leaves the busy timeout at 0, for the loop
            if migrate:
                await store.migrate()
        except BaseException:
            await db.close()
            raise
        return store

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` on the connection's thread."""

        def job(db: sqlite3.Connection) -> T:
            try:
                # The thread may wait for another process's lock; the loop never does.
                db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                try:
                    return fn(db)
                finally:
                    db.execute("PRAGMA busy_timeout = 0")
            finally:
                self._finished += 1  # on the thread, once it no longer uses the connection

        self._started += 1
        result: T = await self._db._execute(job, self._raw)  # type: ignore[no-untyped-call]
        return result

    def _inline(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run `fn(connection)` on the loop (busy timeout 0: it never waits for a lock)."""
        return fn(self._raw)

    async def _short(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        """Run short work on the loop if the thread is idle, else (or if busy) on the thread."""
        if self._started == self._finished:
            try:
                return self._inline(fn)
            except sqlite3.OperationalError as exc:
                if not _busy(exc, self._raw):
                    raise
                # Another process writes: wait for its lock on the thread, not on the loop.
        return await self._run(fn)

    async def migrate(self) -> list[int]:
        """Apply every migration not yet applied; return the versions applied now."""
        applied = await self._run(_migrate)
        for version in applied:
            log.info("applied migration %04d", version)
        return applied

    def transaction(self) -> _UnitOfWork:
        """A unit of work whose writes are committed in one `BEGIN IMMEDIATE` transaction."""
        # A small class rather than an async generator: one is opened per message, and the
        # generator's machinery (the loop tracks each one) cost more than the rest of it.
        return _UnitOfWork(self, SqliteTransaction(self))

    async def _end(self, tx: SqliteTransaction) -> None:
        """Commit a unit of work whose block ended without an error."""
        if not tx.ops:
            return
        try:
            await self._commit(tx.ops)
        except BaseException:
            # The database may now differ from what was cached for these users: forget them.
            for key in {*tx.users, *tx.inserted, *tx.user_changes, *tx.conversations}:
                self.cache.drop(key)
            raise
        self._remember(tx)
        if any(user is None for user in tx.users.values()):
            # Someone was forgotten: the WAL still holds copies of her rows until a
            # checkpoint; copy it back (secure_delete zeroes the freed pages) and empty it.
            await self._run(_checkpoint)
            # Her last inbound is still in the inbox until handled: checkpoint again then.
            self.checkpoint_after_inbox = True

    async def _commit(self, ops: Sequence[Op]) -> None:
        """Commit a unit of work in the next group commit (or now) and wait for its outcome.

        The flush runs once the loop has run what is ready now: turns started together (a
        polled batch, a burst of webhooks) commit in one transaction, each unit in its own
        savepoint. Under load that writes each shared page (the outbox's, the dedupe
        index's) once per batch instead of once per turn (bench/telegram.py); alone, a unit
        waits one turn of the loop.
        """
        if has_precondition(ops) and self._started == self._finished:
            # A write with a precondition (a complaint's status, a quiz's position) commits
            # at once when it can: batched, two people acting on one record in the same
            # turn of the loop would both read it before either wrote, and one would retry.
            # It may land before units other people's turns queued earlier: each turn waits
            # for its own commit only, and the rows of one person are under one lock.
            try:
                outcome = self._inline(partial(_write_unit, ops))
            except sqlite3.OperationalError as exc:
                if not _busy(exc, self._raw):
                    raise
            else:
                if outcome is not None:
                    raise outcome
                return
        # A caller cancelled while it waits (shutdown) still has its unit committed: the
        # claimed message id makes its redelivery a duplicate, and its reply rows are sent.
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((ops, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        await done

    async def _flush(self) -> None:
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                if len(batch) == 1:
                    outcomes = [await self._short(partial(_write_unit, batch[0][0]))]
                else:
                    outcomes = await self._short(partial(_write_batch, [ops for ops, _ in batch]))
            except BaseException as exc:
                # The whole transaction failed (disk full, database locked too long).
                for _, done in batch:
                    if not done.done():
                        done.set_exception(exc)
                if not isinstance(exc, Exception):
                    raise
                continue
            for (_, done), outcome in zip(batch, outcomes, strict=True):
                if done.done():
                    continue
                if outcome is None:
                    done.set_result(None)
                else:
                    done.set_exception(outcome)

    def _remember(self, tx: SqliteTransaction) -> None:
        for claim in tx.claimed:
            self.recent.put(claim, True)
        for key in {*tx.users, *tx.inserted, *tx.user_changes, *tx.conversations}:
            cached = self.cache.get(key)
            if key in tx.users:
                user = tx.users[key]  # replaced whole, or deleted (None)
                if user is None:
                    self.cache.drop(key)
                    continue
            else:
                # The cached row is the freshest (mark_stopped updates it); changes go on top.
                user = cached[0] if cached else tx.inserted.get(key)
            if user is None:
                continue
            if key in tx.user_changes:
                user = replace(user, **tx.user_changes[key])
            conversation = (
                tx.conversations[key]
                if key in tx.conversations
                else (cached[1] if cached else None)
            )
            self.cache.put(key, (user, conversation))

    async def _write_ops(self, ops: list[Any]) -> None:
        """Run writes as one transaction, outside any conversation."""
        await self._run(partial(_write, ops))

    async def _write_short(self, ops: list[Any]) -> None:
        """Run short writes (a few rows by key) as one transaction, on the loop if possible."""
        await self._short(partial(_write, ops))

    async def save_token(self, payload: str, now: datetime) -> str:
        """Store a payload under a short random token (the same payload gets the same token)."""
        token = hashlib.blake2s(payload.encode("utf-8"), digest_size=9).hexdigest()

        def save(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO channel_tokens (token, payload, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (token) DO NOTHING",
                (token, payload, iso(now)),
            )

        await self._short(partial(_write, [save]))
        return token

    async def load_token(self, token: str) -> str | None:
        """The payload a token stands for, if any."""
        sql = "SELECT payload FROM channel_tokens WHERE token = ?"
        rows = await self.fetch_short(sql, (token,))
        return str(rows[0][0]) if rows else None

    async def mark_stopped(self, user_key: str) -> None:
        """Send nothing more to this user unasked (they blocked the bot, or the chat is gone)."""

        def stop(db: sqlite3.Connection) -> None:
            db.execute("UPDATE users SET stopped = 1 WHERE key = ?", (user_key,))

        await self._short(partial(_write, [stop]))
        cached = self.cache.get(user_key)
        if cached is not None:
            self.cache.put(user_key, (replace(cached[0], stopped=True), cached[1]))

    async def search_gaps(self, since: datetime, limit: int) -> list[SearchGap]:
        """The most frequent queries answered badly or not at all since a moment."""
        rows = await self.fetch_all(
            "SELECT query, COUNT(*), SUM(outcome = 'none'), MAX(article_id), MAX(asked_at) "
            "FROM search_queries WHERE outcome != 'confident' AND asked_at >= ? "
            "GROUP BY query ORDER BY COUNT(*) DESC, MAX(asked_at) DESC LIMIT ?",
            (iso(since), limit),
        )
        return [SearchGap(r[0], r[1], r[2], r[3], from_iso(r[4])) for r in rows]

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
        from a lapsed lease is marked uncertain: it may have been sent.
        """
        stamp = iso(now)
        until = iso(now + timedelta(seconds=lease_seconds))
        marks = ",".join("?" * len(channels))
        found: list[OutboxRecord] = []
        columns = ", ".join("o." + c.strip() for c in _OUTBOX_COLUMNS.split(","))

        def lease(db: sqlite3.Connection) -> None:
            rows = db.execute(
                f"SELECT {columns} FROM outbox o "  # noqa: S608 - constant columns
                f"WHERE o.state IN ('pending', 'failed') AND o.channel IN ({marks}) "
                "AND o.next_attempt_at <= ? AND (o.locked_until IS NULL OR o.locked_until <= ?) "
                "AND NOT EXISTS (SELECT 1 FROM outbox e WHERE e.channel = o.channel "
                "AND e.chat_id = o.chat_id AND e.state IN ('pending', 'failed') "
                "AND (e.created_at < o.created_at "
                "OR (e.created_at = o.created_at AND e.rowid < o.rowid)) "
                "AND ((e.state = 'failed' AND e.next_attempt_at > ?) OR e.locked_until > ?)) "
                "ORDER BY o.created_at, o.rowid LIMIT ?",
                (*channels, stamp, stamp, stamp, stamp, limit),
            ).fetchall()
            found.extend(_outbox(row) for row in rows)
            db.executemany(
                # A lease that lapsed (a send stalled past it) may hide a send that went.
                "UPDATE outbox SET uncertain = CASE WHEN locked_until IS NULL THEN uncertain "
                "ELSE 1 END, locked_until = ?, locked_by = ? WHERE id = ?",
                [(until, owner, row.id) for row in found],
            )

        await self._run(partial(_write, [lease]))
        return found

    async def release_outbox(self, outbox_ids: Sequence[str], owner: str | None = None) -> None:
        """Give back leased rows unsent (they wait behind an earlier row being retried)."""

        def release(db: sqlite3.Connection) -> None:
            db.executemany(
                "UPDATE outbox SET locked_until = NULL, locked_by = NULL "
                "WHERE id = ? AND locked_by IS ?",
                [(outbox_id, owner) for outbox_id in outbox_ids],
            )

        if outbox_ids:
            await self._run(partial(_write, [release]))

    async def mark_sent(
        self, outbox_id: str, now: datetime, platform_id: str | None, owner: str | None = None
    ) -> bool:
        """Record a delivery (False if the lease was no longer this owner's); a message with
        choices becomes its recipient's screen."""
        changed: list[int] = []
        pushed: list[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]] = []

        def sent(db: sqlite3.Connection) -> None:
            changed.append(
                db.execute(
                    "UPDATE outbox SET state='sent', attempts=attempts+1, sent_at=?, "
                    "locked_until=NULL, locked_by=NULL, last_error=NULL, platform_message_id=? "
                    "WHERE id=? AND (? IS NULL OR locked_by = ?)",
                    (iso(now), platform_id, outbox_id, owner, owner),
                ).rowcount
            )
            if not changed[0]:
                return  # another worker's lease: it records the outcome, and the screen
            row = db.execute(
                "SELECT user_key, payload FROM outbox WHERE id = ?", (outbox_id,)
            ).fetchone()
            if row is None or row[0] is None:
                return
            choices, labels = pushed_screen(json.loads(row[1]))
            if not choices:
                return
            # Recorded when sent, not when queued: the screen is what the person last saw.
            # Its time counts as activity, so an old conversation does not expire under it.
            db.execute(
                "UPDATE conversations SET choices = ?, updated_at = MAX(updated_at, ?) "
                "WHERE user_key = ?",
                (_screen_json(choices, labels), iso(now), row[0]),
            )
            pushed.append((row[0], choices, labels))

        await self._short(partial(_write, [sent]))
        for user_key, choices, labels in pushed:
            cached = self.cache.get(user_key)
            if cached is not None and cached[1] is not None:
                screen = replace(
                    cached[1],
                    choices=choices,
                    labels=labels,
                    updated_at=max(cached[1].updated_at, now),
                )
                self.cache.put(user_key, (cached[0], screen))
        return changed[0] == 1

    async def mark_failed(
        self,
        outbox_id: str,
        error: str,
        retry_at: datetime | None,
        now: datetime,
        owner: str | None = None,
    ) -> bool:
        """Record a failed attempt (`retry_at=None` gives up: dead); False if not our lease."""
        changed: list[int] = []

        def failed(db: sqlite3.Connection) -> None:
            changed.append(
                db.execute(
                    "UPDATE outbox SET state=?, attempts=attempts+1, last_error=?, "
                    "next_attempt_at=?, locked_until=NULL, locked_by=NULL "
                    "WHERE id=? AND (? IS NULL OR locked_by = ?)",
                    (
                        "failed" if retry_at else "dead",
                        error[:500],
                        iso(retry_at or now),
                        outbox_id,
                        owner,
                        owner,
                    ),
                ).rowcount
            )

        await self._short(partial(_write, [failed]))
        return changed[0] == 1

    async def get_outbox(self, outbox_id: str) -> OutboxRecord | None:
        """Load one outbox row."""
        rows = await self.fetch_short(
            f"SELECT {_OUTBOX_COLUMNS} FROM outbox WHERE id = ?",  # noqa: S608
            (outbox_id,),
        )
        return _outbox(rows[0]) if rows else None

    async def prune_inbound(self, before: datetime) -> int:
        """Forget processed message ids older than `before`."""
        removed: list[int] = []

        def prune(db: sqlite3.Connection) -> None:
            cursor = db.execute(
                "DELETE FROM processed_inbound WHERE processed_at < ?", (iso(before),)
            )
            removed.append(cursor.rowcount)

        await self._run(partial(_write, [prune]))
        return removed[0]

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read query in one hand-off (on the thread: it may be long)."""
        return await self._run(partial(_read, sql, params))

    async def fetch_short(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a short read query (a few rows by key), on the loop when the thread is idle."""
        return await self._short(partial(_read, sql, params))

    async def close(self) -> None:
        """Close the connection."""
        await self._db.close()


def _read(sql: str, params: Sequence[Any], db: sqlite3.Connection) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in db.execute(sql, params).fetchall()]


def _checkpoint(db: sqlite3.Connection) -> None:
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()


def _configure(db: sqlite3.Connection) -> None:
    # Switching a fresh file to WAL needs a lock another process starting at the same moment
    # may hold, and SQLite may answer busy at once there, without the busy timeout: retry.
    deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            break
        except sqlite3.OperationalError as exc:
            if not _busy(exc, db) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    # WAL with synchronous=NORMAL never corrupts; a power cut may lose the last commits only.
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute("PRAGMA foreign_keys = ON")
    # Deleted rows (a forgotten person's) are overwritten with zeros, not left in free pages.
    db.execute("PRAGMA secure_delete = ON")


_MIGRATIONS_TABLE = (
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
)


def _applied_versions(db: sqlite3.Connection) -> set[int]:
    try:
        return {row[0] for row in db.execute("SELECT version FROM schema_migrations")}
    except sqlite3.OperationalError:
        return set()  # a fresh database: not even the table yet


def _migrate(db: sqlite3.Connection) -> list[int]:
    """Apply the missing migrations under the database's write lock, all or none.

    Several processes may open one database at once (the bot under a service manager and
    `civicbot stats` from cron): the first takes the lock and migrates, the others wait for
    it, then find the versions applied when they check again under the lock.
    """
    migrations = load_migrations()
    if {m.version for m in migrations} <= _applied_versions(db):
        return []  # the usual start: nothing to do, no write lock taken
    applied: list[int] = []
    db.execute("BEGIN IMMEDIATE")
    try:
        db.execute(_MIGRATIONS_TABLE)
        done = _applied_versions(db)
        for migration in migrations:
            if migration.version in done:
                continue
            # executescript would commit first; run statement by statement instead.
            for statement in _statements(migration.sql):
                db.execute(statement)
            db.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) "
                "VALUES (?, ?, datetime('now'))",
                (migration.version, migration.name),
            )
            applied.append(migration.version)
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return applied


def _statements(sql: str) -> list[str]:
    """Split a migration into statements (migrations keep `;` out of strings and comments)."""
    lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
    return [part.strip() for part in "\n".join(lines).split(";") if part.strip()]

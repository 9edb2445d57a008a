"""SQLite storage of complaints, their routes, events, followers, questions and CSO chats."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any, cast

from complaints.lifecycle import Action, Status, changed_columns, next_status
from storage.errors import StaleRecord, preconditioned
from storage.records import ComplaintRecord, QuestionRecord, from_iso, iso
from storage.sqlite_reader import Reader

COMPLAINT_COLUMNS = (
    "id, reference, user_key, channel, chat_id, lang, category, commune, place, description, "
    "media, contact_consent, contact, status, voices, public, created_at, updated_at, "
    "ack_due_at, reminded, escalated, resolved_at, followup_asked"
)
_PREFIXED = ", ".join("c." + column.strip() for column in COMPLAINT_COLUMNS.split(","))


def complaint(row: Sequence[Any]) -> ComplaintRecord:
    """A complaints row as a record."""
    return ComplaintRecord(
        id=row[0],
        reference=row[1],
        user_key=row[2],
        channel=row[3],
        chat_id=row[4],
        lang=row[5],
        category=row[6],
        commune=row[7],
        place=row[8],
        description=row[9],
        media=tuple((kind, ref) for kind, ref in json.loads(row[10])),
        contact_consent=bool(row[11]),
        contact=row[12],
        status=row[13],
        voices=row[14],
        public=bool(row[15]),
        created_at=from_iso(row[16]),
        updated_at=from_iso(row[17]),
        ack_due_at=from_iso(row[18]),
        reminded=bool(row[19]),
        escalated=bool(row[20]),
        resolved_at=from_iso(row[21]) if row[21] else None,
        followup_asked=bool(row[22]),
    )


def _values(c: ComplaintRecord) -> tuple[Any, ...]:
    return (
        c.id,
        c.reference,
        c.user_key,
        c.channel,
        c.chat_id,
        c.lang,
        c.category,
        c.commune,
        c.place,
        c.description,
        json.dumps([list(m) for m in c.media]),
        int(c.contact_consent),
        c.contact,
        c.status,
        c.voices,
        int(c.public),
        iso(c.created_at),
        iso(c.updated_at),
        iso(c.ack_due_at),
        int(c.reminded),
        int(c.escalated),
        iso(c.resolved_at) if c.resolved_at else None,
        int(c.followup_asked),
    )


def _save(record: ComplaintRecord, db: sqlite3.Connection) -> None:
    updates = ", ".join(
        f"{col.strip()}=excluded.{col.strip()}" for col in COMPLAINT_COLUMNS.split(",")[1:]
    )
    db.execute(
        f"INSERT INTO complaints ({COMPLAINT_COLUMNS}) VALUES ({','.join('?' * 23)}) "  # noqa: S608
        f"ON CONFLICT (id) DO UPDATE SET {updates}",
        _values(record),
    )


def _insert(record: ComplaintRecord, db: sqlite3.Connection) -> None:
    db.execute(
        f"INSERT INTO complaints ({COMPLAINT_COLUMNS}) VALUES ({','.join('?' * 23)})",  # noqa: S608
        _values(record),
    )


def _column_value(value: object) -> object:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return iso(value)
    return value


@preconditioned
def _transition(
    complaint_id: str, expected: str, columns: dict[str, object], db: sqlite3.Connection
) -> None:
    # The status read by the turn is the precondition: a change made meanwhile by another
    # member (or the citizen) makes this unit fail, and the turn is tried again on fresh data.
    assignments = ", ".join(f"{column} = ?" for column in columns)
    changed = db.execute(
        f"UPDATE complaints SET {assignments} WHERE id = ? AND status = ?",  # noqa: S608 - fixed columns
        (*(_column_value(v) for v in columns.values()), complaint_id, expected),
    ).rowcount
    if changed != 1:
        raise StaleRecord(f"complaint no longer {expected}")


@preconditioned
def _expect_status(complaint_id: str, expected: str, db: sqlite3.Connection) -> None:
    row = db.execute("SELECT status FROM complaints WHERE id = ?", (complaint_id,)).fetchone()
    if row is None or row[0] != expected:
        raise StaleRecord(f"complaint no longer {expected}")


def _execute(sql: str, params: tuple[Any, ...], db: sqlite3.Connection) -> None:
    db.execute(sql, params)


def _add_voice(complaint_id: str, user_key: str, stamp: str, db: sqlite3.Connection) -> None:
    inserted = db.execute(
        "INSERT INTO complaint_followers (complaint_id, user_key, added_at) VALUES (?, ?, ?) "
        "ON CONFLICT DO NOTHING",
        (complaint_id, user_key, stamp),
    ).rowcount
    if inserted:  # one voice per person, however often they tap
        db.execute(
            "UPDATE complaints SET voices = voices + 1, updated_at = ? WHERE id = ?",
            (stamp, complaint_id),
        )


@preconditioned
def _flags(
    complaint_id: str, expected: str, changes: dict[str, int], db: sqlite3.Connection
) -> None:
    # Only the flags change, and only while the status is the one the deadline was computed
    # for and the flag is not set yet: a reminder is never sent twice, nor after an answer.
    assignments = ", ".join(f"{column} = ?" for column in changes)
    unset = " AND ".join(f"{column} = 0" for column, value in changes.items() if value)
    changed = db.execute(
        f"UPDATE complaints SET {assignments} WHERE id = ? AND status = ?"  # noqa: S608
        + (f" AND {unset}" if unset else ""),
        (*changes.values(), complaint_id, expected),
    ).rowcount
    if changed != 1:
        raise StaleRecord(f"complaint no longer {expected}")


def anonymise(user_key: str, db: sqlite3.Connection) -> None:
    """Keep a forgotten citizen's complaints for the CSOs' work, without any way to reach them."""
    for complaint_id, contact in db.execute(
        "SELECT id, contact FROM complaints WHERE user_key = ? AND contact IS NOT NULL",
        (user_key,),
    ).fetchall():
        # Copies of forwards kept in the outbox carried the consented contact: blank it there.
        for row_id, payload in db.execute(
            "SELECT id, payload FROM outbox WHERE kind = 'forward' AND payload LIKE ?",
            (f"%{complaint_id}%",),
        ).fetchall():
            data = json.loads(payload)
            data["text"] = str(data.get("text", "")).replace(contact, "—")
            db.execute(
                "UPDATE outbox SET payload = ? WHERE id = ?",
                (json.dumps(data, ensure_ascii=False), row_id),
            )
    db.execute("UPDATE complaint_events SET actor = NULL WHERE actor = ?", (user_key,))
    db.execute(
        "DELETE FROM complaint_questions WHERE answer IS NULL AND complaint_id IN "
        "(SELECT id FROM complaints WHERE user_key = ?)",
        (user_key,),
    )
    db.execute(
        "UPDATE complaints SET chat_id = NULL, contact = NULL, contact_consent = 0 "
        "WHERE user_key = ?",
        (user_key,),
    )


class ComplaintTransactionMixin:
    """Complaint reads and queued writes of a unit of work."""

    _store: Reader
    ops: list[Any]

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return await self._store.fetch_all(sql, params)

    async def complaint_by_reference(self, reference: str) -> ComplaintRecord | None:
        """A complaint by its reference code."""
        rows = await self._rows(
            f"SELECT {COMPLAINT_COLUMNS} FROM complaints WHERE reference = ?",  # noqa: S608
            (reference,),
        )
        return complaint(rows[0]) if rows else None

    async def complaint_by_id(self, complaint_id: str) -> ComplaintRecord | None:
        """A complaint by id."""
        rows = await self._rows(
            f"SELECT {COMPLAINT_COLUMNS} FROM complaints WHERE id = ?",  # noqa: S608
            (complaint_id,),
        )
        return complaint(rows[0]) if rows else None

    async def complaints_of(self, user_key: str) -> list[ComplaintRecord]:
        """A citizen's complaints and those they follow, newest first."""
        rows = await self._rows(
            f"SELECT {_PREFIXED} FROM complaints c WHERE c.user_key = ? OR c.id IN "  # noqa: S608
            "(SELECT complaint_id FROM complaint_followers WHERE user_key = ?) "
            "ORDER BY c.created_at DESC LIMIT 20",
            (user_key, user_key),
        )
        return [complaint(row) for row in rows]

    async def count_complaints_since(self, user_key: str, since: datetime) -> int:
        """How many complaints a citizen submitted since a moment (abuse limit)."""
        rows = await self._rows(
            "SELECT COUNT(*) FROM complaints WHERE user_key = ? AND created_at >= ?",
            (user_key, iso(since)),
        )
        return int(rows[0][0])

    async def open_complaints_at(
        self, commune: str, category: str, since: datetime
    ) -> list[ComplaintRecord]:
        """Open complaints of a commune and category since a moment (duplicate check)."""
        rows = await self._rows(
            f"SELECT {COMPLAINT_COLUMNS} FROM complaints WHERE commune = ? AND category = ? "  # noqa: S608
            "AND created_at >= ? AND status NOT IN ('resolved', 'not_ours') "
            "ORDER BY created_at DESC LIMIT 50",
            (commune, category, iso(since)),
        )
        return [complaint(row) for row in rows]

    async def routes_of(self, complaint_id: str) -> list[str]:
        """The CSOs a complaint is with now."""
        rows = await self._rows(
            "SELECT partner_id FROM complaint_routes WHERE complaint_id = ? AND active = 1 "
            "ORDER BY routed_at",
            (complaint_id,),
        )
        return [row[0] for row in rows]

    async def partner_chats(self, partner_id: str) -> list[tuple[str, str]]:
        """The (channel, chat) pairs linked to a CSO."""
        rows = await self._rows(
            "SELECT channel, chat_id FROM partner_chats WHERE partner_id = ? ORDER BY linked_at",
            (partner_id,),
        )
        return [(row[0], row[1]) for row in rows]

    async def partner_of_chat(self, channel: str, chat_id: str) -> str | None:
        """The CSO a chat is linked to, if any."""
        rows = await self._rows(
            "SELECT partner_id FROM partner_chats WHERE channel = ? AND chat_id = ?",
            (channel, chat_id),
        )
        return str(rows[0][0]) if rows else None

    async def link_code_partner(self, code: str, now: datetime) -> str | None:
        """The CSO a link code was made for, while it is valid."""
        rows = await self._rows(
            "SELECT partner_id FROM partner_link_codes WHERE code = ? AND expires_at > ?",
            (code, iso(now)),
        )
        return str(rows[0][0]) if rows else None

    async def recipients(self, complaint_id: str) -> list[tuple[str, str, str, str]]:
        """Who hears of a complaint's progress: (user key, channel, chat, language).

        The citizen and the followers, except those who said `stop`.
        """
        rows = await self._rows(
            "SELECT c.user_key, c.channel, c.chat_id, COALESCE(u.language, c.lang) "
            "FROM complaints c LEFT JOIN users u ON u.key = c.user_key "
            "WHERE c.id = ? AND c.chat_id IS NOT NULL AND COALESCE(u.stopped, 0) = 0 "
            "UNION SELECT u.key, u.channel, u.external_id, COALESCE(u.language, 'fr') "
            "FROM complaint_followers f JOIN users u ON u.key = f.user_key "
            "WHERE f.complaint_id = ? AND u.stopped = 0",
            (complaint_id, complaint_id),
        )
        return [(row[0], row[1], row[2], row[3]) for row in rows]

    async def question(self, question_id: str) -> QuestionRecord | None:
        """A CSO's question by id."""
        rows = await self._rows(
            "SELECT id, complaint_id, partner_id, channel, chat_id, question, asked_at, answer "
            "FROM complaint_questions WHERE id = ?",
            (question_id,),
        )
        if not rows:
            return None
        r = rows[0]
        return QuestionRecord(r[0], r[1], r[2], r[3], r[4], r[5], from_iso(r[6]), r[7])

    def save_complaint(self, record: ComplaintRecord) -> None:
        """Insert or replace a whole complaint: for seeding tests and imports, never for flows."""
        self.ops.append(partial(_save, record))

    def insert_complaint(self, record: ComplaintRecord) -> None:
        """Record a new complaint."""
        self.ops.append(partial(_insert, record))

    def transition_complaint(
        self,
        complaint_id: str,
        expected_status: str,
        action: Action,
        now: datetime,
        *,
        ack_due_at: datetime | None = None,
    ) -> Status | None:
        """Apply a lifecycle action to a complaint read in `expected_status`.

        Returns the new status, or None when the action is not possible from that status
        (nothing is written). If the status changed meanwhile the commit raises StaleRecord.
        """
        target = next_status(cast(Status, expected_status), action)
        if target is None:
            return None
        columns = changed_columns(action, target, now, ack_due_at)
        self.ops.append(partial(_transition, complaint_id, expected_status, columns))
        return target

    def expect_complaint_status(self, complaint_id: str, expected_status: str) -> None:
        """Make the commit fail with StaleRecord if the complaint's status changed meanwhile."""
        self.ops.append(partial(_expect_status, complaint_id, expected_status))

    def add_route(self, complaint_id: str, partner_id: str, now: datetime) -> None:
        """Send a complaint to a CSO (again)."""
        self.ops.append(
            partial(
                _execute,
                "INSERT INTO complaint_routes (complaint_id, partner_id, routed_at) "
                "VALUES (?, ?, ?) ON CONFLICT DO UPDATE SET active = 1, "
                "routed_at = excluded.routed_at",
                (complaint_id, partner_id, iso(now)),
            )
        )

    def drop_route(self, complaint_id: str, partner_id: str) -> None:
        """A CSO no longer handles a complaint."""
        self.ops.append(
            partial(
                _execute,
                "UPDATE complaint_routes SET active = 0 WHERE complaint_id = ? AND partner_id = ?",
                (complaint_id, partner_id),
            )
        )

    def add_event(
        self,
        complaint_id: str,
        action: str,
        now: datetime,
        partner_id: str | None = None,
        actor: str | None = None,
        note: str | None = None,
    ) -> None:
        """Record what happened to a complaint, by whom and when."""
        self.ops.append(
            partial(
                _execute,
                "INSERT INTO complaint_events (complaint_id, action, partner_id, actor, note, at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (complaint_id, action, partner_id, actor, note, iso(now)),
            )
        )

    async def cso_pending(
        self, user_key: str, channel: str, chat_id: str
    ) -> tuple[str, str, str] | None:
        """(step, reference, partner) a CSO member was asked for in a group chat."""
        rows = await self._rows(
            "SELECT step, reference, partner_id FROM cso_pending "
            "WHERE user_key = ? AND channel = ? AND chat_id = ?",
            (user_key, channel, chat_id),
        )
        return (rows[0][0], rows[0][1], rows[0][2]) if rows else None

    def set_cso_pending(
        self,
        user_key: str,
        channel: str,
        chat_id: str,
        step: str | None,
        reference: str = "",
        partner_id: str = "",
        now: datetime | None = None,
    ) -> None:
        """Remember (or, with step None, forget) what a CSO member is to type in a group."""
        if step is None:
            self.ops.append(
                partial(
                    _execute,
                    "DELETE FROM cso_pending WHERE user_key = ? AND channel = ? AND chat_id = ?",
                    (user_key, channel, chat_id),
                )
            )
            return
        assert now is not None
        self.ops.append(
            partial(
                _execute,
                "INSERT INTO cso_pending (user_key, channel, chat_id, step, reference, partner_id, "
                "created_at) VALUES (?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET "
                "step = excluded.step, reference = excluded.reference, "
                "partner_id = excluded.partner_id, created_at = excluded.created_at",
                (user_key, channel, chat_id, step, reference, partner_id, iso(now)),
            )
        )

    def add_voice(self, complaint_id: str, user_key: str, now: datetime) -> None:
        """A citizen adds their voice to a complaint (once) and follows it."""
        self.ops.append(partial(_add_voice, complaint_id, user_key, iso(now)))

    def set_complaint_flags(self, complaint_id: str, expected_status: str, **flags: bool) -> None:
        """Set reminded / escalated / followup_asked while the status is still the expected one."""
        allowed = {"reminded", "escalated", "followup_asked"}
        changes = {k: int(v) for k, v in flags.items() if k in allowed}
        if changes:
            self.ops.append(partial(_flags, complaint_id, expected_status, changes))

    def link_chat(
        self, channel: str, chat_id: str, partner_id: str, code: str, now: datetime
    ) -> None:
        """Link a chat to a CSO and spend the one-time code."""
        self.ops.append(
            partial(
                _execute,
                "INSERT INTO partner_chats (channel, chat_id, partner_id, linked_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (channel, chat_id) DO UPDATE SET "
                "partner_id = excluded.partner_id, linked_at = excluded.linked_at",
                (channel, chat_id, partner_id, iso(now)),
            )
        )
        self.ops.append(partial(_execute, "DELETE FROM partner_link_codes WHERE code = ?", (code,)))

    def save_question(self, record: QuestionRecord) -> None:
        """Keep a CSO's question, or its answer."""
        self.ops.append(
            partial(
                _execute,
                "INSERT INTO complaint_questions (id, complaint_id, partner_id, channel, chat_id, "
                "question, answer, asked_at, answered_at) VALUES (?,?,?,?,?,?,?,?,?) "
                "ON CONFLICT (id) DO UPDATE SET answer = excluded.answer, "
                "answered_at = excluded.answered_at",
                (
                    record.id,
                    record.complaint_id,
                    record.partner_id,
                    record.channel,
                    record.chat_id,
                    record.question,
                    record.answer,
                    iso(record.asked_at),
                    iso(record.answered_at) if record.answered_at else None,
                ),
            )
        )


class ComplaintStoreMixin:
    """Complaint queries outside conversations: deadlines, exports, CSO administration."""

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def _write_ops(self, ops: list[Any]) -> None:
        raise NotImplementedError

    async def complaints_needing_attention(self, now: datetime) -> list[ComplaintRecord]:
        """Open complaints past their acknowledgement date, and resolved ones to follow up."""
        rows = await self.fetch_all(
            f"SELECT {COMPLAINT_COLUMNS} FROM complaints WHERE "  # noqa: S608
            "(status IN ('submitted', 'reopened') AND ack_due_at <= ? AND escalated = 0) "
            "OR (status = 'resolved' AND followup_asked = 0) LIMIT 500",
            (iso(now),),
        )
        return [complaint(row) for row in rows]

    async def export_complaints(
        self, since: datetime | None = None, partner_id: str | None = None
    ) -> list[tuple[ComplaintRecord, list[str]]]:
        """Complaints with the CSOs they are with, oldest first."""
        where, params = ["1 = 1"], []
        if since is not None:
            where.append("c.created_at >= ?")
            params.append(iso(since))
        if partner_id is not None:
            where.append("c.id IN (SELECT complaint_id FROM complaint_routes WHERE partner_id = ?)")
            params.append(partner_id)
        rows = await self.fetch_all(
            f"SELECT {_PREFIXED}, (SELECT group_concat(partner_id) FROM complaint_routes r "  # noqa: S608
            f"WHERE r.complaint_id = c.id AND r.active = 1) FROM complaints c "
            f"WHERE {' AND '.join(where)} ORDER BY c.created_at",
            params,
        )
        return [
            (complaint(row[:23]), (row[23] or "").split(",") if row[23] else []) for row in rows
        ]

    async def create_link_code(self, partner_id: str, code: str, expires: datetime) -> None:
        """A one-time code that links the chat that sends it to a CSO."""
        await self._write_ops(
            [
                partial(
                    _execute,
                    "INSERT INTO partner_link_codes (code, partner_id, expires_at) "
                    "VALUES (?, ?, ?)",
                    (code, partner_id, iso(expires)),
                )
            ]
        )

    async def linked_chats(self) -> list[tuple[str, str, str, datetime]]:
        """Every linked chat: (partner, channel, chat, linked at)."""
        rows = await self.fetch_all(
            "SELECT partner_id, channel, chat_id, linked_at FROM partner_chats ORDER BY partner_id"
        )
        return [(r[0], r[1], r[2], from_iso(r[3])) for r in rows]

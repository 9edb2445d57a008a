"""PostgreSQL storage of complaints, their routes, events, followers, questions and CSO chats."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import Any, cast

import asyncpg

from complaints.lifecycle import Action, Status, changed_columns, next_status
from storage.errors import StaleRecord
from storage.records import ComplaintRecord, QuestionRecord

Op = Callable[[asyncpg.Connection], Awaitable[None]]

_FIELDS = (
    "id, reference, user_key, channel, chat_id, lang, category, commune, place, description, "
    "media, contact_consent, contact, status, voices, public, created_at, updated_at, "
    "ack_due_at, reminded, escalated, resolved_at, followup_asked"
)
_NAMES = tuple(column.strip() for column in _FIELDS.split(","))
COMPLAINT_COLUMNS = _FIELDS
_PREFIXED = ", ".join("c." + name for name in _NAMES)
_PLACEHOLDERS = ", ".join(f"${n}" for n in range(1, len(_NAMES) + 1))


def complaint(row: Sequence[Any]) -> ComplaintRecord:
    """A complaints row as a record."""
    values = dict(zip(_NAMES, row, strict=True))
    values["media"] = tuple((kind, ref) for kind, ref in values["media"])
    return ComplaintRecord(**values)


def _values(record: ComplaintRecord) -> list[Any]:
    values = [getattr(record, name) for name in _NAMES]
    values[_NAMES.index("media")] = [list(m) for m in record.media]
    return values


def _exec(sql: str, *params: Any) -> Op:
    async def run(conn: asyncpg.Connection) -> None:
        await conn.execute(sql, *params)

    return run


def _changed(status: str) -> int:
    return int(status.split()[-1])


async def anonymise(user_key: str, conn: asyncpg.Connection) -> None:
    """Keep a forgotten citizen's complaints for the CSOs' work, without any way to reach them."""
    for complaint_id, contact in await conn.fetch(
        "SELECT id, contact FROM complaints WHERE user_key = $1 AND contact IS NOT NULL", user_key
    ):
        # Copies of forwards kept in the outbox carried the consented contact: blank it there.
        await conn.execute(
            "UPDATE outbox SET payload = jsonb_set(payload, '{text}', "
            "to_jsonb(replace(COALESCE(payload->>'text', ''), $1, '—'))) "
            "WHERE kind = 'forward' AND strpos(payload::text, $2) > 0",
            contact,
            complaint_id,
        )
    await conn.execute("UPDATE complaint_events SET actor = NULL WHERE actor = $1", user_key)
    await conn.execute(
        "DELETE FROM complaint_questions WHERE answer IS NULL AND complaint_id IN "
        "(SELECT id FROM complaints WHERE user_key = $1)",
        user_key,
    )
    await conn.execute(
        "UPDATE complaints SET chat_id = NULL, contact = NULL, contact_consent = false "
        "WHERE user_key = $1",
        user_key,
    )


class PgComplaintTransactionMixin:
    """Complaint reads and queued writes of a unit of work."""

    ops: list[Op]

    async def _connection(self) -> asyncpg.Connection:
        raise NotImplementedError

    async def _rows(self, sql: str, *params: Any) -> list[Any]:
        conn = await self._connection()
        rows: list[Any] = await conn.fetch(sql, *params)
        return rows

    async def complaint_by_reference(self, reference: str) -> ComplaintRecord | None:
        """A complaint by its reference code."""
        rows = await self._rows(
            f"SELECT {_FIELDS} FROM complaints WHERE reference = $1",  # noqa: S608
            reference,
        )
        return complaint(rows[0]) if rows else None

    async def complaint_by_id(self, complaint_id: str) -> ComplaintRecord | None:
        """A complaint by id."""
        rows = await self._rows(
            f"SELECT {_FIELDS} FROM complaints WHERE id = $1",  # noqa: S608
            complaint_id,
        )
        return complaint(rows[0]) if rows else None

    async def complaints_of(self, user_key: str) -> list[ComplaintRecord]:
        """A citizen's complaints and those they follow, newest first."""
        rows = await self._rows(
            f"SELECT {_PREFIXED} FROM complaints c WHERE c.user_key = $1 OR c.id IN "  # noqa: S608
            "(SELECT complaint_id FROM complaint_followers WHERE user_key = $1) "
            "ORDER BY c.created_at DESC LIMIT 20",
            user_key,
        )
        return [complaint(row) for row in rows]

    async def count_complaints_since(self, user_key: str, since: datetime) -> int:
        """How many complaints a citizen submitted since a moment (abuse limit)."""
        rows = await self._rows(
            "SELECT COUNT(*) FROM complaints WHERE user_key = $1 AND created_at >= $2",
            user_key,
            since,
        )
        return int(rows[0][0])

    async def open_complaints_at(
        self, commune: str, category: str, since: datetime
    ) -> list[ComplaintRecord]:
        """Open complaints of a commune and category since a moment (duplicate check)."""
        rows = await self._rows(
            f"SELECT {_FIELDS} FROM complaints WHERE commune = $1 AND category = $2 "  # noqa: S608
            "AND created_at >= $3 AND status NOT IN ('resolved', 'not_ours') "
            "ORDER BY created_at DESC LIMIT 50",
            commune,
            category,
            since,
        )
        return [complaint(row) for row in rows]

    async def routes_of(self, complaint_id: str) -> list[str]:
        """The CSOs a complaint is with now."""
        rows = await self._rows(
            "SELECT partner_id FROM complaint_routes WHERE complaint_id = $1 AND active "
            "ORDER BY routed_at",
            complaint_id,
        )
        return [row[0] for row in rows]

    async def partner_chats(self, partner_id: str) -> list[tuple[str, str]]:
        """The (channel, chat) pairs linked to a CSO."""
        rows = await self._rows(
            "SELECT channel, chat_id FROM partner_chats WHERE partner_id = $1 ORDER BY linked_at",
            partner_id,
        )
        return [(row[0], row[1]) for row in rows]

    async def partner_of_chat(self, channel: str, chat_id: str) -> str | None:
        """The CSO a chat is linked to, if any."""
        rows = await self._rows(
            "SELECT partner_id FROM partner_chats WHERE channel = $1 AND chat_id = $2",
            channel,
            chat_id,
        )
        return str(rows[0][0]) if rows else None

    async def link_code_partner(self, code: str, now: datetime) -> str | None:
        """The CSO a link code was made for, while it is valid."""
        rows = await self._rows(
            "SELECT partner_id FROM partner_link_codes WHERE code = $1 AND expires_at > $2",
            code,
            now,
        )
        return str(rows[0][0]) if rows else None

    async def recipients(self, complaint_id: str) -> list[tuple[str, str, str, str]]:
        """Who hears of a complaint's progress: (user key, channel, chat, language).

        The citizen and the followers, except those who said `stop`.
        """
        rows = await self._rows(
            "SELECT c.user_key, c.channel, c.chat_id, COALESCE(u.language, c.lang) "
            "FROM complaints c LEFT JOIN users u ON u.key = c.user_key "
            "WHERE c.id = $1 AND c.chat_id IS NOT NULL AND NOT COALESCE(u.stopped, false) "
            "UNION SELECT u.key, u.channel, u.external_id, COALESCE(u.language, 'fr') "
            "FROM complaint_followers f JOIN users u ON u.key = f.user_key "
            "WHERE f.complaint_id = $1 AND NOT u.stopped",
            complaint_id,
        )
        return [(row[0], row[1], row[2], row[3]) for row in rows]

    async def question(self, question_id: str) -> QuestionRecord | None:
        """A CSO's question by id."""
        rows = await self._rows(
            "SELECT id, complaint_id, partner_id, channel, chat_id, question, asked_at, answer "
            "FROM complaint_questions WHERE id = $1",
            question_id,
        )
        if not rows:
            return None
        r = rows[0]
        return QuestionRecord(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7])

    def save_complaint(self, record: ComplaintRecord) -> None:
        """Insert or replace a whole complaint: for seeding tests and imports, never for flows."""
        updates = ", ".join(f"{name} = excluded.{name}" for name in _NAMES[1:])
        self.ops.append(
            _exec(
                f"INSERT INTO complaints ({_FIELDS}) VALUES ({_PLACEHOLDERS}) "  # noqa: S608
                f"ON CONFLICT (id) DO UPDATE SET {updates}",
                *_values(record),
            )
        )

    def insert_complaint(self, record: ComplaintRecord) -> None:
        """Record a new complaint."""
        self.ops.append(
            _exec(
                f"INSERT INTO complaints ({_FIELDS}) VALUES ({_PLACEHOLDERS})",  # noqa: S608
                *_values(record),
            )
        )

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
        assignments = ", ".join(f"{column} = ${n}" for n, column in enumerate(columns, start=3))

        async def transition(conn: asyncpg.Connection) -> None:
            # The status read by the turn is the precondition: a change made meanwhile by
            # another member (in any process) fails this unit, and the turn is tried again.
            status = await conn.execute(
                f"UPDATE complaints SET {assignments} WHERE id = $1 AND status = $2",  # noqa: S608
                complaint_id,
                expected_status,
                *columns.values(),
            )
            if _changed(status) != 1:
                raise StaleRecord(f"complaint no longer {expected_status}")

        self.ops.append(transition)
        return target

    def expect_complaint_status(self, complaint_id: str, expected_status: str) -> None:
        """Make the commit fail with StaleRecord if the complaint's status changed meanwhile."""

        async def expect(conn: asyncpg.Connection) -> None:
            # FOR SHARE: the status cannot change under this unit until it commits.
            status = await conn.fetchval(
                "SELECT status FROM complaints WHERE id = $1 FOR SHARE", complaint_id
            )
            if status != expected_status:
                raise StaleRecord(f"complaint no longer {expected_status}")

        self.ops.append(expect)

    def add_route(self, complaint_id: str, partner_id: str, now: datetime) -> None:
        """Send a complaint to a CSO (again)."""
        self.ops.append(
            _exec(
                "INSERT INTO complaint_routes (complaint_id, partner_id, routed_at) "
                "VALUES ($1, $2, $3) ON CONFLICT (complaint_id, partner_id) DO UPDATE SET "
                "active = true, routed_at = excluded.routed_at",
                complaint_id,
                partner_id,
                now,
            )
        )

    def drop_route(self, complaint_id: str, partner_id: str) -> None:
        """A CSO no longer handles a complaint."""
        self.ops.append(
            _exec(
                "UPDATE complaint_routes SET active = false "
                "WHERE complaint_id = $1 AND partner_id = $2",
                complaint_id,
                partner_id,
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
            _exec(
                "INSERT INTO complaint_events (complaint_id, action, partner_id, actor, note, at) "
                "VALUES ($1, $2, $3, $4, $5, $6)",
                complaint_id,
                action,
                partner_id,
                actor,
                note,
                now,
            )
        )

    async def cso_pending(
        self, user_key: str, channel: str, chat_id: str
    ) -> tuple[str, str, str] | None:
        """(step, reference, partner) a CSO member was asked for in a group chat."""
        rows = await self._rows(
            "SELECT step, reference, partner_id FROM cso_pending "
            "WHERE user_key = $1 AND channel = $2 AND chat_id = $3",
            user_key,
            channel,
            chat_id,
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
                _exec(
                    "DELETE FROM cso_pending WHERE user_key = $1 AND channel = $2 AND chat_id = $3",
                    user_key,
                    channel,
                    chat_id,
                )
            )
            return
        assert now is not None
        self.ops.append(
            _exec(
                "INSERT INTO cso_pending (user_key, channel, chat_id, step, reference, partner_id, "
                "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                "ON CONFLICT (user_key, channel, chat_id) DO UPDATE SET "
                "step = excluded.step, reference = excluded.reference, "
                "partner_id = excluded.partner_id, created_at = excluded.created_at",
                user_key,
                channel,
                chat_id,
                step,
                reference,
                partner_id,
                now,
            )
        )

    def add_voice(self, complaint_id: str, user_key: str, now: datetime) -> None:
        """A citizen adds their voice to a complaint (once) and follows it."""

        async def voice(conn: asyncpg.Connection) -> None:
            inserted = await conn.execute(
                "INSERT INTO complaint_followers (complaint_id, user_key, added_at) "
                "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
                complaint_id,
                user_key,
                now,
            )
            if _changed(inserted):  # one voice per person, however often they tap
                await conn.execute(
                    "UPDATE complaints SET voices = voices + 1, updated_at = $1 WHERE id = $2",
                    now,
                    complaint_id,
                )

        self.ops.append(voice)

    def set_complaint_flags(self, complaint_id: str, expected_status: str, **flags: bool) -> None:
        """Set reminded / escalated / followup_asked while the status is still the expected one."""
        allowed = {"reminded", "escalated", "followup_asked"}
        changes = {k: bool(v) for k, v in flags.items() if k in allowed}
        if not changes:
            return
        assignments = ", ".join(f"{column} = ${n}" for n, column in enumerate(changes, start=3))
        # A reminder is never sent twice, nor after an answer: the flag must still be unset.
        unset = "".join(f" AND NOT {column}" for column, value in changes.items() if value)

        async def set_flags(conn: asyncpg.Connection) -> None:
            status = await conn.execute(
                f"UPDATE complaints SET {assignments} WHERE id = $1 AND status = $2{unset}",  # noqa: S608
                complaint_id,
                expected_status,
                *changes.values(),
            )
            if _changed(status) != 1:
                raise StaleRecord(f"complaint no longer {expected_status}")

        self.ops.append(set_flags)

    def link_chat(
        self, channel: str, chat_id: str, partner_id: str, code: str, now: datetime
    ) -> None:
        """Link a chat to a CSO and spend the one-time code."""
        self.ops.append(
            _exec(
                "INSERT INTO partner_chats (channel, chat_id, partner_id, linked_at) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT (channel, chat_id) DO UPDATE SET "
                "partner_id = excluded.partner_id, linked_at = excluded.linked_at",
                channel,
                chat_id,
                partner_id,
                now,
            )
        )
        self.ops.append(_exec("DELETE FROM partner_link_codes WHERE code = $1", code))

    def save_question(self, record: QuestionRecord) -> None:
        """Keep a CSO's question, or its answer."""
        self.ops.append(
            _exec(
                "INSERT INTO complaint_questions (id, complaint_id, partner_id, channel, chat_id, "
                "question, answer, asked_at, answered_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) "
                "ON CONFLICT (id) DO UPDATE SET answer = excluded.answer, "
                "answered_at = excluded.answered_at",
                record.id,
                record.complaint_id,
                record.partner_id,
                record.channel,
                record.chat_id,
                record.question,
                record.answer,
                record.asked_at,
                record.answered_at,
            )
        )


class PgComplaintStoreMixin:
    """Complaint queries outside conversations: deadlines, exports, CSO administration."""

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def _execute(self, sql: str, *params: Any) -> str:
        raise NotImplementedError

    async def complaints_needing_attention(self, now: datetime) -> list[ComplaintRecord]:
        """Open complaints past their acknowledgement date, and resolved ones to follow up."""
        rows = await self.fetch_all(
            f"SELECT {_FIELDS} FROM complaints WHERE "  # noqa: S608
            "(status IN ('submitted', 'reopened') AND ack_due_at <= $1 AND NOT escalated) "
            "OR (status = 'resolved' AND NOT followup_asked) LIMIT 500",
            [now],
        )
        return [complaint(row) for row in rows]

    async def export_complaints(
        self, since: datetime | None = None, partner_id: str | None = None
    ) -> list[tuple[ComplaintRecord, list[str]]]:
        """Complaints with the CSOs they are with, oldest first."""
        rows = await self.fetch_all(
            f"SELECT {_PREFIXED}, ARRAY(SELECT partner_id FROM complaint_routes r "  # noqa: S608
            "WHERE r.complaint_id = c.id AND r.active ORDER BY r.routed_at) FROM complaints c "
            "WHERE ($1::timestamptz IS NULL OR c.created_at >= $1) AND ($2::text IS NULL OR "
            "c.id IN (SELECT complaint_id FROM complaint_routes WHERE partner_id = $2)) "
            "ORDER BY c.created_at",
            [since, partner_id],
        )
        return [(complaint(row[:23]), list(row[23])) for row in rows]

    async def create_link_code(self, partner_id: str, code: str, expires: datetime) -> None:
        """A one-time code that links the chat that sends it to a CSO."""
        await self._execute(
            "INSERT INTO partner_link_codes (code, partner_id, expires_at) VALUES ($1, $2, $3)",
            code,
            partner_id,
            expires,
        )

    async def linked_chats(self) -> list[tuple[str, str, str, datetime]]:
        """Every linked chat: (partner, channel, chat, linked at)."""
        rows = await self.fetch_all(
            "SELECT partner_id, channel, chat_id, linked_at FROM partner_chats ORDER BY partner_id"
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

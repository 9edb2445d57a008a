"""PostgreSQL reads behind a CSO's inbox: its open complaints and a complaint's history."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from storage.postgres.complaints import COMPLAINT_COLUMNS, complaint
from storage.records import ComplaintRecord

_PREFIXED = ", ".join("c." + column.strip() for column in COMPLAINT_COLUMNS.split(","))


class PgCsoInboxTransactionMixin:
    """What a CSO's chat lists: open complaints routed to it, and what happened to one."""

    async def _connection(self) -> asyncpg.Connection:
        raise NotImplementedError  # provided by the transaction

    async def partner_open_complaints(self, partner_id: str) -> list[ComplaintRecord]:
        """Open complaints routed to a CSO now, oldest first."""
        conn = await self._connection()
        rows = await conn.fetch(
            f"SELECT {_PREFIXED} FROM complaints c JOIN complaint_routes r "  # noqa: S608
            "ON r.complaint_id = c.id WHERE r.partner_id = $1 AND r.active "
            "AND c.status NOT IN ('resolved', 'not_ours') ORDER BY c.created_at, c.reference",
            partner_id,
        )
        return [complaint(row) for row in rows]

    async def complaint_history(self, complaint_id: str) -> list[tuple[datetime, str, str | None]]:
        """(when, action, note) of a complaint, oldest first."""
        conn = await self._connection()
        rows = await conn.fetch(
            "SELECT at, action, note FROM complaint_events WHERE complaint_id = $1 ORDER BY at, id",
            complaint_id,
        )
        return [(row[0], str(row[1]), row[2]) for row in rows]

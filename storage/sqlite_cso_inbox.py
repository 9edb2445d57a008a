"""SQLite reads behind a CSO's inbox: its open complaints and a complaint's history."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.records import ComplaintRecord, from_iso
from storage.sqlite_complaints import COMPLAINT_COLUMNS, complaint
from storage.sqlite_reader import Reader

_PREFIXED = ", ".join("c." + column.strip() for column in COMPLAINT_COLUMNS.split(","))


class CsoInboxTransactionMixin:
    """What a CSO's chat lists: open complaints routed to it, and what happened to one."""

    _store: Reader

    async def _inbox_rows(self, sql: str, params: Sequence[Any]) -> list[tuple[Any, ...]]:
        return await self._store.fetch_all(sql, params)

    async def partner_open_complaints(self, partner_id: str) -> list[ComplaintRecord]:
        """Open complaints routed to a CSO now, oldest first."""
        rows = await self._inbox_rows(
            f"SELECT {_PREFIXED} FROM complaints c JOIN complaint_routes r "  # noqa: S608
            "ON r.complaint_id = c.id WHERE r.partner_id = ? AND r.active = 1 "
            "AND c.status NOT IN ('resolved', 'not_ours') ORDER BY c.created_at, c.reference",
            (partner_id,),
        )
        return [complaint(row) for row in rows]

    async def complaint_history(self, complaint_id: str) -> list[tuple[datetime, str, str | None]]:
        """(when, action, note) of a complaint, oldest first."""
        rows = await self._inbox_rows(
            "SELECT at, action, note FROM complaint_events WHERE complaint_id = ? ORDER BY at, id",
            (complaint_id,),
        )
        return [(from_iso(row[0]), str(row[1]), row[2]) for row in rows]

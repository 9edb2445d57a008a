"""SQLite reads behind the public Open311 listing: filtered, ordered and limited in SQL."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage.open311_records import PublicQuery, PublicRow
from storage.records import iso
from storage.sqlite_complaints import COMPLAINT_COLUMNS, complaint

_PREFIXED = ", ".join("c." + column.strip() for column in COMPLAINT_COLUMNS.split(","))
_EXTRA = (
    "(SELECT group_concat(partner_id) FROM complaint_routes r "
    "WHERE r.complaint_id = c.id AND r.active = 1), "
    # The note a CSO wrote for the citizen when resolving it: the one worth publishing.
    "(SELECT note FROM complaint_events e WHERE e.complaint_id = c.id "
    "AND e.action = 'resolved' AND COALESCE(e.note, '') <> '' "
    "ORDER BY e.at DESC, e.id DESC LIMIT 1)"
)


def _marks(values: Sequence[str]) -> str:
    return ", ".join("?" * len(values))


class Open311StoreMixin:
    """The public requests of an Open311 listing, one page at a time."""

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def public_requests(self, query: PublicQuery) -> list[PublicRow]:
        """Complaints matching the query, newest first, at most `query.limit` from `offset`."""
        where: list[str] = []
        params: list[Any] = []
        if query.references is not None:
            where.append(f"c.reference IN ({_marks(query.references)})")
            params.extend(query.references)
        else:
            where.append("c.created_at >= ? AND c.created_at <= ?")
            params.extend((iso(query.start), iso(query.end)))
            if query.statuses is not None:
                where.append(f"c.status IN ({_marks(query.statuses)})")
                params.extend(query.statuses)
            if query.categories is not None:
                where.append(f"c.category IN ({_marks(query.categories)})")
                params.extend(query.categories)
        if query.hidden_categories:
            where.append(f"c.category NOT IN ({_marks(query.hidden_categories)})")
            params.extend(query.hidden_categories)
        rows = await self.fetch_all(
            f"SELECT {_PREFIXED}, {_EXTRA} FROM complaints c "  # noqa: S608 - fixed SQL parts
            f"WHERE {' AND '.join(where)} "
            "ORDER BY c.created_at DESC, c.id DESC LIMIT ? OFFSET ?",
            (*params, query.limit, query.offset),
        )
        return [
            PublicRow(
                record=complaint(row[:23]),
                partners=tuple(row[23].split(",")) if row[23] else (),
                note=row[24],
            )
            for row in rows
        ]

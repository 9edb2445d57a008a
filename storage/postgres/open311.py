"""PostgreSQL reads behind the public Open311 listing: filtered, ordered and limited in SQL."""

from __future__ import annotations

from typing import Any

import asyncpg

from storage.open311_records import PublicQuery, PublicRow
from storage.postgres.complaints import COMPLAINT_COLUMNS, complaint

_PREFIXED = ", ".join("c." + column.strip() for column in COMPLAINT_COLUMNS.split(","))
_EXTRA = (
    "(SELECT array_agg(partner_id ORDER BY routed_at, partner_id) FROM complaint_routes r "
    "WHERE r.complaint_id = c.id AND r.active), "
    # The note a CSO wrote for the citizen when resolving it: the one worth publishing.
    "(SELECT note FROM complaint_events e WHERE e.complaint_id = c.id "
    "AND e.action = 'resolved' AND COALESCE(e.note, '') <> '' "
    "ORDER BY e.at DESC, e.id DESC LIMIT 1)"
)


class PgOpen311StoreMixin:
    """The public requests of an Open311 listing, one page at a time."""

    pool: asyncpg.Pool

    async def public_requests(self, query: PublicQuery) -> list[PublicRow]:
        """Complaints matching the query, newest first, at most `query.limit` from `offset`."""
        where: list[str] = []
        params: list[Any] = []

        def param(value: Any) -> str:
            params.append(value)
            return f"${len(params)}"

        if query.references is not None:
            where.append(f"c.reference = ANY({param(list(query.references))}::text[])")
        else:
            where.append(f"c.created_at >= {param(query.start)}")
            where.append(f"c.created_at <= {param(query.end)}")
            if query.statuses is not None:
                where.append(f"c.status = ANY({param(list(query.statuses))}::text[])")
            if query.categories is not None:
                where.append(f"c.category = ANY({param(list(query.categories))}::text[])")
        if query.hidden_categories:
            where.append(f"c.category <> ALL({param(list(query.hidden_categories))}::text[])")
        page = f"LIMIT {param(query.limit)} OFFSET {param(query.offset)}"
        rows = await self.pool.fetch(
            f"SELECT {_PREFIXED}, {_EXTRA} FROM complaints c "  # noqa: S608 - fixed SQL parts
            f"WHERE {' AND '.join(where)} ORDER BY c.created_at DESC, c.id DESC {page}",
            *params,
        )
        return [
            PublicRow(
                record=complaint(tuple(row)[:23]), partners=tuple(row[23] or ()), note=row[24]
            )
            for row in rows
        ]

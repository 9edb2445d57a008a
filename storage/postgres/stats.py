"""The programme's statistics from PostgreSQL, in the row shapes the SQLite store gives."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from storage.postgres.quizzes import numbered

Rows = list[tuple[Any, ...]]

# Before anything the bot ever stored: "since the beginning".
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


def _day(column: str) -> str:
    # reports/ reads ISO text and keeps its first ten characters: the UTC date.
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS')"


class PgStatsStoreMixin:
    """Grouped counts for `civicbot stats` and the report; never a user key or a name."""

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> Rows:
        raise NotImplementedError

    async def stats_rows(
        self, now: datetime, since: datetime | None = None, region: str | None = None
    ) -> dict[str, Rows]:
        """Grouped rows per section; `region` (a P-code) narrows what has a place."""
        start = since or _EPOCH
        d7, d30 = now - timedelta(days=7), now - timedelta(days=30)
        # Users have a region; complaints and rounds have communes whose P-code starts with it.
        user_where = " AND u.region = ?" if region else ""
        place = (region,) if region else ()
        prefix = (f"{region}%",) if region else ()

        async def q(sql: str, params: Sequence[Any]) -> Rows:
            return await self.fetch_all(numbered(sql), params)

        return {
            "users": await q(
                "SELECT COALESCE(u.region, ''), COALESCE(u.gender, ''), "  # noqa: S608
                "COALESCE(u.age_group, ''), COUNT(*), "
                "COUNT(*) FILTER (WHERE u.created_at >= ?), "
                "COUNT(*) FILTER (WHERE u.created_at >= ?), "
                "COUNT(*) FILTER (WHERE u.created_at >= ?), "
                "COUNT(*) FILTER (WHERE u.last_seen_at >= ?), "
                "COUNT(*) FILTER (WHERE u.last_seen_at >= ?) "
                f"FROM users u WHERE true{user_where} GROUP BY 1, 2, 3",
                (start, d7, d30, d7, d30, *place),
            ),
            "entry": await q(
                "SELECT COALESCE(u.entry_source, ''), COUNT(*) FROM users u "  # noqa: S608
                f"WHERE u.created_at >= ?{user_where} GROUP BY 1",
                (start, *place),
            ),
            "articles": await q(
                "SELECT a.article_id, COUNT(*), SUM(a.times) FROM article_reads a "  # noqa: S608
                f"JOIN users u ON u.key = a.user_key WHERE a.last_read_at >= ?{user_where} "
                "GROUP BY 1",
                (start, *place),
            ),
            # Searches keep no user, so no region either: they are counted everywhere.
            "searches": await q(
                "SELECT outcome, COUNT(*) FROM search_queries WHERE asked_at >= ? GROUP BY 1",
                (start,),
            ),
            "quizzes": await q(
                "SELECT COALESCE(u.gender, ''), COUNT(*), "  # noqa: S608
                "SUM(r.score::double precision / GREATEST(r.total, 1)) FROM quiz_results r "
                f"JOIN users u ON u.key = r.user_key WHERE r.finished_at >= ?{user_where} "
                "GROUP BY 1",
                (start, *place),
            ),
            "quiz_answers": await q(
                "SELECT COALESCE(gender, ''), COUNT(*), SUM(correct) FROM quiz_answers "
                "WHERE answered_at >= ? GROUP BY 1",
                (start,),
            ),
            "complaints": await q(
                "SELECT commune, category, status, COUNT(*) FROM complaints "  # noqa: S608
                f"WHERE created_at >= ?{' AND commune LIKE ?' if region else ''} "
                "GROUP BY 1, 2, 3",
                (start, *prefix),
            ),
            # Days from submission to the first acknowledgement and to resolution, and
            # whether the citizen reopened it (0/1, as SQLite gives them).
            "complaint_times": await q(
                "SELECT EXTRACT(EPOCH FROM e.ack - c.created_at)::double precision / 86400, "  # noqa: S608
                "EXTRACT(EPOCH FROM c.resolved_at - c.created_at)::double precision / 86400, "
                "e.reopened, (c.resolved_at IS NOT NULL OR e.reopened = 1)::int "
                "FROM complaints c LEFT JOIN (SELECT complaint_id, "
                "MIN(CASE WHEN action = 'ack' THEN at END) AS ack, "
                "bool_or(action = 'reopened')::int AS reopened FROM complaint_events "
                "WHERE action IN ('ack', 'reopened') GROUP BY complaint_id) e "
                "ON e.complaint_id = c.id "
                f"WHERE c.created_at >= ?{' AND c.commune LIKE ?' if region else ''}",
                (start, *prefix),
            ),
            "barometer_rounds": await q(
                f"SELECT id, communes, status, results, {_day('opens_at')}, "  # noqa: S608
                f"{_day('closes_at')} FROM barometer_rounds WHERE closes_at >= ? "
                "ORDER BY opens_at, id",
                (start,),
            ),
            "barometer_responses": await q(
                "SELECT r.round_id, r.commune, COUNT(*) FROM barometer_responses r "  # noqa: S608
                "JOIN barometer_rounds b ON b.id = r.round_id WHERE b.closes_at >= ?"
                f"{' AND r.commune LIKE ?' if region else ''} GROUP BY 1, 2",
                (start, *prefix),
            ),
        }

"""Platform rate budgets shared by every process: token buckets in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from storage.ports_deploy import RateGrant, rate_grant

# One statement refills the bucket by the time elapsed since its last take and takes what
# it can: concurrent takers queue on the row lock, each sees the tokens the last one left.
# Every SET reads the old row, so `taken` and `tokens` agree on the same refill.
_AVAILABLE = "LEAST($3, b.tokens + GREATEST(0, excluded.stamp - b.stamp) * $2)"
_TAKE_SQL = (
    "WITH n AS (SELECT COALESCE"  # noqa: S608 - constant SQL
    "($5::float8, EXTRACT(EPOCH FROM statement_timestamp())::float8)"
    " AS at) "
    "INSERT INTO rate_buckets AS b (scope, tokens, stamp, taken) "
    "SELECT $1, $3 - LEAST($4, FLOOR($3)), n.at, LEAST($4, FLOOR($3)) FROM n "
    "ON CONFLICT (scope) DO UPDATE SET "
    f"taken = LEAST($4, FLOOR({_AVAILABLE})), "
    f"tokens = {_AVAILABLE} "
    f"- LEAST($4, FLOOR({_AVAILABLE})), "
    "stamp = GREATEST(b.stamp, excluded.stamp) "
    "RETURNING taken, tokens"
)


class PgRateStoreMixin:
    """`take_rate` for the PostgreSQL store."""

    pool: asyncpg.Pool

    async def take_rate(
        self, scope: str, rate: float, burst: float, want: int, now: datetime | None = None
    ) -> RateGrant:
        """Take up to `want` tokens from the `scope` bucket in one atomic statement."""
        if rate <= 0 or want <= 0:
            raise ValueError("a rate and a take must be positive")
        at: Any = now.timestamp() if now is not None else None
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(_TAKE_SQL, scope, float(rate), float(burst), want, at)
        assert row is not None
        return rate_grant(int(row["taken"]), float(row["tokens"]), want, rate)

"""PostgreSQL reads behind the operators' /readyz and /metrics."""

from __future__ import annotations

import asyncpg

from storage.postgres.migrations import load_pg_migrations
from storage.sqlite_ops import FAILURES, OUTBOX_DEPTH


class PgOpsStoreMixin:
    """Schema state and outbox figures of the PostgreSQL store."""

    pool: asyncpg.Pool

    async def schema_versions(self) -> tuple[int, int]:
        """(highest migration applied, highest shipped); raises if the database is away."""
        async with self.pool.acquire() as conn:
            applied = 0
            if await conn.fetchval("SELECT to_regclass('schema_migrations')") is not None:
                applied = await conn.fetchval(
                    "SELECT COALESCE(MAX(version), 0) FROM schema_migrations"
                )
        return int(applied), max((m.version for m in load_pg_migrations()), default=0)

    async def outbox_depth(self) -> list[tuple[str, str, int]]:
        """Outbox rows counted by (kind, state)."""
        return [(r[0], r[1], int(r[2])) for r in await self.pool.fetch(OUTBOX_DEPTH)]

    async def delivery_failures(self) -> list[tuple[str, int]]:
        """Failed and dead rows counted by their last error."""
        return [(r[0], int(r[1])) for r in await self.pool.fetch(FAILURES)]

    async def campaign_states(self) -> list[tuple[str, str, int]]:
        """Campaign rows counted by (campaign name, state)."""
        # A campaign row's dedupe key is 'campaign:NAME:USER_KEY'.
        rows = await self.pool.fetch(
            "SELECT split_part(dedupe_key, ':', 2), state, COUNT(*) FROM outbox "
            "WHERE kind = 'campaign' AND dedupe_key LIKE 'campaign:%' GROUP BY 1, 2"
        )
        return [(r[0], r[1], int(r[2])) for r in rows]

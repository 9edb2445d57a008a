"""SQLite reads behind the operators' /readyz and /metrics."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from storage.migrations import load_migrations

# Outbox SQL shared with PostgreSQL; only the campaign name's extraction differs.
OUTBOX_DEPTH = "SELECT kind, state, COUNT(*) FROM outbox GROUP BY kind, state"
FAILURES = (
    "SELECT last_error, COUNT(*) FROM outbox "
    "WHERE state IN ('failed', 'dead') AND last_error IS NOT NULL GROUP BY last_error"
)


class OpsStoreMixin:
    """Schema state and outbox figures of the SQLite store."""

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def schema_versions(self) -> tuple[int, int]:
        """(highest migration applied, highest shipped); raises if the database is away."""
        await self.fetch_all("SELECT 1")  # raises when the database cannot be reached
        try:
            rows = await self.fetch_all("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        except Exception:
            rows = []  # a database never migrated has no migrations table yet
        applied = int(rows[0][0]) if rows else 0
        return applied, max((m.version for m in load_migrations()), default=0)

    async def outbox_depth(self) -> list[tuple[str, str, int]]:
        """Outbox rows counted by (kind, state)."""
        return [(str(k), str(s), int(n)) for k, s, n in await self.fetch_all(OUTBOX_DEPTH)]

    async def delivery_failures(self) -> list[tuple[str, int]]:
        """Failed and dead rows counted by their last error."""
        return [(str(e), int(n)) for e, n in await self.fetch_all(FAILURES)]

    async def campaign_states(self) -> list[tuple[str, str, int]]:
        """Campaign rows counted by (campaign name, state)."""
        # A campaign row's dedupe key is 'campaign:NAME:USER_KEY' (migration 0007).
        rows = await self.fetch_all(
            "SELECT substr(dedupe_key, 10, instr(substr(dedupe_key, 10), ':') - 1), state, "
            "COUNT(*) FROM outbox WHERE kind = 'campaign' AND dedupe_key LIKE 'campaign:%' "
            "GROUP BY 1, 2"
        )
        return [(str(c), str(s), int(n)) for c, s, n in rows]

"""Platform rate budgets on SQLite: the same token buckets as PostgreSQL's, in one file.

`civicbot run` on SQLite keeps its buckets in memory (one process); this answers the same
port so that both stores pass one contract suite.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from datetime import datetime
from typing import TypeVar

from storage.ports_deploy import RateGrant, rate_grant

T = TypeVar("T")


def _take(
    scope: str, rate: float, burst: float, want: int, at: float, db: sqlite3.Connection
) -> tuple[int, float]:
    db.execute("BEGIN IMMEDIATE")
    try:
        row = db.execute(
            "SELECT tokens, stamp FROM rate_buckets WHERE scope = ?", (scope,)
        ).fetchone()
        tokens, stamp = (burst, at) if row is None else (float(row[0]), float(row[1]))
        available = min(burst, tokens + max(0.0, at - stamp) * rate)
        taken = min(want, int(available))
        db.execute(
            "INSERT INTO rate_buckets (scope, tokens, stamp, taken) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (scope) DO UPDATE SET tokens = excluded.tokens, "
            "stamp = excluded.stamp, taken = excluded.taken",
            (scope, available - taken, max(stamp, at), taken),
        )
        db.execute("COMMIT")
    except BaseException:
        if db.in_transaction:
            db.execute("ROLLBACK")
        raise
    return taken, available - taken


class RateStoreMixin:
    """`take_rate` for the SQLite store."""

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        raise NotImplementedError

    async def take_rate(
        self, scope: str, rate: float, burst: float, want: int, now: datetime | None = None
    ) -> RateGrant:
        """Take up to `want` tokens from the `scope` bucket in one transaction."""
        if rate <= 0 or want <= 0:
            raise ValueError("a rate and a take must be positive")
        at = now.timestamp() if now is not None else time.time()

        def take(db: sqlite3.Connection) -> tuple[int, float]:
            return _take(scope, rate, burst, want, at, db)

        taken, left = await self._run(take)
        return rate_grant(taken, left, want, rate)

"""One-time link codes spent atomically: of two chats sending the same code, one links."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import Any

from storage.records import iso


class LinkCodeTransactionMixin:
    """`consume_link_code` for the SQLite unit of work."""

    _store: Any  # the SqliteStore (typed loosely to avoid an import cycle)

    async def consume_link_code(self, code: str, now: datetime) -> str | None:
        """Spend a valid code now, in its own transaction; the CSO it was for, or None.

        `DELETE ... RETURNING` reads and spends in one statement: a second chat sending the
        same code at the same moment finds nothing.
        """
        found: list[str] = []

        def spend(db: sqlite3.Connection) -> None:
            row = db.execute(
                "DELETE FROM partner_link_codes WHERE code = ? AND expires_at > ? "
                "RETURNING partner_id",
                (code, iso(now)),
            ).fetchone()
            if row is not None:
                found.append(str(row[0]))

        await self._store._write_ops([spend])
        return found[0] if found else None

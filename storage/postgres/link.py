"""One-time link codes spent atomically: of two chats sending the same code, one links."""

from __future__ import annotations

from datetime import datetime
from typing import Any


class PgLinkCodeTransactionMixin:
    """`consume_link_code` for the PostgreSQL unit of work."""

    _store: Any  # the PostgresStore (typed loosely to avoid an import cycle)

    async def consume_link_code(self, code: str, now: datetime) -> str | None:
        """Spend a valid code now, on its own pooled connection (its own transaction).

        `DELETE ... RETURNING` reads and spends in one statement: a second chat sending the
        same code at the same moment, in any process, finds nothing.
        """
        partner = await self._store.pool.fetchval(
            "DELETE FROM partner_link_codes WHERE code = $1 AND expires_at > $2 "
            "RETURNING partner_id",
            code,
            now,
        )
        return str(partner) if partner is not None else None

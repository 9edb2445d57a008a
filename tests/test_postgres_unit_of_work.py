"""The PostgreSQL unit of work gives its connection back clean when its first step fails."""

from __future__ import annotations

import asyncio
from typing import Any

import asyncpg
import pytest

from storage.postgres.store import LOCK_USER, PostgresStore, lock_key


async def test_a_turn_lock_that_fails_after_begin_leaves_no_transaction_open(pg_url: str) -> None:
    admin = await asyncpg.connect(pg_url)
    store: PostgresStore | None = None
    loop = asyncio.get_running_loop()
    previous = loop.get_exception_handler()
    reported: list[str] = []
    try:
        name = await admin.fetchval("SELECT current_database()")
        await admin.execute(f"ALTER DATABASE \"{name}\" SET lock_timeout = '200ms'")
        store = await PostgresStore.open(pg_url, max_size=1)
        # Another process's turn holds this user's lock: BEGIN runs, the lock times out.
        await admin.execute("BEGIN")
        await admin.execute(
            "SELECT pg_advisory_xact_lock($1, $2)", LOCK_USER, lock_key("whatsapp:1")
        )

        def report(_: Any, context: dict[str, Any]) -> None:
            reported.append(str(context.get("message")))

        loop.set_exception_handler(report)
        with pytest.raises(asyncpg.LockNotAvailableError):
            async with store.transaction() as tx:
                await tx.lock_user("whatsapp:1")
        # The one pooled connection came back with no transaction open, and serves.
        assert not [m for m in reported if "active transaction" in m], reported
        assert await store.fetch_all("SELECT 1") == [(1,)]
    finally:
        loop.set_exception_handler(previous)
        if store is not None:
            await store.close()
        await admin.close()

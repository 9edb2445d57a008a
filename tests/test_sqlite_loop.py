"""The SQLite store runs short work on the event loop: it must never block the loop on a lock."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from datetime import UTC, datetime
from pathlib import Path

from storage.records import ConversationRecord, UserRecord
from storage.sqlite import SqliteStore

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def person(n: int) -> UserRecord:
    return UserRecord(
        key=f"t:{n}", channel="t", external_id=str(n), created_at=NOW, last_seen_at=NOW
    )


async def test_a_commit_waits_for_another_writer_off_the_loop(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite3"
    store = await SqliteStore.open(path)
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another process (a CLI command) holds the write lock
    try:

        async def turn() -> None:
            async with store.transaction() as tx:
                tx.save_user(person(1))

        pending = asyncio.create_task(turn())
        started = time.monotonic()
        await asyncio.sleep(0.2)
        # The loop kept running (the sleep ended on time) while the commit waits for the lock.
        assert time.monotonic() - started < 1.0
        assert not pending.done()
        other.execute("COMMIT")
        await asyncio.wait_for(pending, timeout=5)
        async with store.transaction() as tx:
            assert await tx.get_user("t:1") is not None
    finally:
        if other.in_transaction:
            other.execute("ROLLBACK")
        other.close()
        await store.close()


async def test_turns_during_long_work_on_the_thread_keep_their_order(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "db.sqlite3")
    try:
        # A long read holds the thread; turns meanwhile queue behind it (group commit) and
        # later ones, once it is idle, run on the loop: every write lands, the last one wins.
        slow = asyncio.create_task(
            store.fetch_all(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300000)"
                " SELECT COUNT(*) FROM n"
            )
        )
        await asyncio.sleep(0)

        async def turn(step: int) -> None:
            async with store.transaction() as tx:
                tx.insert_user(person(1))
                tx.save_conversation(ConversationRecord("t:1", "menu", f"s{step}", NOW))

        for step in range(5):
            await turn(step)
        assert await slow == [(300000,)]
        for step in range(5, 10):
            await turn(step)
        rows = await store.fetch_all("SELECT step FROM conversations WHERE user_key = 't:1'")
        assert rows == [("s9",)]
    finally:
        await store.close()

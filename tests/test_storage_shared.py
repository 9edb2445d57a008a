"""Two processes on one database (two stores): leases, order, dedupe and a user's turns."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from storage.errors import DuplicateInbound
from storage.records import ConversationRecord
from storage.sqlite import SqliteStore
from tests.storage_backends import BACKENDS
from tests.test_storage import NOW, notice, user


async def _open(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    if backend == "sqlite":
        return await SqliteStore.open(tmp_path / "shared.sqlite3")
    from storage.postgres.store import PostgresStore

    return await PostgresStore.open(request.getfixturevalue("pg_url"))


@pytest.fixture(params=sorted(BACKENDS))
async def two(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Any, Any]]:
    """Two stores on one database, as two bot processes would hold them."""
    first = await _open(request.param, request, tmp_path)
    second = await _open(request.param, request, tmp_path)
    yield first, second
    await first.close()
    await second.close()


async def test_only_the_lease_holder_records_the_outcome_and_a_lapsed_lease_is_taken_over(
    two: tuple[Any, Any],
) -> None:
    a, b = two
    async with a.transaction() as tx:
        row_id = tx.enqueue(notice(), NOW)
    assert [r.id for r in await a.claim_due_outbox(NOW, 10, 30, ["console"], owner="a")] == [row_id]
    assert await b.claim_due_outbox(NOW, 10, 30, ["console"], owner="b") == []
    assert not await b.mark_sent(row_id, NOW, "x", owner="b")
    # Worker a died: after its lease, b takes the row over, and a late answer from a loses.
    later = NOW + timedelta(seconds=31)
    assert [r.id for r in await b.claim_due_outbox(later, 10, 30, ["console"], owner="b")] == [
        row_id
    ]
    assert not await a.mark_sent(row_id, later, "from-a", owner="a")
    assert not await a.mark_failed(row_id, "late", later, later, owner="a")
    assert await b.mark_sent(row_id, later, "from-b", owner="b")
    row = await a.get_outbox(row_id)
    assert row is not None and row.state == "sent" and row.platform_message_id == "from-b"
    assert row.attempts == 1


async def test_workers_claiming_at_once_never_split_a_chat(two: tuple[Any, Any]) -> None:
    a, b = two
    async with a.transaction() as tx:
        for n in range(4):
            for chat in ("c1", "c2", "c3", "c4", "c5"):
                tx.enqueue(notice(chat=chat, payload={"text": f"{chat}-{n}"}), NOW)
    got_a, got_b = await asyncio.gather(
        a.claim_due_outbox(NOW, 100, 30, ["console"], owner="a"),
        b.claim_due_outbox(NOW, 100, 30, ["console"], owner="b"),
    )
    assert len(got_a) + len(got_b) == 20
    # Each chat's rows went to one worker, oldest first: its messages arrive in order.
    assert not {r.chat_id for r in got_a} & {r.chat_id for r in got_b}
    for rows in (got_a, got_b):
        for chat in {r.chat_id for r in rows}:
            texts = [r.payload["text"] for r in rows if r.chat_id == chat]
            assert texts == [f"{chat}-{n}" for n in range(4)]


async def test_one_redelivery_processed_once_across_processes(two: tuple[Any, Any]) -> None:
    a, b = two

    async def turn(store: Any) -> str:
        try:
            async with store.transaction() as tx:
                tx.claim_inbound("whatsapp", "wamid.1", NOW)
                tx.save_user(user())
        except DuplicateInbound:
            return "duplicate"
        return "processed"

    outcomes = await asyncio.gather(turn(a), turn(b), turn(a), turn(b))
    assert sorted(outcomes) == ["duplicate", "duplicate", "duplicate", "processed"]


async def _waiting_on_advisory_lock(store: Any) -> bool:
    rows = await store.fetch_all(
        "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
    )
    return bool(rows[0][0])


async def test_one_persons_turns_take_turns_across_processes(pg_url: str) -> None:
    from storage.postgres.store import PostgresStore

    a, b = await PostgresStore.open(pg_url), await PostgresStore.open(pg_url)
    try:
        seen_by_b: list[Any] = []

        async def second_turn() -> None:
            async with b.transaction() as tx:
                seen_by_b.append(await tx.load_session(user().key, "telegram", "m2"))

        async with a.transaction() as tx:
            await tx.load_session(user().key, "telegram", "m1")
            tx.claim_inbound("telegram", "m1", NOW)
            tx.save_user(user())
            tx.save_conversation(
                ConversationRecord(user_key=user().key, flow="quiz", step="q2", updated_at=NOW)
            )
            other = asyncio.create_task(second_turn())
            # The second process's turn for the same person waits on the user's lock...
            while not await _waiting_on_advisory_lock(a):
                assert not other.done()
                await asyncio.sleep(0.01)
        await other
        # ...and so starts from what the first turn committed, not from before it.
        (session,) = seen_by_b
        assert session.conversation is not None and session.conversation.step == "q2"
    finally:
        await a.close()
        await b.close()


async def test_processes_starting_together_migrate_once(pg_url: str) -> None:
    from storage.postgres.store import PostgresStore

    stores = await asyncio.gather(*(PostgresStore.open(pg_url) for _ in range(3)))
    try:
        rows = await stores[0].fetch_all(
            "SELECT version, count(*) FROM schema_migrations GROUP BY version"
        )
        assert rows and all(count == 1 for _, count in rows)
        assert [await s.migrate() for s in stores] == [[], [], []]
    finally:
        for store in stores:
            await store.close()


def test_migrate_command_on_postgresql(pg_url: str) -> None:
    import subprocess
    import sys

    def migrate() -> str:
        return subprocess.run(
            [sys.executable, "-m", "bot", "migrate", "--db", pg_url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout

    # Staff read the command's messages in French.
    assert "appliquée" in migrate()
    assert "à jour" in migrate()


async def test_the_store_builder_picks_postgresql_for_its_url(pg_url: str, tmp_path: Path) -> None:
    from bot.store import open_store
    from storage.postgres.store import PostgresStore

    # Through pathlib (the settings type the database as a path) the URL still works.
    for target in (pg_url, Path(pg_url)):
        opened = await open_store(target)
        assert isinstance(opened, PostgresStore)
        await opened.close()
    sqlite = await open_store(tmp_path / "bot.sqlite3")
    assert isinstance(sqlite, SqliteStore)
    await sqlite.close()


async def test_crossed_writes_of_two_processes_roll_one_back_as_stale(pg_url: str) -> None:
    from storage.errors import StaleRecord
    from storage.postgres.store import PostgresStore

    a, b = await PostgresStore.open(pg_url), await PostgresStore.open(pg_url)
    try:
        async with a.transaction() as tx:
            tx.save_user(user("t:1"))
            tx.save_user(user("t:2"))
        both_hold_one = asyncio.Barrier(2)

        async def crossed(store: Any, first: str, second: str) -> str:
            async def rendezvous(conn: Any) -> None:
                await both_hold_one.wait()

            try:
                async with store.transaction() as tx:
                    tx.update_user(first, language="fr")
                    tx.ops.append(rendezvous)  # each holds one row, then wants the other's
                    tx.update_user(second, language="bm")
            except StaleRecord:
                return "stale"
            return "committed"

        outcomes = await asyncio.gather(crossed(a, "t:1", "t:2"), crossed(b, "t:2", "t:1"))
        assert sorted(outcomes) == ["committed", "stale"]
    finally:
        await a.close()
        await b.close()


async def test_postgresql_keeps_processed_message_ids_hashed(pg_url: str) -> None:
    from storage.postgres.store import PostgresStore

    store = await PostgresStore.open(pg_url)
    meta_id = "wamid.HBgLMjIzNzYxMjM0NTY3FQIAEhgg"  # Meta's ids embed the sender's phone
    try:
        async with store.transaction() as tx:
            tx.claim_inbound("whatsapp", meta_id, NOW)
        kept = await store.fetch_all("SELECT message_id FROM processed_inbound")
        assert kept and all("22376" not in row[0] for row in kept)
        async with store.transaction() as tx:
            assert (await tx.load_session("nobody", "whatsapp", meta_id)).seen
    finally:
        await store.close()

"""Operator endpoints (/healthz, /readyz, /metrics) and `civicbot backup`, on real SQLite files."""

from __future__ import annotations

import asyncio
import sqlite3
import subprocess
import sys
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.ops import MeteredEngine, Metrics, add_ops_routes, failure_reason
from content.pack import ContentPack
from handlers.messages import Inbound
from storage.records import NewOutboxMessage
from storage.sqlite import SqliteStore
from tests.conftest import FakeClock


def _server(store: SqliteStore, metrics: Metrics) -> TestServer:
    app = web.Application()
    add_ops_routes(app, store, metrics)
    return TestServer(app)


def _text(clock: FakeClock, user: str, text: str, message_id: str) -> Inbound:
    return Inbound(
        channel="whatsapp",
        user_id=user,
        chat_id=user,
        received_at=clock.now,
        message_id=message_id,
        text=text,
    )


async def test_liveness_and_readiness_on_a_current_database(store: SqliteStore) -> None:
    async with TestClient(_server(store, Metrics())) as client:
        live = await client.get("/healthz")
        assert live.status == 200
        ready = await client.get("/readyz")
        body = await ready.json()
        assert ready.status == 200, body
        assert body["status"] == "ready"
        assert body["schema"] == body["expected_schema"] > 0


async def test_not_ready_while_migrations_are_pending(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "old.sqlite3", migrate=False)
    try:
        async with TestClient(_server(store, Metrics())) as client:
            ready = await client.get("/readyz")
            assert ready.status == 503
            assert (await ready.json())["status"] == "migrations pending"
            # Liveness does not depend on the database: a restart would not help.
            assert (await client.get("/healthz")).status == 200
    finally:
        await store.close()


async def test_not_ready_when_the_database_is_gone(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "gone.sqlite3")
    await store.close()
    async with TestClient(_server(store, Metrics())) as client:
        ready = await client.get("/readyz")
        assert ready.status == 503
        assert (await ready.json())["database"] == "unreachable"


async def test_metrics_count_turns_and_read_the_outbox(
    store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    metrics = Metrics()
    engine = MeteredEngine(store, lambda: pack, metrics=metrics, clock=clock)
    await engine.handle(_text(clock, "22370000001", "bonjour", "m1"))
    await engine.handle(_text(clock, "22370000001", "1", "m2"))
    await engine.handle(_text(clock, "22370000001", "1", "m2"))  # a redelivery: no new turn
    async with store.transaction() as tx:
        tx.enqueue(
            NewOutboxMessage(
                channel="whatsapp",
                chat_id="cso-chat",
                kind="forward",
                payload={"text": "x"},
            ),
            clock.now,
        )
    async with TestClient(_server(store, metrics)) as client:
        page = await client.get("/metrics")
        assert page.status == 200
        assert page.content_type == "text/plain"
        text = await page.text()
    assert 'civicbot_inbound_total{channel="whatsapp"} 3.0' in text
    assert 'civicbot_turn_seconds_count{channel="whatsapp"} 3.0' in text
    assert 'civicbot_outbox_rows{kind="forward",state="pending"} 1.0' in text
    # No message text or phone number leaks into the metrics.
    assert "22370000001" not in text and "bonjour" not in text


def test_failure_reasons_are_short_labels_without_details() -> None:
    assert failure_reason("timeout: no answer after 30 s") == "timeout"
    assert failure_reason("Forbidden: bot was blocked by the user 1234") == "forbidden"
    assert failure_reason("") == "unknown"


async def test_backup_while_the_bot_writes(tmp_path: Path, clock: FakeClock) -> None:
    db = tmp_path / "live.sqlite3"
    store = await SqliteStore.open(db)
    stop = asyncio.Event()

    async def write() -> int:
        count = 0
        while not stop.is_set():
            async with store.transaction() as tx:
                tx.enqueue(
                    NewOutboxMessage(
                        channel="console",
                        chat_id=f"c{count}",
                        kind="notice",
                        payload={"text": "n"},
                    ),
                    clock.now,
                )
            count += 1
            await asyncio.sleep(0)
        return count

    writer = asyncio.create_task(write())
    try:
        await asyncio.sleep(0.2)
        target = tmp_path / "backups" / "copy.sqlite3"
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "bot", "backup", str(target), "--db", str(db)],
            capture_output=True,
            text=True,
            check=False,
        )
        stop.set()
        written = await writer
    finally:
        await store.close()
    assert done.returncode == 0, done.stderr
    assert "Sauvegarde écrite" in done.stdout
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = copy.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
    finally:
        copy.close()
    assert 0 < rows <= written
    assert not (target.parent / "copy.sqlite3.partial").exists()


def test_backup_of_a_missing_database_is_a_clear_error(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "bot", "backup", str(tmp_path / "b.sqlite3"), "--db",
         str(tmp_path / "none.sqlite3")],
        capture_output=True,
        text=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "Base introuvable" in done.stderr
    assert "Traceback" not in done.stderr


def test_backup_of_a_postgresql_database_points_to_pg_dump_and_hides_the_password(
    tmp_path: Path,
) -> None:
    url = "postgresql://civicbot:S3cretPW@db.example:5432/civicbot"
    done = subprocess.run(
        [sys.executable, "-m", "bot", "backup", str(tmp_path / "b.sqlite3"), "--db", url],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "pg_dump" in done.stderr
    assert "db.example/civicbot" in done.stderr
    assert "S3cretPW" not in done.stderr + done.stdout
    assert "Traceback" not in done.stderr
    assert not list(tmp_path.iterdir())  # nothing written, no stray "postgresql:" folder

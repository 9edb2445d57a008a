"""Migrations are numbered without gaps and build the expected schema from empty."""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

from storage.migrations import load_migrations
from storage.sqlite import SqliteStore

EXPECTED = {
    "users": {
        "key",
        "channel",
        "external_id",
        "language",
        "region",
        "commune",
        "age_group",
        "gender",
        "contact_consent",
        "stopped",
        "entry_source",
        "created_at",
        "last_seen_at",
        "last_inbound_at",
    },
    "conversations": {"user_key", "flow", "step", "data", "choices", "updated_at"},
    "processed_inbound": {"channel", "message_id", "processed_at"},
    "outbox": {
        "id",
        "channel",
        "chat_id",
        "user_key",
        "kind",
        "payload",
        "state",
        "attempts",
        "next_attempt_at",
        "locked_until",
        "locked_by",
        "last_error",
        "dedupe_key",
        "platform_message_id",
        "created_at",
        "sent_at",
    },
}


def test_migration_files_are_unique_and_contiguous() -> None:
    names = [
        e.name for e in resources.files("storage.migrations").iterdir() if e.name.endswith(".sql")
    ]
    assert all(re.fullmatch(r"\d{4}_[a-z0-9_]+\.sql", n) for n in names), names
    numbers = sorted(int(n[:4]) for n in names)
    assert numbers == list(range(1, len(numbers) + 1)), "gaps or duplicates in migration numbers"
    assert [m.version for m in load_migrations()] == numbers


async def test_migrations_build_the_schema_from_empty(tmp_path: Path) -> None:
    store = await SqliteStore.open(tmp_path / "empty.sqlite3")
    try:
        tables = {
            row[0]
            for row in await store.fetch_all(
                "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        for table, columns in EXPECTED.items():
            assert table in tables
            found = {row[1] for row in await store.fetch_all(f"PRAGMA table_info({table})")}
            assert columns <= found, (table, columns - found)
        versions = [
            r[0]
            for r in await store.fetch_all("SELECT version FROM schema_migrations ORDER BY version")
        ]
        assert versions == [m.version for m in load_migrations()]
    finally:
        await store.close()


def test_migrate_command(tmp_path: Path) -> None:
    import subprocess
    import sys

    db = tmp_path / "cli.sqlite3"
    first = subprocess.run(
        [sys.executable, "-m", "bot", "migrate", "--db", str(db)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "appliquée" in first.stdout  # staff messages are in French
    second = subprocess.run(
        [sys.executable, "-m", "bot", "migrate", "--db", str(db)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "à jour" in second.stdout

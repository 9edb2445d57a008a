"""The one place that opens the database, for the bot and every command."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.sqlite import SqliteStore


async def open_store(db: str | Path, *, migrate: bool = True) -> SqliteStore:
    """Open the store `db` names (a SQLite path), migrating it unless told not to."""
    if str(db).startswith(("postgresql://", "postgres://")):
        raise ValueError("CIVICBOT_DB: PostgreSQL is not supported by this version yet")
    # Imported here: commands that never touch the database start without aiosqlite.
    from storage.sqlite import SqliteStore

    return await SqliteStore.open(db, migrate=migrate)

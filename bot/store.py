"""The one place that opens the database, for the bot and every command."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from storage.ports import Store

# A URL that went through pathlib (settings and `--db` type it as a Path) lost one slash of its
# '//': both spellings name the same PostgreSQL database.
_POSTGRES = re.compile(r"^(postgres(?:ql)?):/+")


def postgres_url(db: str | Path) -> str | None:
    """The PostgreSQL URL `db` names, or None when it names a SQLite file."""
    text = str(db)
    match = _POSTGRES.match(text)
    return f"{match[1]}://{text[match.end() :]}" if match else None


async def open_store(db: str | Path, *, migrate: bool = True) -> Store:
    """Open the store `db` names (a SQLite path or a postgresql:// URL), migrating it."""
    url = postgres_url(db)
    if url is not None:
        # Imported here: asyncpg is needed only by deployments that name PostgreSQL.
        from storage.postgres.store import PostgresStore

        return await PostgresStore.open(url, migrate=migrate)
    # Imported here: commands that never touch the database start without aiosqlite.
    from storage.sqlite import SqliteStore

    return await SqliteStore.open(db, migrate=migrate)

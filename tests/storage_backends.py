"""The storage backends the contract suite runs against: SQLite, and PostgreSQL.

PostgreSQL runs on a throwaway server (tests/pg_server.py): skipped on a machine without it,
required under CI=true. A test of a port the PostgreSQL store does not implement yet carries
`@pytest.mark.sqlite_only(reason=...)` and runs on SQLite alone.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from storage.sqlite import SqliteStore


async def _sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    return await SqliteStore.open(tmp_path / "contract.sqlite3")


async def _postgresql(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    marker = request.node.get_closest_marker("sqlite_only")
    if marker is not None:
        pytest.skip(f"SQLite only: {marker.kwargs.get('reason', '')}")
    from storage.postgres.store import PostgresStore

    return await PostgresStore.open(request.getfixturevalue("pg_url"))


# name -> how to open an empty, migrated store (a temp dir, or a fresh PostgreSQL database).
BACKENDS: dict[str, Callable[[pytest.FixtureRequest, Path], Awaitable[Any]]] = {
    "sqlite": _sqlite,
    "postgresql": _postgresql,
}


@pytest.fixture(params=sorted(BACKENDS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """A fresh store of each backend in turn."""
    opened = await BACKENDS[request.param](request, tmp_path)
    yield opened
    await opened.close()

"""The storage backends the contract suite runs against (PostgreSQL joins when it exists)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from storage.sqlite import SqliteStore


async def _sqlite(tmp_path: Path) -> Any:
    return await SqliteStore.open(tmp_path / "contract.sqlite3")


# name -> how to open an empty, migrated store in a temporary directory.
BACKENDS: dict[str, Callable[[Path], Awaitable[Any]]] = {"sqlite": _sqlite}


@pytest.fixture(params=sorted(BACKENDS))
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Any]:
    """A fresh store of each backend in turn."""
    opened = await BACKENDS[request.param](tmp_path)
    yield opened
    await opened.close()

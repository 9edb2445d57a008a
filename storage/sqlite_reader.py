"""What the SQLite mixins need from their store: a read in one hand-off (no import circle)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol


class Reader(Protocol):
    """Runs a read query on the store's connection."""

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a read query in one hand-off."""
        ...

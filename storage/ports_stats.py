"""Statistics ports: grouped counts only, never a user key or a name."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from storage.records import SearchGap

Rows = list[tuple[Any, ...]]


class StatsStore(Protocol):
    """Grouped counts for `civicbot stats`, the report and the search gaps."""

    async def stats_rows(
        self, now: datetime, since: datetime | None = None, region: str | None = None
    ) -> dict[str, Rows]:
        """Grouped rows per section; `region` (a P-code) narrows what has a place."""
        ...

    async def search_gaps(self, since: datetime, limit: int) -> list[SearchGap]:
        """The most frequent queries answered badly or not at all since a moment."""
        ...

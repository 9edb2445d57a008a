"""The Open311 port: the public listing of requests, filtered and paged by the store."""

from __future__ import annotations

from typing import Protocol

from storage.open311_records import PublicQuery, PublicRow


class PublicRequests(Protocol):
    """The public Open311 listing: filtered, ordered and paged by the store."""

    async def public_requests(self, query: PublicQuery) -> list[PublicRow]:
        """Complaints matching the query, newest first, one page."""
        ...

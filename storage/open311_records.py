"""What the public Open311 listing asks the store, and what it gets back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.records import ComplaintRecord


@dataclass(frozen=True, slots=True)
class PublicQuery:
    """A page of complaints: by references, or by window, statuses and categories."""

    start: datetime
    end: datetime
    limit: int
    offset: int = 0
    references: tuple[str, ...] | None = None  # when given, every other filter is ignored
    statuses: tuple[str, ...] | None = None
    categories: tuple[str, ...] | None = None
    hidden_categories: tuple[str, ...] = ()  # never listed, whatever the filter


@dataclass(frozen=True, slots=True)
class PublicRow:
    """A complaint with the CSOs it is with and the latest note published for it."""

    record: ComplaintRecord
    partners: tuple[str, ...]
    note: str | None

    def __repr__(self) -> str:
        return f"PublicRow({self.record.reference})"

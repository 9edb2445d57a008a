"""Translation coverage: reviewed, draft and missing texts per language and per file."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from content.units import Unit

STATUSES = ("reviewed", "draft", "missing")


@dataclass(frozen=True, slots=True)
class Row:
    """The counts of one file (or of the whole pack) in one language."""

    file: str
    reviewed: int
    draft: int
    missing: int

    @property
    def total(self) -> int:
        """Every French text of the file."""
        return self.reviewed + self.draft + self.missing

    def __str__(self) -> str:
        return (
            f"{self.file}: {self.reviewed} reviewed, {self.draft} draft, "
            f"{self.missing} missing (of {self.total})"
        )


def coverage(units: Iterable[Unit]) -> list[Row]:
    """One row per file in order, then the total (`file` = "all")."""
    per_file: dict[str, Counter[str]] = {}
    for unit in units:
        per_file.setdefault(unit.file, Counter())[unit.status] += 1
    total: Counter[str] = Counter()
    rows = []
    for file, counts in per_file.items():
        total.update(counts)
        rows.append(Row(file, *(counts[s] for s in STATUSES)))
    rows.append(Row("all", *(total[s] for s in STATUSES)))
    return rows

"""Which partner organisations receive a complaint, by place and category."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Coverage:
    """The area and categories one partner handles; empty categories mean every category."""

    partner_id: str
    regions: frozenset[str] = frozenset()
    cercles: frozenset[str] = frozenset()
    communes: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    # The fallback desk receives what no partner covers; it never competes with partners.
    desk: bool = False


@dataclass(frozen=True, slots=True)
class Place:
    """Where a complaint happened, as OCHA P-codes (ML010101, ML0101, ML01)."""

    commune: str
    cercle: str
    region: str


def specificity(coverage: Coverage, place: Place) -> int | None:
    """How closely a coverage matches a place: 3 commune .. 0 national, None if not covered."""
    if place.commune in coverage.communes:
        return 3
    if place.cercle in coverage.cercles:
        return 2
    if place.region in coverage.regions:
        return 1
    has_area = bool(coverage.communes or coverage.cercles or coverage.regions)
    if not has_area and not coverage.desk:
        return 0
    return None


def _unique(ids: Iterable[str]) -> list[str]:
    # A partner may have several coverage rows; it must still be notified once.
    return list(dict.fromkeys(ids))


def route(place: Place, category: str, coverages: Sequence[Coverage]) -> list[str]:
    """Return the partner ids to notify: the most local matches, else every desk."""
    best: int | None = None
    chosen: list[str] = []
    for coverage in coverages:
        if coverage.desk:
            continue
        if coverage.categories and category not in coverage.categories:
            continue
        level = specificity(coverage, place)
        if level is None:
            continue
        if best is None or level > best:
            best, chosen = level, [coverage.partner_id]
        elif level == best:
            chosen.append(coverage.partner_id)
    if chosen:
        return _unique(chosen)
    return _unique(c.partner_id for c in coverages if c.desk)

"""The communes of the pack (OCHA P-codes), found by name or by position."""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from rapidfuzz import fuzz, process

from content.text import fold


@dataclass(frozen=True, slots=True)
class Commune:
    """One commune with its cercle, region and centroid."""

    pcode: str
    name: str
    cercle: str
    cercle_pcode: str
    region: str
    region_pcode: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Region:
    """A region (pre-2023 layout of the OCHA data)."""

    pcode: str
    name: str


_ROMAN = {"1": "i", "2": "ii", "3": "iii", "4": "iv", "5": "v", "6": "vi"}
_BAMAKO = re.compile(r"^(?:bamako\s+)?(?:commune|cne|c)\s*([1-6]|i{1,3}|iv|vi?)$")


def _bamako(query: str) -> str:
    """'commune 4', 'bamako c4', 'cne IV' -> 'commune iv', the data's name for Bamako's."""
    found = _BAMAKO.match(query)
    if not found:
        return query
    number = found[1]
    return f"commune {_ROMAN.get(number, number)}"


class CommuneIndex:
    """Name and position look-ups over every commune."""

    def __init__(self, communes: Sequence[Commune]) -> None:
        self.communes = tuple(communes)
        self.by_pcode = {c.pcode: c for c in self.communes}
        seen: dict[str, Region] = {}
        for c in self.communes:
            seen.setdefault(c.region_pcode, Region(c.region_pcode, c.region))
        self.regions = tuple(sorted(seen.values(), key=lambda r: r.pcode))
        # "Kayes Commune" is how the data names a chef-lieu; people just type "Kayes".
        self._folded = [fold(c.name.removesuffix(" Commune")) for c in self.communes]
        self._full = [fold(c.name) for c in self.communes]

    @classmethod
    def load(cls, path: Path) -> CommuneIndex:
        """Read the communes CSV of a pack."""
        with path.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        return cls(
            [
                Commune(
                    pcode=row["commune_pcode"],
                    name=row["commune"],
                    cercle=row["cercle"],
                    cercle_pcode=row["cercle_pcode"],
                    region=row["region"],
                    region_pcode=row["region_pcode"],
                    lat=float(row["centroid_lat"]),
                    lon=float(row["centroid_lon"]),
                )
                for row in rows
            ]
        )

    def region(self, pcode: str) -> Region | None:
        """Find a region by P-code."""
        return next((r for r in self.regions if r.pcode == pcode), None)

    def match(
        self, typed: str, region_pcode: str | None = None, limit: int = 3
    ) -> list[tuple[Commune, float]]:
        """Best communes for a typed name, tolerant of typos and missing accents."""
        query = _bamako(fold(typed))
        if not query:
            return []
        candidates = {
            i: name
            for i, name in enumerate(self._folded)
            if region_pcode is None or self.communes[i].region_pcode == region_pcode
        }
        exact = [i for i in candidates if query in (self._folded[i], self._full[i])]
        if exact:
            return [(self.communes[i], 100.0) for i in exact[:limit]]
        found = process.extract(query, candidates, scorer=fuzz.WRatio, limit=limit, score_cutoff=70)
        return [(self.communes[i], float(score)) for _, score, i in found]

    def nearest(self, lat: float, lon: float) -> Commune:
        """The commune whose centroid is closest to a point."""

        def distance(c: Commune) -> float:
            dlat = math.radians(c.lat - lat)
            dlon = math.radians(c.lon - lon) * math.cos(math.radians(lat))
            return dlat * dlat + dlon * dlon

        return min(self.communes, key=distance)

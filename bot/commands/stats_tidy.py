"""`civicbot stats --format tidy-csv`: one row per figure, to pivot in Excel or map to DHIS2.

Each row is one data value: the indicator, what it is broken down by (`total`, or
`dimension=value`), the place it is about (OCHA P-code and name), the period it covers, the
value, and whether the value was suppressed (too few people to show it).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from dataclasses import astuple, dataclass
from typing import Any, TextIO

from content.communes import CommuneIndex

HEADER = (
    "indicator",
    "breakdown",
    "pcode",
    "name",
    "period_start",
    "period_end",
    "value",
    "suppressed",
)
_PCODE = re.compile(r"^ML\d{2}(\d{2}(\d{2})?)?$")
COUNTRY = ("ML", "Mali")


@dataclass(frozen=True, slots=True)
class TidyRow:
    """One data value."""

    indicator: str
    breakdown: str
    pcode: str
    name: str
    period_start: str
    period_end: str
    value: float | int | None
    suppressed: bool


class _Rows:
    """Builds rows with the period and default place shared by every figure."""

    def __init__(self, figures: Mapping[str, Any], communes: CommuneIndex) -> None:
        self.communes = communes
        self.start = str(figures.get("since") or "")
        self.end = str(figures.get("generated") or "")[:10]
        region = figures.get("region")
        self.place = (region, self.place_name(region)) if region else COUNTRY

    def place_name(self, pcode: str) -> str:
        """The name of a region, cercle or commune by its P-code ('' when unknown)."""
        commune = self.communes.by_pcode.get(pcode)
        if commune is not None:
            return commune.name
        region = self.communes.region(pcode)
        if region is not None:
            return region.name
        cercle = next((c for c in self.communes.communes if c.cercle_pcode == pcode), None)
        return cercle.cercle if cercle else ""

    def row(
        self,
        indicator: str,
        value: Any,
        breakdown: str = "total",
        place: tuple[str, str] | None = None,
        period: tuple[str, str] | None = None,
    ) -> TidyRow:
        """A data value; None means suppressed."""
        pcode, name = place or self.place
        start, end = period or (self.start, self.end)
        number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
        return TidyRow(indicator, breakdown, pcode, name, start, end, number, number is None)

    def by(self, indicator: str, dimension: str, values: Mapping[str, Any]) -> Iterator[TidyRow]:
        """A breakdown: places by P-code, other dimensions as `dimension=value`."""
        for key, value in values.items():
            if _PCODE.match(key):
                yield self.row(indicator, value, dimension, (key, self.place_name(key)))
            else:
                yield self.row(indicator, value, f"{dimension}={key}")


def tidy_rows(figures: Mapping[str, Any], communes: CommuneIndex) -> list[TidyRow]:
    """Every figure of `civicbot stats` as tidy data values."""
    rows = _Rows(figures, communes)
    out: list[TidyRow] = []
    users = figures.get("users", {})
    for metric in ("total", "new", "new_7d", "new_30d", "active_7d", "active_30d"):
        if metric in users:
            out.append(rows.row(f"users.{metric}", users[metric]))
    for dimension in ("region", "gender", "age_group"):
        for metric, values in users.get(f"by_{dimension}", {}).items():
            out.extend(rows.by(f"users.{metric}", dimension, values))
    out.extend(rows.by("users.total", "entry_source", figures.get("entry_sources", {})))
    articles = figures.get("articles", {})
    for metric in ("reads", "readers_by_article_total"):
        if metric in articles:
            out.append(rows.row(f"articles.{metric}", articles[metric]))
    for item in articles.get("most_read", []):
        out.append(rows.row("articles.readers", item["readers"], f"article={item['article']}"))
    for metric, value in figures.get("searches", {}).items():
        out.append(rows.row(f"searches.{metric}", value))
    out.extend(_quizzes(rows, figures.get("quizzes", {})))
    out.extend(_complaints(rows, figures.get("complaints", {})))
    out.extend(_barometer(rows, figures.get("barometer", {})))
    return out


def _quizzes(rows: _Rows, quizzes: Mapping[str, Any]) -> Iterator[TidyRow]:
    for metric in ("taken", "average_score", "answers", "share_right"):
        if metric in quizzes:
            yield rows.row(f"quizzes.{metric}", quizzes[metric])
    for gender, values in quizzes.get("by_gender", {}).items():
        for metric, value in values.items():
            yield rows.row(f"quizzes.{metric}", value, f"gender={gender}")
    yield from rows.by("quizzes.share_right", "gender", quizzes.get("share_right_by_gender", {}))


def _complaints(rows: _Rows, complaints: Mapping[str, Any]) -> Iterator[TidyRow]:
    for metric, value in complaints.items():
        if metric.startswith("by_"):
            yield from rows.by("complaints.total", metric.removeprefix("by_"), value)
        else:
            yield rows.row(f"complaints.{metric}", value)


def _barometer(rows: _Rows, barometer: Mapping[str, Any]) -> Iterator[TidyRow]:
    for metric in ("rounds", "respondents"):
        if metric in barometer:
            yield rows.row(f"barometer.{metric}", barometer[metric])
    for item in barometer.get("by_round", []):
        period = (item["opens"], item["closes"])
        breakdown = f"round={item['round']}"
        yield rows.row("barometer.respondents", item["respondents"], breakdown, period=period)
        for pcode, commune in item.get("communes", {}).items():
            place = (pcode, rows.place_name(pcode))
            yield rows.row(
                "barometer.respondents", commune["respondents"], breakdown, place, period
            )
            for criterion, average in commune.get("averages", {}).items():
                yield rows.row(
                    "barometer.average",
                    average,
                    f"{breakdown};criterion={criterion}",
                    place,
                    period,
                )


def write_tidy(figures: Mapping[str, Any], communes: CommuneIndex, out: TextIO) -> None:
    """The tidy CSV: a header, then one line per data value (suppressed ones empty)."""
    writer = csv.writer(out)
    writer.writerow(HEADER)
    for row in tidy_rows(figures, communes):
        values = list(astuple(row))
        values[6] = "" if row.value is None else row.value
        values[7] = "true" if row.suppressed else "false"
        writer.writerow(values)

"""The programme's figures from grouped rows: totals, breakdowns, medians, shares. Pure.

Every count, average, median or share about fewer than MIN_CELL people is None: with so few,
a figure could point at someone (a woman of 60+ in a small commune who filed a complaint).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from statistics import median
from typing import Any

from reports.cells import MIN_CELL, suppress

TOP_ARTICLES = 10

Rows = Sequence[Sequence[Any]]


def cell(count: int | float | None) -> int | None:
    """A count, or None when it is under MIN_CELL (zero included)."""
    if count is None or count < MIN_CELL:
        return None
    return int(count)


def share(part: float, whole: float) -> float | None:
    """part/whole rounded, or None when the whole is too small to show."""
    return round(part / whole, 3) if whole >= MIN_CELL else None


def mean_of(total: float, count: int) -> float | None:
    """An average, or None over fewer than MIN_CELL people."""
    return round(total / count, 3) if count >= MIN_CELL else None


def median_of(values: Iterable[float | None]) -> float | None:
    """The median in days, or None over fewer than MIN_CELL values."""
    found = [v for v in values if v is not None]
    return round(median(found), 2) if len(found) >= MIN_CELL else None


def _breakdown(counter: Mapping[str, int]) -> dict[str, int | None]:
    # '' is "not given": people may skip every profile question.
    counts: Counter[str] = Counter()
    for key, n in counter.items():
        counts[key or "unknown"] += n
    # Hidden cells must not be recoverable from the total: complementary suppression.
    return suppress(dict(sorted(counts.items())))


def users(rows: Rows) -> dict[str, Any]:
    """rows: (region, gender, age group, all, new since, new 7d, new 30d, active 7d, 30d)."""
    metrics = ("total", "new", "new_7d", "new_30d", "active_7d", "active_30d")
    totals: Counter[str] = Counter()
    by: dict[str, dict[str, Counter[str]]] = {
        dim: {m: Counter() for m in metrics} for dim in ("region", "gender", "age_group")
    }
    for row in rows:
        keys = {"region": row[0], "gender": row[1], "age_group": row[2]}
        for n, metric in enumerate(metrics):
            value = int(row[3 + n] or 0)
            totals[metric] += value
            for dim, key in keys.items():
                by[dim][metric][key] += value
    return {
        **{metric: cell(totals[metric]) for metric in metrics},
        **{
            f"by_{dim}": {metric: _breakdown(counts) for metric, counts in per.items()}
            for dim, per in by.items()
        },
    }


def articles(rows: Rows) -> dict[str, Any]:
    """rows: (article id, readers, reads)."""
    readers = sum(int(r[1]) for r in rows)
    shown = suppress({str(r[0]): int(r[1]) for r in rows})
    ranked = sorted(
        ((article, n) for article, n in shown.items() if n is not None),
        key=lambda item: (-item[1], item[0]),
    )
    return {
        "reads": cell(sum(int(r[2]) for r in rows)),
        "readers_by_article_total": cell(readers),
        "most_read": [{"article": a, "readers": n} for a, n in ranked[:TOP_ARTICLES]],
    }


def searches(rows: Rows) -> dict[str, Any]:
    """rows: (outcome, count)."""
    counts = {r[0]: int(r[1]) for r in rows}
    total = sum(counts.values())
    return {
        "total": cell(total),
        "share_unanswered": share(counts.get("none", 0), total),
        "share_uncertain": share(counts.get("uncertain", 0), total),
    }


def quizzes(results: Rows, answers: Rows) -> dict[str, Any]:
    """results: (gender, quizzes finished, sum of score shares); answers: (gender, n, right)."""
    taken = sum(int(r[1]) for r in results)
    score = sum(float(r[2] or 0) for r in results)
    answered = sum(int(r[1]) for r in answers)
    right = sum(int(r[2] or 0) for r in answers)
    ordered = sorted(results, key=lambda r: str(r[0]))
    taken_by = _breakdown(Counter({str(r[0] or ""): int(r[1]) for r in ordered}))
    answers_by = _breakdown(Counter({str(r[0] or ""): int(r[1]) for r in answers}))
    return {
        "taken": cell(taken),
        "average_score": mean_of(score, taken),
        "by_gender": {
            (r[0] or "unknown"): {
                "taken": taken_by[r[0] or "unknown"],
                "average_score": mean_of(float(r[2] or 0), int(r[1]))
                if taken_by[r[0] or "unknown"] is not None
                else None,
            }
            for r in ordered
        },
        "answers": cell(answered),
        "share_right": share(right, answered),
        "share_right_by_gender": {
            (r[0] or "unknown"): share(r[2] or 0, r[1])
            if answers_by[r[0] or "unknown"] is not None
            else None
            for r in sorted(answers, key=lambda r: str(r[0]))
        },
    }


def complaints(groups: Rows, times: Rows) -> dict[str, Any]:
    """groups: (commune, category, status, n); times: (days to ack, days to resolve,
    reopened, was resolved)."""
    by: dict[str, Counter[str]] = defaultdict(Counter)
    for commune, category, status, n in groups:
        by["commune"][commune] += n
        by["category"][category] += n
        by["status"][status] += n
    resolved_once = sum(1 for t in times if t[3])
    return {
        "total": cell(sum(int(g[3]) for g in groups)),
        **{f"by_{dim}": _breakdown(by[dim]) for dim in ("commune", "category", "status")},
        "median_days_to_acknowledge": median_of(t[0] for t in times),
        "median_days_to_resolve": median_of(t[1] for t in times),
        "share_reopened": share(sum(1 for t in times if t[2]), resolved_once),
    }


def barometer(rounds: Rows, responses: Rows, region: str | None = None) -> dict[str, Any]:
    """rounds: (id, communes JSON, status, results JSON, opens, closes); responses: (round,
    commune, n). Scores come from the results frozen at close, already suppressed."""
    per_round: dict[str, Counter[str]] = defaultdict(Counter)
    for round_id, commune, n in responses:
        per_round[round_id][commune] += n
    listed = []
    for round_id, communes, status, results, opens, closes in rounds:
        places = [c for c in json.loads(communes) if not region or c.startswith(region)]
        if not places:
            continue
        frozen = json.loads(results) if results else {}
        hidden = suppress({commune: per_round[round_id][commune] for commune in places})
        listed.append(
            {
                "round": round_id,
                "status": status,
                "opens": opens[:10],
                # Answers close at midnight after the last day: people read the last day.
                "last_day": (date.fromisoformat(closes[:10]) - timedelta(days=1)).isoformat(),
                "respondents": cell(sum(per_round[round_id].values())),
                "communes": {
                    commune: {
                        "respondents": hidden[commune],
                        "averages": {
                            cid: c["average"]
                            for cid, c in frozen.get(commune, {}).get("criteria", {}).items()
                        },
                    }
                    for commune in places
                },
            }
        )
    return {
        "rounds": len(listed),
        "respondents": cell(sum(sum(c.values()) for c in per_round.values())),
        "by_round": listed,
    }


def build(
    raw: Mapping[str, Rows], *, generated: str, since: str | None, region: str | None
) -> dict[str, Any]:
    """Every figure of `civicbot stats` and the report, from the store's grouped rows."""
    return {
        "generated": generated,
        "since": since,
        "region": region,
        "min_cell": MIN_CELL,
        "users": users(raw["users"]),
        "entry_sources": _breakdown(Counter({r[0]: int(r[1]) for r in raw["entry"]})),
        "articles": articles(raw["articles"]),
        "searches": searches(raw["searches"]),
        "quizzes": quizzes(raw["quizzes"], raw["quiz_answers"]),
        "complaints": complaints(raw["complaints"], raw["complaint_times"]),
        "barometer": barometer(raw["barometer_rounds"], raw["barometer_responses"], region),
    }


def flatten(figures: Mapping[str, Any], prefix: str = "") -> list[tuple[str, Any]]:
    """(dotted path, value) for every leaf: the CSV form (None is written empty)."""
    out: list[tuple[str, Any]] = []
    for key, value in figures.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            out += flatten(value, path + ".")
        elif isinstance(value, list) and value and isinstance(value[0], Mapping):
            for n, item in enumerate(value):
                out += flatten(item, f"{path}.{n}.")
        else:
            out.append((path, value))
    return out

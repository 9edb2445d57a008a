"""Scoring a barometer round per commune and criterion, with small groups suppressed. Pure."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import fmean
from typing import Any

from reports.cells import MIN_CELL, suppress

# Below this many respondents a group shows no average or distribution: it could name people.
MIN_RESPONDENTS = MIN_CELL  # one threshold for chat, stats, report and exports
SCALE = range(1, 6)


@dataclass(frozen=True, slots=True)
class Response:
    """One person's answer set: their commune and a score 1..5 per question id answered."""

    commune: str
    answers: Mapping[str, int]


Criteria = Sequence[tuple[str, Sequence[str]]]
"""(criterion id, its question ids), in scorecard order."""


def _distribution(counts: list[int]) -> list[int | None]:
    """How many gave each score: a score given by 1 to 4 people is hidden, with company."""
    cells = suppress({str(n): c for n, c in enumerate(counts) if c})
    return [0 if not c else cells[str(n)] for n, c in enumerate(counts)]


def _criterion(
    responses: Sequence[Response], questions: Sequence[str], previous: float | None
) -> dict[str, Any]:
    # A person's criterion score is the mean of their answers to its questions, so a
    # criterion with three questions does not weigh its respondents three times.
    means: list[float] = []
    distribution = [0] * len(SCALE)
    for response in responses:
        scores = [response.answers[q] for q in questions if response.answers.get(q) in SCALE]
        if scores:
            means.append(fmean(scores))
            for score in scores:
                distribution[score - 1] += 1
    shown = len(means) >= MIN_RESPONDENTS
    average = round(fmean(means), 2) if shown else None
    return {
        "respondents": len(means),
        "average": average,
        "distribution": _distribution(distribution) if shown else None,
        "previous": previous,
        "change": round(average - previous, 2)
        if average is not None and previous is not None
        else None,
    }


def score_round(
    responses: Sequence[Response],
    criteria: Criteria,
    previous: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Results per commune: respondents, and per criterion respondents, average, distribution
    (both None under MIN_RESPONDENTS), the previous round's average and the change.

    `previous` is an earlier round's results (this function's output) for the same communes.
    """
    by_commune: dict[str, list[Response]] = defaultdict(list)
    for response in responses:
        by_commune[response.commune].append(response)
    results: dict[str, dict[str, Any]] = {}
    for commune in sorted(by_commune):
        group = by_commune[commune]
        before = (previous or {}).get(commune, {}).get("criteria", {})
        results[commune] = {
            "respondents": len(group),
            "criteria": {
                cid: _criterion(group, questions, before.get(cid, {}).get("average"))
                for cid, questions in criteria
            },
        }
    return results


def previous_results(
    rounds: Sequence[tuple[Sequence[str], Mapping[str, Any] | None]], communes: Sequence[str]
) -> dict[str, Any]:
    """For each commune, the results of the most recent earlier round that had it.

    `rounds`: (communes, results) of closed rounds, newest first.
    """
    found: dict[str, Any] = {}
    for round_communes, results in rounds:
        for commune in communes:
            if results is None or commune in found or commune not in round_communes:
                continue
            if commune in results:
                found[commune] = results[commune]
    return found

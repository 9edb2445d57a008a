"""Playing a quiz: seeded shuffles, scoring, results and leaderboards. Pure."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass


def option_order(seed: int, position: int, count: int) -> list[int]:
    """The order options are shown in for one question: stable for a session, varied across."""
    order = list(range(count))
    random.Random(seed * 1_000_003 + position).shuffle(order)
    return order


@dataclass(frozen=True, slots=True)
class Standing:
    """One line of a leaderboard."""

    pseudonym: str
    score: int
    total: int


@dataclass(frozen=True, slots=True)
class GroupResult:
    """What a group sees at the end: the average, and only those who agreed, by pseudonym."""

    players: int
    average: float
    board: tuple[Standing, ...]
    # False when too few played: the average (and the board beside it) would give away
    # the score of someone who did not agree to appear.
    shown: bool = True


# Players off the board needed before the average is shown: with fewer, one of them could
# take the board's scores and her own from the total and find another's.
MIN_UNLISTED = 3


def group_result(
    scores: Sequence[tuple[int, int]], listed: Sequence[tuple[str, int, int]], top: int = 10
) -> GroupResult:
    """`scores`: (score, total) of every player; `listed`: (pseudonym, score, total) of those
    who agreed to appear. Others count in the average but are never named."""
    players = len(scores)
    average = sum(s / t for s, t in scores if t) / players * 100 if players else 0.0
    board = sorted(
        (Standing(name, score, total) for name, score, total in listed),
        key=lambda s: (-(s.score / s.total if s.total else 0), s.pseudonym),
    )
    unlisted = players - len(listed)
    if 0 < unlisted < MIN_UNLISTED:
        return GroupResult(players, 0.0, (), shown=False)
    return GroupResult(players, average, tuple(board[:top]))


def suppress_small(count: int, minimum: int = 5) -> int | None:
    """A statistic about fewer than `minimum` people is not shown: it could name them."""
    return count if count >= minimum else None

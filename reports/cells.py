"""Small cells: one threshold for chat, stats, report and exports, and complementary hiding.

A count about fewer than MIN_CELL people is hidden. Hiding one cell is not enough when its
total is shown: 14 complaints, 10 "submitted" and one hidden status give the hidden one away.
So more cells are hidden (the smallest shown ones) until what is hidden is either nobody, or
at least two cells that together hold at least MIN_CELL people. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping

MIN_CELL = 5


def small(count: float) -> bool:
    """Whether a count is too small to show (zero included: 'nobody' is hidden as well)."""
    return count < MIN_CELL


def suppress(counts: Mapping[str, int]) -> dict[str, int | None]:
    """The cells of one breakdown whose total is shown, None where hidden (see module doc)."""
    hidden = {key for key, n in counts.items() if small(n)}
    shown = sorted((n, key) for key, n in counts.items() if key not in hidden)

    def recoverable() -> bool:
        total = sum(counts[key] for key in hidden)
        # Hidden zeros tell nothing about anyone: only hidden people need the company.
        return total > 0 and (len(hidden) == 1 or small(total))

    while recoverable() and shown:
        # Hide the smallest shown cell too: it costs the least information.
        hidden.add(shown.pop(0)[1])
    return {key: (None if key in hidden else int(n)) for key, n in counts.items()}


def hidden_total(cells: Mapping[str, int | None], counts: Mapping[str, int]) -> int:
    """How many people are behind the hidden cells (for tests and notes, never shown alone)."""
    return sum(counts[key] for key, value in cells.items() if value is None)

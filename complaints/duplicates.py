"""Spot complaints that probably describe the same problem, to offer joining them."""

from __future__ import annotations

from collections.abc import Sequence

from rapidfuzz import fuzz

from content.text import fold

# Below this many words a description is too vague to be matched loosely.
_SHORT_WORDS = 3
_SHORT_THRESHOLD = 0.9


def similarity(a: str, b: str) -> float:
    """Return 0..1, how alike two descriptions are (token set ratio of the folded texts)."""
    fa, fb = fold(a), fold(b)
    if not fa or not fb:
        return 0.0
    return fuzz.token_set_ratio(fa, fb) / 100


def _score(folded: str, other: str, threshold: float) -> float | None:
    """Return the score of `other` against the folded description, or None below the bar."""
    fo = fold(other)
    if not folded or not fo:
        return None
    if len(folded.split()) < _SHORT_WORDS or len(fo.split()) < _SHORT_WORDS:
        # token_set_ratio scores 1.0 whenever one text's words are a subset of the other's,
        # so "panne" would match every complaint mentioning "panne". Short texts are compared
        # whole instead (word order still ignored), against a higher bar.
        score = fuzz.token_sort_ratio(folded, fo) / 100
        needed = max(threshold, _SHORT_THRESHOLD)
    else:
        score = fuzz.token_set_ratio(folded, fo) / 100
        needed = threshold
    return score if score >= needed else None


def find_similar(
    description: str,
    candidates: Sequence[tuple[str, str]],
    threshold: float = 0.7,
    limit: int = 3,
) -> list[str]:
    """Return the ids of the (id, description) candidates most like `description`, best first."""
    folded = fold(description)
    scored: list[tuple[float, int, str]] = []
    for index, (candidate_id, text) in enumerate(candidates):
        score = _score(folded, text, threshold)
        if score is not None:
            scored.append((score, index, candidate_id))
    # Best first; equal scores keep the order the candidates came in.
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [candidate_id for _, _, candidate_id in scored[: max(limit, 0)]]

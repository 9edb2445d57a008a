"""Complaint references: short, random, and easy to read aloud or type on a phone."""

from __future__ import annotations

import random
import re

# No 0/O and no 1/I/L: a reference read over the phone or copied by hand cannot be misread.
ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
_LENGTH = 8
_HALF = _LENGTH // 2
# Spaces (any kind), dashes (phones turn "-" into en/em dashes) and dots people put between groups.
_SEPARATORS = re.compile(r"[\s.\-\u2010-\u2015\u2212]+")
_ALLOWED = frozenset(ALPHABET)


def new_reference(rng: random.Random) -> str:
    """Return a fresh reference "XXXX-XXXX" drawn from `rng` (production: SystemRandom)."""
    # Random rather than sequential, so one reference does not reveal how to guess another.
    chars = "".join(rng.choice(ALPHABET) for _ in range(_LENGTH))
    return f"{chars[:_HALF]}-{chars[_HALF:]}"


def normalize_reference(text: str) -> str | None:
    """Return the canonical "XXXX-XXXX" for what a user typed, or None if it is not one."""
    compact = _SEPARATORS.sub("", text).upper()
    # Look-alikes (O, I, L, 0, 1) are refused, not guessed: a wrong guess could reveal
    # someone else's complaint.
    if len(compact) != _LENGTH or not set(compact) <= _ALLOWED:
        return None
    return f"{compact[:_HALF]}-{compact[_HALF:]}"

"""Small helpers shared by flows."""

from __future__ import annotations

import hashlib


def pseudonym_key(user_key: str) -> str:
    """A short stable token standing for a user in button ids, revealing nothing about them."""
    return hashlib.blake2s(user_key.encode(), digest_size=5).hexdigest()

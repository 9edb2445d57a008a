"""Small helpers shared by flows."""

from __future__ import annotations

import hashlib
import secrets

# A key drawn at start-up: without it, a hash of `whatsapp:<phone>` could be reversed by
# trying every phone number. Tokens therefore change with each restart, which is all that
# logs and short-lived buttons need.
_KEY = secrets.token_bytes(16)


def pseudonym_key(user_key: str) -> str:
    """A short token standing for a user in logs and button ids, revealing nothing about them."""
    return hashlib.blake2s(user_key.encode(), digest_size=5, key=_KEY).hexdigest()

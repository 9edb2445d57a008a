"""Outbox row ids that sort by the moment they were made."""

from __future__ import annotations

import random
import time


def new_outbox_id() -> str:
    """32 hex digits: nanoseconds since 1970, then 64 random bits.

    A random id (uuid4) put each new row's index entry, and each deletion once it was sent,
    on a page of its own, rewritten in full at every commit; ids made one after another
    share the index's last page, so a batch of replies writes it once (bench/telegram.py).
    """
    # Not a secret (nothing is reached by knowing it): the fast generator is enough.
    return f"{time.time_ns():016x}{random.getrandbits(64):016x}"

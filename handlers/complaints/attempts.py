"""Attempts at guessing something (link codes) limited per chat and in total."""

from __future__ import annotations

from collections import deque
from datetime import datetime, timedelta


class AttemptLimiter:
    """At most `per_key` tries per key and `total` tries overall within `window`."""

    def __init__(self, per_key: int, total: int, window: timedelta) -> None:
        self._per_key = per_key
        self._total = total
        self._window = window
        self._keys: dict[str, deque[datetime]] = {}
        self._all: deque[datetime] = deque()

    def allow(self, key: str, now: datetime) -> bool:
        """Record a try and say whether it may go ahead."""
        since = now - self._window
        while self._all and self._all[0] <= since:
            self._all.popleft()
        if len(self._keys) > 10_000:
            self._keys = {k: v for k, v in self._keys.items() if v and v[-1] > since}
        tries = self._keys.setdefault(key, deque())
        while tries and tries[0] <= since:
            tries.popleft()
        if len(tries) >= self._per_key or len(self._all) >= self._total:
            return False
        tries.append(now)
        self._all.append(now)
        return True

"""Per-key asyncio locks that are dropped as soon as nobody holds or waits for them."""

from __future__ import annotations

import asyncio
from types import TracebackType


class KeyedLocks:
    """One lock per user key; the table only holds keys in use, so it cannot grow unbounded."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    def hold(self, key: str) -> Held:
        """Hold the lock for `key` for the duration of an `async with` block."""
        return Held(self._locks, key)


class Held:
    """One `async with` on one key's lock (a class: held three times per update, and a
    generator-based context manager cost more than the lock itself)."""

    __slots__ = ("_key", "_lock", "_table")

    def __init__(self, table: dict[str, tuple[asyncio.Lock, int]], key: str) -> None:
        self._table = table
        self._key = key
        self._lock: asyncio.Lock | None = None

    async def __aenter__(self) -> None:
        entry = self._table.get(self._key)
        lock, users = entry if entry is not None else (asyncio.Lock(), 0)
        self._table[self._key] = (lock, users + 1)
        try:
            await lock.acquire()
        except BaseException:  # cancelled while waiting: no longer a user of the lock
            self._leave()
            raise
        self._lock = lock

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if self._lock is not None:
            self._lock.release()
            self._lock = None
        self._leave()

    def _leave(self) -> None:
        lock, users = self._table[self._key]
        if users == 1:
            del self._table[self._key]
        else:
            self._table[self._key] = (lock, users - 1)

"""Work that must run in one process of the deployment: whichever holds the leader lock.

Every process contends for the lock every few seconds; the one holding it runs the timers
and Telegram long polling. Its lock is a PostgreSQL session lock that dies with its
connection, so when the leader dies another process leads within seconds. On SQLite the
single process always leads.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Sequence
from typing import Any

from storage.ports_deploy import LeaderLock

log = logging.getLogger(__name__)

# How often a follower tries the lock, and a leader checks it still holds it.
RETRY_SECONDS = 2.0
# How long a resigning leader's work may take to stop before it is cancelled.
STOP_SECONDS = 10.0

# A piece of leader work: runs until the event it is given is set.
Work = Callable[[asyncio.Event], Coroutine[Any, Any, None]]


class Leadership:
    """Runs the leader's work while this process holds the lock, and only then."""

    def __init__(
        self, lock: LeaderLock, work: Sequence[tuple[str, Work]], every: float = RETRY_SECONDS
    ) -> None:
        self._lock = lock
        self._work = list(work)
        self._every = every
        self.leading = False
        self.terms = 0  # how many times this process became the leader

    async def run(self, stop: asyncio.Event) -> None:
        """Contend for the lock until `stop`; lead whenever it is ours."""
        try:
            while not stop.is_set():
                try:
                    won = await self._lock.acquire()
                except Exception as exc:
                    log.warning("leader lock unavailable: %s", type(exc).__name__)
                    won = False
                if won:
                    await self._lead(stop)
                await _pause(stop, self._every)
        finally:
            with contextlib.suppress(Exception):
                await self._lock.release()

    async def _lead(self, stop: asyncio.Event) -> None:
        resign = asyncio.Event()
        tasks = [asyncio.create_task(work(resign), name=name) for name, work in self._work]
        self.leading = True
        self.terms += 1
        log.info("this process leads: %s", ", ".join(name for name, _ in self._work))
        try:
            while not stop.is_set():
                await _pause(stop, self._every)
                if stop.is_set() or not await self._still_leading():
                    break
        finally:
            resign.set()
            self.leading = False
            if tasks:
                _, late = await asyncio.wait(tasks, timeout=STOP_SECONDS)
                for task in late:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await task
        if not stop.is_set():
            log.warning("this process no longer leads; another will take over")

    async def _still_leading(self) -> bool:
        try:
            return await self._lock.holding()
        except Exception:
            return False


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)

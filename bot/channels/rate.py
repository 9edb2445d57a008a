"""A platform's rate for the whole deployment: tokens taken from a bucket in the database.

Each process asks the shared bucket for as many tokens as it has sends waiting (one round
trip serves them all) and hands them out at once: a token is never kept for later, so the
deployment as a whole never sends faster than the bucket refills.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from bot.delivery import SendError
from storage.ports_deploy import DeploymentStore

log = logging.getLogger(__name__)

# Tokens asked for in one round trip at most (a process rarely has more sends waiting).
MAX_BATCH = 32
# The shortest pause before asking an empty bucket again.
MIN_PAUSE = 0.005


class SharedRate:
    """Waits until the deployment's bucket for `scope` grants this send a token."""

    def __init__(
        self,
        store: DeploymentStore,
        scope: str,
        rate: float,
        burst: float | None = None,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self.scope = scope
        self.rate = rate
        self.burst = burst if burst is not None else max(rate, 1.0)
        self._sleep = sleep
        self._waiting: deque[asyncio.Future[None]] = deque()
        self._server: asyncio.Task[None] | None = None

    def __repr__(self) -> str:
        return f"SharedRate({self.scope!r}, {self.rate}/s)"

    async def take(self) -> None:
        """Return once a token is this send's; SendError if the database cannot be asked."""
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append(turn)
        if self._server is None or self._server.done():
            self._server = asyncio.create_task(self._serve(), name=f"rate-{self.scope}")
        await turn

    async def _serve(self) -> None:
        while self._waiting:
            while self._waiting and self._waiting[0].done():
                self._waiting.popleft()  # a send cancelled while it waited
            if not self._waiting:
                return
            want = min(len(self._waiting), MAX_BATCH)
            try:
                grant = await self._store.take_rate(self.scope, self.rate, self.burst, want)
            except Exception as exc:
                # Without the shared budget nothing is sent: the outbox retries these later.
                log.warning("rate budget %s unavailable: %s", self.scope, type(exc).__name__)
                while self._waiting:
                    turn = self._waiting.popleft()
                    if not turn.done():
                        turn.set_exception(SendError(f"rate budget unavailable: {exc}"))
                return
            given = 0
            while given < grant.granted and self._waiting:
                turn = self._waiting.popleft()
                if not turn.done():
                    turn.set_result(None)
                    given += 1
            if self._waiting and grant.granted < want:
                await self._sleep(max(grant.wait, MIN_PAUSE))

"""Flood control: token buckets for the whole bot, each private chat and each group."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.channels.rate import SharedRate


@dataclass
class Bucket:
    """A token bucket that lends tokens ahead: `reserve` says how long to wait for one."""

    rate: float
    burst: float
    tokens: float = field(init=False)
    stamp: float | None = None

    def __post_init__(self) -> None:
        self.tokens = self.burst

    def peek(self, now: float) -> float:
        """The seconds a send would wait now, without taking a token."""
        tokens = self.tokens
        if self.stamp is not None:
            tokens = min(self.burst, tokens + (now - self.stamp) * self.rate)
        return 0.0 if tokens - 1 >= 0 else -(tokens - 1) / self.rate

    def reserve(self, now: float) -> float:
        """Take a token; return the seconds to wait before using it."""
        if self.stamp is not None:
            self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        self.tokens -= 1
        return 0.0 if self.tokens >= 0 else -self.tokens / self.rate

    def idle(self, now: float) -> bool:
        """Full again: nothing would change if it were forgotten."""
        return self.stamp is None or self.tokens + (now - self.stamp) * self.rate >= self.burst


class FloodControl:
    """Waits as needed so that sends stay under the platform's limits."""

    def __init__(
        self,
        global_rate: float = 30.0,
        chat_rate: float = 1.0,
        group_per_minute: float = 20.0,
        burst: float = 3.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        shared: SharedRate | None = None,
    ) -> None:
        self._global = Bucket(global_rate, max(global_rate, 1.0))
        # Several processes: the overall rate is the deployment's, taken in `take_global`.
        self._shared = shared
        self._chat_rate = chat_rate
        self._group_rate = group_per_minute / 60
        self._burst = burst
        self._chats: dict[str, Bucket] = {}
        self._clock = clock
        self._sleep = sleep

    def __len__(self) -> int:
        return len(self._chats)

    def delay(self, chat_id: str, group: bool, max_wait: float | None = None) -> float:
        """Reserve a send to `chat_id` now; return how long to wait before it.

        With `max_wait`, a send that would wait longer reserves nothing (the caller sends it
        later): tokens taken for sends that never happen would slow every later one.
        """
        now = self._clock()
        if len(self._chats) > 10_000:
            # Forget chats whose bucket refilled: the table stays as small as the active chats.
            self._chats = {k: b for k, b in self._chats.items() if not b.idle(now)}
        bucket = self._chats.get(chat_id)
        if bucket is None:
            bucket = Bucket(self._group_rate if group else self._chat_rate, self._burst)
            self._chats[chat_id] = bucket
        if self._shared is not None:
            # Per-chat limits stay in this process: a chat's rows are leased to one process
            # at a time, and Telegram answers an excess with a 429 that the outbox honours.
            pause = bucket.peek(now)
            return pause if max_wait is not None and pause > max_wait else bucket.reserve(now)
        if max_wait is not None:
            pause = max(self._global.peek(now), bucket.peek(now))
            if pause > max_wait:
                return pause
        return max(self._global.reserve(now), bucket.reserve(now))

    async def take_global(self) -> None:
        """Wait for the deployment's overall budget (nothing to do in one process)."""
        if self._shared is not None:
            await self._shared.take()

    async def wait(self, chat_id: str, group: bool) -> None:
        """Sleep until a send to `chat_id` is within the limits."""
        pause = self.delay(chat_id, group)
        if pause > 0:
            await self._sleep(pause)
        await self.take_global()

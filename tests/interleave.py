"""A store wrapper that lets tests interleave turns: all read first, then commit in a set order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any


class Interleave:
    """Delegates to a store; units of work run by tasks named in `order` wait for each other.

    Every named task does its reads and queues its writes, then waits until all named tasks got
    that far; they then commit one after the other, in `order`. Exactly what happens when two
    people act on one record at once, made repeatable. A retried unit of work passes freely.
    """

    def __init__(self, store: Any) -> None:
        self._store = store
        self._order: list[str] = []
        self._arrived: set[str] = set()
        self._all_in = asyncio.Event()
        self._done: dict[str, asyncio.Event] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def expect(self, order: Sequence[str]) -> None:
        """The task names whose next unit of work is held, in the order they commit."""
        self._order = list(order)
        self._arrived.clear()
        self._all_in = asyncio.Event()
        self._done = {name: asyncio.Event() for name in order}

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Any]:
        """The wrapped store's unit of work, held before its commit if its task is named."""
        task = asyncio.current_task()
        name = task.get_name() if task else ""
        held = name in self._done and name not in self._arrived
        try:
            async with self._store.transaction() as tx:
                yield tx
                if held:
                    self._arrived.add(name)
                    if self._arrived == set(self._order):
                        self._all_in.set()
                    await self._all_in.wait()
                    position = self._order.index(name)
                    if position:
                        await self._done[self._order[position - 1]].wait()
        finally:
            if held:
                self._done[name].set()

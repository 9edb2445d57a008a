"""The durable inbox: what platforms send is stored first, then handled by a pump.

A channel stores each inbound (`store_inbound`) before it tells the platform it was received.
The pump hands stored inbounds to the channel's handler in the order they arrived and forgets
them once handled; after a crash it starts again from what is left. A turn's replies are
outbox rows written in the turn's own transaction (`DurableTurns`), held by this process for
an immediate send, and sent by the delivery worker if this process dies first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.delivery import SendError
from handlers.engine import Engine, pseudonym, utc_now
from handlers.messages import Inbound, Reply
from storage.ports import Transaction
from storage.records import NewOutboxMessage
from storage.sqlite import SqliteStore, SqliteTransaction

log = logging.getLogger(__name__)

Handler = Callable[[str], Awaitable[None]]
Send = Callable[[str, Reply], Awaitable[str | None]]
# How long a turn's reply rows stay with this process before the delivery worker may take
# them; a restart releases them at once (one writer per file, so nobody else holds them).
HOLD_SECONDS = 120.0
SETTLE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Held:
    """A reply to send now; `outbox_id` is None for one not stored (an error answer)."""

    outbox_id: str | None
    chat: str
    reply: Reply
    channel: str


class DurableTurns:
    """Runs the engine so that a turn and its replies commit together, then sends them."""

    def __init__(
        self,
        engine: Engine,
        store: SqliteStore,
        channel: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._engine = engine
        self._store = store
        self._channel = channel
        self._clock = clock

    async def handle(
        self, inbound: Inbound, route: Callable[[Reply], Reply | None] | None = None
    ) -> tuple[list[Held], list[Reply]]:
        """The turn's replies as held outbox rows, and those `route` kept back (None)."""
        held: list[Held] = []
        kept: list[Reply] = []
        offered: list[list[Reply]] = []

        def before_commit(tx: Transaction, replies: list[Reply]) -> None:
            assert isinstance(tx, SqliteTransaction)
            offered.append(replies)
            now = self._clock()
            for position, original in enumerate(replies):
                reply = route(original) if route is not None else original
                if reply is None:
                    kept.append(original)
                    continue
                chat = reply.chat or inbound.chat_id
                channel = reply.channel or self._channel
                own = chat == inbound.chat_id and channel == inbound.channel
                message = NewOutboxMessage(
                    channel=channel,
                    chat_id=chat,
                    kind="reply",
                    payload=reply.to_dict(chat),
                    user_key=inbound.user_key if own else None,
                )
                # The outbox sends in the order of these moments: keep them apart, all due now.
                due = now - timedelta(microseconds=len(replies) - position)
                outbox_id = tx.enqueue_held(message, due, HOLD_SECONDS)
                held.append(Held(outbox_id, chat, reply, channel))

        replies = await self._engine.handle(inbound, before_commit=before_commit)
        if offered and replies is offered[0]:
            return held, kept
        # Not committed: a duplicate (no replies) or a failed turn (its apology, sent once).
        held, kept = [], []
        for original in replies:
            reply = route(original) if route is not None else original
            if reply is None:
                kept.append(original)
            else:
                held.append(Held(None, reply.chat or inbound.chat_id, reply, self._channel))
        return held, kept

    async def send(
        self,
        inbound: Inbound,
        held: list[Held],
        send: Send,
        *,
        direct: Callable[[Held], bool],
        on_blocked: Callable[[Held], Awaitable[None]] | None = None,
    ) -> None:
        """Send held rows in order now; the rest (or all, after a failure) go to the worker."""
        for position, item in enumerate(held):
            if item.channel != self._channel or not direct(item):
                await self._release([item])
                continue
            try:
                platform_id = await send(item.chat, item.reply)
            except SendError as exc:
                if item.outbox_id is None:
                    log.warning("an error answer could not be sent: %s", exc)
                    continue
                if exc.unknown:
                    await self._store.mark_uncertain(item.outbox_id)
                if exc.permanent:
                    await self._store.reply_done(item.outbox_id, self._clock(), None)
                    if exc.blocked and on_blocked is not None:
                        await on_blocked(item)
                    else:
                        log.error("reply could not be sent: %s", exc)
                    continue
                # Nothing is lost: this reply and the ones after it wait in the outbox, in order.
                log.warning("reply left to the outbox: %s", exc)
                await self._release(held[position:])
                return
            except Exception:
                log.exception("sending a reply to %s crashed", pseudonym(inbound.user_key))
                await self._release(held[position:])
                return
            if item.outbox_id is not None:
                await self._store.reply_done(item.outbox_id, self._clock(), platform_id)

    async def _release(self, items: list[Held]) -> None:
        await self._store.release_outbox([i.outbox_id for i in items if i.outbox_id is not None])


class InboxPump:
    """Hands stored inbounds to their channel's handler, in order, and forgets handled ones."""

    def __init__(
        self,
        store: SqliteStore,
        handlers: Mapping[str, Handler],
        *,
        concurrency: int = 64,
        batch: int = 256,
    ) -> None:
        self._store = store
        self._handlers = dict(handlers)
        self._gate = asyncio.Semaphore(concurrency)
        self._batch = batch
        self._wake = asyncio.Event()
        self._last = 0
        self._done: list[int] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stop = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Pump in the background until `stop` (a restart starts with what was left)."""
        if self._runner is None:
            self._stop.clear()
            self._runner = asyncio.create_task(self.run_forever(self._stop), name="inbox")

    async def stop(self) -> None:
        """Stop taking stored inbounds; wait for those in progress."""
        self._stop.set()
        self._wake.set()
        if self._runner is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._runner, timeout=15)
            self._runner = None

    async def settle(self) -> None:
        """Wait (10 s at most) until everything stored so far is handled."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SETTLE_SECONDS
        while loop.time() < deadline:
            idle = not self._tasks and not self._done
            if idle and not await self._store.pending_inbound(self._last, 1):
                return
            self.poke()
            await asyncio.sleep(0.005)

    def add(self, channel: str, handler: Handler) -> None:
        """Handle this channel's stored inbounds with `handler(payload)`."""
        self._handlers[channel] = handler

    def poke(self) -> None:
        """Something was stored: look now rather than at the next tick."""
        self._wake.set()

    async def run_once(self) -> int:
        """Start handling what was stored since the last look; return how many rows."""
        await self._forget_done()
        rows = await self._store.pending_inbound(self._last, self._batch)
        for row in rows:
            self._last = row.id
            handler = self._handlers.get(row.channel)
            if handler is None:
                continue  # a channel not configured in this run: kept for a run that has it
            task = asyncio.create_task(self._handle(row.id, handler, row.payload))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(rows)

    async def _handle(self, row_id: int, handler: Handler, payload: str) -> None:
        async with self._gate:
            try:
                await handler(payload)
            except Exception:
                # A poison inbound is logged (no content) and dropped, never retried forever.
                log.exception("a stored inbound could not be handled")
        self._done.append(row_id)
        self._wake.set()

    async def _forget_done(self) -> None:
        done, self._done = self._done, []
        if done:
            try:
                await self._store.inbound_handled(done)
            except Exception:
                self._done.extend(done)
                raise

    async def run_forever(self, stop: asyncio.Event, interval: float = 0.5) -> None:
        """Pump until `stop`; then let handlings in progress finish."""
        while not stop.is_set():
            self._wake.clear()
            try:
                if await self.run_once() >= self._batch:
                    continue
            except Exception:
                log.exception("inbox pump error")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=interval)
        await self.drain()

    async def drain(self) -> None:
        """Wait (10 s at most) for handlings in progress, then forget the handled rows."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=SETTLE_SECONDS)
        await self._forget_done()

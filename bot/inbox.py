"""The durable inbox: what platforms send is stored first, then handled by a pump.

A channel stores each inbound (`store_inbound`) before it tells the platform it was received.
The pump leases stored inbounds under its own name, hands them to the channel's handler in
the order they arrived and forgets them once handled; it renews its leases while handling, so
a lease lapses only when its process dies, and then another process's pump (or this one after
a restart) takes the rows. A turn's replies are outbox rows written in the turn's own
transaction (`DurableTurns`), held by this process for an immediate send, and sent by the
delivery worker if this process dies first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.delivery import SendError
from handlers.engine import Engine, pseudonym, utc_now
from handlers.messages import Inbound, Reply
from storage.ports import InboxStore, Store, Transaction
from storage.records import NewOutboxMessage

log = logging.getLogger(__name__)

Handler = Callable[[str], Awaitable[None]]
Send = Callable[[str, Reply], Awaitable[str | None]]
# How long a turn's reply rows stay with this process before the delivery worker may take
# them (on SQLite a restart releases them at once: one writer per file).
HOLD_SECONDS = 120.0
# A turn sends its replies one after another, a worker one row per lease: the hold is this
# many delivery leases, so that a live process's sends are not taken over by a worker.
HOLD_LEASES = 2.0
SETTLE_SECONDS = 10.0
# How long a stored inbound stays with the pump that leased it; renewed while it is handled,
# so that only a dead process's rows lapse, and are taken over this long after.
LEASE_SECONDS = 60.0


def hold_for(lease_seconds: float) -> float:
    """How long a turn's reply rows stay with it, for a delivery lease of `lease_seconds`.

    Longer than the lease: if the hold still lapses mid-send and a worker takes the row,
    `reply_done` leaves it to that worker, counted as a possible duplicate.
    """
    return HOLD_LEASES * lease_seconds


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
        store: Store,
        channel: str,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._engine = engine
        self._store = store
        self._channel = channel
        self._clock = clock
        # The name on the reply rows this process holds: only it may give them back.
        self._owner = uuid.uuid4().hex
        # How long another process leaves those rows alone (longer than any send takes).
        self.hold_seconds = HOLD_SECONDS

    async def handle(
        self, inbound: Inbound, route: Callable[[Reply], Reply | None] | None = None
    ) -> tuple[list[Held], list[Reply]]:
        """The turn's replies as held outbox rows, and those `route` kept back (None)."""
        held: list[Held] = []
        kept: list[Reply] = []
        offered: list[list[Reply]] = []

        def before_commit(tx: Transaction, replies: list[Reply]) -> None:
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
                outbox_id = tx.enqueue_held(message, due, self.hold_seconds, self._owner)
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
                    await self._store.reply_done(
                        item.outbox_id, self._clock(), None, owner=self._owner
                    )
                    if exc.blocked and on_blocked is not None:
                        await on_blocked(item)
                    else:
                        log.error("reply could not be sent: %s", exc)
                    continue
                # Nothing is lost: this reply and the ones after it wait in the outbox, in order.
                log.log(
                    logging.DEBUG if exc.paced else logging.WARNING,
                    "reply left to the outbox: %s",
                    exc,
                )
                await self._release(held[position:])
                return
            except Exception:
                log.exception("sending a reply to %s crashed", pseudonym(inbound.user_key))
                await self._release(held[position:])
                return
            if item.outbox_id is not None:
                await self._store.reply_done(
                    item.outbox_id, self._clock(), platform_id, owner=self._owner
                )

    async def _release(self, items: list[Held]) -> None:
        ids = [i.outbox_id for i in items if i.outbox_id is not None]
        await self._store.release_outbox(ids, owner=self._owner)


class InboxPump:
    """Leases stored inbounds and hands them to their channel's handler, in order."""

    def __init__(
        self,
        store: InboxStore,
        handlers: Mapping[str, Handler],
        *,
        # Turns handled at once. More in flight means more of them share each SQLite group
        # commit: in bench/telegram.py's path, 128 took 15% less CPU per update than 64
        # (turns in alternation, 14 rounds), 256 about 7% less again. A turn mostly waits on
        # its sends, so this also bounds what a slow platform keeps waiting.
        concurrency: int = 128,
        batch: int = 256,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._handlers = dict(handlers)
        self._gate = asyncio.Semaphore(concurrency)
        self._batch = batch  # at most this many rows leased and not yet handled
        self._clock = clock
        self._owner = uuid.uuid4().hex
        # After this long without a renewal (its process died) another pump takes a row.
        self.lease_seconds = LEASE_SECONDS
        self._wake = asyncio.Event()
        self._leased: set[int] = set()
        self._done: list[int] = []
        self._renewed_at = 0.0
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
            if idle and not await self._store.inbound_left(list(self._handlers)):
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
        """Lease what is free (up to the room left) and start handling it; return how many."""
        await self._forget_done()
        await self._renew()
        room = self._batch - len(self._leased)
        if room <= 0 or not self._handlers:
            return 0
        rows = await self._store.lease_inbound(
            list(self._handlers), self._owner, self._clock(), room, self.lease_seconds
        )
        for row in rows:
            self._leased.add(row.id)
            task = asyncio.create_task(
                self._handle(row.id, self._handlers[row.channel], row.payload)
            )
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(rows)

    async def _renew(self) -> None:
        # A third of the lease: two renewals may fail before another process takes the rows.
        loop = asyncio.get_running_loop()
        if self._leased and loop.time() - self._renewed_at >= self.lease_seconds / 3:
            self._renewed_at = loop.time()
            until = self._clock() + timedelta(seconds=self.lease_seconds)
            await self._store.renew_inbound(list(self._leased), self._owner, until)

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
            self._leased.difference_update(done)

    async def run_forever(self, stop: asyncio.Event, interval: float = 0.5) -> None:
        """Pump until `stop`; then let handlings in progress finish."""
        while not stop.is_set():
            self._wake.clear()
            try:
                # All free rows were leased, or there is no room until a handling ends (it
                # wakes the loop): either way, wait.
                await self.run_once()
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

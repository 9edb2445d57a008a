"""The delivery worker: sends outbox rows through their channel, with retries and backoff."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.campaigns.schedule import QuietHours
from handlers.engine import utc_now
from handlers.messages import Reply
from storage.ports import Store, UncertainOutbox
from storage.records import OutboxRecord

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(hours=6)
# Messages the user did not just ask for: after `stop` none of them goes, checked at the moment
# of sending (a question or a follow-up queued before `stop` is held back too).
UNSOLICITED_KINDS = frozenset({"campaign", "notice", "followup", "question", "circle", "barometer"})
# Broadcasts also wait for the morning during quiet hours.
QUIET_KINDS = frozenset({"campaign", "barometer"})
# How often a long-running worker forgets old processed inbound ids.
PRUNE_EVERY_SECONDS = 3600.0
# What became of one row: sent, held back (stopped, quiet hours), to retry, or given up.
SENT, HELD, RETRY, DEAD = "sent", "held", "retry", "dead"


class SendError(Exception):
    """A failed send; `permanent` gives up at once, `retry_after` is the platform's wish."""

    def __init__(
        self,
        message: str,
        *,
        permanent: bool = False,
        retry_after: float | None = None,
        blocked: bool = False,
        unknown: bool = False,
        paced: bool = False,
    ) -> None:
        super().__init__(message)
        # Our own pacing held it back (a rate limit we keep), not a failure: worth no warning,
        # or a campaign's burst would write one line per message.
        self.paced = paced
        # A timeout: the message may have arrived all the same (a retry may duplicate it).
        self.unknown = unknown
        # A user who blocked the bot (or a chat that is gone) is never written to again.
        self.permanent = permanent or blocked
        self.retry_after = retry_after
        self.blocked = blocked


class Sender(Protocol):
    """A channel's way of sending a message to a chat."""

    async def send(self, chat_id: str, reply: Reply, row: OutboxRecord | None = None) -> str | None:
        """Send; return the platform's message id if it gives one, raise SendError if not.

        `row` is the outbox row being delivered (its kind, dedupe key, attempts), None for a
        direct reply: a channel need not guess what it sends from the payload.
        """
        ...


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter, capped, and a maximum number of attempts."""

    max_attempts: int = 8
    base_seconds: float = 30.0

    def next_attempt(
        self, attempts_before: int, now: datetime, rng: random.Random, hint: float | None
    ) -> datetime | None:
        """When to try again after a failure, or None to give up."""
        if attempts_before + 1 >= self.max_attempts:
            return None
        if hint is not None:
            return now + timedelta(seconds=hint)
        delay = timedelta(seconds=self.base_seconds * 2**attempts_before)
        # Jitter spreads retries so that a platform outage is not followed by a stampede.
        delay = min(delay, MAX_BACKOFF) * rng.uniform(0.8, 1.2)
        return now + delay


class DeliveryWorker:
    """Takes due outbox rows and sends them; every outcome is written back to the row."""

    def __init__(
        self,
        store: Store,
        senders: Mapping[str, Sender],
        *,
        policy: RetryPolicy | None = None,
        clock: Callable[[], datetime] = utc_now,
        rng: random.Random | None = None,
        lease_seconds: float = 120.0,
        on_dead: Callable[[OutboxRecord], Awaitable[object]] | None = None,
        concurrency: int = 16,
        quiet_hours: QuietHours | None = None,
        inbound_retention: timedelta | None = None,
    ) -> None:
        self._store = store
        self._senders = dict(senders)
        self._policy = policy or RetryPolicy()
        self._clock = clock
        self._rng = rng or random.Random()
        self._lease = lease_seconds
        # What to do with a row that will never be delivered (a forward goes to the desk).
        self._on_dead = on_dead
        self._concurrency = concurrency
        self._quiet = quiet_hours
        self._retention = inbound_retention
        self._pruned_at: float | None = None
        # This worker's name on the rows it leases: only the lease holder records an outcome.
        self._owner = uuid.uuid4().hex

    async def run_once(self, limit: int = 100) -> int:
        """Send what is due now; return how many were sent."""
        if not self._senders:
            return 0
        rows = await self._store.claim_due_outbox(
            self._clock(), limit, self._lease, list(self._senders), owner=self._owner
        )
        # Chats are served side by side (each sender keeps to its platform's rates), while
        # one chat's rows go strictly in order.
        by_chat: dict[tuple[str, str], list[OutboxRecord]] = {}
        for row in rows:
            by_chat.setdefault((row.channel, row.chat_id), []).append(row)
        gate = asyncio.Semaphore(self._concurrency)

        async def serve(chat_rows: list[OutboxRecord]) -> int:
            done = 0
            async with gate:
                for n, row in enumerate(chat_rows):
                    outcome = await self._deliver(row)
                    if outcome == SENT:
                        done += 1
                    if outcome == RETRY:
                        # The chat's later rows wait behind this one (a photo never arrives
                        # before its text); the store will not lease them until it is sent.
                        later = [r.id for r in chat_rows[n + 1 :]]
                        await self._store.release_outbox(later, owner=self._owner)
                        break
            return done

        return sum(await asyncio.gather(*(serve(chat_rows) for chat_rows in by_chat.values())))

    async def _deliver(self, row: OutboxRecord) -> str:
        if row.kind in UNSOLICITED_KINDS and await self._held(row):
            return HELD
        sender = self._senders[row.channel]
        try:
            platform_id = await sender.send(row.chat_id, Reply.from_dict(row.payload), row)
        except SendError as exc:
            now = self._clock()
            if exc.unknown and isinstance(self._store, UncertainOutbox):
                await self._store.mark_uncertain(row.id)
            retry = (
                None
                if exc.permanent
                else self._policy.next_attempt(row.attempts, now, self._rng, exc.retry_after)
            )
            await self._mark_failed(row, str(exc), retry, now)
            if exc.blocked and row.user_key:
                await self._store.mark_stopped(row.user_key)
            if retry is None:
                await self._dead(row)
            log.log(
                logging.DEBUG if exc.paced and retry else logging.WARNING,
                "delivery of %s %s failed (attempt %d): %s",
                row.kind,
                row.id,
                row.attempts + 1,
                "will retry" if retry else "gave up",
            )
            return RETRY if retry else DEAD
        except Exception as exc:
            # An unexpected error is retried like a transient one, never lost.
            now = self._clock()
            retry = self._policy.next_attempt(row.attempts, now, self._rng, None)
            await self._mark_failed(row, f"{type(exc).__name__}: {exc}", retry, now)
            log.exception("delivery of %s %s crashed", row.kind, row.id)
            if retry is None:
                await self._dead(row)
            return RETRY if retry else DEAD
        if not await self._store.mark_sent(row.id, self._clock(), platform_id, owner=self._owner):
            # Our lease lapsed and another worker took the row: it records the outcome.
            log.warning("lease on %s %s lapsed during its send", row.kind, row.id)
        return SENT

    async def _mark_failed(
        self, row: OutboxRecord, error: str, retry: datetime | None, now: datetime
    ) -> None:
        if not await self._store.mark_failed(row.id, error, retry, now, owner=self._owner):
            log.warning("lease on %s %s lapsed during its send", row.kind, row.id)

    async def _held(self, row: OutboxRecord) -> bool:
        """Keep back an unsolicited row: dead if its user said stop, later in quiet hours."""
        now = self._clock()
        if row.kind in QUIET_KINDS and self._quiet is not None and self._quiet.contains(now):
            # Every due row of the kind waits for the morning in one statement, this one too.
            await self._store.postpone_outbox(row.kind, self._quiet.next_end(now), now)
            return True
        # Checked at the moment of sending, not when the campaign was queued: `stop` in the
        # middle of a send takes effect for every row not yet gone.
        if row.user_key is not None and await self._store.is_stopped(row.user_key):
            await self._mark_failed(row, "stopped", None, now)
            return True
        return False

    async def _dead(self, row: OutboxRecord) -> None:
        if self._on_dead is None:
            return
        try:
            await self._on_dead(row)
        except Exception:
            log.exception("handling the dead %s %s failed", row.kind, row.id)

    async def run_forever(self, interval: float, stop: asyncio.Event) -> None:
        """Deliver until `stop` is set, looking for due rows every `interval` seconds."""
        while not stop.is_set():
            try:
                while await self.run_once() > 0:
                    pass
                await self.prune_if_due()
            except Exception:
                log.exception("delivery loop error")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)

    async def prune_if_due(self) -> int:
        """Forget processed inbound ids past the retention, at most once an hour."""
        if self._retention is None:
            return 0
        now = time.monotonic()
        if self._pruned_at is not None and now - self._pruned_at < PRUNE_EVERY_SECONDS:
            return 0
        self._pruned_at = now
        removed = await self._store.prune_inbound(self._clock() - self._retention)
        if removed:
            log.info("forgot %d processed inbound ids", removed)
        return removed

"""The 24-hour customer-service window, and delivery statuses written to the outbox.

Meta lets a business write freely to a user for 24 hours after the user's last message; after
that only approved templates may go. Replies to what the user just wrote are inside by
definition. Outbox rows (CSO notices, follow-ups, questions, relays, forwards, campaigns) are
checked when they are sent, against `users.last_inbound_at` that the engine keeps:

- inside the window: free-form, the message as the bot wrote it;
- outside: the template configured for the row's kind (`CIVICBOT_WHATSAPP_TEMPLATES`), in the
  user's language if the template exists in it;
- outside with no template: the row waits. The sender raises a SendError whose text starts
  with `whatsapp window:` and whose retry is a week away, so the row stays in the outbox,
  visibly (state `failed`, that text as its last error), never dropped; when the user writes
  again, `wake` makes it due at once and it goes free-form. A row nobody wakes is looked at
  again each week, until the delivery worker's attempts run out (then it is `dead`, logged).

Meta may still refuse a free-form message with error 131047 (re-engagement): at once in the
API answer, or later in a `failed` status. Both follow the same rule, template or wait; the
status marks the row with the moment Meta said so, so that the window counts as closed until
the user writes after it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.channels.whatsapp.convert import CHANNEL, Status
from bot.channels.whatsapp.errors import classify
from bot.delivery import SendError
from handlers.engine import pseudonym, utc_now
from handlers.messages import Reply, user_key
from storage.ports import Store
from storage.ports_window import SendFailure
from storage.records import OutboxRecord, from_iso, iso

log = logging.getLogger(__name__)

WINDOW = timedelta(hours=24)
# A message sent a minute before the window closes may reach Meta after it: keep a margin.
MARGIN = timedelta(minutes=10)
# How long a row waiting for the user sleeps before it is looked at again.
WAIT = timedelta(days=7)
WAIT_PREFIX = "whatsapp window:"
# Retry of a message Meta accepted and then reported failed for a passing reason.
STATUS_RETRY = timedelta(minutes=5)
CLOSED_KEY = "_whatsapp_closed_at"  # in the payload: when Meta said the window was closed
STATUS_KEY = "_whatsapp_status"  # in the payload: the latest delivery status
_RANK = {"sent": 1, "delivered": 2, "read": 3}

Mode = Literal["free", "template", "wait"]
DeadHandler = Callable[[OutboxRecord], Awaitable[object]]


@dataclass(frozen=True, slots=True)
class Decision:
    """How an outbox message goes out: free-form, as a template, or not yet."""

    mode: Mode
    kind: str = "reply"
    template: str | None = None
    language: str | None = None


def is_open(last_inbound: datetime | None, closed_at: datetime | None, now: datetime) -> bool:
    """Whether free-form may go: the user wrote within 24 hours, and since Meta said closed."""
    if last_inbound is None or now - last_inbound >= WINDOW - MARGIN:
        return False
    return closed_at is None or last_inbound > closed_at


class Window:
    """Decides how outbox messages go, wakes the waiting ones, records delivery statuses."""

    def __init__(
        self,
        store: Store,
        templates: Mapping[str, str],
        languages: Sequence[str] = ("fr",),
        *,
        max_attempts: int = 8,
        clock: Callable[[], datetime] = utc_now,
        on_dead: DeadHandler | None = None,
        shared: bool = False,
    ) -> None:
        self._store = store
        self._templates = dict(templates)
        self._languages = [lang for lang in languages if lang] or ["fr"]
        self._max_attempts = max_attempts
        self._clock = clock
        self._on_dead = on_dead
        # Chats with rows waiting for the user: only their inbounds cost a wake-up query.
        # A database `shared` by several processes (PostgreSQL) has rows another process
        # made wait, which this set never hears of: there every inbound wakes (one indexed
        # UPDATE that usually changes nothing).
        self.waiting: set[str] = set()
        self._shared = shared

    async def load(self) -> None:
        """Learn which chats have rows waiting (after a restart)."""
        self.waiting = await self._store.waiting_chats(CHANNEL, WAIT_PREFIX)

    async def decide(
        self, chat_id: str, reply: Reply, *, refused: bool = False, row: OutboxRecord | None = None
    ) -> Decision:
        """Free-form inside the window; outside (or `refused` by Meta), a template or a wait."""
        language, last = await self._store.user_window(user_key(CHANNEL, chat_id)) or (None, None)
        closed = reply.extra.get(CLOSED_KEY)
        closed_at = from_iso(closed) if isinstance(closed, str) else None
        if not refused and is_open(last, closed_at, self._clock()):
            return Decision("free")
        # The worker says which row it sends; only a direct reply has no row (its kind: reply).
        kind = row.kind if row is not None else await self._kind(chat_id, reply)
        # A campaign may name its own approved template; other kinds use the settings' one.
        name = reply.template or self._templates.get(kind)
        if name is None:
            return Decision("wait", kind)
        chosen = language if language in self._languages else self._languages[0]
        return Decision("template", kind, name, chosen)

    async def _kind(self, chat_id: str, reply: Reply) -> str:
        """The kind of the outbox row being sent (the delivery worker leased it just now)."""
        rows = await self._store.leased_payloads(CHANNEL, chat_id, self._clock())
        wanted = reply.to_dict(chat_id)
        for kind, payload in rows:
            if payload == wanted:
                return kind
        for kind, payload in rows:
            if payload.get("text") == reply.text:
                return kind
        return "unknown"

    def wait(self, chat_id: str, decision: Decision, reason: str) -> SendError:
        """The error that keeps a row in the outbox until the user writes again."""
        self.waiting.add(chat_id)
        log.info(
            "whatsapp %s to %s waits for the user to write (%s)",
            decision.kind,
            pseudonym(user_key(CHANNEL, chat_id)),
            reason,
        )
        return SendError(f"{WAIT_PREFIX} {reason}", retry_after=WAIT.total_seconds())

    async def wake(self, chat_id: str) -> int:
        """The user wrote: rows waiting for them are due now; return how many."""
        if not self._shared and chat_id not in self.waiting:
            return 0
        self.waiting.discard(chat_id)
        woken = await self._store.wake_waiting(CHANNEL, chat_id, WAIT_PREFIX, self._clock())
        if woken:
            log.info("%d waiting whatsapp message(s) due again", woken)
        return woken

    async def record_status(self, status: Status) -> str | None:
        """Write a status to its outbox row; the user key to mark stopped, if any."""
        if status.status in _RANK:
            higher = [name for name, rank in _RANK.items() if rank > _RANK[status.status]]
            await self._store.mark_status(
                CHANNEL, status.message_id, STATUS_KEY, status.status, higher
            )
            return None
        if status.status != "failed":
            return None
        return await self._failed(status)

    async def _failed(self, status: Status) -> str | None:
        now = self._clock()
        code = status.code
        outcome = classify(code)
        error = f"whatsapp {code}: {status.errors[0].title if status.errors else 'failed'}"
        marks = {STATUS_KEY: "failed"}
        failure: SendFailure
        if outcome == "window":
            # Due now: the sender sees the mark and sends the template, or makes it wait.
            # Meta's timestamps have whole seconds: the later of its moment and ours counts.
            marks[CLOSED_KEY] = iso(max(status.at, now))
            failure = SendFailure(error, "failed", now, marks=marks)
        elif outcome == "template":
            error = f"{WAIT_PREFIX} template refused ({code})"
            failure = SendFailure(error, "failed", now + WAIT, marks=marks)
        elif outcome in ("blocked", "permanent"):
            failure = SendFailure(error, "dead", marks=marks)
        else:
            failure = SendFailure(
                error, "retry", now + STATUS_RETRY, self._max_attempts, marks=marks
            )
        rows = [
            (row.id, row.state, row.user_key, row.chat_id)
            for row in await self._store.fail_sent(CHANNEL, status.message_id, failure)
        ]
        log.warning("whatsapp message failed: %s", error)
        for row_id, state, _, chat in rows:
            if outcome == "template":
                self.waiting.add(str(chat))
            if state == "dead":
                await self._dead(str(row_id))
        if outcome != "blocked":
            return None
        if rows:
            return str(rows[0][2]) if rows[0][2] else None
        return user_key(CHANNEL, status.recipient) if status.recipient else None

    async def _dead(self, row_id: str) -> None:
        if self._on_dead is None:
            return
        row = await self._store.get_outbox(row_id)
        if row is None:
            return
        try:
            await self._on_dead(row)
        except Exception:
            log.exception("handling the dead %s %s failed", row.kind, row.id)

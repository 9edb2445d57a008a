"""Sending to the WhatsApp Cloud API: rate limits, the 24-hour window, errors for the outbox."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from bot.channels.rate import SharedRate
from bot.channels.relay import Note, Relay
from bot.channels.telegram.flood import Bucket
from bot.channels.voice import VoiceCache, VoiceFileError
from bot.channels.whatsapp.convert import CHANNEL
from bot.channels.whatsapp.errors import classify, error_of
from bot.channels.whatsapp.media import MEDIA_LIFETIME, GraphMedia, audio_payload
from bot.channels.whatsapp.render import (
    ID_LIMIT,
    TOKEN_PREFIX,
    Payload,
    list_payload,
    listing_of,
    load_listing,
    pages,
    render,
    template_payload,
)
from bot.channels.whatsapp.window import Decision, Window
from bot.delivery import SendError
from handlers.engine import pseudonym
from handlers.locks import KeyedLocks
from handlers.messages import Choice, Reply, user_key
from storage.ports import Store
from storage.records import OutboxRecord

log = logging.getLogger(__name__)

# Meta allows about one message every 6 seconds to the same user, with short bursts.
PAIR_SECONDS = 6.0
PAIR_BURST = 4.0
# The delivery worker sends one row at a time: a longer pair wait defers the row instead.
MAX_INLINE_WAIT = 1.0
RATE_RETRIES = 3  # 130429: wait and try again this many times before leaving it to the outbox
RATE_RETRY_AFTER = 30.0
# Meta takes audio messages of up to 16 MB, in these types (OGG with Opus only).
AUDIO_LIMIT = 16 * 1024 * 1024
AUDIO_TYPES = frozenset({"audio/ogg", "audio/mpeg", "audio/mp4", "audio/amr", "audio/aac"})
# Business-scoped user ids ("ML.1234...") go in `recipient`; phone numbers in `to`.
_BSUID = re.compile(r"^[A-Z]{2}\.")


class WindowClosed(SendError):
    """Meta refused a free-form message: the 24-hour window is closed (131047)."""


class TemplateRefused(SendError):
    """Meta refused a template: missing, paused, or its parameter does not fit (132xxx)."""


@dataclass(frozen=True, slots=True)
class GraphConfig:
    """Where and as whom to send: the Graph API base (version included) and the phone id."""

    api_url: str
    phone_id: str
    token: str = field(repr=False)
    rate: float = 80.0
    timeout: float = 15.0

    @property
    def messages_url(self) -> str:
        """The messages endpoint of the business phone number."""
        return f"{self.api_url.rstrip('/')}/{self.phone_id}/messages"


class WhatsAppSender:
    """Sends replies and outbox rows; one chat's messages go out one at a time, in order."""

    def __init__(
        self,
        config: GraphConfig,
        store: Store,
        window: Window,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        backoff: float = 1.0,
    ) -> None:
        self._config = config
        self._url = config.messages_url
        self._store = store
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._backoff = backoff
        self._global = Bucket(config.rate, max(config.rate, 1.0))
        # Several processes: the phone number's rate is the deployment's, not this process's.
        self._shared: SharedRate | None = None
        self._pairs: dict[str, Bucket] = {}
        self._paused_until = 0.0
        self._chats = KeyedLocks()
        self._session: aiohttp.ClientSession | None = None
        # Voice notes of the pack (issue 18); set up by the channel, which knows the pack.
        self.media: GraphMedia | None = None
        # Citizens' voice notes sent on Telegram, forwarded to a CSO number here.
        self.relay = Relay(CHANNEL, AUDIO_LIMIT, types=AUDIO_TYPES)

    def attach_voice(self, root: Callable[[], Path]) -> GraphMedia:
        """Serve the pack's voice notes (found under `root()`), uploading each file once."""
        cache = VoiceCache(CHANNEL, self._store, root, max_age=MEDIA_LIFETIME)
        config = self._config
        self.media = GraphMedia(config.api_url, config.phone_id, lambda: self._session, cache)
        return self.media

    def __repr__(self) -> str:
        return f"WhatsAppSender(url={self._url!r})"

    def share_rate(self, shared: SharedRate) -> None:
        """Take the phone number's rate from the deployment's bucket instead of this process's.

        Pair limits (one user) stay in this process: one chat's rows are leased to one process
        at a time, and Meta answers an excess with 131056, which waits and retries.
        """
        self._shared = shared

    async def start(self) -> None:
        """Open the HTTP session (inside the running loop)."""
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._config.timeout),
                headers={"Authorization": f"Bearer {self._config.token}"},
            )

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def send(self, chat_id: str, reply: Reply, row: OutboxRecord | None = None) -> str | None:
        """Send an outbox row: free-form inside the 24-hour window, else a template, else wait."""
        async with self._chats.hold(chat_id):
            decision = await self.window.decide(chat_id, reply, row=row)
            if decision.mode == "free":
                await self._pair_slot(chat_id)
                try:
                    return await self._draw(chat_id, reply)
                except WindowClosed:
                    decision = await self.window.decide(chat_id, reply, refused=True)
            if decision.mode == "wait":
                raise self.window.wait(chat_id, decision, f"no template for {decision.kind}")
            if not reply.text.strip():
                # A voice note or photo row has no words for a template's body: it would
                # reach the user as an empty "…" and the media would be lost. It waits for
                # the window instead, behind the text row that went as a template, and goes
                # free-form as soon as the user writes.
                raise self.window.wait(chat_id, decision, "media cannot go in a template")
            return await self._template(chat_id, reply, decision)

    async def reply(self, chat_id: str, reply: Reply) -> str | None:
        """Answer what the user just wrote: inside the window by definition."""
        async with self._chats.hold(chat_id):
            return await self._draw(chat_id, reply)

    async def send_page(self, chat_id: str, listing: str, page: int) -> bool:
        """Another page of a long list (the user tapped its 'more' row); False if unknown."""
        stored = await self._store.load_token(listing)
        if stored is None:
            return False
        body, choices = load_listing(stored)
        if not 0 <= page < len(pages(len(choices))):
            return False
        async with self._chats.hold(chat_id):
            await self._post(
                chat_id, list_payload(body, choices, page, listing, await self._lang(chat_id))
            )
        return True

    async def _draw(self, chat_id: str, reply: Reply) -> str | None:
        """The reply as rendered messages, in order; the id of the last one."""
        reply = await self._short_ids(reply)
        listing = listing_of(reply)
        token = await self._store.save_token(listing, _now()) if listing is not None else None
        last = None
        if reply.media is not None and self.relay.wants(reply):
            if self.media is None:
                raise SendError("WhatsApp media are not set up")
            async with self.relay.carry(reply) as note:
                if isinstance(note, Note):
                    # Uploaded for this one message: a citizen's voice is not cached.
                    media_id = await self.media.upload(note.data, note.mime)
                    return await self._post(chat_id, audio_payload(media_id))
            reply = replace(reply, media=None, text=note)
            if not reply.text:
                return None
        if reply.audio is not None and self.media is not None:
            try:
                last = await self.media.send(chat_id, reply.audio, self._post)
            except VoiceFileError:
                log.warning("voice note %s is not in the pack: text only", reply.audio)
            if not reply.text and not reply.choices and reply.media is None:
                return last
        for payload in render(reply, await self._lang(chat_id), token):
            last = await self._post(chat_id, payload)
        return last

    async def _template(self, chat_id: str, reply: Reply, decision: Decision) -> str | None:
        assert decision.template is not None and decision.language is not None
        await self._pair_slot(chat_id)
        payload = template_payload(decision.template, decision.language, reply.text)
        try:
            return await self._post(chat_id, payload)
        except TemplateRefused as exc:
            # A missing or paused template is an operator's mistake: say it loudly, and keep
            # the message until the user writes (then it goes free-form).
            log.error("whatsapp template %r refused: %s", decision.template, exc)
            raise self.window.wait(chat_id, decision, f"template refused: {exc}") from None

    async def _short_ids(self, reply: Reply) -> Reply:
        """Choice ids too long for Meta travel as short tokens."""
        if all(len(choice.id) <= ID_LIMIT for choice in reply.choices):
            return reply
        choices: list[Choice] = []
        for choice in reply.choices:
            if len(choice.id) > ID_LIMIT:
                token = await self._store.save_token(choice.id, _now())
                choice = replace(choice, id=TOKEN_PREFIX + token)
            choices.append(choice)
        return replace(reply, choices=tuple(choices))

    async def _lang(self, chat_id: str) -> str | None:
        """The user's language, if known (for a list's own words)."""
        return await self._store.user_language(user_key(CHANNEL, chat_id))

    async def _pair_slot(self, chat_id: str) -> None:
        """Space bulk sends to one user; a long wait defers the row rather than the worker."""
        now = self._clock()
        if len(self._pairs) > 10_000:
            self._pairs = {k: b for k, b in self._pairs.items() if not b.idle(now)}
        bucket = self._pairs.get(chat_id)
        if bucket is None:
            bucket = self._pairs[chat_id] = Bucket(1 / PAIR_SECONDS, PAIR_BURST)
        pause = bucket.reserve(now)
        if pause > MAX_INLINE_WAIT:
            bucket.tokens += 1  # the slot is not used now
            raise SendError(
                f"pair rate: next message to this user in {pause:.0f} s",
                retry_after=pause,
                paced=True,
            )
        if pause > 0:
            await self._sleep(pause)

    def _drain_pair(self, chat_id: str) -> None:
        bucket = self._pairs.setdefault(chat_id, Bucket(1 / PAIR_SECONDS, PAIR_BURST))
        bucket.tokens, bucket.stamp = 0.0, self._clock()

    async def _throttle(self) -> None:
        """Stay under the phone number's rate, and behind any back-off Meta asked for."""
        if self._shared is not None:
            await self._shared.take()
            pause = self._paused_until - self._clock()
        else:
            now = self._clock()
            pause = max(self._global.reserve(now), self._paused_until - now)
        if pause > 0:
            await self._sleep(pause)

    async def _post(self, chat_id: str, payload: Payload) -> str | None:
        """One message to the Graph API; Meta's errors become SendError for the outbox."""
        if self._session is None:
            # Closed at shutdown while the delivery worker still runs: the row waits.
            raise SendError("WhatsApp sender is not running")
        target = {"recipient": chat_id} if _BSUID.match(chat_id) else {"to": chat_id}
        body = {"messaging_product": "whatsapp", "recipient_type": "individual"} | target | payload
        for attempt in range(RATE_RETRIES + 1):
            await self._throttle()
            try:
                async with self._session.post(self._url, json=body) as resp:
                    status, raw = resp.status, await resp.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                # Only a refused connection is sure not to have delivered anything.
                unknown = not isinstance(exc, aiohttp.ClientConnectorError)
                raise SendError(
                    f"WhatsApp unreachable: {type(exc).__name__}", unknown=unknown
                ) from None
            data = _json(raw)
            if status == 200:
                try:
                    return str(data["messages"][0]["id"])
                except (KeyError, IndexError, TypeError):
                    return None
            code, title = error_of(data, status)
            outcome = classify(code)
            if code is None and status in (400, 404):
                outcome = "permanent"  # no Graph error: our request itself is wrong
            if outcome != "rate":
                raise self._error(chat_id, outcome, code, title, payload)
            if attempt < RATE_RETRIES:
                # Every send waits, not only this one: the limit is the phone number's.
                pause = self._backoff * 2**attempt
                self._paused_until = max(self._paused_until, self._clock() + pause)
                log.warning("whatsapp throughput limit: every send waits %.1f s", pause)
        raise SendError("whatsapp 130429: kept asking to slow down", retry_after=RATE_RETRY_AFTER)

    def _error(
        self, chat_id: str, outcome: str, code: int | None, title: str, payload: Payload
    ) -> SendError:
        """The SendError for one of Meta's answers (130429 is retried before it gets here)."""
        message = f"whatsapp {code}: {title}"
        if outcome == "window":
            return WindowClosed(message, retry_after=3600.0)
        if outcome == "pair":
            self._drain_pair(chat_id)
            return SendError(message, retry_after=PAIR_SECONDS)
        if outcome == "blocked":
            who = pseudonym(user_key(CHANNEL, chat_id))
            log.info("whatsapp user %s cannot receive messages (%s)", who, code)
            return SendError(message, blocked=True)
        if outcome == "template" and payload.get("type") == "template":
            return TemplateRefused(message)
        if outcome in ("permanent", "template"):
            return SendError(message, permanent=True)
        return SendError(message)


def _json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return None


def _now() -> datetime:
    return datetime.now(UTC)

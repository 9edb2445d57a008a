"""The WhatsApp channel: Meta's signed webhook in, the engine, replies out through the sender."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

from aiohttp import web

from bot.channels.limits import BadJson, loads
from bot.channels.whatsapp.convert import CHANNEL, Events, by_sender, parse
from bot.channels.whatsapp.render import MORE_PREFIX, TOKEN_PREFIX
from bot.channels.whatsapp.sender import GraphConfig, WhatsAppSender
from bot.channels.whatsapp.window import DeadHandler, Window
from bot.delivery import SendError
from bot.inbox import DurableTurns, Held, InboxPump, hold_for
from bot.settings import Settings
from bot.store import postgres_url
from handlers.audio.record import register_fetcher
from handlers.engine import Engine, pseudonym, utc_now
from handlers.locks import KeyedLocks
from handlers.messages import Inbound
from storage.cache import Lru
from storage.ports import Store
from storage.ports_inbox import NewInbound, chat_key, inbox_key

log = logging.getLogger(__name__)

PATH = "/whatsapp/webhook"
SIGNATURE_HEADER = "X-Hub-Signature-256"


def signature(body: bytes, secret: str) -> str:
    """The `X-Hub-Signature-256` value Meta sends: HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WhatsAppChannel:
    """Turns webhook calls into Inbound values and draws the engine's replies on WhatsApp."""

    def __init__(
        self,
        engine: Engine,
        store: Store,
        sender: WhatsAppSender,
        *,
        app_secret: str | None,
        verify_token: str | None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.sender = sender
        self.window = sender.window
        self.sender.attach_voice(lambda: engine.content().path)
        self._engine = engine
        self._store = store
        self._app_secret = app_secret
        self._verify_token = verify_token
        self._clock = clock
        self._chats = KeyedLocks()
        self._background: set[asyncio.Task[Any]] = set()
        # "More" taps bypass the engine, and so its deduplication: Meta redelivers them too.
        self._taps: Lru[str, bool] = Lru(4096)
        self._turns = DurableTurns(engine, store, CHANNEL, clock)
        # Stored bodies are handled from the inbox, so a crash loses none of them.
        self.pump = InboxPump(store, {CHANNEL: self._process_stored})

    def __repr__(self) -> str:
        return f"WhatsAppChannel(sender={self.sender!r})"

    def add_routes(self, app: web.Application) -> None:
        """Serve Meta's verification handshake and the webhook on the shared web app."""
        app.router.add_get(PATH, self.verify)
        app.router.add_post(PATH, self.webhook)

    async def start(self) -> None:
        """Open the HTTP session and learn which chats have messages waiting for them."""
        if not self._app_secret:
            log.error("whatsapp: CIVICBOT_WHATSAPP_APP_SECRET is not set: every webhook is refused")
        await self.sender.start()
        await self.window.load()
        if self.sender.media is not None:
            register_fetcher(CHANNEL, self.sender.media.fetch)
        self.pump.start()

    async def verify(self, request: web.Request) -> web.Response:
        """GET: answer Meta's subscription handshake when the verify token matches."""
        query = request.query
        given = query.get("hub.verify_token", "")
        if (
            query.get("hub.mode") == "subscribe"
            and self._verify_token
            and hmac.compare_digest(given.encode(), self._verify_token.encode())
        ):
            return web.Response(text=query.get("hub.challenge", ""))
        log.warning("whatsapp webhook verification refused")
        return web.Response(status=403, text="verification failed")

    async def webhook(self, request: web.Request) -> web.Response:
        """POST: check the signature over the raw body, store it, then answer 200."""
        raw = await request.read()
        given = request.headers.get(SIGNATURE_HEADER)
        if not given:
            return web.Response(status=401, text="missing signature")
        expected = signature(raw, self._app_secret) if self._app_secret else ""
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            log.warning("whatsapp webhook with a wrong signature refused")
            return web.Response(status=403, text="wrong signature")
        try:
            body = loads(raw)
        except BadJson as exc:
            log.warning("unreadable whatsapp webhook body (%d bytes): %s", len(raw), exc)
            if exc.over_limit:
                # Meta never sends such a body: whoever holds the secret is told so.
                return web.Response(status=400, text="body too large or too deep")
            # Acknowledged all the same: Meta would otherwise resend the same bytes for days.
            return web.Response(status=200)
        try:
            # Stored before Meta hears of it: a crash after this loses nothing.
            digest = hashlib.sha256(raw).hexdigest()
            parts = by_sender(body)
            if len(parts) == 1:
                sender, _ = parts[0]
                key = inbox_key(CHANNEL, digest)
                stored = [NewInbound(CHANNEL, key, raw.decode("utf-8"), chat_key(CHANNEL, sender))]
            else:
                # A redelivered batch cuts the same way: the same keys, stored once.
                stored = [
                    NewInbound(
                        CHANNEL,
                        inbox_key(CHANNEL, f"{digest}:{n}"),
                        json.dumps(part),
                        chat_key(CHANNEL, sender),
                    )
                    for n, (sender, part) in enumerate(parts)
                ]
            await self._store.store_inbound(stored, self._clock())
        except Exception:
            log.exception("a whatsapp webhook body could not be stored")
            return web.Response(status=503)  # Meta sends it again
        self.pump.poke()
        return web.Response(status=200)

    async def _process_stored(self, payload: str) -> None:
        """Handle one stored webhook body (the pump calls this, in the order they arrived)."""
        events = parse(loads(payload), self._clock())
        if events.skipped:
            log.warning(
                "whatsapp webhook: %d item(s) of an unexpected shape ignored", events.skipped
            )
        await self._process(events)

    async def _process(self, events: Events) -> None:
        for status in events.statuses:
            try:
                stopped = await self.window.record_status(status)
                if stopped is not None:
                    await self._store.mark_stopped(stopped)
            except Exception:
                log.exception("whatsapp status %s could not be recorded", status.status)
        # Users do not wait for each other; one user's messages keep their order (chat lock).
        results = await asyncio.gather(
            *(self.handle(inbound) for inbound in events.inbounds), return_exceptions=True
        )
        for result in results:
            if isinstance(result, Exception):
                log.error("whatsapp message failed: %s", type(result).__name__, exc_info=result)

    async def handle(self, inbound: Inbound) -> None:
        """Run the engine and send its replies, in order; then wake messages that waited."""
        async with self._chats.hold(inbound.chat_id):
            choice = inbound.choice
            if choice is not None and choice.startswith(MORE_PREFIX):
                await self._more(inbound, choice.removeprefix(MORE_PREFIX))
                return
            if choice is not None and choice.startswith(TOKEN_PREFIX):
                stored = await self._store.load_token(choice.removeprefix(TOKEN_PREFIX))
                inbound = replace(inbound, choice=stored or "expired:")
            await self._turn(inbound)
            # The engine has just recorded this message: the 24-hour window is open again.
            await self.window.wake(inbound.chat_id)

    async def _more(self, inbound: Inbound, rest: str) -> None:
        """Show the next page of a long list."""
        if inbound.message_id is not None:
            if inbound.message_id in self._taps:
                return
            self._taps.put(inbound.message_id, True)
        token, _, page = rest.rpartition(":")
        try:
            shown = page.isdigit() and await self.sender.send_page(
                inbound.chat_id, token, int(page)
            )
        except SendError as exc:
            log.warning("could not show more choices: %s", exc)
            return
        if not shown:
            # A list from before a cleanup: the engine answers as for any stale choice.
            await self._turn(replace(inbound, choice="expired:"))

    async def _turn(self, inbound: Inbound) -> None:
        """The engine's turn and its replies committed together, then sent in order.

        Replies to this chat go at once (inside the window by definition); replies to other
        chats go through the delivery worker and its 24-hour window rule.
        """
        held, _ = await self._turns.handle(inbound)

        async def blocked(_: Held) -> None:
            await self._store.mark_stopped(inbound.user_key)
            log.info("%s cannot receive messages", pseudonym(inbound.user_key))

        await self._turns.send(
            inbound,
            held,
            self.sender.reply,
            direct=lambda item: item.chat == inbound.chat_id,
            on_blocked=blocked,
        )

    async def settle(self) -> None:
        """Wait (10 s at most) until the webhook calls received so far are fully handled."""
        await self.pump.settle()
        pending = [task for task in self._background if task is not asyncio.current_task()]
        if pending:
            await asyncio.wait(pending, timeout=10)

    def lease_for(self, seconds: float) -> None:
        """How long a process that died keeps its stored inbounds and replies from the others."""
        self._turns.hold_seconds = hold_for(seconds)
        self.pump.lease_seconds = seconds

    async def close(self) -> None:
        """Let messages in progress finish, then close the HTTP session."""
        await self.pump.stop()
        await self.settle()
        await self.sender.close()


def from_settings(
    settings: Settings, engine: Engine, store: Store, on_dead: DeadHandler | None = None
) -> WhatsAppChannel:
    """The channel as configured by `CIVICBOT_WHATSAPP_*`."""
    assert settings.whatsapp_token is not None and settings.whatsapp_phone_id is not None
    window = Window(
        store,
        settings.whatsapp_templates,
        [lang.strip() for lang in settings.whatsapp_template_languages.split(",")],
        max_attempts=settings.delivery_max_attempts,
        on_dead=on_dead,
        # Processes sharing PostgreSQL make rows wait that another process's inbound wakes.
        shared=postgres_url(settings.db) is not None,
    )
    config = GraphConfig(
        api_url=settings.whatsapp_api_url,
        phone_id=settings.whatsapp_phone_id,
        token=settings.whatsapp_token.get_secret_value(),
        rate=settings.whatsapp_rate,
    )
    secret, verify = settings.whatsapp_app_secret, settings.whatsapp_verify_token
    return WhatsAppChannel(
        engine,
        store,
        WhatsAppSender(config, store, window),
        app_secret=secret.get_secret_value() if secret else None,
        verify_token=verify.get_secret_value() if verify else None,
    )

"""The Telegram channel: updates in through aiogram, replies out through the sender."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from dataclasses import replace
from typing import Any

from aiogram import Bot, methods
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.methods.base import Response
from aiogram.types import InlineKeyboardMarkup, Update
from aiohttp import web

from bot.channels.limits import loads
from bot.channels.telegram.convert import (
    CHANNEL,
    from_callback,
    from_member,
    from_message,
    quiz_admin_check,
    sender_of,
    utc_now,
)
from bot.channels.telegram.flood import FloodControl
from bot.channels.telegram.render import MORE_PREFIX, TOKEN_PREFIX
from bot.channels.telegram.sender import TelegramSender, load_choices
from bot.channels.telegram.voice import TelegramVoice
from bot.channels.voice import VoiceCache
from bot.inbox import DurableTurns, Held, InboxPump, hold_for
from handlers.audio.record import register_fetcher
from handlers.engine import Engine, pseudonym
from handlers.locks import KeyedLocks
from handlers.messages import Inbound, Reply
from storage import fastjson
from storage.ports import Store
from storage.ports_inbox import NewInbound, chat_key, inbox_key

log = logging.getLogger(__name__)

ALERT_LIMIT = 200  # what Telegram shows in a callback answer
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]
POLL_SECONDS = 25

# aiogram reads every answer of the Bot API as `Response[method.__returning__]`, a pydantic
# generic class that pydantic caches weakly: each garbage collection dropped it and the next
# call rebuilt it (about 5 ms, measured by bench/telegram.py). The ones we call stay built
# (getUpdates, sendMessage and answerCallbackQuery use them for error answers only: wire.py).
_RESPONSES = tuple(
    Response[method.__returning__]  # type: ignore[name-defined]
    for method in (
        methods.AnswerCallbackQuery,
        methods.EditMessageReplyMarkup,
        methods.EditMessageText,
        methods.GetChatMember,
        methods.GetUpdates,
        methods.SendAudio,
        methods.SendDocument,
        methods.SendMessage,
        methods.SendPhoto,
        methods.SendVoice,
    )
)


def _route(reply: Reply, private_to: str | None) -> Reply | None:
    """Where a reply goes: None keeps it for the tapping member's alert."""
    only_for = reply.only_for
    if only_for is None:
        return reply
    if only_for == private_to:
        return None
    return replace(reply, chat=str(only_for))


def make_bot(token: str, api_url: str | None) -> Bot:
    """An aiogram Bot, pointed at another Bot API server when `api_url` is set."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url)) if api_url else None
    return Bot(token=token, session=session)


class TelegramChannel:
    """Turns updates into Inbound values and draws the engine's replies on Telegram."""

    def __init__(self, bot: Bot, engine: Engine, store: Store, flood: FloodControl) -> None:
        self.bot = bot
        self.sender = TelegramSender(bot, store, flood)
        self.sender.voice = TelegramVoice(
            bot, VoiceCache(CHANNEL, store, lambda: engine.content().path)
        )
        self._engine = engine
        self._store = store
        self._background: set[asyncio.Task[Any]] = set()
        self._chats = KeyedLocks()
        self._turns = DurableTurns(engine, store, CHANNEL)
        self._closing = asyncio.Event()
        # Stored updates are handled from the inbox, so a crash loses none of them.
        self.pump = InboxPump(store, {CHANNEL: self._process_stored})

    async def start(self) -> None:
        """Learn the bot's username (for deep links into the private chat)."""
        me = await self.bot.get_me()
        self.sender.username = me.username
        if self.sender.voice is not None:
            register_fetcher(CHANNEL, self.sender.voice.fetch)
        self.pump.start()

    async def _on_message(self, message: dict[str, Any], update_id: int) -> None:
        admin = await self._is_admin(message)
        inbound = from_message(message, update_id, self.sender.username, utc_now(), admin)
        if inbound is not None:
            await self.handle(inbound)

    async def _is_admin(self, message: dict[str, Any]) -> bool:
        """Whether a group command comes from an admin (only /quiz needs to know)."""
        asked = quiz_admin_check(message)
        if asked is None:
            return False
        try:
            member = await self.bot.get_chat_member(*asked)
        except Exception as exc:
            log.warning("could not check a group admin: %s", type(exc).__name__)
            return False
        return member.status in ("administrator", "creator")

    async def _on_member(self, member: dict[str, Any], update_id: int) -> None:
        inbound = from_member(member, update_id, utc_now())
        if inbound is not None:
            await self.handle(inbound)

    async def _on_callback(self, query: dict[str, Any], update_id: int) -> None:
        # Every tap is answered, whatever happens, so that the button stops spinning; a reply
        # meant for the tapping member only becomes that answer, which nobody else sees.
        private: list[str] = []
        try:
            data = str(query.get("data") or "")
            if data.startswith(MORE_PREFIX):
                await self._more(query, data.removeprefix(MORE_PREFIX))
                return
            if data.startswith(TOKEN_PREFIX):
                data = await self._store.load_token(data.removeprefix(TOKEN_PREFIX)) or "expired:"
            inbound = from_callback(query, update_id, data, utc_now())
            if inbound is not None:
                private = await self.handle(inbound, private_to=inbound.user_id)
        finally:
            try:
                text = " ".join(private)[:ALERT_LIMIT] or None
                await self.sender.wire.answer_callback(str(query.get("id", "")), text)
            except Exception as exc:  # the tap still counts even if the answer fails
                log.warning("could not answer a callback query: %s", type(exc).__name__)

    async def _more(self, query: dict[str, Any], rest: str) -> None:
        """Show another page of a long keyboard in the same message."""
        token, _, page = rest.rpartition(":")
        payload = await self._store.load_token(token)
        message = query.get("message") or {}
        chat_id, message_id = (message.get("chat") or {}).get("id"), message.get("message_id")
        if payload is None or not page.isdigit() or chat_id is None or message_id is None:
            return
        keyboard = await self.sender.markup(load_choices(payload), int(page))
        markup = InlineKeyboardMarkup.model_validate(keyboard) if keyboard else None
        try:
            await self.bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=markup
            )
        except Exception as exc:
            log.warning("could not show more choices: %s", type(exc).__name__)

    async def handle(self, inbound: Inbound, private_to: str | None = None) -> list[str]:
        """Run the engine and send its replies; `close` waits for handlings in progress.

        The turn and its replies commit together (replies as outbox rows), then the replies
        go at once; what cannot go waits in the outbox. Replies only one member may see are
        returned when they are for `private_to` (the member who tapped), else sent to that
        member's private chat, never to the group.
        """
        task = asyncio.current_task()
        if task is not None:
            self._background.add(task)
        # aiogram handles updates as concurrent tasks: one private chat's turns and their
        # replies go one after the other, so replies never interleave (A1, B1, A2).
        ordered = (
            self._chats.hold(inbound.chat_id)
            if inbound.chat_type == "private"
            else contextlib.nullcontext()
        )
        try:
            async with ordered:
                held, kept = await self._turns.handle(
                    inbound, lambda reply: _route(reply, private_to)
                )

                async def blocked(item: Held) -> None:
                    if inbound.chat_type == "private" and item.chat == inbound.chat_id:
                        await self._store.mark_stopped(inbound.user_key)
                    log.info("chat of %s is closed to the bot", pseudonym(inbound.user_key))

                await self._turns.send(
                    inbound, held, self.sender.send, direct=lambda _: True, on_blocked=blocked
                )
        finally:
            if task is not None:
                self._background.discard(task)
        return [reply.text for reply in kept]

    async def run_polling(self, until: asyncio.Event | None = None) -> None:
        """Long polling until `close` (or `until`, when this process stops leading): an offset
        is confirmed only once its updates are stored."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        offset: int | None = None
        failures = 0
        resigned = until or asyncio.Event()
        while not self._closing.is_set() and not resigned.is_set():
            # As Telegram sent them: stored as they are, parsed once, when handled.
            fetch = asyncio.ensure_future(
                self.sender.wire.get_updates(offset, POLL_SECONDS, ALLOWED_UPDATES)
            )
            closing = asyncio.ensure_future(self._closing.wait())
            resigning = asyncio.ensure_future(resigned.wait())
            await asyncio.wait({fetch, closing, resigning}, return_when=asyncio.FIRST_COMPLETED)
            closing.cancel()
            resigning.cancel()
            if not fetch.done():
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await fetch
                return
            try:
                updates = fetch.result()
                await self.store_updates(updates)
            except Exception as exc:
                # Nothing confirmed: the same updates come again on the next call.
                failures += 1
                log.warning("telegram polling failed: %s", type(exc).__name__)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), timeout=min(30, failures))
                continue
            failures = 0
            if updates:
                offset = int(updates[-1]["update_id"]) + 1

    async def store_updates(self, updates: list[dict[str, Any]]) -> None:
        """Write updates (as Telegram sent them) to the durable inbox and wake the pump."""
        if not updates:
            return
        payloads = [fastjson.dumps(data) for data in updates]
        await self._store.store_inbound(
            [
                NewInbound(
                    CHANNEL,
                    inbox_key(CHANNEL, str(data["update_id"])),
                    payload,
                    chat_key(CHANNEL, sender_of(data)),
                )
                for data, payload in zip(updates, payloads, strict=True)
            ],
            utc_now(),
        )
        self.pump.poke()

    async def _process_stored(self, payload: str) -> None:
        """Handle one stored update (the pump calls this, in the order they arrived)."""
        data = fastjson.loads(payload)
        update_id = int(data["update_id"])
        # Read from Telegram's JSON (convert.py), and called straight, not through aiogram's
        # Dispatcher: for three handlers without filters, its middlewares, router walk and
        # per-update context cost about 130 µs of CPU an update and did nothing we use. An
        # update that cannot be read raises here, and the pump logs and drops it.
        if isinstance(message := data.get("message"), dict):
            await self._on_message(message, update_id)
        elif isinstance(query := data.get("callback_query"), dict):
            await self._on_callback(query, update_id)
        elif isinstance(member := data.get("my_chat_member"), dict):
            await self._on_member(member, update_id)

    async def set_webhook(self, url: str, secret: str) -> None:
        """Register the webhook with its secret token."""
        await self.bot.set_webhook(url=url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)

    def webhook_handler(self, secret: str) -> Any:
        """The aiohttp handler of POST /telegram/webhook."""

        async def handle(request: web.Request) -> web.Response:
            given = request.headers.get(SECRET_HEADER, "")
            if not hmac.compare_digest(given.encode(), secret.encode()):
                return web.Response(status=401, text="wrong secret token")
            try:
                data = loads(await request.read())
                Update.model_validate(data, context={"bot": self.bot})  # readable, or refused
            except Exception:
                log.warning("unreadable Telegram update ignored")
                return web.Response(status=200)
            try:
                await self.store_updates([data])
            except Exception:
                # Not stored: Telegram is told so, and sends the update again.
                log.exception("a Telegram update could not be stored")
                return web.Response(status=503)
            return web.Response(status=200)

        return handle

    def lease_for(self, seconds: float) -> None:
        """How long a process that died keeps its stored inbounds and replies from the others."""
        self._turns.hold_seconds = hold_for(seconds)
        self.pump.lease_seconds = seconds

    async def close(self) -> None:
        """Stop polling, let stored updates in progress finish, then close the HTTP session."""
        self._closing.set()
        await self.pump.stop()
        pending = [task for task in self._background if task is not asyncio.current_task()]
        if pending:
            await asyncio.wait(pending, timeout=10)
        await self.bot.session.close()

"""The Telegram channel: updates in through aiogram, replies out through the sender."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from dataclasses import replace
from typing import Any

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import CallbackQuery, ChatMemberUpdated, Message, Update
from aiohttp import web

from bot.channels.telegram.convert import (
    CHANNEL,
    from_callback,
    from_member,
    from_message,
    utc_now,
)
from bot.channels.telegram.flood import FloodControl
from bot.channels.telegram.render import MORE_PREFIX, TOKEN_PREFIX
from bot.channels.telegram.sender import TelegramSender, load_choices
from bot.delivery import SendError
from handlers.engine import Engine, pseudonym
from handlers.locks import KeyedLocks
from handlers.messages import Inbound, Reply
from storage.records import NewOutboxMessage
from storage.sqlite import SqliteStore

log = logging.getLogger(__name__)

ALERT_LIMIT = 200  # what Telegram shows in a callback answer
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
ALLOWED_UPDATES = ["message", "callback_query", "my_chat_member"]


def make_bot(token: str, api_url: str | None) -> Bot:
    """An aiogram Bot, pointed at another Bot API server when `api_url` is set."""
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_url)) if api_url else None
    return Bot(token=token, session=session)


class TelegramChannel:
    """Turns updates into Inbound values and draws the engine's replies on Telegram."""

    def __init__(self, bot: Bot, engine: Engine, store: SqliteStore, flood: FloodControl) -> None:
        self.bot = bot
        self.sender = TelegramSender(bot, store, flood)
        self._engine = engine
        self._store = store
        self._background: set[asyncio.Task[Any]] = set()
        self._chats = KeyedLocks()
        self.dispatcher = Dispatcher()
        router = Router(name="civicbot")
        router.message.register(self._on_message)
        router.callback_query.register(self._on_callback)
        router.my_chat_member.register(self._on_member)
        self.dispatcher.include_router(router)

    async def start(self) -> None:
        """Learn the bot's username (for deep links into the private chat)."""
        me = await self.bot.get_me()
        self.sender.username = me.username

    async def _on_message(self, message: Message, event_update: Update) -> None:
        admin = await self._is_admin(message)
        inbound = from_message(
            message, event_update.update_id, self.sender.username, utc_now(), admin
        )
        if inbound is not None:
            await self.handle(inbound)

    async def _is_admin(self, message: Message) -> bool:
        """Whether a group command comes from an admin (only /quiz needs to know)."""
        text = message.text or ""
        if message.chat.type == "private" or not text.startswith("/quiz") or not message.from_user:
            return False
        try:
            member = await self.bot.get_chat_member(message.chat.id, message.from_user.id)
        except Exception as exc:
            log.warning("could not check a group admin: %s", type(exc).__name__)
            return False
        return member.status in ("administrator", "creator")

    async def _on_member(self, member: ChatMemberUpdated, event_update: Update) -> None:
        inbound = from_member(member, event_update.update_id, utc_now())
        if inbound is not None:
            await self.handle(inbound)

    async def _on_callback(self, query: CallbackQuery, event_update: Update) -> None:
        # Every tap is answered, whatever happens, so that the button stops spinning; a reply
        # meant for the tapping member only becomes that answer, which nobody else sees.
        private: list[str] = []
        try:
            data = query.data or ""
            if data.startswith(MORE_PREFIX):
                await self._more(query, data.removeprefix(MORE_PREFIX))
                return
            if data.startswith(TOKEN_PREFIX):
                data = await self._store.load_token(data.removeprefix(TOKEN_PREFIX)) or "expired:"
            inbound = from_callback(query, event_update.update_id, data, utc_now())
            private = await self.handle(inbound, private_to=str(query.from_user.id))
        finally:
            try:
                text = " ".join(private)[:ALERT_LIMIT] or None
                await query.answer(text=text, show_alert=bool(text))
            except Exception as exc:  # the tap still counts even if the answer fails
                log.warning("could not answer a callback query: %s", type(exc).__name__)

    async def _more(self, query: CallbackQuery, rest: str) -> None:
        """Show another page of a long keyboard in the same message."""
        token, _, page = rest.rpartition(":")
        payload = await self._store.load_token(token)
        message = query.message
        if payload is None or not page.isdigit() or message is None:
            return
        markup = await self.sender.markup(load_choices(payload), int(page))
        try:
            await self.bot.edit_message_reply_markup(
                chat_id=message.chat.id, message_id=message.message_id, reply_markup=markup
            )
        except Exception as exc:
            log.warning("could not show more choices: %s", type(exc).__name__)

    async def handle(self, inbound: Inbound, private_to: str | None = None) -> list[str]:
        """Run the engine and send its replies; `close` waits for handlings in progress.

        Replies only one member may see are returned when they are for `private_to` (the
        member who tapped), else sent to that member's private chat, never to the group.
        """
        task = asyncio.current_task()
        if task is not None:
            self._background.add(task)
        private: list[str] = []
        # aiogram handles updates as concurrent tasks: one private chat's turns and their
        # replies go one after the other, so replies never interleave (A1, B1, A2).
        ordered = (
            self._chats.hold(inbound.chat_id)
            if inbound.chat_type == "private"
            else contextlib.nullcontext()
        )
        try:
            async with ordered:
                replies = await self._engine.handle(inbound)
                for reply in replies:
                    await self._send_one(inbound, reply, private_to, private)
        finally:
            if task is not None:
                self._background.discard(task)
        return private

    async def _send_one(
        self, inbound: Inbound, reply: Reply, private_to: str | None, private: list[str]
    ) -> None:
        """Deliver a reply; one meant for the tapping member only is kept for the tap."""
        only_for = reply.only_for
        if only_for is not None and only_for == private_to:
            private.append(reply.text)
        elif only_for is not None:
            await self.deliver(inbound, replace(reply, chat=str(only_for)))
        else:
            await self.deliver(inbound, reply)

    async def deliver(self, inbound: Inbound, reply: Reply) -> None:
        """Send one reply now; if Telegram fails, the outbox retries it later."""
        chat = reply.chat or inbound.chat_id
        try:
            await self.sender.send(chat, reply)
        except SendError as exc:
            if exc.blocked:
                if inbound.chat_type == "private":
                    await self._store.mark_stopped(inbound.user_key)
                log.info("chat of %s is closed to the bot", pseudonym(inbound.user_key))
            elif not exc.permanent:
                # Nothing is lost: a reply that could not go now waits in the outbox.
                async with self._store.transaction() as tx:
                    tx.enqueue(
                        NewOutboxMessage(
                            channel=CHANNEL,
                            chat_id=chat,
                            kind="reply",
                            payload=reply.to_dict(chat),
                            user_key=inbound.user_key if chat == inbound.chat_id else None,
                        ),
                        utc_now(),
                    )
                log.warning("reply queued for retry: %s", exc)
            else:
                log.error("reply could not be sent: %s", exc)

    async def run_polling(self) -> None:
        """Long polling until cancelled."""
        await self.bot.delete_webhook(drop_pending_updates=False)
        await self.dispatcher.start_polling(
            self.bot, handle_signals=False, allowed_updates=ALLOWED_UPDATES
        )

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
                update = Update.model_validate(await request.json(), context={"bot": self.bot})
            except Exception:
                log.warning("unreadable Telegram update ignored")
                return web.Response(status=200)
            # Answer at once; Telegram would resend an update that waits too long.
            task = asyncio.create_task(self._feed(update))
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return web.Response(status=200)

        return handle

    async def _feed(self, update: Update) -> None:
        try:
            await self.dispatcher.feed_update(self.bot, update)
        except Exception:
            log.exception("update %s failed", update.update_id)

    async def close(self) -> None:
        """Stop polling, let updates in progress finish, then close the HTTP session."""
        with contextlib.suppress(RuntimeError):  # polling was not running
            await self.dispatcher.stop_polling()
        pending = [task for task in self._background if task is not asyncio.current_task()]
        if pending:
            await asyncio.wait(pending, timeout=10)
        await self.bot.session.close()

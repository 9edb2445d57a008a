"""Sending to Telegram: flood control, 429 waits, errors mapped for the outbox."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from functools import partial
from typing import Any

from aiogram import Bot
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, Message

from bot.channels.relay import Note, Relay
from bot.channels.telegram.flood import FloodControl
from bot.channels.telegram.render import (
    CAPTION_LIMIT,
    MORE_PREFIX,
    TOKEN_PREFIX,
    Button,
    escape,
    fits,
    label,
    open_private_link,
    pages,
    rows,
    split_text,
)
from bot.channels.telegram.voice import TelegramVoice
from bot.channels.telegram.wire import Wire
from bot.channels.voice import VoiceFileError
from bot.delivery import SendError
from handlers.locks import KeyedLocks
from handlers.messages import Choice, Reply
from storage.cache import Lru
from storage.ports import Store
from storage.records import OutboxRecord

log = logging.getLogger(__name__)

# An inline keyboard as the Bot API's JSON reads it: {"inline_keyboard": [[button, ...], ...]}.
Keyboard = dict[str, list[list[dict[str, str]]]]

MAX_RETRY_AFTER_WAITS = 5
MAX_INLINE_WAIT = 2.0
GONE = ("chat not found", "user is deactivated", "bot was kicked", "have no rights to send")
# Bots may send voice notes of up to 50 MB (OGG/Opus, MP3 or M4A) with sendVoice.
VOICE_LIMIT = 50 * 1024 * 1024
VOICE_TYPES = frozenset({"audio/ogg", "audio/mpeg", "audio/mp4"})


def is_group(chat_id: str) -> bool:
    """Telegram group and supergroup ids are negative."""
    return chat_id.startswith("-")


class TelegramSender:
    """Sends replies and outbox rows; one chat's messages go out one at a time, in order."""

    def __init__(self, bot: Bot, store: Store, flood: FloodControl) -> None:
        self.bot = bot
        self._store = store
        self._flood = flood
        self._chats = KeyedLocks()
        self.username: str | None = None
        # The JSON calls of every update; the channel polls and answers taps through it too.
        self.wire = Wire(bot)
        # Menus repeat all day: build each keyboard once (tokens are derived, so stable).
        self._keyboards: Lru[tuple[object, ...], tuple[Keyboard | None]] = Lru(2048)
        # Voice notes of the pack (issue 18); set by the channel, which knows the pack.
        self.voice: TelegramVoice | None = None
        # Citizens' voice notes sent on WhatsApp, forwarded to a CSO chat here.
        self.relay = Relay("telegram", VOICE_LIMIT, types=VOICE_TYPES)

    async def send(self, chat_id: str, reply: Reply, row: OutboxRecord | None = None) -> str | None:
        """Send a reply (in parts if long); return the last Telegram message id."""
        async with self._chats.hold(chat_id):
            edited = await self._edit(chat_id, reply)
            if edited is not None:
                return edited
            markup = await self.markup(reply.choices, 0, reply)
            last: Message | int | None = None
            text = reply.text
            if reply.audio is not None and self.voice is not None:
                voice, path = self.voice, reply.audio
                try:
                    last = await self._call(chat_id, lambda: voice.send(int(chat_id), path))
                except VoiceFileError:
                    log.warning("voice note %s is not in the pack: text only", path)
            if reply.media is not None and self.relay.wants(reply):
                async with self.relay.carry(reply) as note:
                    if isinstance(note, Note):
                        last = await self._call(chat_id, self._voice_upload(chat_id, note))
                    else:
                        text = note
            elif reply.media is not None:
                caption = text if len(text) <= CAPTION_LIMIT else None
                last = await self._call(chat_id, self._media_call(chat_id, reply, caption))
                text = "" if caption is not None else text
            parts = split_text(text) if text else []
            for n, part in enumerate(parts):
                keyboard = markup if n == len(parts) - 1 else None
                last = await self._call(
                    chat_id, partial(self.wire.send_message, int(chat_id), escape(part), keyboard)
                )
            if isinstance(last, Message):
                return str(last.message_id)
            return None if last is None else str(last)

    async def _edit(self, chat_id: str, reply: Reply) -> str | None:
        """A reply that replaces an earlier message (a closed quiz question) edits it."""
        row_id = reply.edit_of
        row = await self._store.get_outbox(str(row_id)) if row_id else None
        if row is None or not row.platform_message_id:
            return None
        message_id = int(row.platform_message_id)
        await self._call(
            chat_id,
            partial(
                self.bot.edit_message_text,
                chat_id=int(chat_id),
                message_id=message_id,
                text=escape(reply.text[:4096]),
                parse_mode="HTML",
            ),
        )
        return str(message_id)

    def _voice_upload(self, chat_id: str, note: Note) -> Callable[[], Awaitable[Any]]:
        """sendVoice with the bytes of a voice note that came from another platform."""
        ending = "ogg" if note.mime == "audio/ogg" else note.mime.split("/")[-1]
        return lambda: self.bot.send_voice(
            int(chat_id), BufferedInputFile(note.data, f"voice.{ending}")
        )

    def _media_call(
        self, chat_id: str, reply: Reply, caption: str | None
    ) -> Callable[[], Awaitable[Any]]:
        assert reply.media is not None
        ref, target = reply.media.ref, int(chat_id)
        text = escape(caption) if caption else None
        kind = reply.media.kind
        if kind == "photo":
            return lambda: self.bot.send_photo(target, ref, caption=text, parse_mode="HTML")
        if kind == "voice":
            return lambda: self.bot.send_voice(target, ref, caption=text, parse_mode="HTML")
        if kind == "audio":
            return lambda: self.bot.send_audio(target, ref, caption=text, parse_mode="HTML")
        return lambda: self.bot.send_document(target, ref, caption=text, parse_mode="HTML")

    async def markup(
        self, choices: tuple[Choice, ...], page: int, reply: Reply | None = None
    ) -> Keyboard | None:
        """Page `page` of the keyboard for these choices (8 buttons at most), as the Bot API's
        `reply_markup` (shared: never changed once built)."""
        key = (
            choices,
            page,
            reply.open_private if reply else None,
            reply.open_private_label if reply else None,
        )
        # One lookup: the key holds every choice, and hashing it is not free.
        cached = self._keyboards.get(key)
        if cached is not None:
            return cached[0]
        built = await self._build_markup(choices, page, reply)
        self._keyboards.put(key, (built,))  # (None,): a screen without a keyboard
        return built

    async def _build_markup(
        self, choices: tuple[Choice, ...], page: int, reply: Reply | None
    ) -> Keyboard | None:
        buttons: list[Button] = []
        spans = pages(len(choices))
        if choices and 0 <= page < len(spans):
            for position in spans[page]:
                choice = choices[position]
                data = choice.id
                if not fits(data):
                    data = TOKEN_PREFIX + await self._store.save_token(choice.id, _now())
                buttons.append(Button(label(position + 1, choice), data=data))
            if len(spans) > 1:
                listing = await self._store.save_token(_dump(choices), _now())
                if page + 1 < len(spans):
                    buttons.append(Button("Plus ▸", data=f"{MORE_PREFIX}{listing}:{page + 1}"))
                if page > 0:
                    buttons.append(Button("◂", data=f"{MORE_PREFIX}{listing}:{page - 1}"))
        grid = rows(buttons)
        link = open_private_link(reply, self.username) if reply else None
        if link is not None:
            grid.append([link])
        if not grid:
            return None
        return {"inline_keyboard": [[_button(b) for b in row] for row in grid]}

    async def _call(self, chat_id: str, call: Callable[[], Awaitable[Any]]) -> Any:
        """One API call under flood control; 429 waits as told, other errors become SendError."""
        for _ in range(MAX_RETRY_AFTER_WAITS):
            pause = self._flood.delay(chat_id, is_group(chat_id), max_wait=MAX_INLINE_WAIT)
            if pause > MAX_INLINE_WAIT:
                # A long wait (a busy group) goes back to the outbox instead of holding up
                # the delivery worker and every other chat behind it.
                raise SendError("flood control", retry_after=pause, paced=True)
            if pause > 0:
                await asyncio.sleep(pause)
            await self._flood.take_global()
            try:
                return await call()
            except TelegramRetryAfter as exc:
                log.warning("telegram asks to wait %s s", exc.retry_after)
                if exc.retry_after > MAX_INLINE_WAIT:
                    # A long wait goes back to the outbox: sleeping here would hold this
                    # chat's lock (and a delivery slot) for as long as Telegram asks.
                    raise SendError("telegram asks to wait", retry_after=exc.retry_after) from None
                await asyncio.sleep(exc.retry_after)
            except TelegramForbiddenError as exc:
                raise SendError(exc.message, blocked=True) from None
            except (TelegramBadRequest, TelegramNotFound) as exc:
                gone = any(words in exc.message.lower() for words in GONE)
                raise SendError(exc.message, permanent=True, blocked=gone) from None
            except (TelegramServerError, TelegramNetworkError, TimeoutError) as exc:
                # A timeout leaves the outcome unknown: the message may have gone.
                unknown = isinstance(exc, TimeoutError) or "timeout" in str(exc).lower()
                raise SendError(f"{type(exc).__name__}: {exc}", unknown=unknown) from None
        raise SendError("Telegram kept asking to wait")


def _button(button: Button) -> dict[str, str]:
    """One inline button as the Bot API reads it: a callback or a link."""
    if button.url is not None:
        return {"text": button.text, "url": button.url}
    return {"text": button.text, "callback_data": button.data or ""}


def _dump(choices: tuple[Choice, ...]) -> str:
    return json.dumps(
        [[c.id, c.label, c.short_label] for c in choices], ensure_ascii=False, sort_keys=True
    )


def load_choices(payload: str) -> tuple[Choice, ...]:
    """The choices of a long keyboard stored under a token."""
    return tuple(Choice(str(i), str(lab), short) for i, lab, short in json.loads(payload))


def _now() -> datetime:
    return datetime.now(UTC)

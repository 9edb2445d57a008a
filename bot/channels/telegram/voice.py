"""Voice notes on Telegram: sendVoice with one upload per file, getFile to download recordings."""

from __future__ import annotations

import io
import logging

import aiohttp
from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import BufferedInputFile, Message

from bot.channels.voice import VoiceCache
from handlers.audio.record import FetchError, MediaGone, MediaTooLarge

log = logging.getLogger(__name__)

# The Bot API lets a bot download files of at most 20 MB (getFile refuses larger ones).
DOWNLOAD_LIMIT = 20 * 1024 * 1024

# Telegram's answer to a file id it no longer knows (or that belongs to another bot).
_STALE = ("wrong file identifier", "file reference", "wrong remote file", "file_id")


class TelegramVoice:
    """Sends pack voice notes by file id (uploaded once), and downloads members' recordings."""

    def __init__(self, bot: Bot, cache: VoiceCache) -> None:
        self.bot = bot
        self.cache = cache

    async def send(self, chat_id: int, relative: str) -> Message:
        """Send one voice note; the first send of a file uploads it and keeps its file id."""
        sent: list[Message] = []

        async def upload(data: bytes) -> str:
            message = await self.bot.send_voice(chat_id, BufferedInputFile(data, "voice.ogg"))
            sent.append(message)
            if message.voice is None:  # pragma: no cover - Telegram answers with the voice
                raise FetchError("Telegram did not return the voice note's file id")
            return message.voice.file_id

        file_id = await self.cache.remote_id(relative, upload)
        if sent:
            return sent[0]
        try:
            return await self.bot.send_voice(chat_id, file_id)
        except TelegramBadRequest as exc:
            if not any(words in exc.message.lower() for words in _STALE):
                raise
            log.warning("telegram refused a cached voice file id: uploading again")
            file_id = await self.cache.remote_id(relative, upload, stale=file_id)
            return sent[0] if sent else await self.bot.send_voice(chat_id, file_id)

    async def fetch(self, file_id: str, limit: int) -> bytes:
        """Download a user's voice note (getFile, then the file URL), at most `limit` bytes."""
        limit = min(limit, DOWNLOAD_LIMIT)
        try:
            found = await self.bot.get_file(file_id)
            if found.file_size is not None and found.file_size > limit:
                raise MediaTooLarge(f"file of {found.file_size} bytes is too large")
            if not found.file_path:
                raise FetchError("Telegram gave no file path")
            buffer = io.BytesIO()
            await self.bot.download_file(found.file_path, destination=buffer)
        except FetchError:
            raise
        except TelegramBadRequest as exc:
            if "too big" in exc.message.lower():
                raise MediaTooLarge("Telegram will not let a bot download it") from None
            # getFile answers 400 to an id it does not know ("invalid file_id", "wrong
            # file_id", "file not found"): asking again gives the same answer.
            raise MediaGone(f"telegram no longer has the file: {exc.message}") from None
        except aiohttp.ClientResponseError as exc:
            if exc.status in (400, 404):
                # The path getFile just gave leads nowhere: the file was deleted meanwhile.
                raise MediaGone(f"telegram file download answered {exc.status}") from None
            raise FetchError(f"telegram download failed: HTTP {exc.status}") from None
        except Exception as exc:
            raise FetchError(f"telegram download failed: {type(exc).__name__}") from None
        data = buffer.getvalue()
        if len(data) > limit:
            raise MediaTooLarge(f"file of {len(data)} bytes is too large")
        return data

"""Voice notes on WhatsApp: upload once to /{phone-id}/media, send `audio` by media id,
upload again when Meta says the id expired; download members' recordings with the token."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

import aiohttp

from bot.channels.voice import VoiceCache
from bot.channels.whatsapp.errors import error_of
from bot.delivery import SendError
from handlers.audio.record import FetchError, MediaGone, MediaTooLarge

log = logging.getLogger(__name__)

# Meta keeps uploaded media 30 days; a day's margin, then the next send uploads again.
MEDIA_LIFETIME = timedelta(days=29)
# Meta's answer to a message whose media id it no longer has.
EXPIRED = ("whatsapp 131053",)
OGG = "audio/ogg"
# Meta's answer to a media id it does not have (any more): code 100, "Object with ID ...
# does not exist" (subcode 33), with HTTP 400, or 404.
UNKNOWN_OBJECT = 100

Payload = dict[str, object]
Post = Callable[[str, dict[str, object]], Awaitable[str | None]]


def audio_payload(media_id: str) -> Payload:
    """An audio message that plays an uploaded voice note."""
    return {"type": "audio", "audio": {"id": media_id}}


class GraphMedia:
    """The media endpoints of the Graph API, through the sender's authorised session."""

    def __init__(
        self,
        api_url: str,
        phone_id: str,
        session: Callable[[], aiohttp.ClientSession | None],
        cache: VoiceCache,
    ) -> None:
        self._base = api_url.rstrip("/")
        self._upload_url = f"{self._base}/{phone_id}/media"
        self._session = session
        self.cache = cache

    def __repr__(self) -> str:
        return f"GraphMedia(url={self._upload_url!r})"

    def _open(self) -> aiohttp.ClientSession:
        session = self._session()
        if session is None:
            raise SendError("WhatsApp sender is not running")
        return session

    async def upload(self, data: bytes, mime: str = OGG) -> str:
        """Upload a voice note (or another audio file of type `mime`); Meta's media id."""
        form = aiohttp.FormData()
        form.add_field("messaging_product", "whatsapp")
        form.add_field("type", mime)
        form.add_field("file", data, filename=f"voice.{mime.split('/')[-1]}", content_type=mime)
        try:
            async with self._open().post(self._upload_url, data=form) as resp:
                status, body = resp.status, await resp.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            raise SendError(f"WhatsApp media upload failed: {type(exc).__name__}") from None
        if status != 200 or not isinstance(body, dict) or "id" not in body:
            raise SendError(f"WhatsApp media upload refused: HTTP {status}")
        return str(body["id"])

    async def send(self, chat_id: str, relative: str, post: Post) -> str | None:
        """Send a voice note by media id; a refused (expired) id is replaced by a new upload."""
        media_id = await self.cache.remote_id(relative, self.upload)
        try:
            return await post(chat_id, audio_payload(media_id))
        except SendError as exc:
            if not str(exc).startswith(EXPIRED):
                raise
        log.info("whatsapp media id expired: uploading the voice note again")
        media_id = await self.cache.remote_id(relative, self.upload, stale=media_id)
        return await post(chat_id, audio_payload(media_id))

    async def fetch(self, media_id: str, limit: int) -> bytes:
        """Download a member's media: its URL from the Graph API, then the bytes (token too)."""
        try:
            session = self._open()
            async with session.get(f"{self._base}/{media_id}") as resp:
                meta = await resp.json(content_type=None)
                if resp.status in (400, 404) and error_of(meta, resp.status)[0] == UNKNOWN_OBJECT:
                    raise MediaGone(f"Meta no longer has the media (HTTP {resp.status})")
                if resp.status != 200 or not isinstance(meta, dict) or "url" not in meta:
                    raise FetchError(f"no URL for the media (HTTP {resp.status})")
            if int(meta.get("file_size") or 0) > limit:
                raise MediaTooLarge("media too large")
            async with session.get(str(meta["url"])) as resp:
                if resp.status in (404, 410):
                    # The URL was given just now (it lasts 5 minutes): the file itself is gone.
                    raise MediaGone(f"media download answered HTTP {resp.status}")
                if resp.status != 200:
                    raise FetchError(f"media download refused (HTTP {resp.status})")
                data = await resp.content.read(limit + 1)
        except FetchError:
            raise
        except (aiohttp.ClientError, TimeoutError, ValueError, SendError) as exc:
            raise FetchError(f"whatsapp download failed: {type(exc).__name__}") from None
        if len(data) > limit:
            raise MediaTooLarge("media too large")
        return data

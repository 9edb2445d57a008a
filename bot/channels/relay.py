"""Voice notes a citizen sent on one platform, carried to a chat on another platform.

A platform's media id means nothing on the other platform, so the note is downloaded from the
citizen's platform and sent again as bytes. The bytes live only in this process's memory and
only for the one send: never written to disk or to the database, dropped when the send returns,
delivered or not (a retry of the outbox row downloads again).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

from bot.delivery import SendError
from handlers.audio.record import FetchError, MediaFetcher, MediaGone, MediaTooLarge, fetcher_for
from handlers.messages import Reply

log = logging.getLogger(__name__)

# What is carried across: the voice notes that describe a complaint (photos and documents
# are not, yet).
RELAYED_KINDS = frozenset({"voice", "audio"})
OGG = "audio/ogg"
# Notes held in memory at once by one channel: each may weigh up to its platform's limit.
CONCURRENT = 2


@dataclass(frozen=True, slots=True)
class Note:
    """A downloaded voice note and its type, for the time of one send."""

    data: bytes
    mime: str = OGG

    def __repr__(self) -> str:
        # A voice can identify the citizen: never the bytes in a log line.
        return f"Note({self.mime}, {len(self.data)} bytes)"


def sniff(data: bytes) -> str | None:
    """The audio type of a file from its first bytes; None when it is not audio we know."""
    if data.startswith(b"OggS"):
        return OGG
    if data.startswith(b"ID3") or data[:2] in (b"\xff\xfb", b"\xff\xf3", b"\xff\xf2"):
        return "audio/mpeg"
    if data[4:8] == b"ftyp":
        return "audio/mp4"
    if data.startswith(b"#!AMR"):
        return "audio/amr"
    if data[:2] in (b"\xff\xf1", b"\xff\xf9"):
        return "audio/aac"
    return None


class Relay:
    """Downloads another platform's voice note for one send on this channel, within its limit."""

    def __init__(
        self,
        channel: str,
        limit: int,
        fetchers: Callable[[str], MediaFetcher | None] = fetcher_for,
        *,
        types: frozenset[str] | None = None,
    ) -> None:
        self.channel = channel
        self.limit = limit
        self._fetchers = fetchers
        # The audio types this platform plays (None: any audio we recognise).
        self._types = types
        self._gate: asyncio.Semaphore | None = None
        self.carried = 0

    def wants(self, reply: Reply) -> bool:
        """Whether the reply's media was sent on another platform (its id is useless here)."""
        return reply.media is not None and reply.media_from not in (None, self.channel)

    @asynccontextmanager
    async def carry(self, reply: Reply) -> AsyncIterator[Note | str]:
        """The note's bytes while the send runs, or the text to send instead of it.

        The text is `media_fallback` when the note is too large for this platform (or for
        the source's downloads) or not a voice note this platform plays, and `media_gone` when
        the source platform no longer has it (an invalid or expired id): both are final, the
        row is done once the text is sent. A download that failed for a passing reason raises
        SendError, so the outbox tries the row again later.
        """
        assert reply.media is not None and reply.media_from is not None
        if self._gate is None:
            self._gate = asyncio.Semaphore(CONCURRENT)
        origin, kind = reply.media_from, reply.media.kind
        if kind not in RELAYED_KINDS:
            yield instead(reply)
            return
        fetch = self._fetchers(origin)
        if fetch is None:
            raise SendError(f"{origin} does not run in this process: cannot download its media")
        async with self._gate:
            gone = False
            try:
                data = await fetch(reply.media.ref, self.limit)
            except MediaTooLarge:
                log.info("%s voice note too large for %s: text instead", origin, self.channel)
                data = None
            except MediaGone as exc:
                # Retrying would only delay the day the CSO learns there was a note.
                log.info("%s voice note gone (%s): text instead", origin, exc)
                data, gone = None, True
            except FetchError as exc:
                raise SendError(f"download from {origin} failed: {exc}") from None
            note: Note | None = None
            if data is not None:
                mime = sniff(data)
                if mime is not None and self._plays(mime):
                    note = Note(data, mime)
                else:
                    log.info("%s media is not audio %s plays: text instead", origin, self.channel)
            del data  # only `note` holds the bytes now, until the send returns
            try:
                yield note if note is not None else instead(reply, gone=gone)
                if note is not None:
                    self.carried += 1
            finally:
                del note

    def _plays(self, mime: str) -> bool:
        return self._types is None or mime in self._types


def instead(reply: Reply, *, gone: bool = False) -> str:
    """What to say in place of a note that cannot be carried (rows of older versions have no
    `media_gone`: their `media_fallback` still tells the CSO to ask in writing)."""
    return (reply.media_gone if gone else None) or reply.media_fallback or reply.text

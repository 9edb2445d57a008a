"""Voice notes sent by platform id: each file is uploaded once per channel, then reused."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath

from content.audio import AUDIO_DIR
from handlers.locks import KeyedLocks
from storage.ports import Store

log = logging.getLogger(__name__)

Upload = Callable[[bytes], Awaitable[str]]


class VoiceFileError(Exception):
    """A reply names a voice note that is not (or no longer) in the pack's audio folder."""


class VoiceCache:
    """The platform ids of a channel's uploaded voice notes, in memory and in the database."""

    def __init__(
        self,
        channel: str,
        store: Store,
        root: Callable[[], Path],
        *,
        max_age: timedelta | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.channel = channel
        self._store = store
        self._root = root
        self._max_age = max_age
        self._clock = clock
        self._ids: dict[str, tuple[str, datetime]] = {}
        self._digests: dict[tuple[str, float, int], str] = {}
        self._locks = KeyedLocks()
        self.uploads = 0

    def read(self, relative: str) -> tuple[str, bytes]:
        """A voice note's hash and bytes; only files under the pack's audio folder are read."""
        parts = PurePosixPath(relative).parts
        if len(parts) != 2 or parts[0] != AUDIO_DIR or parts[1].startswith("."):
            raise VoiceFileError(f"not a voice note of the pack: {relative!r}")
        path = self._root() / relative
        try:
            stat = path.stat()
            data = path.read_bytes()
        except OSError as exc:
            raise VoiceFileError(f"voice note missing: {relative}") from exc
        key = (relative, stat.st_mtime, stat.st_size)
        digest = self._digests.get(key)
        if digest is None:
            digest = self._digests[key] = hashlib.sha256(data).hexdigest()
        return digest, data

    async def remote_id(self, relative: str, upload: Upload, *, stale: str | None = None) -> str:
        """The platform id of a voice note, uploading it only if no valid id is known.

        `stale` is an id the platform just refused (expired): it is replaced by a new upload.
        Concurrent callers for the same file wait for one upload instead of making their own.
        """
        digest, data = self.read(relative)
        known = self._known(digest)
        if known is not None and known != stale:
            return known
        async with self._locks.hold(digest):
            known = self._known(digest)
            if known is None:
                stored = await self._store.uploaded_audio(self.channel, digest)
                if stored is not None and self._fresh(stored[1]):
                    self._ids[digest] = stored
                    known = stored[0]
            if known is not None and known != stale:
                return known
            remote = await upload(data)
            self.uploads += 1
            now = self._clock()
            self._ids[digest] = (remote, now)
            await self._store.save_uploaded_audio(self.channel, digest, remote, now)
            log.info("%s: voice note %s uploaded", self.channel, relative)
            return remote

    def _known(self, digest: str) -> str | None:
        found = self._ids.get(digest)
        return found[0] if found is not None and self._fresh(found[1]) else None

    def _fresh(self, uploaded_at: datetime) -> bool:
        return self._max_age is None or self._clock() - uploaded_at < self._max_age

"""SQLite storage of voice notes: listening preferences, uploaded file ids, pending recordings."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from storage.records import from_iso, iso
from storage.sqlite_reader import Reader


def _run(sql: str, params: tuple[Any, ...], db: sqlite3.Connection) -> None:
    db.execute(sql, params)


class AudioTransactionMixin:
    """Voice-note reads and queued writes of a unit of work."""

    _store: Reader
    ops: list[Any]

    async def fetch(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return await self._store.fetch_all(sql, params)

    async def prefers_audio(self, user_key: str) -> bool:
        """Whether the person asked to hear voice notes before the text."""
        written: dict[str, bool] = self.__dict__.get("_audio_prefs", {})
        if user_key in written:  # changed earlier in this unit of work
            return written[user_key]
        rows = await self.fetch("SELECT listen FROM audio_prefs WHERE user_key = ?", user_key)
        return bool(rows and rows[0][0])

    def set_prefers_audio(self, user_key: str, listen: bool, now: datetime) -> None:
        """Keep the listening preference."""
        self.__dict__.setdefault("_audio_prefs", {})[user_key] = listen
        self.ops.append(
            partial(
                _run,
                "INSERT INTO audio_prefs (user_key, listen, updated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (user_key) DO UPDATE SET listen = excluded.listen, "
                "updated_at = excluded.updated_at",
                (user_key, int(listen), iso(now)),
            )
        )

    async def audio_pending(
        self, user_key: str, channel: str, chat_id: str
    ) -> tuple[str, str, str, datetime] | None:
        """(key, language, partner, since) a member said they would record in this chat."""
        rows = await self.fetch(
            "SELECT audio_key, lang, partner_id, created_at FROM audio_pending "
            "WHERE user_key = ? AND channel = ? AND chat_id = ?",
            user_key,
            channel,
            chat_id,
        )
        return (rows[0][0], rows[0][1], rows[0][2], from_iso(rows[0][3])) if rows else None

    def set_audio_pending(
        self,
        user_key: str,
        channel: str,
        chat_id: str,
        pending: tuple[str, str, str] | None,
        now: datetime,
    ) -> None:
        """Await a recording of (key, language, partner) from a member, or stop awaiting it."""
        where = (user_key, channel, chat_id)
        if pending is None:
            sql = "DELETE FROM audio_pending WHERE user_key = ? AND channel = ? AND chat_id = ?"
            self.ops.append(partial(_run, sql, where))
            return
        self.ops.append(
            partial(
                _run,
                "INSERT INTO audio_pending (user_key, channel, chat_id, audio_key, lang, "
                "partner_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (user_key, channel, chat_id) DO UPDATE SET "
                "audio_key = excluded.audio_key, lang = excluded.lang, "
                "partner_id = excluded.partner_id, created_at = excluded.created_at",
                (*where, *pending, iso(now)),
            )
        )


class AudioStoreMixin:
    """The platform ids of uploaded voice notes, shared by every sender of the deployment."""

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def _write_ops(self, ops: list[Any]) -> None:
        raise NotImplementedError

    async def uploaded_audio(self, channel: str, digest: str) -> tuple[str, datetime] | None:
        """(platform id, when uploaded) of a file already sent on a channel."""
        rows = await self.fetch_all(
            "SELECT remote_id, uploaded_at FROM audio_uploads WHERE channel = ? AND digest = ?",
            (channel, digest),
        )
        return (rows[0][0], from_iso(rows[0][1])) if rows else None

    async def save_uploaded_audio(
        self, channel: str, digest: str, remote_id: str, now: datetime
    ) -> None:
        """Remember the platform id of an uploaded file (replacing an expired one)."""
        sql = (
            "INSERT INTO audio_uploads (channel, digest, remote_id, uploaded_at) "
            "VALUES (?, ?, ?, ?) ON CONFLICT (channel, digest) DO UPDATE SET "
            "remote_id = excluded.remote_id, uploaded_at = excluded.uploaded_at"
        )
        await self._write_ops([partial(_run, sql, (channel, digest, remote_id, iso(now)))])

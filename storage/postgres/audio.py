"""PostgreSQL storage of voice-note preferences and awaited recordings, and uncertain sends."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg


class PgAudioTransactionMixin:
    """Voice-note reads and queued writes of a unit of work."""

    ops: list[Any]

    async def _connection(self) -> asyncpg.Connection:
        raise NotImplementedError  # provided by the transaction

    async def prefers_audio(self, user_key: str) -> bool:
        """Whether the person asked to hear voice notes before the text."""
        written: dict[str, bool] = self.__dict__.get("_audio_prefs", {})
        if user_key in written:  # changed earlier in this unit of work
            return written[user_key]
        conn = await self._connection()
        listen = await conn.fetchval("SELECT listen FROM audio_prefs WHERE user_key = $1", user_key)
        return bool(listen)

    def set_prefers_audio(self, user_key: str, listen: bool, now: datetime) -> None:
        """Keep the listening preference."""
        self.__dict__.setdefault("_audio_prefs", {})[user_key] = listen

        async def write(conn: asyncpg.Connection) -> None:
            await conn.execute(
                "INSERT INTO audio_prefs (user_key, listen, updated_at) VALUES ($1, $2, $3) "
                "ON CONFLICT (user_key) DO UPDATE SET listen = excluded.listen, "
                "updated_at = excluded.updated_at",
                user_key,
                listen,
                now,
            )

        self.ops.append(write)

    async def audio_pending(
        self, user_key: str, channel: str, chat_id: str
    ) -> tuple[str, str, str, datetime] | None:
        """(key, language, partner, since) a member said they would record in this chat."""
        conn = await self._connection()
        row = await conn.fetchrow(
            "SELECT audio_key, lang, partner_id, created_at FROM audio_pending "
            "WHERE user_key = $1 AND channel = $2 AND chat_id = $3",
            user_key,
            channel,
            chat_id,
        )
        return (row[0], row[1], row[2], row[3]) if row is not None else None

    def set_audio_pending(
        self,
        user_key: str,
        channel: str,
        chat_id: str,
        pending: tuple[str, str, str] | None,
        now: datetime,
    ) -> None:
        """Await a recording of (key, language, partner) from a member, or stop awaiting it."""

        async def write(conn: asyncpg.Connection) -> None:
            if pending is None:
                await conn.execute(
                    "DELETE FROM audio_pending WHERE user_key = $1 AND channel = $2 "
                    "AND chat_id = $3",
                    user_key,
                    channel,
                    chat_id,
                )
                return
            await conn.execute(
                "INSERT INTO audio_pending (user_key, channel, chat_id, audio_key, lang, "
                "partner_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7) "
                "ON CONFLICT (user_key, channel, chat_id) DO UPDATE SET "
                "audio_key = excluded.audio_key, lang = excluded.lang, "
                "partner_id = excluded.partner_id, created_at = excluded.created_at",
                user_key,
                channel,
                chat_id,
                *pending,
                now,
            )

        self.ops.append(write)


class PgAudioStoreMixin:
    """Uploaded voice-note ids and the outbox rows whose send may have arrived twice."""

    pool: asyncpg.Pool

    async def uploaded_audio(self, channel: str, digest: str) -> tuple[str, datetime] | None:
        """The platform id of a file already uploaded to this channel, and when."""
        row = await self.pool.fetchrow(
            "SELECT remote_id, uploaded_at FROM audio_uploads WHERE channel = $1 AND digest = $2",
            channel,
            digest,
        )
        return (row[0], row[1]) if row is not None else None

    async def save_uploaded_audio(
        self, channel: str, digest: str, remote_id: str, now: datetime
    ) -> None:
        """Keep the platform id of an uploaded file."""
        await self.pool.execute(
            "INSERT INTO audio_uploads (channel, digest, remote_id, uploaded_at) "
            "VALUES ($1, $2, $3, $4) ON CONFLICT (channel, digest) DO UPDATE SET "
            "remote_id = excluded.remote_id, uploaded_at = excluded.uploaded_at",
            channel,
            digest,
            remote_id,
            now,
        )

    async def mark_uncertain(self, outbox_id: str) -> None:
        """A send of this row timed out: it may have arrived."""
        await self.pool.execute("UPDATE outbox SET uncertain = true WHERE id = $1", outbox_id)

    async def possible_duplicates(self, kind: str | None = None, prefix: str | None = None) -> int:
        """Rows sent after an attempt whose outcome was unknown: each may have arrived twice."""
        sql = "SELECT COUNT(*) FROM outbox WHERE state = 'sent' AND uncertain"
        params: list[Any] = []
        if kind is not None:
            params.append(kind)
            sql += f" AND kind = ${len(params)}"
        if prefix is not None:
            params += [prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)]
            sql += f" AND dedupe_key >= ${len(params) - 1} AND dedupe_key < ${len(params)}"
        return int(await self.pool.fetchval(sql, *params))

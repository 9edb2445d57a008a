"""Campaigns in PostgreSQL: the audience query, the recipients' outbox rows and their figures.

A campaign's recipients are its outbox rows (kind 'campaign', dedupe key
'campaign:NAME:USER_KEY'); the range `dedupe_key >= 'campaign:NAME:' AND < 'campaign:NAME;'`
reads them through the UNIQUE index on the dedupe key (';' follows ':' in ASCII).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from storage.campaign_records import AudienceMember as AudienceMember
from storage.campaign_records import CampaignRecord as CampaignRecord
from storage.campaign_records import NewCampaignRow as NewCampaignRow
from storage.postgres.quizzes import numbered

_STATUS_KEY = "_whatsapp_status"  # written by the WhatsApp channel's delivery statuses


def _range(prefix: str) -> tuple[str, str]:
    return prefix, prefix[:-1] + ";"


def _in(column: str, values: Sequence[str]) -> tuple[str, list[Any]]:
    """`AND column = ANY(?)` for a non-empty filter; nothing for an empty one."""
    if not values:
        return "", []
    return f" AND {column} = ANY(?::text[])", [list(values)]


def _campaign(row: Sequence[Any]) -> CampaignRecord:
    return CampaignRecord(
        name=row[0],
        status=row[1],
        digest=row[2],
        audience=row[3],
        enqueued=row[4],
        excluded=row[5],
        created_at=row[6],
        enqueued_at=row[7],
        finished_at=row[8],
    )


_CAMPAIGN_COLUMNS = (
    "name, status, digest, audience, enqueued, excluded, created_at, enqueued_at, finished_at"
)


async def _insert_rows(rows: Sequence[NewCampaignRow], now: datetime, conn: Any) -> None:
    await conn.executemany(
        "INSERT INTO outbox (id, channel, chat_id, user_key, kind, payload, state, "
        "next_attempt_at, dedupe_key, created_at) "
        "VALUES ($1, $2, $3, $4, 'campaign', $5, 'pending', $6, $7, $8) "
        "ON CONFLICT (dedupe_key) DO NOTHING",
        [
            (
                r.outbox_id,
                r.channel,
                r.chat_id,
                r.user_key,
                json.loads(r.payload),
                r.due,
                r.dedupe_key,
                now,
            )
            for r in rows
        ],
    )


class PgCampaignStoreMixin:
    """Campaign queries of the PostgreSQL store."""

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def _in_transaction(self, fn: Any) -> None:
        raise NotImplementedError

    async def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return await self.fetch_all(numbered(sql), params)

    async def campaign_audience(
        self,
        *,
        channels: Sequence[str],
        regions: Sequence[str] = (),
        communes: Sequence[str] = (),
        languages: Sequence[str] = (),
        genders: Sequence[str] = (),
        age_groups: Sequence[str] = (),
        entry_sources: Sequence[str] = (),
        read_article: str | None = None,
    ) -> list[AudienceMember]:
        """People matching every filter, stopped ones included (flagged) so they can be counted."""
        where = ""
        params: list[Any] = []
        for column, values in (
            ("channel", channels),
            ("region", regions),
            ("commune", communes),
            ("language", languages),
            ("gender", genders),
            ("age_group", age_groups),
            ("entry_source", entry_sources),
        ):
            clause, extra = _in(column, values)
            where += clause
            params += extra
        if read_article is not None:
            where += (
                " AND EXISTS (SELECT 1 FROM article_reads a WHERE a.user_key = users.key "
                "AND a.article_id = ?)"
            )
            params.append(read_article)
        rows = await self._rows(
            "SELECT key, channel, external_id, language, last_inbound_at, stopped "  # noqa: S608
            f"FROM users WHERE 1 = 1{where} ORDER BY key",
            params,
        )
        return [AudienceMember(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]

    async def get_campaign(self, name: str) -> CampaignRecord | None:
        """A campaign by name."""
        rows = await self._rows(
            f"SELECT {_CAMPAIGN_COLUMNS} FROM campaigns WHERE name = ?",  # noqa: S608
            (name,),
        )
        return _campaign(rows[0]) if rows else None

    async def campaign_definition(self, name: str) -> str | None:
        """The campaign file's content as recorded when it was first sent."""
        rows = await self._rows("SELECT definition FROM campaigns WHERE name = ?", (name,))
        return str(rows[0][0]) if rows else None

    async def begin_campaign(
        self, name: str, digest: str, definition: str, now: datetime
    ) -> CampaignRecord:
        """Record the campaign as sending (created the first time); return it as it is now."""
        await self._rows(
            "INSERT INTO campaigns (name, status, digest, definition, created_at) "
            "VALUES (?, 'sending', ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "status = CASE WHEN campaigns.status IN ('planned', 'done') THEN 'sending' "
            "ELSE campaigns.status END",
            (name, digest, definition, now),
        )
        found = await self.get_campaign(name)
        assert found is not None
        return found

    async def campaign_recipients(self, prefix: str) -> dict[str, str]:
        """User key -> channel of everyone who already has a row of this campaign."""
        rows = await self._rows(
            "SELECT substr(dedupe_key, ?::int), channel FROM outbox "
            "WHERE dedupe_key >= ? AND dedupe_key < ?",
            (len(prefix) + 1, *_range(prefix)),
        )
        return {str(r[0]): str(r[1]) for r in rows}

    async def campaign_last_due(self, prefix: str, channel: str) -> datetime | None:
        """The latest send time already given to this campaign's rows on a channel."""
        rows = await self._rows(
            "SELECT MAX(next_attempt_at) FROM outbox WHERE dedupe_key >= ? AND dedupe_key < ? "
            "AND channel = ? AND state = 'pending'",
            (*_range(prefix), channel),
        )
        return rows[0][0] if rows and rows[0][0] else None

    async def enqueue_campaign_rows(self, rows: Sequence[NewCampaignRow], now: datetime) -> None:
        """Write recipients' rows in one transaction; a row whose dedupe key exists is skipped."""
        await self._in_transaction(lambda conn: _insert_rows(list(rows), now, conn))

    async def update_campaign(self, name: str, **fields: Any) -> None:
        """Set some of: status, audience, enqueued, excluded, enqueued_at, finished_at."""
        allowed = {"status", "audience", "enqueued", "excluded", "enqueued_at", "finished_at"}
        assert set(fields) <= allowed, set(fields) - allowed
        values = list(fields.values())
        sets = ", ".join(f"{column} = ?" for column in fields)
        await self._rows(
            f"UPDATE campaigns SET {sets} WHERE name = ?",  # noqa: S608 - allowed columns only
            (*values, name),
        )

    async def campaign_counts(self, prefix: str) -> dict[str, int]:
        """Rows per state, dead ones split by why (stopped, cancelled), and WhatsApp statuses."""
        rows = await self._rows(
            "SELECT CASE WHEN state = 'dead' AND last_error IN ('stopped', 'cancelled') "
            "THEN last_error ELSE state END, COUNT(*), "
            "COUNT(*) FILTER (WHERE payload->>? IN ('delivered', 'read')), "
            "COUNT(*) FILTER (WHERE payload->>? = 'read') "
            "FROM outbox WHERE dedupe_key >= ? AND dedupe_key < ? GROUP BY 1",
            (_STATUS_KEY, _STATUS_KEY, *_range(prefix)),
        )
        counts = dict.fromkeys(
            ("pending", "failed", "sent", "dead", "stopped", "cancelled", "delivered", "read"), 0
        )
        for state, count, delivered, read in rows:
            counts[str(state)] += count
            counts["delivered"] += delivered or 0
            counts["read"] += read or 0
        return counts

    async def cancel_campaign(self, name: str, prefix: str, now: datetime) -> int:
        """Mark the campaign cancelled and its unsent rows dead; return how many rows."""
        rows = await self._rows(
            "UPDATE outbox SET state = 'dead', last_error = 'cancelled', locked_until = NULL "
            "WHERE dedupe_key >= ? AND dedupe_key < ? AND state IN ('pending', 'failed') "
            "RETURNING id",
            _range(prefix),
        )
        await self.update_campaign(name, status="cancelled", finished_at=now)
        return len(rows)

    async def campaign_outcomes(
        self, prefix: str, code: str, article: str | None
    ) -> dict[str, int]:
        """Opened the linked article after receiving it, stopped since, and new users by link."""
        low, high = _range(prefix)
        opened = 0
        if article is not None:
            found = await self._rows(
                "SELECT COUNT(*) FROM outbox o JOIN article_reads a ON a.user_key = o.user_key "
                "WHERE o.dedupe_key >= ? AND o.dedupe_key < ? AND o.state = 'sent' "
                "AND a.article_id = ? AND a.last_read_at >= o.sent_at",
                (low, high, article),
            )
            opened = found[0][0]
        # Recipients were not stopped when their row was written: stopped now means since.
        stopped = await self._rows(
            "SELECT COUNT(*) FROM outbox o JOIN users u ON u.key = o.user_key "
            "WHERE o.dedupe_key >= ? AND o.dedupe_key < ? AND o.state = 'sent' AND u.stopped",
            (low, high),
        )
        joined = await self._rows(
            "SELECT channel, COUNT(*) FROM users WHERE entry_source = ? GROUP BY channel", (code,)
        )
        out = {"opened_article": opened, "stopped_after": stopped[0][0]}
        for channel, count in joined:
            out[f"new_users_{channel}"] = count
        return out

"""SQLite storage of barometer rounds and answer sets."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any, cast

from storage.barometer_records import BarometerAnswers, BarometerRound, RoundStatus
from storage.errors import StaleRecord, preconditioned
from storage.records import from_iso, iso
from storage.sqlite_reader import Reader

_ROUND = (
    "id, communes, opens_at, closes_at, status, created_at, partner_id, results, actions, "
    "actions_at"
)


def _round(r: Sequence[Any]) -> BarometerRound:
    return BarometerRound(
        id=r[0],
        communes=tuple(json.loads(r[1])),
        opens_at=from_iso(r[2]),
        closes_at=from_iso(r[3]),
        status=cast(RoundStatus, r[4]),
        created_at=from_iso(r[5]),
        partner_id=r[6],
        results=json.loads(r[7]) if r[7] else None,
        actions=r[8],
        actions_at=from_iso(r[9]) if r[9] else None,
    )


def _answers(r: Sequence[Any]) -> BarometerAnswers:
    return BarometerAnswers(r[0], json.loads(r[1]), r[2], from_iso(r[3]))


def _run(sql: str, params: tuple[Any, ...], db: sqlite3.Connection) -> None:
    db.execute(sql, params)


@preconditioned
def _expect_one(sql: str, params: tuple[Any, ...], db: sqlite3.Connection) -> None:
    # An update by intent: its WHERE is the precondition, and it must hold for the one row.
    if db.execute(sql, params).rowcount != 1:
        raise StaleRecord("barometer round changed meanwhile")


class BarometerTransactionMixin:
    """Barometer reads and queued writes of a unit of work."""

    _store: Reader
    ops: list[Any]

    async def barometer_round(self, round_id: str) -> BarometerRound | None:
        """A round by id."""
        rows = await self._store.fetch_all(
            f"SELECT {_ROUND} FROM barometer_rounds WHERE id = ?",  # noqa: S608 - constant columns
            (round_id,),
        )
        return _round(rows[0]) if rows else None

    async def open_barometer_rounds(self) -> list[BarometerRound]:
        """Rounds taking answers now, oldest first."""
        rows = await self._store.fetch_all(
            f"SELECT {_ROUND} FROM barometer_rounds WHERE status = 'open' "  # noqa: S608
            "ORDER BY opens_at, id"
        )
        return [_round(r) for r in rows]

    async def closed_barometer_rounds(self, before: datetime) -> list[BarometerRound]:
        """Closed rounds that closed before a moment, newest first (for comparisons)."""
        rows = await self._store.fetch_all(
            f"SELECT {_ROUND} FROM barometer_rounds WHERE status = 'closed' "  # noqa: S608
            "AND closes_at <= ? ORDER BY closes_at DESC, id DESC",
            (iso(before),),
        )
        return [_round(r) for r in rows]

    def create_barometer_round(self, record: BarometerRound) -> None:
        """Record a new round (an existing id is refused)."""
        self.ops.append(
            partial(
                _run,
                f"INSERT INTO barometer_rounds ({_ROUND}) VALUES (?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
                (
                    record.id,
                    json.dumps(list(record.communes)),
                    iso(record.opens_at),
                    iso(record.closes_at),
                    record.status,
                    iso(record.created_at),
                    record.partner_id,
                    None,
                    None,
                    None,
                ),
            )
        )

    def open_barometer_round(self, round_id: str) -> None:
        """A scheduled round starts taking answers (StaleRecord if it is no longer scheduled)."""
        self.ops.append(
            partial(
                _expect_one,
                "UPDATE barometer_rounds SET status = 'open' WHERE id = ? AND status = 'scheduled'",
                (round_id,),
            )
        )

    def close_barometer_round(self, round_id: str, results: dict[str, Any]) -> None:
        """An open round closes with its results (StaleRecord if it is no longer open)."""
        self.ops.append(
            partial(
                _expect_one,
                "UPDATE barometer_rounds SET status = 'closed', results = ? "
                "WHERE id = ? AND status = 'open'",
                (json.dumps(results, ensure_ascii=False), round_id),
            )
        )

    def set_barometer_actions(self, round_id: str, text: str, now: datetime) -> None:
        """Attach the actions agreed with the commune to a round."""
        self.ops.append(
            partial(
                _expect_one,
                "UPDATE barometer_rounds SET actions = ?, actions_at = ? WHERE id = ?",
                (text, iso(now), round_id),
            )
        )

    def save_barometer_round(self, record: BarometerRound) -> None:
        """Insert or replace a whole round: for seeding tests, never for flows."""
        self.ops.append(
            partial(
                _run,
                f"INSERT INTO barometer_rounds ({_ROUND}) VALUES (?,?,?,?,?,?,?,?,?,?) "  # noqa: S608
                "ON CONFLICT (id) DO UPDATE SET communes=excluded.communes, "
                "opens_at=excluded.opens_at, closes_at=excluded.closes_at, "
                "status=excluded.status, results=excluded.results, actions=excluded.actions, "
                "actions_at=excluded.actions_at",
                (
                    record.id,
                    json.dumps(list(record.communes)),
                    iso(record.opens_at),
                    iso(record.closes_at),
                    record.status,
                    iso(record.created_at),
                    record.partner_id,
                    json.dumps(record.results, ensure_ascii=False)
                    if record.results is not None
                    else None,
                    record.actions,
                    iso(record.actions_at) if record.actions_at else None,
                ),
            )
        )

    async def barometer_answers(self, round_id: str, user_key: str) -> BarometerAnswers | None:
        """A person's answer set in a round, if they answered."""
        rows = await self._store.fetch_all(
            "SELECT commune, answers, comment, updated_at FROM barometer_responses "
            "WHERE round_id = ? AND user_key = ?",
            (round_id, user_key),
        )
        return _answers(rows[0]) if rows else None

    def save_barometer_answers(
        self, round_id: str, user_key: str, answers: BarometerAnswers
    ) -> None:
        """Keep a person's answer set, replacing the one they gave before in this round."""
        self.ops.append(
            partial(
                _run,
                "INSERT INTO barometer_responses (round_id, user_key, commune, answers, comment, "
                "updated_at) VALUES (?,?,?,?,?,?) ON CONFLICT (round_id, user_key) DO UPDATE SET "
                "commune=excluded.commune, answers=excluded.answers, comment=excluded.comment, "
                "updated_at=excluded.updated_at",
                (
                    round_id,
                    user_key,
                    answers.commune,
                    json.dumps(answers.answers, sort_keys=True),
                    answers.comment,
                    iso(answers.updated_at),
                ),
            )
        )

    async def barometer_responses(self, round_id: str) -> list[BarometerAnswers]:
        """Every answer set of a round, without who gave it, in no meaningful order."""
        rows = await self._store.fetch_all(
            "SELECT commune, answers, comment, updated_at FROM barometer_responses "
            "WHERE round_id = ? ORDER BY commune, answers, updated_at",
            (round_id,),
        )
        return [_answers(r) for r in rows]

    async def barometer_participants(self, round_id: str) -> list[tuple[str, str, str, str]]:
        """(user key, channel, chat, language) of those who answered and did not say stop."""
        rows = await self._store.fetch_all(
            "SELECT u.key, u.channel, u.external_id, COALESCE(u.language, '') "
            "FROM barometer_responses r JOIN users u ON u.key = r.user_key "
            "WHERE r.round_id = ? AND u.stopped = 0 ORDER BY u.key",
            (round_id,),
        )
        return [(r[0], r[1], r[2], r[3]) for r in rows]

    async def barometer_invitees(
        self, communes: Sequence[str]
    ) -> list[tuple[str, str, str, str, str]]:
        """(user key, channel, chat, language, commune) of people whose profile is in these
        communes, except those who said stop."""
        marks = ",".join("?" * len(communes))
        rows = await self._store.fetch_all(
            "SELECT key, channel, external_id, COALESCE(language, ''), commune FROM users "  # noqa: S608
            f"WHERE commune IN ({marks}) AND stopped = 0 ORDER BY key",
            tuple(communes),
        )
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]


class BarometerStoreMixin:
    """Barometer queries outside conversations: rounds to open or close, listings."""

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def barometer_rounds_due(self, now: datetime) -> list[BarometerRound]:
        """Scheduled rounds whose opening has come, and open rounds whose closing has."""
        stamp = iso(now)
        rows = await self.fetch_all(
            f"SELECT {_ROUND} FROM barometer_rounds "  # noqa: S608 - constant columns
            "WHERE (status = 'scheduled' AND opens_at <= ?) "
            "OR (status = 'open' AND closes_at <= ?) "
            "ORDER BY opens_at, id",
            (stamp, stamp),
        )
        return [_round(r) for r in rows]

    async def barometer_rounds(self) -> list[BarometerRound]:
        """Every round, newest first."""
        rows = await self.fetch_all(
            f"SELECT {_ROUND} FROM barometer_rounds ORDER BY opens_at DESC, id DESC"  # noqa: S608
        )
        return [_round(r) for r in rows]

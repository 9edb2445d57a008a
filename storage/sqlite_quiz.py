"""SQLite storage of quiz progress, results, anonymous answers, group quizzes and circles."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from datetime import datetime
from functools import partial
from typing import Any

from storage.errors import StaleRecord, preconditioned
from storage.records import CircleQuizRecord, GroupQuizRecord, from_iso, iso
from storage.sqlite_reader import Reader

_GROUP = "id, channel, chat_id, quiz_id, seed, position, deadline, started_at, status, question_row"
_CIRCLE_QUIZ = "id, circle_id, quiz_id, deadline, started_at, status"


def _group(r: Sequence[Any]) -> GroupQuizRecord:
    return GroupQuizRecord(
        r[0], r[1], r[2], r[3], r[4], r[5], from_iso(r[6]), from_iso(r[7]), r[8], r[9]
    )


def _circle_quiz(r: Sequence[Any]) -> CircleQuizRecord:
    return CircleQuizRecord(r[0], r[1], r[2], from_iso(r[3]), from_iso(r[4]), r[5])


def _run(sql: str, params: tuple[Any, ...], db: sqlite3.Connection) -> None:
    db.execute(sql, params)


@preconditioned
def _expect_one(sql: str, params: tuple[Any, ...], db: sqlite3.Connection) -> None:
    # An update by intent: its WHERE is the precondition, and it must hold for the one row.
    if db.execute(sql, params).rowcount != 1:
        raise StaleRecord("quiz changed meanwhile")


class QuizTransactionMixin:
    """Quiz reads and queued writes of a unit of work."""

    _store: Reader
    ops: list[Any]

    def _w(self, sql: str, *params: Any) -> None:
        self.ops.append(partial(_run, sql, params))

    async def _q(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        return await self._store.fetch_all(sql, params)

    # --- solo progress and results ---------------------------------------------------------

    async def quiz_progress(
        self, user_key: str, quiz_id: str, circle_quiz: str = ""
    ) -> tuple[int, int, int, list[str]] | None:
        """(seed, position, score, missed article ids) of an unfinished quiz."""
        rows = await self._q(
            "SELECT seed, position, score, missed FROM quiz_progress "
            "WHERE user_key = ? AND quiz_id = ? AND circle_quiz_id = ?",
            user_key,
            quiz_id,
            circle_quiz,
        )
        return (rows[0][0], rows[0][1], rows[0][2], json.loads(rows[0][3])) if rows else None

    def save_quiz_progress(
        self,
        user_key: str,
        quiz_id: str,
        circle_quiz: str,
        seed: int,
        position: int,
        score: int,
        missed: list[str],
        now: datetime,
    ) -> None:
        """Keep where a player is, so an interrupted quiz resumes."""
        self._w(
            "INSERT INTO quiz_progress (user_key, quiz_id, circle_quiz_id, seed, position, score, "
            "missed, updated_at) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET "
            "seed=excluded.seed, position=excluded.position, score=excluded.score, "
            "missed=excluded.missed, updated_at=excluded.updated_at",
            user_key,
            quiz_id,
            circle_quiz,
            seed,
            position,
            score,
            json.dumps(missed),
            iso(now),
        )

    def clear_quiz_progress(self, user_key: str, quiz_id: str, circle_quiz: str = "") -> None:
        """A finished quiz has no progress left."""
        self._w(
            "DELETE FROM quiz_progress WHERE user_key = ? AND quiz_id = ? AND circle_quiz_id = ?",
            user_key,
            quiz_id,
            circle_quiz,
        )

    def add_quiz_result(
        self, user_key: str, quiz_id: str, score: int, total: int, now: datetime
    ) -> None:
        """A finished quiz, for the player's history and best scores."""
        self._w(
            "INSERT INTO quiz_results (user_key, quiz_id, score, total, finished_at) "
            "VALUES (?,?,?,?,?)",
            user_key,
            quiz_id,
            score,
            total,
            iso(now),
        )

    async def best_scores(self, user_key: str) -> dict[str, tuple[int, int]]:
        """Best (score, total) per quiz finished."""
        rows = await self._q(
            "SELECT quiz_id, MAX(score), MAX(total) FROM quiz_results WHERE user_key = ? "
            "GROUP BY quiz_id",
            user_key,
        )
        return {r[0]: (r[1], r[2]) for r in rows}

    def add_quiz_answer(
        self,
        session: str,
        quiz_id: str,
        question_id: str,
        option: int,
        correct: bool,
        context: str,
        gender: str | None,
        age_group: str | None,
        now: datetime,
    ) -> None:
        """An anonymous answer, for the statistics of what people get wrong."""
        self._w(
            "INSERT INTO quiz_answers (session, quiz_id, question_id, option, correct, context, "
            "gender, age_group, answered_at) VALUES (?,?,?,?,?,?,?,?,?)",
            session,
            quiz_id,
            question_id,
            option,
            int(correct),
            context,
            gender,
            age_group,
            iso(now),
        )

    async def quiz_player(self, user_key: str) -> tuple[str, bool] | None:
        """The pseudonym a player chose, and whether they agreed to appear in leaderboards."""
        rows = await self._q(
            "SELECT pseudonym, listed FROM quiz_players WHERE user_key = ?", user_key
        )
        return (rows[0][0], bool(rows[0][1])) if rows else None

    def save_quiz_player(self, user_key: str, pseudonym: str, listed: bool) -> None:
        """Choose a pseudonym and whether to appear in leaderboards."""
        self._w(
            "INSERT INTO quiz_players (user_key, pseudonym, listed) VALUES (?,?,?) "
            "ON CONFLICT DO UPDATE SET pseudonym=excluded.pseudonym, listed=excluded.listed",
            user_key,
            pseudonym,
            int(listed),
        )

    # --- group quizzes ---------------------------------------------------------------------

    async def running_group_quiz(self, channel: str, chat_id: str) -> GroupQuizRecord | None:
        """The quiz running in a group chat, if any."""
        rows = await self._q(
            f"SELECT {_GROUP} FROM group_quizzes WHERE channel = ? AND chat_id = ? "  # noqa: S608
            "AND status = 'running'",
            channel,
            chat_id,
        )
        return _group(rows[0]) if rows else None

    async def group_quiz(self, quiz_run_id: str) -> GroupQuizRecord | None:
        """A group quiz by id."""
        rows = await self._q(
            f"SELECT {_GROUP} FROM group_quizzes WHERE id = ?",  # noqa: S608
            quiz_run_id,
        )
        return _group(rows[0]) if rows else None

    def start_group_quiz(self, record: GroupQuizRecord) -> None:
        """Record a new group quiz (the group's unique running index refuses a second one)."""
        self._w(
            f"INSERT INTO group_quizzes ({_GROUP}) VALUES (?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
            record.id,
            record.channel,
            record.chat_id,
            record.quiz_id,
            record.seed,
            record.position,
            iso(record.deadline),
            iso(record.started_at),
            record.status,
            record.question_row,
        )

    def advance_group_quiz(
        self, quiz_run_id: str, expected_position: int, deadline: datetime, question_row: str
    ) -> None:
        """Move a running group quiz from `expected_position` to the next question."""
        self.ops.append(
            partial(
                _expect_one,
                "UPDATE group_quizzes SET position = position + 1, deadline = ?, "
                "question_row = ? WHERE id = ? AND status = 'running' AND position = ?",
                (iso(deadline), question_row, quiz_run_id, expected_position),
            )
        )

    def finish_group_quiz(self, quiz_run_id: str, expected_position: int) -> None:
        """End a group quiz still running at `expected_position` (its clock or `/quiz stop`)."""
        self.ops.append(
            partial(
                _expect_one,
                "UPDATE group_quizzes SET status = 'finished' "
                "WHERE id = ? AND status = 'running' AND position = ?",
                (quiz_run_id, expected_position),
            )
        )

    async def group_answered(self, quiz_run_id: str, position: int, user_key: str) -> bool:
        """Whether a member already answered this question."""
        rows = await self._q(
            "SELECT 1 FROM group_answers WHERE group_quiz_id = ? AND position = ? AND user_key = ?",
            quiz_run_id,
            position,
            user_key,
        )
        return bool(rows)

    def add_group_answer(
        self, quiz_run_id: str, position: int, user_key: str, correct: bool
    ) -> None:
        """A member's answer (the first only: the key forbids a second)."""
        self._w(
            "INSERT INTO group_answers (group_quiz_id, position, user_key, correct) "
            "VALUES (?,?,?,?) ON CONFLICT DO NOTHING",
            quiz_run_id,
            position,
            user_key,
            int(correct),
        )

    def clear_group_answers(self, quiz_run_id: str) -> None:
        """Once a group quiz is over, nothing about a member's answers is kept."""
        self._w("DELETE FROM group_answers WHERE group_quiz_id = ?", quiz_run_id)

    async def group_scores(self, quiz_run_id: str) -> list[tuple[str, int, int]]:
        """(user key, right answers, answers) of each member who played."""
        rows = await self._q(
            "SELECT user_key, SUM(correct), COUNT(*) FROM group_answers WHERE group_quiz_id = ? "
            "GROUP BY user_key",
            quiz_run_id,
        )
        return [(r[0], int(r[1]), int(r[2])) for r in rows]

    async def group_answer_count(self, quiz_run_id: str, position: int) -> int:
        """How many members answered a question."""
        rows = await self._q(
            "SELECT COUNT(*) FROM group_answers WHERE group_quiz_id = ? AND position = ?",
            quiz_run_id,
            position,
        )
        return int(rows[0][0])

    async def circle_scores(self, circle_quiz_id: str) -> list[tuple[str, int, int]]:
        """(user key, score, total) of the members who finished a circle quiz."""
        rows = await self._q(
            "SELECT user_key, score, total FROM circle_scores WHERE circle_quiz_id = ?",
            circle_quiz_id,
        )
        return [(r[0], r[1], r[2]) for r in rows]

    async def listed_players(self, user_keys: Sequence[str]) -> dict[str, str]:
        """Pseudonyms of those among `user_keys` who agreed to appear in leaderboards."""
        if not user_keys:
            return {}
        marks = ",".join("?" * len(user_keys))
        rows = await self._q(
            f"SELECT user_key, pseudonym FROM quiz_players WHERE listed = 1 "  # noqa: S608
            f"AND user_key IN ({marks})",
            *user_keys,
        )
        return {r[0]: r[1] for r in rows}

    # --- circles ---------------------------------------------------------------------------

    async def circle_by_code(self, code: str) -> tuple[str, str, str] | None:
        """(id, name, facilitator) of the circle an invite code opens."""
        rows = await self._q("SELECT id, name, facilitator FROM circles WHERE code = ?", code)
        return (rows[0][0], rows[0][1], rows[0][2]) if rows else None

    async def circle(self, circle_id: str) -> tuple[str, str, str, str] | None:
        """(id, name, facilitator, code) of a circle."""
        rows = await self._q(
            "SELECT id, name, facilitator, code FROM circles WHERE id = ?", circle_id
        )
        return (rows[0][0], rows[0][1], rows[0][2], rows[0][3]) if rows else None

    async def circles_of(self, user_key: str) -> list[tuple[str, str, bool]]:
        """(id, name, is facilitator) of the circles a user leads or belongs to."""
        rows = await self._q(
            "SELECT id, name, facilitator = ? FROM circles WHERE facilitator = ? OR id IN "
            "(SELECT circle_id FROM circle_members WHERE user_key = ?) ORDER BY created_at",
            user_key,
            user_key,
            user_key,
        )
        return [(r[0], r[1], bool(r[2])) for r in rows]

    async def circle_members(self, circle_id: str) -> list[tuple[str, str, str, str, str]]:
        """(user key, pseudonym, channel, chat, language) of every member."""
        rows = await self._q(
            "SELECT u.key, COALESCE(p.pseudonym, '?'), u.channel, u.external_id, "
            "COALESCE(u.language, 'fr') "
            "FROM circle_members m JOIN users u ON u.key = m.user_key "
            "LEFT JOIN quiz_players p ON p.user_key = u.key WHERE m.circle_id = ? "
            "ORDER BY m.joined_at",
            circle_id,
        )
        return [(r[0], r[1], r[2], r[3], r[4]) for r in rows]

    def save_circle(
        self, circle_id: str, name: str, facilitator: str, code: str, now: datetime
    ) -> None:
        """Create a circle."""
        self._w(
            "INSERT INTO circles (id, name, facilitator, code, created_at) VALUES (?,?,?,?,?)",
            circle_id,
            name,
            facilitator,
            code,
            iso(now),
        )

    def add_circle_member(self, circle_id: str, user_key: str, now: datetime) -> None:
        """Join a circle."""
        self._w(
            "INSERT INTO circle_members (circle_id, user_key, joined_at) VALUES (?,?,?) "
            "ON CONFLICT DO NOTHING",
            circle_id,
            user_key,
            iso(now),
        )

    def remove_circle_member(self, circle_id: str, user_key: str) -> None:
        """Leave (or be removed from) a circle; the member's circle answers go too."""
        self._w(
            "DELETE FROM circle_members WHERE circle_id = ? AND user_key = ?", circle_id, user_key
        )
        self._w(
            "DELETE FROM circle_scores WHERE user_key = ? AND circle_quiz_id IN "
            "(SELECT id FROM circle_quizzes WHERE circle_id = ?)",
            user_key,
            circle_id,
        )
        self._w(
            "DELETE FROM quiz_progress WHERE user_key = ? AND circle_quiz_id IN "
            "(SELECT id FROM circle_quizzes WHERE circle_id = ?)",
            user_key,
            circle_id,
        )

    def start_circle_quiz(self, record: CircleQuizRecord) -> None:
        """Record a new circle quiz."""
        self._w(
            f"INSERT INTO circle_quizzes ({_CIRCLE_QUIZ}) VALUES (?,?,?,?,?,?)",  # noqa: S608
            record.id,
            record.circle_id,
            record.quiz_id,
            iso(record.deadline),
            iso(record.started_at),
            record.status,
        )

    def finish_circle_quiz(self, circle_quiz_id: str) -> None:
        """End a circle quiz that is still running."""
        self.ops.append(
            partial(
                _expect_one,
                "UPDATE circle_quizzes SET status = 'finished' WHERE id = ? AND status = 'running'",
                (circle_quiz_id,),
            )
        )

    async def circle_quiz(self, circle_quiz_id: str) -> CircleQuizRecord | None:
        """A circle quiz by id."""
        rows = await self._q(
            f"SELECT {_CIRCLE_QUIZ} FROM circle_quizzes WHERE id = ?",  # noqa: S608
            circle_quiz_id,
        )
        return _circle_quiz(rows[0]) if rows else None

    def add_circle_score(self, circle_quiz_id: str, user_key: str, score: int, total: int) -> None:
        """A member's score in a circle quiz."""
        self._w(
            "INSERT INTO circle_scores (circle_quiz_id, user_key, score, total) "
            "VALUES (?,?,?,?) ON CONFLICT DO UPDATE SET score = excluded.score",
            circle_quiz_id,
            user_key,
            score,
            total,
        )


class QuizStoreMixin:
    """Quiz queries for the timers: questions whose time is up, circle deadlines."""

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    async def group_quizzes_due(self, now: datetime) -> list[GroupQuizRecord]:
        """Running group quizzes whose current question's time is up."""
        rows = await self.fetch_all(
            f"SELECT {_GROUP} FROM group_quizzes WHERE status = 'running' "  # noqa: S608
            "AND deadline <= ?",
            (iso(now),),
        )
        return [_group(r) for r in rows]

    async def circle_quizzes_due(self, now: datetime) -> list[CircleQuizRecord]:
        """Running circle quizzes past their deadline."""
        rows = await self.fetch_all(
            f"SELECT {_CIRCLE_QUIZ} FROM circle_quizzes WHERE status = 'running' "  # noqa: S608
            "AND deadline <= ?",
            (iso(now),),
        )
        return [_circle_quiz(r) for r in rows]

    async def quiz_answer_rows(self) -> list[tuple[Any, ...]]:
        """Every anonymous answer: (session, quiz, question, option, correct, gender, age)."""
        return await self.fetch_all(
            "SELECT session, quiz_id, question_id, option, correct, gender, age_group "
            "FROM quiz_answers"
        )

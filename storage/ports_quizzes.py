"""Quiz ports: progress, results, group quizzes and circles, and the quiz clocks."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from storage.records import CircleQuizRecord, GroupQuizRecord


class QuizTransaction(Protocol):
    """Quiz reads and writes within a unit of work."""

    async def quiz_progress(
        self, user_key: str, quiz_id: str, circle_quiz: str = ""
    ) -> tuple[int, int, int, list[str]] | None:
        """(seed, position, score, missed article ids) of an unfinished quiz."""
        ...

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
        ...

    def clear_quiz_progress(self, user_key: str, quiz_id: str, circle_quiz: str = "") -> None:
        """A finished quiz has no progress left."""
        ...

    def add_quiz_result(
        self, user_key: str, quiz_id: str, score: int, total: int, now: datetime
    ) -> None:
        """A finished quiz, for the player's history and best scores."""
        ...

    async def best_scores(self, user_key: str) -> dict[str, tuple[int, int]]:
        """Best (score, total) per quiz finished."""
        ...

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
        ...

    async def quiz_player(self, user_key: str) -> tuple[str, bool] | None:
        """The pseudonym a player chose, and whether they agreed to appear in leaderboards."""
        ...

    def save_quiz_player(self, user_key: str, pseudonym: str, listed: bool) -> None:
        """Choose a pseudonym and whether to appear in leaderboards."""
        ...

    async def running_group_quiz(self, channel: str, chat_id: str) -> GroupQuizRecord | None:
        """The quiz running in a group chat, if any."""
        ...

    async def group_quiz(self, quiz_run_id: str) -> GroupQuizRecord | None:
        """A group quiz by id."""
        ...

    def start_group_quiz(self, record: GroupQuizRecord) -> None:
        """Record a new group quiz."""
        ...

    def advance_group_quiz(
        self, quiz_run_id: str, expected_position: int, deadline: datetime, question_row: str
    ) -> None:
        """Move a running group quiz from `expected_position` to the next question."""
        ...

    def finish_group_quiz(self, quiz_run_id: str, expected_position: int) -> None:
        """End a group quiz still running at `expected_position` (its clock or `/quiz stop`)."""
        ...

    async def group_answered(self, quiz_run_id: str, position: int, user_key: str) -> bool:
        """Whether a member already answered this question."""
        ...

    def add_group_answer(
        self, quiz_run_id: str, position: int, user_key: str, correct: bool
    ) -> None:
        """A member's answer (the first only: the key forbids a second)."""
        ...

    def clear_group_answers(self, quiz_run_id: str) -> None:
        """Once a group quiz is over, nothing about a member's answers is kept."""
        ...

    async def group_scores(self, quiz_run_id: str) -> list[tuple[str, int, int]]:
        """(user key, right answers, answers) of each member who played."""
        ...

    async def group_answer_count(self, quiz_run_id: str, position: int) -> int:
        """How many members answered a question."""
        ...

    async def circle_scores(self, circle_quiz_id: str) -> list[tuple[str, int, int]]:
        """(user key, score, total) of the members who finished a circle quiz."""
        ...

    async def listed_players(self, user_keys: Sequence[str]) -> dict[str, str]:
        """Pseudonyms of those among `user_keys` who agreed to appear in leaderboards."""
        ...

    async def circle_by_code(self, code: str) -> tuple[str, str, str] | None:
        """(id, name, facilitator) of the circle an invite code opens."""
        ...

    async def circle(self, circle_id: str) -> tuple[str, str, str, str] | None:
        """(id, name, facilitator, code) of a circle."""
        ...

    async def circles_of(self, user_key: str) -> list[tuple[str, str, bool]]:
        """(id, name, is facilitator) of the circles a user leads or belongs to."""
        ...

    async def circle_members(self, circle_id: str) -> list[tuple[str, str, str, str, str]]:
        """(user key, pseudonym, channel, chat, language) of every member."""
        ...

    def save_circle(
        self, circle_id: str, name: str, facilitator: str, code: str, now: datetime
    ) -> None:
        """Create a circle."""
        ...

    def add_circle_member(self, circle_id: str, user_key: str, now: datetime) -> None:
        """Join a circle."""
        ...

    def remove_circle_member(self, circle_id: str, user_key: str) -> None:
        """Leave (or be removed from) a circle; the member's circle answers go too."""
        ...

    def start_circle_quiz(self, record: CircleQuizRecord) -> None:
        """Record a new circle quiz."""
        ...

    def finish_circle_quiz(self, circle_quiz_id: str) -> None:
        """End a circle quiz that is still running."""
        ...

    async def circle_quiz(self, circle_quiz_id: str) -> CircleQuizRecord | None:
        """A circle quiz by id."""
        ...

    def add_circle_score(self, circle_quiz_id: str, user_key: str, score: int, total: int) -> None:
        """A member's score in a circle quiz."""
        ...


class QuizStore(Protocol):
    """Quiz queries for the clocks and the statistics."""

    async def group_quizzes_due(self, now: datetime) -> list[GroupQuizRecord]:
        """Running group quizzes whose current question's time is up."""
        ...

    async def circle_quizzes_due(self, now: datetime) -> list[CircleQuizRecord]:
        """Running circle quizzes past their deadline."""
        ...

    async def quiz_answer_rows(self) -> list[tuple[Any, ...]]:
        """Every anonymous answer: (session, quiz, question, option, correct, gender, age)."""
        ...

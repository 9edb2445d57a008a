"""Storage ports: what the engine and the delivery worker need from a database."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, runtime_checkable

from storage.barometer_records import BarometerAnswers, BarometerRound
from storage.records import (
    CircleQuizRecord,
    ComplaintRecord,
    ConversationRecord,
    GroupQuizRecord,
    NewOutboxMessage,
    OutboxRecord,
    QuestionRecord,
    SearchGap,
    SearchRecord,
    UserRecord,
)


class DuplicateInbound(Exception):
    """The inbound message was processed by another turn first; its writes were rolled back."""


@dataclass(frozen=True, slots=True)
class Session:
    """What a turn starts from: was the message seen, who is the user, where are they."""

    seen: bool
    user: UserRecord | None
    conversation: ConversationRecord | None


class ComplaintTransaction(Protocol):
    """Complaint reads and writes within a unit of work."""

    async def complaint_by_reference(self, reference: str) -> ComplaintRecord | None:
        """A complaint by its reference code."""
        ...

    async def complaint_by_id(self, complaint_id: str) -> ComplaintRecord | None:
        """A complaint by id."""
        ...

    async def complaints_of(self, user_key: str) -> list[ComplaintRecord]:
        """A citizen's complaints and those they follow, newest first."""
        ...

    async def count_complaints_since(self, user_key: str, since: datetime) -> int:
        """How many complaints a citizen submitted since a moment."""
        ...

    async def open_complaints_at(
        self, commune: str, category: str, since: datetime
    ) -> list[ComplaintRecord]:
        """Open complaints of a commune and category since a moment."""
        ...

    async def routes_of(self, complaint_id: str) -> list[str]:
        """The CSOs a complaint is with now."""
        ...

    async def partner_chats(self, partner_id: str) -> list[tuple[str, str]]:
        """The (channel, chat) pairs linked to a CSO."""
        ...

    async def partner_of_chat(self, channel: str, chat_id: str) -> str | None:
        """The CSO a chat is linked to, if any."""
        ...

    async def link_code_partner(self, code: str, now: datetime) -> str | None:
        """The CSO a link code was made for, while it is valid."""
        ...

    async def recipients(self, complaint_id: str) -> list[tuple[str, str, str, str]]:
        """Who hears of a complaint's progress: (user key, channel, chat, language)."""
        ...

    async def question(self, question_id: str) -> QuestionRecord | None:
        """A CSO's question by id."""
        ...

    def save_complaint(self, record: ComplaintRecord) -> None:
        """Insert or update a complaint."""
        ...

    def add_route(self, complaint_id: str, partner_id: str, now: datetime) -> None:
        """Send a complaint to a CSO (again)."""
        ...

    def drop_route(self, complaint_id: str, partner_id: str) -> None:
        """A CSO no longer handles a complaint."""
        ...

    def add_event(
        self,
        complaint_id: str,
        action: str,
        now: datetime,
        partner_id: str | None = None,
        actor: str | None = None,
        note: str | None = None,
    ) -> None:
        """Record what happened to a complaint, by whom and when."""
        ...

    async def cso_pending(
        self, user_key: str, channel: str, chat_id: str
    ) -> tuple[str, str, str] | None:
        """(step, reference, partner) a CSO member was asked for in a group chat."""
        ...

    def set_cso_pending(
        self,
        user_key: str,
        channel: str,
        chat_id: str,
        step: str | None,
        reference: str = "",
        partner_id: str = "",
        now: datetime | None = None,
    ) -> None:
        """Remember (or, with step None, forget) what a CSO member is to type in a group."""
        ...

    def add_voice(self, complaint_id: str, user_key: str, now: datetime) -> None:
        """A citizen adds their voice to a complaint (once) and follows it."""
        ...

    def set_complaint_flags(self, complaint_id: str, **flags: bool) -> None:
        """Set reminded / escalated / followup_asked without touching anything else."""
        ...

    def link_chat(
        self, channel: str, chat_id: str, partner_id: str, code: str, now: datetime
    ) -> None:
        """Link a chat to a CSO and spend the one-time code."""
        ...

    def save_question(self, record: QuestionRecord) -> None:
        """Keep a CSO's question, or its answer."""
        ...


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

    def save_group_quiz(self, record: GroupQuizRecord) -> None:
        """Insert or update a group quiz."""
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

    def save_circle_quiz(self, record: CircleQuizRecord) -> None:
        """Insert or update a circle quiz."""
        ...

    async def circle_quiz(self, circle_quiz_id: str) -> CircleQuizRecord | None:
        """A circle quiz by id."""
        ...

    def add_circle_score(self, circle_quiz_id: str, user_key: str, score: int, total: int) -> None:
        """A member's score in a circle quiz."""
        ...


class BarometerTransaction(Protocol):
    """Barometer reads and writes within a unit of work."""

    async def barometer_round(self, round_id: str) -> BarometerRound | None:
        """A round by id."""
        ...

    async def open_barometer_rounds(self) -> list[BarometerRound]:
        """Rounds taking answers now, oldest first."""
        ...

    async def closed_barometer_rounds(self, before: datetime) -> list[BarometerRound]:
        """Closed rounds that closed before a moment, newest first (for comparisons)."""
        ...

    def save_barometer_round(self, record: BarometerRound) -> None:
        """Insert or update a round."""
        ...

    async def barometer_answers(self, round_id: str, user_key: str) -> BarometerAnswers | None:
        """A person's answer set in a round, if they answered."""
        ...

    def save_barometer_answers(
        self, round_id: str, user_key: str, answers: BarometerAnswers
    ) -> None:
        """Keep a person's answer set, replacing the one they gave before in this round."""
        ...

    async def barometer_responses(self, round_id: str) -> list[BarometerAnswers]:
        """Every answer set of a round, without who gave it."""
        ...

    async def barometer_participants(self, round_id: str) -> list[tuple[str, str, str, str]]:
        """(user key, channel, chat, language) of those who answered and did not say stop."""
        ...

    async def barometer_invitees(
        self, communes: Sequence[str]
    ) -> list[tuple[str, str, str, str, str]]:
        """(user key, channel, chat, language, commune) of people whose profile is in these
        communes, except those who said stop."""
        ...


class LinkCodeTransaction(Protocol):
    """One-time link codes, spent atomically (issue 13)."""

    async def consume_link_code(self, code: str, now: datetime) -> str | None:
        """Spend a valid code now; the CSO it was for, or None if unknown, expired or spent."""
        ...


class Transaction(
    ComplaintTransaction, QuizTransaction, BarometerTransaction, LinkCodeTransaction, Protocol
):
    """One unit of work: its writes are committed together, or not at all.

    Reads see committed data, not the writes queued earlier in the same unit of work: a flow
    keeps what it just wrote in memory.
    """

    async def load_session(self, user_key: str, channel: str, message_id: str | None) -> Session:
        """Everything a turn needs to start, in one round trip."""
        ...

    async def get_user(self, key: str) -> UserRecord | None:
        """Load a user by key."""
        ...

    async def get_conversation(self, user_key: str) -> ConversationRecord | None:
        """Load the user's conversation state."""
        ...

    def claim_inbound(self, channel: str, message_id: str, now: datetime) -> None:
        """Record a platform message id; the commit raises DuplicateInbound if it was known."""
        ...

    def save_user(self, user: UserRecord) -> None:
        """Insert or update a user."""
        ...

    def delete_user(self, key: str) -> None:
        """Delete a user and everything that hangs off them."""
        ...

    def save_conversation(self, conversation: ConversationRecord) -> None:
        """Insert or update the user's conversation state."""
        ...

    def enqueue(self, message: NewOutboxMessage, now: datetime) -> str:
        """Add an outbox row and return its id; a row whose dedupe key exists is not added."""
        ...

    def record_read(self, user_key: str, article_id: str, now: datetime) -> None:
        """Note that a user opened an article."""
        ...

    def record_search(self, search: SearchRecord) -> None:
        """Keep a search query and how well it was answered (no user key)."""
        ...

    async def articles_read(self, user_key: str) -> set[str]:
        """The articles a user has opened."""
        ...


class Store(Protocol):
    """A database behind the ports."""

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """Open a unit of work, committed when the block ends without an error."""
        ...

    async def search_gaps(self, since: datetime, limit: int) -> list[SearchGap]:
        """The most frequent queries answered badly or not at all since a moment."""
        ...

    async def complaints_needing_attention(self, now: datetime) -> list[ComplaintRecord]:
        """Open complaints past their acknowledgement date, and resolved ones to follow up."""
        ...

    async def group_quizzes_due(self, now: datetime) -> list[GroupQuizRecord]:
        """Running group quizzes whose current question's time is up."""
        ...

    async def circle_quizzes_due(self, now: datetime) -> list[CircleQuizRecord]:
        """Running circle quizzes past their deadline."""
        ...

    async def barometer_rounds_due(self, now: datetime) -> list[BarometerRound]:
        """Scheduled rounds whose opening has come, and open rounds whose closing has."""
        ...

    async def barometer_rounds(self) -> list[BarometerRound]:
        """Every round, newest first."""
        ...

    async def mark_stopped(self, user_key: str) -> None:
        """Send nothing more to this user unasked (they blocked the bot, or the chat is gone)."""
        ...

    async def claim_due_outbox(
        self, now: datetime, limit: int, lease_seconds: float, channels: Sequence[str]
    ) -> list[OutboxRecord]:
        """Lease due outbox rows of these channels; a lease that lapses makes them due again."""
        ...

    async def is_stopped(self, user_key: str) -> bool:
        """Whether this user said stop (or blocked the bot); an unknown user counts as stopped."""
        ...

    async def postpone_outbox(self, kind: str, until: datetime, now: datetime) -> int:
        """Make the due rows of a kind wait until `until`, without counting an attempt."""
        ...

    async def mark_sent(self, outbox_id: str, now: datetime, platform_id: str | None) -> None:
        """Record a successful delivery."""
        ...

    async def mark_failed(
        self, outbox_id: str, error: str, retry_at: datetime | None, now: datetime
    ) -> None:
        """Record a failed attempt; `retry_at=None` gives up (state dead)."""
        ...

    async def get_outbox(self, outbox_id: str) -> OutboxRecord | None:
        """Load one outbox row."""
        ...

    async def prune_inbound(self, before: datetime) -> int:
        """Forget processed message ids older than `before`."""
        ...

    async def close(self) -> None:
        """Close connections."""
        ...


@runtime_checkable
class UncertainOutbox(Protocol):
    """Outbox rows whose send may or may not have arrived (issue 13)."""

    async def mark_uncertain(self, outbox_id: str) -> None:
        """A send of this row timed out: it may have arrived."""
        ...

    async def possible_duplicates(self, kind: str | None = None, prefix: str | None = None) -> int:
        """Rows sent after an attempt whose outcome was unknown."""
        ...

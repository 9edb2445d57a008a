"""Complaint ports: a turn's complaint reads and intent-level writes, and the deadline checks."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from complaints.lifecycle import Action, Status
from storage.records import ComplaintRecord, QuestionRecord


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

    def insert_complaint(self, record: ComplaintRecord) -> None:
        """Record a new complaint."""
        ...

    def transition_complaint(
        self,
        complaint_id: str,
        expected_status: str,
        action: Action,
        now: datetime,
        *,
        ack_due_at: datetime | None = None,
    ) -> Status | None:
        """Apply a lifecycle action to a complaint read in `expected_status`.

        Returns the new status, or None when the action is not possible from that status
        (nothing is written). If the status changed meanwhile the commit raises StaleRecord.
        """
        ...

    def expect_complaint_status(self, complaint_id: str, expected_status: str) -> None:
        """Make the commit fail with StaleRecord if the complaint's status changed meanwhile."""
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

    def set_complaint_flags(self, complaint_id: str, expected_status: str, **flags: bool) -> None:
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


class ComplaintStore(Protocol):
    """Complaint queries outside a conversation: deadlines, exports, CSO administration."""

    async def complaints_needing_attention(self, now: datetime) -> list[ComplaintRecord]:
        """Open complaints past their acknowledgement date, and resolved ones to follow up."""
        ...

    async def export_complaints(
        self, since: datetime | None = None, partner_id: str | None = None
    ) -> list[tuple[ComplaintRecord, list[str]]]:
        """Complaints with the CSOs they are with, oldest first."""
        ...

    async def create_link_code(self, partner_id: str, code: str, expires: datetime) -> None:
        """A one-time code that links the chat that sends it to a CSO."""
        ...

    async def linked_chats(self) -> list[tuple[str, str, str, datetime]]:
        """Every linked chat: (partner, channel, chat, linked at)."""
        ...


class CsoInboxTransaction(Protocol):
    """What a CSO's own chat lists: its open complaints and their history."""

    async def partner_open_complaints(self, partner_id: str) -> list[ComplaintRecord]:
        """Open complaints routed to a CSO now, oldest first."""
        ...

    async def complaint_history(self, complaint_id: str) -> list[tuple[datetime, str, str | None]]:
        """(when, action, note) of a complaint, oldest first."""
        ...


class LinkCodeTransaction(Protocol):
    """One-time link codes, spent atomically."""

    async def consume_link_code(self, code: str, now: datetime) -> str | None:
        """Spend a valid code now; the CSO it was for, or None if unknown, expired or spent."""
        ...

"""Barometer ports: rounds, answer sets, and the rounds' clock."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from storage.barometer_records import BarometerAnswers, BarometerRound


class BarometerTransaction(Protocol):
    """Barometer reads and writes within a unit of work."""

    async def barometer_round(self, round_id: str) -> BarometerRound | None:
        """A round by id."""
        ...

    def save_barometer_round(self, record: BarometerRound) -> None:
        """Insert or replace a whole round (an operator's `civicbot barometer`, test seeds)."""
        ...

    async def open_barometer_rounds(self) -> list[BarometerRound]:
        """Rounds taking answers now, oldest first."""
        ...

    async def closed_barometer_rounds(self, before: datetime) -> list[BarometerRound]:
        """Closed rounds that closed before a moment, newest first (for comparisons)."""
        ...

    def create_barometer_round(self, record: BarometerRound) -> None:
        """Record a new round."""
        ...

    def open_barometer_round(self, round_id: str) -> None:
        """A scheduled round starts taking answers (StaleRecord if it is no longer scheduled)."""
        ...

    def close_barometer_round(self, round_id: str, results: dict[str, Any]) -> None:
        """An open round closes with its results (StaleRecord if it is no longer open)."""
        ...

    def set_barometer_actions(self, round_id: str, text: str, now: datetime) -> None:
        """Attach the actions agreed with the commune to a round."""
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


class BarometerStore(Protocol):
    """Barometer queries outside a conversation."""

    async def barometer_rounds_due(self, now: datetime) -> list[BarometerRound]:
        """Scheduled rounds whose opening has come, and open rounds whose closing has."""
        ...

    async def barometer_rounds(self) -> list[BarometerRound]:
        """Every round, newest first."""
        ...

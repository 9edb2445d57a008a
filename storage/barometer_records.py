"""Frozen records of the barometer that cross the storage ports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

RoundStatus = Literal["scheduled", "open", "closed"]


@dataclass(frozen=True, slots=True)
class BarometerRound:
    """A barometer round: communes, dates, and once closed its results and agreed actions."""

    id: str
    communes: tuple[str, ...]
    opens_at: datetime
    closes_at: datetime
    status: RoundStatus
    created_at: datetime
    partner_id: str | None = None
    results: dict[str, Any] | None = None
    actions: str | None = None
    actions_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class BarometerAnswers:
    """One person's answer set in a round (the user key stays in storage)."""

    commune: str
    answers: dict[str, int]
    comment: str | None
    updated_at: datetime

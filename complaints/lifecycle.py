"""Complaint states, the actions that move between them, and the reminders they are due."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Status = Literal["submitted", "acknowledged", "in_progress", "resolved", "not_ours", "reopened"]
Action = Literal["ack", "progress", "resolved", "not_ours", "reroute", "reopen"]

# action -> the statuses it may be applied to, and the status it leads to.
_TRANSITIONS: dict[Action, tuple[frozenset[Status], Status]] = {
    "ack": (frozenset({"submitted", "reopened"}), "acknowledged"),
    "progress": (frozenset({"submitted", "acknowledged", "reopened"}), "in_progress"),
    "resolved": (
        frozenset({"submitted", "acknowledged", "in_progress", "reopened"}),
        "resolved",
    ),
    # The desk itself says "not for us": nobody is left to handle it.
    "not_ours": (
        frozenset({"submitted", "acknowledged", "in_progress", "reopened"}),
        "not_ours",
    ),
    # A CSO says "not for us": back to the desk, which routes it again.
    "reroute": (
        frozenset({"submitted", "acknowledged", "in_progress", "reopened"}),
        "submitted",
    ),
    "reopen": (frozenset({"resolved"}), "reopened"),
}
# Actions after which a CSO must acknowledge again: the acknowledgement clock restarts.
RESTARTS_CLOCK: frozenset[Action] = frozenset({"reroute", "reopen"})

# Statuses that still need a CSO to act.
OPEN: frozenset[Status] = frozenset({"submitted", "acknowledged", "in_progress", "reopened"})
# Statuses in which nobody has acknowledged the complaint yet.
_WAITING_ACK: frozenset[Status] = frozenset({"submitted", "reopened"})


def next_status(current: Status, action: Action) -> Status | None:
    """Return the status `action` leads to from `current`, or None if it is not allowed."""
    transition = _TRANSITIONS.get(action)
    if transition is None:
        return None
    sources, target = transition
    return target if current in sources else None


def changed_columns(
    action: Action, target: Status, now: datetime, ack_due_at: datetime | None
) -> dict[str, object]:
    """The complaint's columns a transition sets besides its status (a pure description)."""
    columns: dict[str, object] = {"status": target, "updated_at": now}
    if target == "resolved":
        # A new resolution gets its own follow-up a week later.
        columns.update(resolved_at=now, followup_asked=False)
    if action in RESTARTS_CLOCK:
        if ack_due_at is None:
            raise ValueError(f"{action} restarts the acknowledgement clock: ack_due_at needed")
        columns.update(reminded=False, escalated=False, ack_due_at=ack_due_at)
    return columns


def allows(current: str, action: Action) -> bool:
    """Whether `action` may be applied to a complaint whose stored status is `current`."""
    return next_status(current, action) is not None  # type: ignore[arg-type]


@dataclass(frozen=True, slots=True)
class Timeline:
    """What the scheduler needs to know about one complaint to decide what is due."""

    status: Status
    created_at: datetime
    ack_due_at: datetime
    reminded: bool = False
    escalated: bool = False
    resolved_at: datetime | None = None
    followup_asked: bool = False


def ack_due(created_at: datetime, ack_days: int) -> datetime:
    """Return when a partner should have acknowledged a complaint created at `created_at`."""
    return created_at + timedelta(days=ack_days)


def due_actions(
    t: Timeline,
    now: datetime,
    escalate_after: timedelta = timedelta(days=2),
    followup_after: timedelta = timedelta(days=7),
) -> list[str]:
    """Return the actions due at `now`: "remind", "escalate" and/or "followup"."""
    actions: list[str] = []
    if t.status in _WAITING_ACK:
        if not t.reminded and now >= t.ack_due_at:
            actions.append("remind")
        # Escalation only after a reminder went unanswered for `escalate_after`.
        if t.reminded and not t.escalated and now >= t.ack_due_at + escalate_after:
            actions.append("escalate")
    if (
        t.status == "resolved"
        and t.resolved_at is not None
        and not t.followup_asked
        and now >= t.resolved_at + followup_after
    ):
        actions.append("followup")
    return actions

"""Work in progress that survives detours: a complaint being written, barometer answers."""

from __future__ import annotations

from typing import Any

from handlers.turn import Turn

# The steps at which a flow's data is a draft worth keeping.
DRAFT_STEPS = {
    "complaint": frozenset(
        {"category", "commune", "place", "description", "media", "consent", "summary", "change"}
        | {"duplicate"}
    ),
    "barometer": frozenset({"question", "comment"}),
}


def _has_content(flow: str, data: dict[str, Any]) -> bool:
    if flow == "complaint":
        return bool(data.get("category"))
    return bool(data)


def keep_drafts(turn: Turn) -> None:
    """Remember the draft the turn leaves behind, so that a detour does not lose it."""
    steps = DRAFT_STEPS.get(turn.flow)
    if not steps or turn.step not in steps:  # before `turn.data`, a deep copy, every turn
        return
    data = turn.data
    if _has_content(turn.flow, data):
        turn.drafts[turn.flow] = {"step": turn.step, "data": data}


def draft(turn: Turn, flow: str) -> tuple[str, dict[str, Any]] | None:
    """The step and data of a flow's draft, if one is kept."""
    kept = turn.drafts.get(flow)
    if not isinstance(kept, dict) or "step" not in kept:
        return None
    return str(kept["step"]), dict(kept.get("data") or {})


def drop_draft(turn: Turn, flow: str) -> None:
    """The draft was sent or cancelled: forget it."""
    turn.drafts.pop(flow, None)

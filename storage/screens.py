"""The current screen as stored: choice ids with the labels read beside them.

Shared by every backend: the `choices` column holds plain ids (screens saved before labels
were kept) or `[id, label, short]` per choice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def screen_columns(screen: list[Any]) -> dict[str, Any]:
    """Choice ids and labels from the `choices` column: plain ids, or [id, label, short]."""
    ids = tuple(str(item[0]) if isinstance(item, list) else str(item) for item in screen)
    labels = tuple(
        (str(item[1]), str(item[2]) if len(item) > 2 else "")
        for item in screen
        if isinstance(item, list) and len(item) > 1
    )
    return {"choices": ids, "labels": labels if len(labels) == len(ids) else ()}


def screen_items(choices: Sequence[str], labels: Sequence[tuple[str, str]]) -> list[Any]:
    """The `choices` column's value: [id, label, short] per choice when labels are known."""
    if len(labels) != len(choices):
        return list(choices)
    return [[c, label, short] for c, (label, short) in zip(choices, labels, strict=True)]


def pushed_screen(payload: dict[str, Any]) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """The choices of a message sent from the outbox, as the recipient's new screen."""
    choices = [c for c in payload.get("choices") or [] if isinstance(c, dict) and "id" in c]
    return (
        tuple(str(c["id"]) for c in choices),
        tuple((str(c.get("label", "")), str(c.get("short_label") or "")) for c in choices),
    )

"""The layout keeps its promises: one place opens the store, and no import goes in a circle."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_one_function_in_bot_opens_the_store() -> None:
    openers = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "bot").rglob("*.py"))
        if "SqliteStore.open(" in path.read_text(encoding="utf-8")
    ]
    assert openers == ["bot/store.py"]

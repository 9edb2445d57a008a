"""`civicbot quiz stats`: what people get wrong, for the programme's teaching."""

from __future__ import annotations

import argparse
import asyncio
import json

from bot.settings import Settings
from quiz.stats import AnswerRow, summarise


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print the statistics as JSON (cells of fewer than 5 people are null)."""
    rows = asyncio.run(_rows(settings))
    print(json.dumps(summarise(rows), ensure_ascii=False, indent=2))
    return 0


async def _rows(settings: Settings) -> list[AnswerRow]:
    from bot.store import open_store

    store = await open_store(settings.db)
    try:
        return [tuple(row) for row in await store.quiz_answer_rows()]
    finally:
        await store.close()

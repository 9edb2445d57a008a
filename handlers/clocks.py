"""Everything that happens because time passed, in one call for the channels' loops."""

from __future__ import annotations

from datetime import datetime

from content.pack import ContentPack
from handlers.barometer.rounds import tick_barometer
from handlers.complaints.deadlines import check_deadlines
from handlers.quizzes.timers import tick_quizzes
from storage.ports import Store


async def run_clocks(store: Store, pack: ContentPack, now: datetime) -> int:
    """Complaint deadlines, group quiz questions, circle quiz deadlines, barometer rounds."""
    return (
        await check_deadlines(store, pack, now)
        + await tick_quizzes(store, pack, now)
        + await tick_barometer(store, pack, now)
    )

"""Several `civicbot run` processes on one throwaway PostgreSQL (issue 20).

Real processes behind the fake WhatsApp Graph and Telegram Bot API servers, which record
every send: timers fire once whichever processes are alive, one process polls Telegram,
webhooks are spread across processes (Meta's redeliveries to another one), the platform rate
holds for the deployment, and a process killed in the middle loses nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage.postgres.store import PostgresStore
from storage.records import GroupQuizRecord
from tests.deployment import Deployment, until
from tests.fake_telegram import FakeTelegram


@pytest.fixture
async def telegram() -> AsyncIterator[FakeTelegram]:
    fake = await FakeTelegram().start()
    yield fake
    await fake.stop()


def _questions(fake: FakeTelegram, chat: str, n: int) -> int:
    """How many times question `n` of a group quiz was posted in `chat`."""
    return sum(1 for c in fake.sent(chat) if c.text.startswith(f"Question {n}/"))


async def test_timers_fire_once_with_three_processes_and_after_the_leader_dies(
    pg_url: str, telegram: FakeTelegram, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    store = await PostgresStore.open(pg_url)
    try:
        async with store.transaction() as tx:
            # One group's question is due now, another's once the first leader is dead.
            for chat, due in (("-1001", now), ("-1002", now + timedelta(seconds=12))):
                tx.start_group_quiz(
                    GroupQuizRecord(f"q{chat}", "telegram", chat, "redevabilite", 1, 0, due, now)
                )
    finally:
        await store.close()
    deployment = Deployment(pg_url, tmp_path, telegram=telegram)
    try:
        await deployment.start(3)
        await until(lambda: _questions(telegram, "-1001", 2) >= 1, 20, "the first tick")
        leader = deployment.leader()
        assert leader is not None
        assert [p.leads() for p in deployment.processes].count(True) == 1
        deployment.kill(leader)
        await until(lambda: _questions(telegram, "-1002", 2) >= 1, 30, "the second tick")
        await until(lambda: deployment.leader() not in (None, leader), 5, "a new leader")
        # Both quizzes moved on once: one closing message and one next question each.
        for chat in ("-1001", "-1002"):
            assert _questions(telegram, chat, 2) == 1
            assert sum(1 for c in telegram.sent(chat) if "Réponse" in c.text) == 1
        # Polling ran in one process at a time: Telegram never saw two pollers at once.
        assert telegram.conflicts == 0
    finally:
        await deployment.stop()

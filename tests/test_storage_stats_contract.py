"""The statistics port gives the same figures on every backend, from the same records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from reports.figures import build
from storage.barometer_records import BarometerAnswers, BarometerRound
from storage.records import ComplaintRecord, SearchRecord, UserRecord
from storage.sqlite import SqliteStore

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


async def fill(store: Any) -> None:
    """A small programme, written through the ports: users, reads, quizzes, complaints, rounds."""
    async with store.transaction() as tx:
        for n in range(8):
            tx.save_user(
                UserRecord(
                    f"k{n}", "test", f"k{n}", ago(3 if n < 6 else 60), ago(1), region="ML01",
                    gender="f", age_group="18-24", entry_source="qr-affiche", commune="ML010101",
                )
            )  # fmt: skip
        for n in range(3):
            tx.save_user(UserRecord(f"b{n}", "test", f"b{n}", ago(90), ago(20), region="ML02"))
        for n in range(6):
            tx.record_read(f"k{n}", "droits", ago(2))
            tx.add_quiz_result(f"k{n}", "x", 5 if n % 2 else 10, 10, ago(1))
            tx.add_quiz_answer(f"s{n}", "x", "q1", 1, n % 2 == 0, "solo", "f", None, ago(1))
        for outcome in ("none", "confident", "uncertain", "confident"):
            tx.record_search(SearchRecord("q", "fr", outcome, 0.5, ago(1)))  # type: ignore[arg-type]
        for n in range(7):
            base = ComplaintRecord(
                f"c{n}", f"R{n}", "test", "fr", "eau", "ML010101" if n < 5 else "ML020202",
                "x", "submitted", ago(30), ago(30), ago(25),
            )  # fmt: skip
            if n < 4:
                base = replace(base, status="resolved", resolved_at=ago(20))
            tx.insert_complaint(base)
            tx.add_event(f"c{n}", "ack", ago(30 - (n + 1)))
        tx.add_event("c0", "reopened", ago(5))
        tx.create_barometer_round(
            BarometerRound("r1", ("ML010101",), ago(10), ago(3), "scheduled", ago(11))
        )
    async with store.transaction() as tx:
        tx.open_barometer_round("r1")
        for n in range(6):
            tx.save_barometer_answers(
                "r1", f"k{n}", BarometerAnswers("ML010101", {"eau": 3}, None, ago(5))
            )
    async with store.transaction() as tx:
        tx.close_barometer_round("r1", {"ML010101": {"criteria": {"eau": {"average": 3.0}}}})


async def figures(store: Any, since: datetime | None, region: str | None) -> dict[str, Any]:
    raw = await store.stats_rows(NOW, since, region)
    return build(raw, generated="now", since=None, region=region)


async def test_the_same_records_give_the_same_figures_on_both_backends(
    pg_url: str, tmp_path: Path
) -> None:
    from storage.postgres.store import PostgresStore

    sqlite = await SqliteStore.open(tmp_path / "stats.sqlite3")
    postgres = await PostgresStore.open(pg_url)
    try:
        for store in (sqlite, postgres):
            await fill(store)
        for since, region in ((None, None), (ago(10), None), (None, "ML01")):
            expected = await figures(sqlite, since, region)
            assert expected["users"] and expected["complaints"]
            assert await figures(postgres, since, region) == expected
    finally:
        await sqlite.close()
        await postgres.close()

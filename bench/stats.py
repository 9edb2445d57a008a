"""Statistics benchmark: `civicbot stats` and the HTML report on 100,000 users, 50,000
complaints and 200,000 quiz answers; each should take under 5 s. Run with `make bench`."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from reports.figures import build
from reports.html import render
from storage.sqlite import SqliteStore

USERS, COMPLAINTS, ANSWERS = 100_000, 50_000, 200_000
NOW = datetime(2026, 6, 30, tzinfo=UTC)


def _at(rng: random.Random, days: int) -> str:
    return (NOW - timedelta(days=rng.uniform(0, days))).isoformat(timespec="microseconds")


def fill(path: Path) -> None:
    """Generate the database with plain sqlite3 (fast bulk inserts)."""
    rng = random.Random(8)
    regions = [f"ML{n:02d}" for n in range(1, 11)]
    db = sqlite3.connect(path)
    db.executemany(
        "INSERT INTO users (key, channel, external_id, region, commune, gender, age_group, "
        "entry_source, created_at, last_seen_at) VALUES (?, 'bench', ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                f"u{n}",
                f"u{n}",
                (r := rng.choice(regions)),
                f"{r}01{rng.randint(1, 9):02d}",
                rng.choice(["f", "m", None]),
                rng.choice(["15-17", "18-24", "25-34", "35+"]),
                rng.choice(["radio", "qr", None]),
                _at(rng, 365),
                _at(rng, 60),
            )
            for n in range(USERS)
        ),
    )
    db.executemany(
        "INSERT INTO article_reads VALUES (?, ?, ?, ?, 1)",
        (
            (f"u{n}", f"a{rng.randint(1, 32)}", _at(rng, 90), _at(rng, 90))
            for n in range(0, USERS, 2)
        ),
    )
    db.executemany(
        "INSERT INTO quiz_answers (session, quiz_id, question_id, option, correct, context, "
        "gender, age_group, answered_at) VALUES (?, 'q', ?, 0, ?, 'solo', ?, '18-24', ?)",
        (
            (str(n // 10), f"q{n % 10}", rng.random() < 0.6, rng.choice(["f", "m"]), _at(rng, 90))
            for n in range(ANSWERS)
        ),
    )
    db.executemany(
        "INSERT INTO quiz_results (user_key, quiz_id, score, total, finished_at) "
        "VALUES (?, 'q', ?, 10, ?)",
        ((f"u{n}", rng.randint(0, 10), _at(rng, 90)) for n in range(0, ANSWERS // 10)),
    )
    db.executemany(
        "INSERT INTO complaints (id, reference, channel, lang, category, commune, description, "
        "status, created_at, updated_at, ack_due_at, resolved_at) "
        "VALUES (?, ?, 'bench', 'fr', ?, ?, 'x', ?, ?, ?, ?, ?)",
        (
            (
                f"c{n}",
                f"R{n}",
                rng.choice(["eau", "ecole", "sante"]),
                f"{rng.choice(regions)}01{rng.randint(1, 9):02d}",
                rng.choice(["submitted", "acknowledged", "resolved"]),
                _at(rng, 200),
                _at(rng, 10),
                _at(rng, 10),
                _at(rng, 5) if n % 3 else None,
            )
            for n in range(COMPLAINTS)
        ),
    )
    db.executemany(
        "INSERT INTO complaint_events (complaint_id, action, at) VALUES (?, ?, ?)",
        ((f"c{n}", "ack" if n % 7 else "reopened", _at(rng, 150)) for n in range(COMPLAINTS)),
    )
    db.commit()
    db.close()


async def main() -> None:
    """Build the database once, then time the figures and the report."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        store = await SqliteStore.open(path)
        await store.close()
        started = time.perf_counter()
        fill(path)
        print(
            f"generated {USERS:,} users, {COMPLAINTS:,} complaints, {ANSWERS:,} quiz answers "
            f"in {time.perf_counter() - started:.1f} s"
        )
        store = await SqliteStore.open(path)
        try:
            started = time.perf_counter()
            figures = build(await store.stats_rows(NOW), generated="", since=None, region=None)
            stats = time.perf_counter() - started
            print(f"stats: {stats:.2f} s (target < 5 s)")
            started = time.perf_counter()
            page = render(build(await store.stats_rows(NOW), generated="", since=None, region=None))
            report = time.perf_counter() - started
            print(f"report: {report:.2f} s, {len(page) // 1024} KiB (target < 5 s)")
        finally:
            await store.close()
        assert figures["users"]["total"] == USERS
        if max(stats, report) >= 5:
            raise SystemExit("too slow")


if __name__ == "__main__":
    asyncio.run(main())

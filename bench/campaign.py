"""Campaign benchmark: the scheduling overhead of a campaign to 100,000 recipients.

Users are generated straight into SQLite (half on Telegram, half on WhatsApp, French and
Bambara), `civicbot campaign send`'s logic queues one outbox row each, and the delivery worker
drains them with `run_once` in a loop, as the running bot does, through in-process senders that
accept every message at once (no platform, no rate limit): what is measured is ours alone, the
audience query, the paced timetable, the outbox writes, the claims, the stop check per row and
the write-back. Prints rows queued per second, messages per second the worker sustains (the
platforms allow about 30/s on Telegram and 80/s on WhatsApp, so it must be far above) and peak
memory. `--recipients N` changes the size. Run with `make bench`."""

from __future__ import annotations

import argparse
import asyncio
import resource
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.campaigns.model import Campaign, load_campaign
from bot.campaigns.schedule import LEAD
from bot.commands.campaign import Rates, send, status
from bot.delivery import DeliveryWorker
from handlers.messages import Reply
from storage.records import OutboxRecord
from storage.sqlite import SqliteStore

EXAMPLE = Path(__file__).resolve().parent.parent / "campaigns" / "eid-10-decembre.yaml"
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
# No pacing: every row is due at once, so the worker never waits for the clock.
UNLIMITED = Rates({"telegram": 1e9, "whatsapp": 1e9}, None)


class NullSender:
    """A platform with no rate limit that accepts everything: counts what it is given."""

    def __init__(self) -> None:
        self.count = 0

    async def send(self, chat_id: str, reply: Reply, row: OutboxRecord | None = None) -> str | None:
        self.count += 1
        return str(self.count)


def seed_users(db: Path, count: int) -> None:
    """Recipients written straight into the database; one in fifty has said stop."""
    now = NOW.isoformat(timespec="microseconds")
    recent = (NOW - timedelta(hours=2)).isoformat(timespec="microseconds")
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT INTO users (key, channel, external_id, language, commune, stopped, "
            "created_at, last_seen_at, last_inbound_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    f"{channel}:{uid}",
                    channel,
                    uid,
                    "bm" if n % 3 == 0 else "fr",
                    f"commune-{n % 700}",
                    int(n % 50 == 0),
                    now,
                    now,
                    recent,
                )
                for n in range(count)
                for channel, uid in (
                    ("telegram", str(100_000_000 + n))
                    if n % 2
                    else ("whatsapp", str(22_370_000_000 + n)),
                )
            ),
        )


def peak_mb() -> float:
    """Peak resident memory of this process (ru_maxrss is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def bench(recipients: int, limit: int) -> None:
    campaign: Campaign = load_campaign(EXAMPLE)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "campaign.sqlite3"
        store = await SqliteStore.open(db)
        try:
            seed_users(db, recipients)
            start = time.perf_counter()
            result = await send(store, campaign, UNLIMITED, lambda: NOW)
            queue_s = time.perf_counter() - start
            queued = result.queued_now
            print(
                f"queued {queued:,} campaign rows ({result.excluded_stopped:,} stopped excluded) "
                f"in {queue_s:.1f} s: {queued / queue_s:,.0f} rows/s"
            )

            later = NOW + LEAD + timedelta(minutes=1)
            senders = {"telegram": NullSender(), "whatsapp": NullSender()}
            worker = DeliveryWorker(store, senders, clock=lambda: later)
            start = time.perf_counter()
            sent = 0
            while (done := await worker.run_once(limit)) > 0:
                sent += done
            drain_s = time.perf_counter() - start
            counted = sum(s.count for s in senders.values())
            figures = await status(store, campaign.name)
            assert figures is not None
            assert sent == counted == queued == figures["sent"], (sent, counted, figures)
            assert figures["pending"] == 0
            rate = sent / drain_s
            print(
                f"sent {sent:,} through DeliveryWorker.run_once({limit}) in {drain_s:.1f} s: "
                f"{rate:,.0f} messages/s ({rate / 80:,.0f}x WhatsApp's 80/s, "
                f"{rate / 30:,.0f}x Telegram's 30/s)"
            )
            print(f"peak memory: {peak_mb():.0f} MB")
        finally:
            await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--limit", type=int, default=100, help="rows per run_once (the bot's)")
    args = parser.parse_args()
    asyncio.run(bench(args.recipients, args.limit))


if __name__ == "__main__":
    main()

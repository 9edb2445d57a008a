"""WhatsApp benchmark: signed webhook requests per second through the whole path of
`civicbot run` (signature check, engine, SQLite, sender) with the replies captured by a fake
Graph API, and the time from request to 200. Run with `make bench`."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from storage.sqlite import SqliteStore  # noqa: E402
from tests.fake_graph import (  # noqa: E402
    APP_SECRET,
    PHONE_ID,
    TOKEN,
    VERIFY_TOKEN,
    FakeGraph,
    dumps,
    sign,
    text,
)
from tests.run_support import start_run  # noqa: E402

# What onboarded users type: menus, numbers, help.
TEXTS = ["menu", "1", "menu", "4", "aide", "menu", "2"]


def wa_id(n: int) -> str:
    """A Malian-looking WhatsApp id."""
    return f"223{70_000_000 + n}"


def seed_users(db: Path, count: int) -> None:
    """Users who already chose their language, written straight into the database."""
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT OR IGNORE INTO users (key, channel, external_id, language, created_at, "
            "last_seen_at, last_inbound_at) VALUES (?, 'whatsapp', ?, 'fr', ?, ?, ?)",
            ((f"whatsapp:{wa_id(n)}", wa_id(n), now, now, now) for n in range(count)),
        )


async def start_bot(graph: FakeGraph, db: Path) -> tuple[asyncio.subprocess.Process, str]:
    """`civicbot run` with WhatsApp pointed at the fake Graph API; its webhook URL."""
    proc, port = await start_run(
        {
            "CIVICBOT_WHATSAPP_TOKEN": TOKEN,
            "CIVICBOT_WHATSAPP_PHONE_ID": PHONE_ID,
            "CIVICBOT_WHATSAPP_APP_SECRET": APP_SECRET,
            "CIVICBOT_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
            "CIVICBOT_WHATSAPP_API_URL": graph.url,
            # The bot's own capacity, not Meta's 80 messages a second, is what is measured.
            "CIVICBOT_WHATSAPP_RATE": "1000000",
            "CIVICBOT_DB": str(db),
            "CIVICBOT_LOG_LEVEL": "WARNING",
        },
        capture_stderr=False,
    )
    return proc, f"http://127.0.0.1:{port}/whatsapp/webhook"


async def drive(
    url: str, graph: FakeGraph, requests: int, users: int, concurrency: int
) -> tuple[float, float, float, list[float]]:
    """Post signed webhooks: requests/s answered, requests/s and replies/s to the last reply."""
    bodies = []
    for n in range(requests):
        raw = dumps(text(wa_id(n % users), TEXTS[(n // users) % len(TEXTS)]))
        bodies.append((raw, {"X-Hub-Signature-256": sign(raw)}))
    latencies: list[float] = []
    queue = iter(bodies)
    before = len(graph.calls)

    async def client(http: aiohttp.ClientSession) -> None:
        for raw, headers in queue:
            began = time.perf_counter()
            async with http.post(url, data=raw, headers=headers) as resp:
                assert resp.status == 200, resp.status
            latencies.append(time.perf_counter() - began)

    start = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
    answered = time.perf_counter() - start
    # Every message gets at least one reply; wait until they are all out and none follows.
    last, quiet = len(graph.calls), time.perf_counter()
    while len(graph.calls) - before < requests or time.perf_counter() - quiet < 0.5:
        await asyncio.sleep(0.02)
        if len(graph.calls) != last:
            last, quiet = len(graph.calls), time.perf_counter()
    delivered = quiet - start
    replies = len(graph.calls) - before
    return requests / answered, requests / delivered, replies / delivered, latencies


async def run(requests: int, users: int, concurrency: int) -> None:
    """One bot process, one fake Graph API, `requests` webhooks from `users` users."""
    graph = await FakeGraph().start()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        store = await SqliteStore.open(db)
        await store.close()
        seed_users(db, users)
        proc, url = await start_bot(graph, db)
        try:
            await drive(url, graph, min(200, requests), users, concurrency)  # warm-up
            answered, whole, replies, latencies = await drive(
                url, graph, requests, users, concurrency
            )
        finally:
            proc.send_signal(signal.SIGTERM)
            await proc.wait()
    await graph.stop()
    ordered = sorted(latencies)
    p50 = statistics.median(ordered) * 1000
    p99 = ordered[int(len(ordered) * 0.99) - 1] * 1000
    print(f"webhooks           {requests} from {users} users, {concurrency} at a time")
    print(f"answered           {answered:,.0f} signed requests/s answered 200")
    print(f"whole path         {whole:,.0f} requests/s, to the last reply (engine, SQLite, send)")
    print(f"replies            {replies:,.0f} messages/s captured by the fake Graph API")
    print(f"request -> 200     p50 {p50:.1f} ms, p99 {p99:.1f} ms")


def main() -> None:
    """Run the measurement."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()
    asyncio.run(run(args.requests, args.users, args.concurrency))


if __name__ == "__main__":
    main()

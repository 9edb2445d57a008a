"""Engine benchmark: 10,000 users chatting through the engine with the SQLite store.

Run with `make bench`. Prints messages per second, p50/p99 latency per message and peak memory.
Two mixes: choices typed as numbers, and (`--words 0.5`) half of them typed as the words of the
choice's label, lower case and without accents, as people type on WhatsApp.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import resource
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from content.pack import load_pack
from content.text import fold
from handlers.engine import Engine
from handlers.messages import Inbound
from storage.sqlite import SqliteStore

# What people do after the first contact: mostly menus and numbers, some words and commands.
SESSION_TAIL = [
    ["5", "1", "3"],  # profile: region, Sikasso
    ["menu", "6"],  # help
    ["5", "2", "2", "menu"],  # profile: age 15-19
    ["c koi la redevabilite", "menu"],
    ["9", "aide", "1"],
    ["5", "3", "1"],  # gender
    ["👍", "menu", "2"],
]


def script(rng: random.Random) -> list[str]:
    """One user's messages: greet, pick a language, then a few realistic steps."""
    steps = ["bonjour", rng.choice(["1", "1", "1", "2"])]
    for tail in rng.sample(SESSION_TAIL, k=2):
        steps.extend(tail)
    return steps


async def run(users: int, concurrency: int, db: Path, words: float = 0.0) -> None:
    """Play every user's script, `concurrency` users at a time; `words` of choices as words."""
    pack = load_pack()
    store = await SqliteStore.open(db)
    engine = Engine(store, lambda: pack)
    rng = random.Random(7)
    scripts = {f"u{i}": script(rng) for i in range(users)}
    latencies: list[float] = []
    queue: asyncio.Queue[str] = asyncio.Queue()
    for user in scripts:
        queue.put_nowait(user)

    typed = 0

    async def worker() -> None:
        nonlocal typed
        while not queue.empty():
            user = queue.get_nowait()
            shown: list[str] = []
            for n, text in enumerate(scripts[user]):
                if text.isdigit() and 0 < int(text) <= len(shown) and rng.random() < words:
                    text = fold(shown[int(text) - 1])
                    typed += 1
                inbound = Inbound(
                    channel="bench",
                    user_id=user,
                    chat_id=user,
                    received_at=datetime.now(UTC),
                    message_id=f"{user}-{n}",
                    text=text,
                )
                start = time.perf_counter()
                replies = await engine.handle(inbound)
                latencies.append(time.perf_counter() - start)
                labels = [c.label for reply in replies for c in reply.choices]
                shown = labels or shown

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await store.close()
    latencies.sort()
    p50 = statistics.median(latencies) * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"users              {users}")
    print(f"messages           {len(latencies)}")
    print(f"concurrent users   {concurrency}")
    print(f"choices as words   {typed} ({words:.0%} of typed numbers asked)")
    print(f"throughput         {len(latencies) / elapsed:,.0f} messages/s")
    print(f"latency p50        {p50:.2f} ms")
    print(f"latency p99        {p99:.2f} ms")
    print(f"peak memory (RSS)  {peak_mb:.0f} MiB")


def main() -> None:
    """Parse options and run."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument(
        "--concurrency",
        type=int,
        action="append",
        help="users typing at the same moment (repeatable; default: 1 then 4)",
    )
    parser.add_argument(
        "--words",
        type=float,
        action="append",
        help="share of choices typed as words (repeatable; default: 0 then 0.5)",
    )
    args = parser.parse_args()
    for words in args.words or [0.0, 0.5]:
        for concurrency in args.concurrency or [1, 4]:
            with tempfile.TemporaryDirectory() as tmp:
                asyncio.run(run(args.users, concurrency, Path(tmp) / "bench.sqlite3", words))
            print()


if __name__ == "__main__":
    main()

"""Group quiz benchmark: 200 members of one group all tap within one second. Every answer must
be recorded exactly once; prints the time to process them all. Run with `make bench`."""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from content.pack import load_pack
from handlers.engine import Engine
from handlers.messages import Inbound
from storage.sqlite import SqliteStore

MEMBERS = 200


async def main() -> None:
    """Start a group quiz, then 200 taps (plus 50 repeated taps) at once."""
    pack = load_pack()
    with tempfile.TemporaryDirectory() as tmp:
        store = await SqliteStore.open(Path(tmp) / "bench.sqlite3")
        engine = Engine(store, lambda: pack, rng=random.Random(4))
        group = "-100200"

        def inbound(user: str, n: str, **fields: object) -> Inbound:
            return Inbound(
                channel="bench",
                user_id=user,
                chat_id=group,
                chat_type="group",
                received_at=datetime.now(UTC),
                message_id=n,
                **fields,
            )  # type: ignore[arg-type]

        await engine.handle(inbound("admin", "start", admin=True, text="/quiz redevabilite"))
        rows = await store.fetch_all("SELECT id FROM group_quizzes")
        run_id = rows[0][0]
        taps = [
            inbound(f"m{n}", f"t{n}", choice=f"gquiz:{run_id}:0:{n % 3}") for n in range(MEMBERS)
        ]
        repeats = [inbound(f"m{n}", f"r{n}", choice=f"gquiz:{run_id}:0:0") for n in range(50)]
        start = time.perf_counter()
        replies = await asyncio.gather(*(engine.handle(t) for t in taps + repeats))
        elapsed = time.perf_counter() - start
        recorded = await store.fetch_all(
            "SELECT COUNT(*), COUNT(DISTINCT user_key) FROM group_answers"
        )
        await store.close()
    private = sum(1 for rs in replies for r in rs if r.only_for)
    total, distinct = recorded[0]
    print(f"group quiz: {MEMBERS} members tapping at once, plus 50 second taps")
    print(f"  answers recorded {total} (distinct members {distinct}; expected {MEMBERS})")
    print(f"  private answers sent {private} of {MEMBERS + 50}")
    print(f"  processed in {elapsed * 1000:.0f} ms ({(MEMBERS + 50) / elapsed:,.0f} taps/s)")
    assert total == distinct == MEMBERS, "an answer was lost or counted twice"


if __name__ == "__main__":
    asyncio.run(main())

"""Engine benchmark: 10,000 users chatting through the engine with the SQLite store.

Run with `make bench`. Prints messages per second, p50/p99 latency per message and peak memory,
for two mixes: choices typed as numbers, and (`--words 0.5`) half of them typed as the words of
the choice's label, lower case and without accents, as people type on WhatsApp. Then the same
number of messages through a bare aiosqlite loop doing the least any engine must (dedupe row,
conversation upsert, one commit each), with the engine's throughput as a ratio to it, and the
same loop with sqlite3 on the event loop (the path the store now takes); then 200
people acting at once on 20 shared complaints (citizens adding their voice, CSO members
pressing buttons): throughput, turns retried after a conflict, and updates lost (0).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import random
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiosqlite

from bot import heap
from complaints.lifecycle import Status, next_status
from complaints.reference import new_reference
from content.pack import load_pack
from content.text import fold
from handlers.engine import Engine
from handlers.messages import Inbound
from storage.records import ComplaintRecord, ConversationRecord, UserRecord, iso
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


async def run(users: int, concurrency: int, db: Path, words: float = 0.0) -> tuple[int, float]:
    """Play every user's script, `concurrency` users at a time; `words` of choices as words."""
    pack = load_pack()
    store = await SqliteStore.open(db)
    engine = Engine(store, lambda: pack)
    heap.settle()  # as `civicbot run` does once started
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
    return len(latencies), len(latencies) / elapsed


async def bare(users: int, messages: int, db: Path) -> float:
    """The floor: per message one dedupe row, one conversation upsert, one commit."""
    store = await SqliteStore.open(db)  # the same schema, pragmas and file system
    await store.close()
    conn = await aiosqlite.connect(db, isolation_level=None)
    await conn.execute("PRAGMA journal_mode = WAL")
    await conn.execute("PRAGMA synchronous = NORMAL")
    await conn.execute("PRAGMA foreign_keys = ON")
    stamp = iso(datetime.now(UTC))
    await conn.execute("BEGIN")
    await conn.executemany(
        "INSERT INTO users (key, channel, external_id, created_at, last_seen_at) "
        "VALUES (?, 'bench', ?, ?, ?)",
        [(f"bench:u{i}", f"u{i}", stamp, stamp) for i in range(users)],
    )
    await conn.execute("COMMIT")
    started = time.perf_counter()
    for n in range(messages):
        await conn.execute("BEGIN IMMEDIATE")
        await conn.execute(
            "INSERT INTO processed_inbound (channel, message_id, processed_at) VALUES (?, ?, ?)",
            ("bench", f"m{n}", stamp),
        )
        await conn.execute(
            "INSERT INTO conversations (user_key, flow, step, data, choices, updated_at) "
            "VALUES (?, 'menu', 'main', '{}', '[]', ?) ON CONFLICT (user_key) DO UPDATE SET "
            "step = excluded.step, data = excluded.data, updated_at = excluded.updated_at",
            (f"bench:u{n % users}", stamp),
        )
        await conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    await conn.close()
    return messages / elapsed


async def bare_on_loop(users: int, messages: int, db: Path) -> float:
    """The same floor with sqlite3 on the event loop, one transaction per message, no hand-off.

    The engine's store commits on the loop when it can: this is the floor of that path.
    """
    store = await SqliteStore.open(db)
    await store.close()
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    stamp = iso(datetime.now(UTC))
    with conn:
        conn.executemany(
            "INSERT INTO users (key, channel, external_id, created_at, last_seen_at) "
            "VALUES (?, 'bench', ?, ?, ?)",
            [(f"bench:u{i}", f"u{i}", stamp, stamp) for i in range(users)],
        )

    def one(n: int) -> None:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO processed_inbound (channel, message_id, processed_at) VALUES (?, ?, ?)",
            ("bench", f"m{n}", stamp),
        )
        conn.execute(
            "INSERT INTO conversations (user_key, flow, step, data, choices, updated_at) "
            "VALUES (?, 'menu', 'main', '{}', '[]', ?) ON CONFLICT (user_key) DO UPDATE SET "
            "step = excluded.step, data = excluded.data, updated_at = excluded.updated_at",
            (f"bench:u{n % users}", stamp),
        )
        conn.execute("COMMIT")

    started = time.perf_counter()
    for n in range(messages):
        one(n)
        await asyncio.sleep(0)  # a turn's await, as the engine has
    elapsed = time.perf_counter() - started
    conn.close()
    return messages / elapsed


class _Retries(logging.Handler):
    """Counts the engine's retried turns (a shared record changed under the first try)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("turn of ") and "retried" in record.getMessage():
            self.count += 1


async def shared(db: Path, people: int = 200, complaints: int = 20, acts: int = 3) -> None:
    """Half citizens adding their voice, half CSO members pressing buttons, all at once."""
    pack = load_pack()
    store = await SqliteStore.open(db)
    engine = Engine(store, lambda: pack)
    rng = random.Random(11)
    now = datetime.now(UTC)
    partner, group = "exemple-kayes", "cso-group"
    references = [new_reference(rng) for _ in range(complaints)]
    citizens = [f"c{i}" for i in range(people // 2)]
    plans: list[tuple[str, str | None, list[str]]] = []
    voices: dict[str, str] = {}
    for user in citizens:
        # A citizen adds her voice where the bot offered it, then looks at her complaints.
        voices[user] = f"complaint:voice:{rng.choice(references).replace('-', '')}"
        plans.append((user, None, [voices[user], *["complaint:mine"] * (acts - 1)]))
    async with store.transaction() as tx:
        for user in citizens:
            tx.save_user(UserRecord(f"bench:{user}", "bench", user, now, now, language="fr"))
        for n, reference in enumerate(references):
            tx.insert_complaint(
                ComplaintRecord(
                    id=f"k{n}",
                    reference=reference,
                    channel="bench",
                    lang="fr",
                    category="eau",
                    commune="ML010101",
                    description="La pompe du forage est en panne.",
                    status="submitted",
                    created_at=now,
                    updated_at=now,
                    ack_due_at=now,
                )
            )
            tx.add_route(f"k{n}", partner, now)
        tx.link_chat("bench", group, partner, "none", now)
    async with store.transaction() as tx:
        for user, choice in voices.items():
            tx.save_conversation(
                ConversationRecord(f"bench:{user}", "complaint", "summary", now, {}, (choice,))
            )
    for i in range(people - len(citizens)):
        actions = [rng.choice(["ack", "progress", "nonote"]) for _ in range(acts)]
        buttons = [f"cso:{a}:{rng.choice(references).replace('-', '')}" for a in actions]
        plans.append((f"m{i}", group, buttons))
    retries = _Retries()
    logging.getLogger("handlers.engine").addHandler(retries)
    logging.getLogger("handlers.engine").setLevel(logging.INFO)
    failed = gave_up = 0
    generic = pack.texts.get("fr", "error.generic")
    busy = pack.texts.get("fr", "error.changed_meanwhile")

    async def person(user: str, chat: str | None, choices: list[str]) -> None:
        nonlocal failed, gave_up
        for n, choice in enumerate(choices):
            inbound = Inbound(
                channel="bench",
                user_id=user,
                chat_id=chat or user,
                chat_type="group" if chat else "private",
                received_at=datetime.now(UTC),
                message_id=f"{user}-{n}",
                choice=choice,
            )
            replies = await engine.handle(inbound)
            failed += any(reply.text == generic for reply in replies)
            gave_up += any(reply.text == busy for reply in replies)

    started = time.perf_counter()
    await asyncio.gather(*(person(*plan) for plan in plans))
    elapsed = time.perf_counter() - started
    logging.getLogger("handlers.engine").removeHandler(retries)
    # Lost updates: a voice counter that disagrees with its followers, a voice asked for and
    # not recorded, or a status that replaying the recorded actions does not give.
    lost = 0
    followers = await store.fetch_all("SELECT COUNT(*) FROM complaint_followers")
    lost += len(voices) - followers[0][0]
    for complaint_id, voices, status in await store.fetch_all(
        "SELECT id, voices, status FROM complaints"
    ):
        counted = await store.fetch_all(
            "SELECT COUNT(*) FROM complaint_followers WHERE complaint_id = ?", (complaint_id,)
        )
        lost += abs(voices - 1 - counted[0][0])
        replayed: Status | None = "submitted"
        for (action,) in await store.fetch_all(
            "SELECT action FROM complaint_events WHERE complaint_id = ? "
            "AND action IN ('ack', 'progress', 'resolved') ORDER BY id",
            (complaint_id,),
        ):
            replayed = next_status(replayed, action) if replayed else None
        lost += replayed != status
    await store.close()
    turns = sum(len(choices) for _, _, choices in plans)
    print(f"shared complaints  {complaints}, {people} people acting at once, {turns} turns")
    print(f"throughput         {turns / elapsed:,.0f} turns/s")
    print(f"conflicts retried  {retries.count}")
    print(f"turns given up     {gave_up} (changed under 3 tries: told so, nothing written)")
    print(f"turns failed       {failed}")
    print(f"updates lost       {lost}")


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
    single: tuple[int, float] | None = None
    for words in args.words or [0.0, 0.5]:
        for concurrency in args.concurrency or [1, 4]:
            with tempfile.TemporaryDirectory() as tmp:
                result = asyncio.run(
                    run(args.users, concurrency, Path(tmp) / "bench.sqlite3", words)
                )
            if concurrency == 1 and words == 0.0:
                single = result
            print()
    if single is not None:
        messages, engine_rate = single
        with tempfile.TemporaryDirectory() as tmp:
            floor = asyncio.run(bare(args.users, messages, Path(tmp) / "bare.sqlite3"))
        with tempfile.TemporaryDirectory() as tmp:
            direct = asyncio.run(bare_on_loop(args.users, messages, Path(tmp) / "bare.sqlite3"))
        print(f"bare aiosqlite     {floor:,.0f} messages/s (dedupe + upsert + commit each)")
        print(f"engine / bare      {engine_rate / floor:.2f} (target at least 0.7)")
        print(f"bare on the loop   {direct:,.0f} messages/s (the same with sqlite3, no hand-off)")
        print(f"engine / that      {engine_rate / direct:.2f}")
        print()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(shared(Path(tmp) / "shared.sqlite3"))


if __name__ == "__main__":
    main()

"""Scale benchmark: the WhatsApp webhook path with 10,000 users, on SQLite with one process and
on PostgreSQL with one, two and four `civicbot run` processes behind one webhook.

Each message comes from a different user (a fresh conversation turn each), webhooks are
spread round-robin over the processes, and the fake Graph API records every reply. Prints
messages/s to the last reply, p50/p99 from webhook to first reply, how many messages were
lost or answered twice (both must be 0), and the CPU time the bot processes and the
PostgreSQL server spent per message (from /proc, Linux) with the machine's idle share, which
explain the scaling. Run with `make bench`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

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
from tests.pg_server import PgServer, start_server  # noqa: E402
from tests.run_support import start_run  # noqa: E402

USERS = 10_000


def wa_id(n: int) -> str:
    """A Malian-looking WhatsApp id."""
    return f"223{70_000_000 + n}"


@dataclass
class Result:
    """One configuration's figures."""

    label: str
    rate: float
    p50: float
    p99: float
    lost: int
    duplicated: int
    bot_cpu_ms: float  # CPU time of the bot processes per message
    db_cpu_ms: float  # CPU time of the PostgreSQL server per message (0 for SQLite)
    idle: float  # share of the machine's CPU time left idle until the last reply
    gen_cpu_ms: float  # CPU time of this process (load generator and fake Graph API) per message
    shares: list[float]  # each bot process's share of the bot CPU time
    waits: Counter[str]  # what the bot's PostgreSQL sessions were doing, summed over samples
    samples: int  # how many times pg_stat_activity was sampled
    bot_wait_ms: float  # time the bot processes were ready to run but had no core, per message
    db_wait_ms: float  # the same for PostgreSQL's live backends, per message
    pressure: float  # share of the time some task waited for a core (/proc/pressure/cpu)


# What an advisory lock wait is waiting for, by namespace (storage/postgres).
LOCK_NAMES = {
    1: "user turn lock",
    2: "outbox claim lock",
    3: "migration lock",
    4: "inbox lease lock",
}

_ACTIVITY_SQL = (
    "SELECT a.state, a.wait_event_type, a.wait_event, l.classid FROM pg_stat_activity a "
    "LEFT JOIN pg_locks l ON l.pid = a.pid AND NOT l.granted AND l.locktype = 'advisory' "
    "WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() "
    "AND a.backend_type = 'client backend'"
)


def session_state(state: str | None, kind: str | None, event: str | None, ns: int | None) -> str:
    """One bot session at one sample: working, waiting on what, or idle."""
    if state == "idle":
        return "idle (no work)"
    if state is not None and state.startswith("idle in transaction"):
        return "in a transaction, waiting for the bot"
    if kind is None:
        return "running (CPU)"
    if kind == "Lock" and event == "advisory":
        return LOCK_NAMES.get(ns or 0, f"advisory lock {ns}")
    return f"{kind}:{event}"


async def sample_activity(url: str, waits: Counter[str], stop: asyncio.Event) -> int:
    """Sample the bot's sessions every 10 ms until `stop`; return how many samples."""
    import asyncpg

    conn = await asyncpg.connect(url)
    samples = 0
    try:
        while not stop.is_set():
            for row in await conn.fetch(_ACTIVITY_SQL):
                waits[session_state(row[0], row[1], row[2], row[3])] += 1
            samples += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=0.01)
    finally:
        await conn.close()
    return samples


def cpu_seconds(pid: int, children: bool = False) -> float:
    """User and system CPU time of a process (with its reaped children's), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12])
    if children:
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def server_cpu(postmaster: int | None) -> float:
    """CPU time of a PostgreSQL server: the postmaster, its exited and its live backends."""
    if postmaster is None:
        return 0.0
    live = sum(cpu_seconds(pid) for pid in backends(postmaster))
    return cpu_seconds(postmaster, children=True) + live


def runqueue_wait(pid: int) -> float:
    """Seconds the threads of a process spent ready to run but waiting for a core."""
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue
    return total / 1e9


def backends(postmaster: int | None) -> list[int]:
    """The live processes of a PostgreSQL server."""
    found: list[int] = []
    if postmaster is None:
        return found
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            if parent == postmaster:
                found.append(int(entry.name))
    return found


def cpu_pressure() -> float:
    """Seconds since boot during which some task waited for a core (0 without PSI)."""
    try:
        line = Path("/proc/pressure/cpu").read_text().split("\n")[0]
    except OSError:
        return 0.0
    return int(line.rpartition("total=")[2]) / 1e6


def machine_ticks() -> tuple[int, int]:
    """(idle, total) CPU ticks of the whole machine since boot."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    return fields[3] + fields[4], sum(fields)


async def migrate_and_seed(db: str, users: int) -> None:
    """Create the schema (as `civicbot migrate`) and the users, who already chose French."""
    from bot.store import open_store, postgres_url

    store = await open_store(db)
    await store.close()
    now = datetime.now(UTC)
    rows = [(f"whatsapp:{wa_id(n)}", wa_id(n)) for n in range(users)]
    url = postgres_url(db)
    if url is None:
        stamp = now.isoformat(timespec="microseconds")
        with sqlite3.connect(db) as conn:
            conn.executemany(
                "INSERT INTO users (key, channel, external_id, language, created_at, "
                "last_seen_at, last_inbound_at) VALUES (?, 'whatsapp', ?, 'fr', ?, ?, ?)",
                ((key, ext, stamp, stamp, stamp) for key, ext in rows),
            )
        return
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.executemany(
            "INSERT INTO users (key, channel, external_id, language, created_at, "
            "last_seen_at, last_inbound_at) VALUES ($1, 'whatsapp', $2, 'fr', $3, $3, $3)",
            [(key, ext, now) for key, ext in rows],
        )
    finally:
        await conn.close()


async def start_bots(graph: FakeGraph, db: str, count: int) -> list[tuple[object, str]]:
    """`count` processes of `civicbot run` on one database; each one's webhook URL."""
    bots = []
    for _ in range(count):
        proc, port = await start_run(
            {
                "CIVICBOT_WHATSAPP_TOKEN": TOKEN,
                "CIVICBOT_WHATSAPP_PHONE_ID": PHONE_ID,
                "CIVICBOT_WHATSAPP_APP_SECRET": APP_SECRET,
                "CIVICBOT_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
                "CIVICBOT_WHATSAPP_API_URL": graph.url,
                # The bot's own capacity, not Meta's 80 messages a second, is measured.
                "CIVICBOT_WHATSAPP_RATE": "1000000",
                "CIVICBOT_DB": db,
                "CIVICBOT_LOG_LEVEL": "WARNING",
            },
            capture_stderr=False,
        )
        bots.append((proc, f"http://127.0.0.1:{port}/whatsapp/webhook"))
    return bots


async def drive(
    urls: list[str], graph: FakeGraph, first: int, messages: int, concurrency: int
) -> tuple[float, list[float], int, int, tuple[int, int]]:
    """One message from each of `messages` users, round-robin over the processes.

    Also the machine's CPU ticks when the last reply came: the quiet second waited for after
    it is not part of the run, and counting it would show idle cores that were not idle.
    """
    began: dict[str, float] = {}
    queue = iter(range(first, first + messages))
    before = len(graph.calls)

    async def client(http: aiohttp.ClientSession) -> None:
        for n in queue:
            who = wa_id(n % USERS)
            raw = dumps(text(who, "menu"))
            began[who] = time.monotonic()
            async with http.post(
                urls[n % len(urls)], data=raw, headers={"X-Hub-Signature-256": sign(raw)}
            ) as resp:
                assert resp.status == 200, resp.status

    start = time.monotonic()
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(client(http) for _ in range(concurrency)))
    # Wait until every user has a reply and nothing more arrives for a second.
    last, quiet, ticks = len(graph.calls), time.monotonic(), machine_ticks()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        replied = {c.to for c in graph.calls[before:]}
        if len(replied) >= messages and time.monotonic() - quiet > 1.0:
            break
        await asyncio.sleep(0.05)
        if len(graph.calls) != last:
            last, quiet, ticks = len(graph.calls), time.monotonic(), machine_ticks()
    calls = graph.calls[before:]
    elapsed = max((c.at for c in calls), default=start) - start
    first_reply: dict[str, float] = {}
    per_user: Counter[str] = Counter()
    for call in calls:
        first_reply.setdefault(call.to, call.at)
        per_user[call.to] += 1
    latencies = [first_reply[who] - at for who, at in began.items() if who in first_reply]
    lost = sum(1 for who in began if who not in first_reply)
    usual = Counter(per_user.values()).most_common(1)[0][0] if per_user else 0
    duplicated = sum(1 for count in per_user.values() if count > usual)
    return messages / elapsed, latencies, lost, duplicated, ticks


async def measure(
    label: str,
    db: str,
    processes: int,
    messages: int,
    concurrency: int,
    postmaster: int | None = None,
) -> Result:
    """Seed, start the processes, warm up, measure (with the CPU time spent), stop."""
    graph = await FakeGraph().start()
    await migrate_and_seed(db, USERS)
    bots = await start_bots(graph, db, processes)
    urls = [url for _, url in bots]
    try:
        warm = min(200, messages)
        await drive(urls, graph, USERS - warm, warm, concurrency)
        pids = [proc.pid for proc, _ in bots]  # type: ignore[attr-defined]
        waits: Counter[str] = Counter()
        stop = asyncio.Event()
        sampler = (
            asyncio.create_task(sample_activity(db, waits, stop))
            if postmaster is not None
            else None
        )
        each0 = [cpu_seconds(pid) for pid in pids]
        live = backends(postmaster)
        wait0 = sum(map(runqueue_wait, pids)), sum(map(runqueue_wait, live)), cpu_pressure()
        wall0 = time.monotonic()
        gen0, db0, ticks0 = cpu_seconds(os.getpid()), server_cpu(postmaster), machine_ticks()
        rate, latencies, lost, duplicated, ticks1 = await drive(
            urls, graph, 0, messages, concurrency
        )
        gen1, db1 = cpu_seconds(os.getpid()), server_cpu(postmaster)
        each = [cpu_seconds(pid) - before for pid, before in zip(pids, each0, strict=True)]
        wait1 = sum(map(runqueue_wait, pids)), sum(map(runqueue_wait, live)), cpu_pressure()
        wall = time.monotonic() - wall0
        stop.set()
        samples = await sampler if sampler is not None else 0
    finally:
        for proc, _ in bots:
            proc.send_signal(signal.SIGTERM)  # type: ignore[attr-defined]
        for proc, _ in bots:
            await proc.wait()  # type: ignore[attr-defined]
        await graph.stop()
    ordered = sorted(latencies) or [0.0]
    p99 = ordered[max(0, int(len(ordered) * 0.99) - 1)]
    idle = (ticks1[0] - ticks0[0]) / max(1, ticks1[1] - ticks0[1])
    return Result(
        label,
        rate,
        statistics.median(ordered) * 1000,
        p99 * 1000,
        lost,
        duplicated,
        sum(each) * 1000 / messages,
        (db1 - db0) * 1000 / messages,
        idle,
        (gen1 - gen0) * 1000 / messages,
        [e / max(sum(each), 1e-9) for e in each],
        waits,
        samples,
        (wait1[0] - wait0[0]) * 1000 / messages,
        (wait1[1] - wait0[1]) * 1000 / messages,
        (wait1[2] - wait0[2]) / max(wall, 1e-9),
    )


async def run(messages: int, concurrency: int) -> None:
    """Every configuration in turn; one table at the end."""
    results: list[Result] = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(
            await measure(
                "SQLite, 1 process", str(Path(tmp) / "scale.sqlite3"), 1, messages, concurrency
            )
        )
    server: PgServer | None = start_server()
    if server is None:
        print("PostgreSQL not installed: only SQLite measured (apt-get install postgresql)")
    else:
        try:
            pid_file = server.root / "data" / "postmaster.pid"
            postmaster = int(pid_file.read_text().split()[0]) if pid_file.exists() else None
            for count in (1, 2, 4):
                name, url = server.database()
                label = f"PostgreSQL, {count} process{'es' if count > 1 else ''}"
                results.append(await measure(label, url, count, messages, concurrency, postmaster))
                server.drop(name)
        finally:
            server.stop()
    print(
        f"{messages} messages from {messages} of {USERS:,} users, {concurrency} at a time, "
        f"{os.cpu_count()} cores"
    )
    print(
        f"{'':24} {'msg/s':>7} {'p50 ms':>8} {'p99 ms':>8} {'lost':>5} {'twice':>6} "
        f"{'bot CPU ms/msg':>14} {'db CPU ms/msg':>13} {'idle':>5} {'load gen ms/msg':>15}"
    )
    for r in results:
        print(
            f"{r.label:24} {r.rate:7.0f} {r.p50:8.1f} {r.p99:8.1f} {r.lost:5d} {r.duplicated:6d} "
            f"{r.bot_cpu_ms:14.2f} {r.db_cpu_ms:13.2f} {r.idle:5.0%} {r.gen_cpu_ms:15.2f}"
        )
    for r in results:
        if r.samples:
            total = sum(r.waits.values())
            busy = total - r.waits["idle (no work)"]
            print(
                f"{r.label}: bot CPU split {' / '.join(f'{s:.0%}' for s in r.shares)}; "
                f"{r.samples} samples of its PostgreSQL sessions, "
                f"{busy / r.samples:.1f} of {total / r.samples:.1f} busy on average; waiting "
                f"for a core: bot {r.bot_wait_ms:.2f} ms/msg, PostgreSQL {r.db_wait_ms:.2f} "
                f"ms/msg, some task {r.pressure:.0%} of the time:"
            )
            for what, count in r.waits.most_common():
                if what != "idle (no work)":
                    print(f"    {count / max(1, busy):5.0%}  {what}")
    by_label = {r.label: r for r in results}
    one, two = by_label.get("PostgreSQL, 1 process"), by_label.get("PostgreSQL, 2 processes")
    four = by_label.get("PostgreSQL, 4 processes")
    if one is not None and two is not None:
        ratio = two.rate / one.rate
        print(f"scaling 1 -> 2 processes: x{ratio:.2f}", end="")
        print(f", 1 -> 4: x{four.rate / one.rate:.2f}" if four is not None else "")
        cores = os.cpu_count() or 1

        def used(r: Result) -> float:
            return r.rate * (r.bot_cpu_ms + r.db_cpu_ms + r.gen_cpu_ms) / 1000

        def locks(r: Result) -> float:
            busy = sum(r.waits.values()) - r.waits["idle (no work)"]
            held = sum(r.waits[name] for name in LOCK_NAMES.values())
            return held / max(1, busy)

        def waiting_bot(r: Result) -> float:
            busy = sum(r.waits.values()) - r.waits["idle (no work)"]
            return r.waits["in a transaction, waiting for the bot"] / max(1, busy)

        if locks(two) >= 0.2:
            verdict = "So the limit is the advisory locks that serialise the processes."
        elif max(two.shares) >= 0.7:
            verdict = "So the limit is one process doing most of the work."
        elif used(two) >= 0.9 * cores:
            verdict = (
                "So the limit is not a lock or one process starving the other: it is the "
                "cores, which a second process's extra CPU per message fills."
            )
        else:
            verdict = "Neither the cores, the locks nor the split explain it: look further."
        spread = " / ".join(f"{s:.0%}" for s in two.shares)
        print(
            f"Why: the bots, PostgreSQL and this load generator (with the fake Graph API) used "
            f"{used(one):.2f} of {cores} cores with one process and {used(two):.2f} with two "
            f"(CPU per message x rate; the machine was {one.idle:.0%} and {two.idle:.0%} idle "
            f"until the last reply). A second process costs CPU: "
            f"{one.bot_cpu_ms + one.db_cpu_ms:.2f} -> {two.bot_cpu_ms + two.db_cpu_ms:.2f} ms "
            f"per message in the bots and PostgreSQL. The bots waited for a core "
            f"{one.bot_wait_ms:.2f} -> {two.bot_wait_ms:.2f} ms per message, and some task "
            f"waited for one {one.pressure:.0%} -> {two.pressure:.0%} of the time. Advisory "
            f"locks (inbox lease, outbox claim, user turns) were {locks(one):.0%} and "
            f"{locks(two):.0%} of the busy database sessions' samples, and "
            f"{waiting_bot(one):.0%} and {waiting_bot(two):.0%} were open transactions "
            f"waiting for a bot; the two processes did {spread} of the bot work. " + verdict
        )


def main() -> None:
    """Run the measurement."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--messages", type=int, default=2000, help="messages per configuration")
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args()
    asyncio.run(run(args.messages, args.concurrency))


if __name__ == "__main__":
    main()

"""Telegram benchmark: updates per second through our whole path against a bare aiogram echo
handler on the same fake Bot API server, where the difference goes, and the memory of
`civicbot run` with 100,000 users. Run with `make bench`.

The whole path is the one `civicbot run` takes with long polling: getUpdates, each update
stored in the durable inbox before its offset is confirmed, handed back by the pump, read
into the engine (the turn and its reply rows in one commit), the reply sent, its row marked
done and the inbound forgotten. The echo, aiogram's Dispatcher with one handler, parses and
answers only.

The fake Bot API server runs in a process of its own (as Telegram's servers are not in the
bot's process), the same server for both sides; `--server-in-process` puts it back on the
bot's event loop, where its parsing of our requests was charged to our path.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import multiprocessing
import signal
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram import Bot, Dispatcher  # noqa: E402
from aiogram.types import Message  # noqa: E402

from bot import heap  # noqa: E402
from bot.channels.telegram.channel import TelegramChannel, make_bot  # noqa: E402
from bot.channels.telegram.convert import CHANNEL  # noqa: E402
from bot.channels.telegram.flood import FloodControl  # noqa: E402
from content.pack import load_pack  # noqa: E402
from handlers.engine import Engine  # noqa: E402
from handlers.messages import Inbound  # noqa: E402
from storage.sqlite import SqliteStore  # noqa: E402
from tests.fake_telegram import FakeTelegram, text_update  # noqa: E402
from tests.run_support import start_run  # noqa: E402

# What onboarded users type: menus, numbers, help.
TEXTS = ["menu", "1", "menu", "5", "aide", "menu", "2"]


class CountingChannel(TelegramChannel):
    """Our channel, counting the updates it has finished handling."""

    handled = 0
    progress: asyncio.Event | None = None

    async def handle(self, inbound: Inbound, private_to: str | None = None) -> list[str]:
        kept = await super().handle(inbound, private_to)
        self.handled += 1
        if self.progress is not None:
            self.progress.set()
        return kept


class Stages:
    """Time spent inside named calls, wrapped in place (one update at a time: no overlap)."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._undo: list[Callable[[], None]] = []

    def wrap(
        self, owner: Any, name: str, stage: str, when: Callable[..., bool] = lambda *_: True
    ) -> None:
        """Count the time of `owner.name(...)` (coroutine or plain) under `stage`, `when` true."""
        original = getattr(owner, name)
        had_own = name in vars(owner)
        spent = self.spent
        spent.setdefault(stage, 0.0)
        if asyncio.iscoroutinefunction(original):

            @functools.wraps(original)
            async def timed_async(*args: Any, **kwargs: Any) -> Any:
                if not when(*args):
                    return await original(*args, **kwargs)
                start = time.perf_counter()
                try:
                    return await original(*args, **kwargs)
                finally:
                    spent[stage] += time.perf_counter() - start

            setattr(owner, name, timed_async)
        else:

            @functools.wraps(original)
            def timed(*args: Any, **kwargs: Any) -> Any:
                start = time.perf_counter()
                try:
                    return original(*args, **kwargs)
                finally:
                    spent[stage] += time.perf_counter() - start

            setattr(owner, name, timed)

        def undo() -> None:
            if had_own:
                setattr(owner, name, original)
            else:
                delattr(owner, name)

        self._undo.append(undo)

    def restore(self) -> None:
        """Put every wrapped call back."""
        for undo in reversed(self._undo):
            undo()
        self._undo.clear()


class Server:
    """The fake Bot API server as the bench drives it: in this process, or in its own."""

    token = FakeTelegram.token
    url = ""
    where = ""

    def push(self, updates: list[dict[str, Any]]) -> None:
        """Queue updates for getUpdates."""
        raise NotImplementedError

    def sent(self) -> int:
        """How many send* calls the server has answered."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Stop serving."""


class InProcess(Server):
    """The server on the bot's own event loop (its CPU is charged to the bot)."""

    where = "on the bot's event loop (--server-in-process)"

    async def start(self) -> InProcess:
        """Serve on a free port of this loop."""
        self._fake = await FakeTelegram().start()
        self.url = self._fake.url
        return self

    def push(self, updates: list[dict[str, Any]]) -> None:
        for update in updates:
            self._fake.push(update)

    def sent(self) -> int:
        return len(self._fake.sent())

    async def stop(self) -> None:
        await self._fake.stop()


def _serve(control: Connection) -> None:
    """The child process: a FakeTelegram driven through `control` (push, sent, stop)."""

    async def serve() -> None:
        fake = await FakeTelegram().start()
        loop = asyncio.get_running_loop()
        stopped = asyncio.Event()

        def readable() -> None:
            while control.poll():
                what, arg = control.recv()
                if what == "push":
                    for update in arg:
                        fake.push(update)
                elif what == "sent":
                    control.send(len(fake.sent()))
                else:
                    stopped.set()

        loop.add_reader(control.fileno(), readable)
        control.send(fake.url)
        await stopped.wait()
        loop.remove_reader(control.fileno())
        await fake.stop()

    asyncio.run(serve())


class OwnProcess(Server):
    """The server in a process of its own, pushed to through a pipe (a few µs a push)."""

    where = "in a process of its own (the same server for both sides)"

    async def start(self) -> OwnProcess:
        """Start the process and wait until it serves."""
        context = multiprocessing.get_context("spawn")
        self._control, theirs = context.Pipe()
        self._process = context.Process(target=_serve, args=(theirs,), daemon=True)
        self._process.start()
        self.url = await asyncio.to_thread(self._control.recv)
        return self

    def push(self, updates: list[dict[str, Any]]) -> None:
        self._control.send(("push", updates))

    def sent(self) -> int:
        self._control.send(("sent", None))
        return int(self._control.recv())

    async def stop(self) -> None:
        self._control.send(("stop", None))
        await asyncio.to_thread(self._process.join, 10)


def seed_users(db: Path, count: int) -> None:
    """Users who already chose their language, written straight into the database."""
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    with sqlite3.connect(db) as conn:
        conn.executemany(
            "INSERT OR IGNORE INTO users (key, channel, external_id, language, created_at, "
            "last_seen_at) VALUES (?, 'telegram', ?, 'fr', ?, ?)",
            ((f"telegram:{n}", str(n), now, now) for n in range(1, count + 1)),
        )


async def drive(
    fake: Server,
    dispatcher: Dispatcher,
    bot: Bot,
    updates: int,
    users: int,
    handled: Callable[[], int],
) -> float:
    """Queue the updates, poll them through aiogram until all are handled; updates per second."""
    before = handled()
    fake.push([text_update(1 + n % users, TEXTS[n % len(TEXTS)]) for n in range(updates)])
    start = time.perf_counter()
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
    while handled() - before < updates:
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - start
    await dispatcher.stop_polling()
    await polling
    await asyncio.sleep(0.2)  # let the last handlers finish before the session closes
    await poll_lapsed()
    return updates / elapsed


@dataclass(frozen=True)
class Side:
    """One side's figures: updates per second, CPU seconds and messages sent per update."""

    rate: float
    cpu: float
    sends: float

    @staticmethod
    def median(sides: list[Side]) -> Side:
        """Each figure's median over rounds."""
        return Side(
            statistics.median(s.rate for s in sides),
            statistics.median(s.cpu for s in sides),
            statistics.median(s.sends for s in sides),
        )


async def measured(fake: Server, run: Callable[[], Awaitable[tuple[float, int]]]) -> Side:
    """Run one side once: its rate, and the CPU of this process (the loop and SQLite's
    thread) and the messages sent per update handled."""
    cpu, sent = time.process_time(), fake.sent()
    rate, updates = await run()
    return Side(rate, (time.process_time() - cpu) / updates, (fake.sent() - sent) / updates)


async def echo_polling(fake: Server, bot: Bot, updates: int, users: int) -> tuple[float, int]:
    """aiogram's Dispatcher polling with one handler that repeats the text: updates/s."""
    echoed = [0]
    echo = Dispatcher()

    @echo.message()
    async def repeat(message: Message) -> None:
        await message.answer(message.text or "")
        echoed[0] += 1

    return await drive(fake, echo, bot, updates, users, lambda: echoed[0]), updates


async def ours_polling(
    fake: Server, channel: CountingChannel, updates: int, users: int, first: int = 1
) -> tuple[float, int]:
    """The whole path as `civicbot run` polls: updates per second."""
    before = channel.handled
    fake.push([text_update(first + n % users, TEXTS[n % len(TEXTS)]) for n in range(updates)])
    start = time.perf_counter()
    polling = asyncio.create_task(channel.run_polling())
    while channel.handled - before < updates:
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - start
    await stop_polling(channel, polling)
    return updates / elapsed, updates


async def stop_polling(channel: CountingChannel, polling: asyncio.Task[None]) -> None:
    """End `run_polling` as `close` does, and let it run again."""
    channel._closing.set()
    await polling
    channel._closing.clear()
    await poll_lapsed()


async def poll_lapsed() -> None:
    """Wait out the getUpdates the stopped poller left open at the server (1 s at most there):
    a poller starting sooner is refused (409) and sleeps a second, which the figures would
    count against it."""
    await asyncio.sleep(1.1)


class Polled:
    """When each getUpdates answer arrived: its time since the push is the poll stage."""

    def __init__(self, owner: Any, name: str, polls: Callable[..., bool]) -> None:
        self.at = 0.0
        self._owner, self._name = owner, name
        original = getattr(owner, name)

        async def timed(*args: Any, **kwargs: Any) -> Any:
            result = await original(*args, **kwargs)
            if polls(*args):
                self.at = time.perf_counter()
            return result

        setattr(owner, name, timed)

    def restore(self) -> None:
        """Stop watching."""
        delattr(self._owner, self._name)


async def one_by_one(
    fake: Server,
    polled: Polled,
    progress: asyncio.Event,
    count: int,
    users: int,
    stages: Stages,
    settled: Callable[[], Awaitable[None]] | None = None,
) -> float:
    """Updates sent one at a time (each handled before the next): seconds per update.

    Polling runs already: each update reaches a getUpdates that waits at the server.
    """
    await asyncio.sleep(0.1)
    spent = 0.0
    stages.spent[POLL] = 0.0
    for n in range(count):
        progress.clear()
        start = time.perf_counter()
        fake.push([text_update(users + 1 + n % users, TEXTS[n % len(TEXTS)])])
        await progress.wait()
        spent += time.perf_counter() - start
        if settled is not None:
            # The pump forgets a handled inbound and looks for more just after the reply:
            # wait for that, and add the time of those stages (not the wait) to the total.
            counted = sum(stages.spent.values())
            await settled()
            spent += sum(stages.spent.values()) - counted
        stages.spent[POLL] += max(0.0, polled.at - start)
    return spent / count


SEND = "send: HTTP (+ fake server)"
POLL = "poll: HTTP + parse (from the push)"


def _not_polling(_bot: Bot, method: Any, *_: Any) -> bool:
    """A call of the Bot API through aiogram other than getUpdates (the poll stage's)."""
    return type(method).__name__ != "GetUpdates"


def _polling(_bot: Bot, method: Any, *_: Any) -> bool:
    return not _not_polling(_bot, method)


async def breakdown(fake: Server, channel: CountingChannel, users: int, count: int) -> None:
    """Where an update's time goes on our path and on the echo's, one update at a time."""
    stages = Stages()
    store = channel._store  # the bench looks inside on purpose
    stages.spent[POLL] = 0.0  # first in the table
    polled = Polled(channel.sender.wire, "get_updates", lambda *_: True)
    stages.wrap(channel, "store_updates", "store inbound (JSON + commit)")
    stages.wrap(store, "lease_inbound", "pump: lease stored")
    stages.wrap(channel._turns, "handle", "engine turn + reply rows (commit)")
    stages.wrap(channel.sender, "send", "render + send")
    stages.wrap(channel.sender.wire, "send_message", SEND)
    stages.wrap(store, "reply_done", "reply done (commit)")
    stages.wrap(store, "inbound_handled", "inbound forgotten (delete)")
    channel.progress = asyncio.Event()

    async def settled() -> None:
        while await type(store).inbound_left(store, [CHANNEL]) or channel.pump._tasks:
            await asyncio.sleep(0.001)
        await asyncio.sleep(0.001)

    polling = asyncio.create_task(channel.run_polling())
    ours = await one_by_one(fake, polled, channel.progress, count, users, stages, settled)
    await stop_polling(channel, polling)
    stages.restore()
    polled.restore()
    ours_spent = {k: v / count for k, v in stages.spent.items()}

    echo_stages = Stages()
    echoed = asyncio.Event()
    echo_bot = make_bot(fake.token, fake.url)
    echo = Dispatcher()

    @echo.message()
    async def repeat(message: Message) -> None:
        await message.answer(message.text or "")
        echoed.set()

    echo_stages.spent[POLL] = 0.0
    polled = Polled(echo_bot.session, "make_request", _polling)
    echo_stages.wrap(echo_bot.session, "make_request", SEND, when=_not_polling)
    polling = asyncio.create_task(echo.start_polling(echo_bot, handle_signals=False))
    bare = await one_by_one(fake, polled, echoed, count, users, echo_stages)
    await echo.stop_polling()
    await polling
    await poll_lapsed()
    echo_stages.restore()
    polled.restore()
    await echo_bot.session.close()
    echo_spent = {k: v / count for k, v in echo_stages.spent.items()}
    # Time inside "render + send" that is not the HTTP call is rendering and flood control;
    # the rest of an update's time, outside every counted stage, is aiogram's dispatch (the
    # echo's) and our glue (reading the update, chat lock, pump tasks, polling loop).
    render = ours_spent.pop("render + send") - ours_spent[SEND]
    ours_spent["render + flood control (outside HTTP)"] = render
    ours_spent["dispatch + glue (the rest)"] = ours - sum(ours_spent.values())
    echo_spent["dispatch + glue (the rest)"] = bare - sum(echo_spent.values())
    print(f"where the time goes, {count} updates one at a time (µs per update):")
    print(f"  {'stage':<44}{'ours':>8}{'echo':>8}")
    for stage, seconds in ours_spent.items():
        theirs = echo_spent.get(stage)
        shown = f"{theirs * 1e6:8.0f}" if theirs is not None else f"{'':>8}"
        print(f"  {stage:<44}{seconds * 1e6:8.0f}{shown}")
    print(f"  {'total':<44}{ours * 1e6:8.0f}{bare * 1e6:8.0f}")
    print(
        "  the echo has no inbox, turn, reply rows nor marks: those stages are the crash\n"
        "  guarantees (stored before the offset is confirmed, replies durable) and the bot\n"
        "  itself; sends carry keyboards, and some updates get two messages. Times one at a\n"
        "  time are wall clock, so poll and send include waking the server's process."
    )


async def throughput(
    updates: int, users: int, sequential: int, in_process: bool, rounds: int
) -> None:
    """Our path and the echo path, on the same server, in the same run."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        store = await SqliteStore.open(db)
        seed_users(db, users * 2)
        pack = load_pack()
        fake: Server = await (InProcess() if in_process else OwnProcess()).start()
        engine = Engine(store, lambda: pack)
        flood = FloodControl(global_rate=1e9, chat_rate=1e9, group_per_minute=1e12, burst=1e9)
        channel = CountingChannel(make_bot(fake.token, fake.url), engine, store, flood)
        await channel.start()
        heap.settle()  # as `civicbot run` does once started (the echo gains as much)
        # The two sides take turns, `rounds` times each: this machine's speed changes by more
        # than the difference measured (one side's CPU per update ranged from 564 to 964 µs
        # over the rounds of one run). Each side's figures are the medians of its rounds, and
        # the ratio is that of the two median rates. The ratio of each pair of neighbouring
        # turns is printed too: it cancels slow drifts only, and this machine's changes come
        # within a round, so one pair's ratio ranged from 0.63 to 1.25 in one run.
        # A first turn each, not counted, warms both (users' rows cached, keyboards built),
        # as a bot that has been running is.
        figures: list[tuple[Side, Side]] = []
        for _ in range(rounds + 1):
            mine = await measured(fake, partial(ours_polling, fake, channel, updates, users))
            echo_bot = make_bot(fake.token, fake.url)
            bare = await measured(fake, partial(echo_polling, fake, echo_bot, updates, users))
            await echo_bot.session.close()
            figures.append((mine, bare))
        figures = figures[1:]
        ours = Side.median([m for m, _ in figures])
        echo = Side.median([b for _, b in figures])
        ratios = [m.rate / b.rate for m, b in figures]  # in the order of the turns
        print(f"fake Bot API server {fake.where};")
        print("  both sides poll and send over the same aiohttp transport, on this machine, now")
        print(
            f"updates            {updates} from {users} users, {rounds} rounds each (after one "
            "to warm up), in turns"
        )
        print(
            f"whole path         {ours.rate:,.0f} updates/s, {ours.cpu * 1e6:,.0f} µs CPU of the "
            "bot process each (getUpdates -> inbox -> engine -> reply)"
        )
        print(f"bare aiogram echo  {echo.rate:,.0f} updates/s, {echo.cpu * 1e6:,.0f} µs CPU each")
        print(f"ratio              {ours.rate / echo.rate:.2f} (of the medians; target 0.8)")
        print(
            f"  pair by pair     median {statistics.median(ratios):.2f}; in turn order: "
            + " ".join(f"{r:.2f}" for r in ratios)
        )
        # The bot process is CPU-bound here: 0.8 needs its CPU per update within 1/0.8 of
        # the echo's, whatever the stages below add up to one at a time.
        budget = echo.cpu / 0.8
        print(
            f"CPU budget for 0.8 {budget * 1e6:,.0f} µs per update; the whole path spends "
            f"{(ours.cpu - budget) * 1e6:+,.0f} µs more"
        )
        print(f"messages sent      {ours.sends:.2f} per update (echo {echo.sends:.2f})")
        print()
        await breakdown(fake, channel, users, sequential)
        await channel.close()
        await store.close()
        await fake.stop()


def rss(pid: int) -> tuple[int, int]:
    """Resident and peak resident memory of a process, in MiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]) // 1024, int(fields["VmHWM"].split()[0]) // 1024


async def memory(users: int) -> None:
    """`civicbot run` with Telegram configured and `users` users in its database."""
    fake = await FakeTelegram().start()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "run.sqlite3"
        store = await SqliteStore.open(db)
        await store.close()
        seed_users(db, users)
        proc, _ = await start_run(
            {
                "CIVICBOT_TELEGRAM_TOKEN": fake.token,
                "CIVICBOT_TELEGRAM_API_URL": fake.url,
                "CIVICBOT_DB": str(db),
                "CIVICBOT_LOG_LEVEL": "WARNING",
            },
            capture_stderr=False,
        )
        # Traffic from 2,000 of them, so that caches fill as they would.
        for n in range(2000):
            fake.push(text_update(1 + (n * users) // 2000, "menu"))
        deadline = time.monotonic() + 120
        while len(fake.sent()) < 2000 and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        now, peak = rss(proc.pid)
        proc.send_signal(signal.SIGTERM)
        await proc.wait()
    await fake.stop()
    print(f"civicbot run, telegram, {users:,} users in the database, 2,000 active:")
    print(f"  resident memory {now} MiB (peak {peak} MiB), {len(fake.sent())} replies sent")


def main() -> None:
    """Run both measurements."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--updates", type=int, default=2000, help="updates per round")
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--memory-users", type=int, default=100_000)
    parser.add_argument(
        "--one-by-one", type=int, default=500, help="updates sent one at a time for the breakdown"
    )
    parser.add_argument("--rounds", type=int, default=9, help="turns of each side, for the medians")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory measurement")
    parser.add_argument(
        "--server-in-process",
        action="store_true",
        help="run the fake Bot API server on the bot's event loop (its CPU counts as the bot's)",
    )
    args = parser.parse_args()
    asyncio.run(
        throughput(args.updates, args.users, args.one_by_one, args.server_in_process, args.rounds)
    )
    if args.no_memory:
        return
    asyncio.run(memory(args.memory_users))


if __name__ == "__main__":
    main()

"""Telegram benchmark: updates per second through our whole path against a bare aiogram echo
handler on the same fake Bot API server, and the memory of `civicbot run` with 100,000 users.
Run with `make bench`."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sqlite3
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from aiogram import Bot, Dispatcher  # noqa: E402
from aiogram.types import Message  # noqa: E402

from bot.channels.telegram.channel import TelegramChannel, make_bot  # noqa: E402
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

    async def handle(self, inbound: Inbound) -> None:
        await super().handle(inbound)
        self.handled += 1


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
    fake: FakeTelegram,
    dispatcher: Dispatcher,
    bot: Bot,
    updates: int,
    users: int,
    handled: Callable[[], int],
) -> float:
    """Queue the updates, poll them through aiogram until all are handled; updates per second."""
    before = handled()
    for n in range(updates):
        fake.push(text_update(1 + n % users, TEXTS[n % len(TEXTS)]))
    start = time.perf_counter()
    polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False))
    while handled() - before < updates:
        await asyncio.sleep(0.005)
    elapsed = time.perf_counter() - start
    await dispatcher.stop_polling()
    await polling
    await asyncio.sleep(0.2)  # let the last handlers finish before the session closes
    return updates / elapsed


async def throughput(updates: int, users: int) -> None:
    """Our path and the echo path, on the same server, in the same run."""
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.sqlite3"
        store = await SqliteStore.open(db)
        seed_users(db, users)
        pack = load_pack()
        fake = await FakeTelegram().start()
        engine = Engine(store, lambda: pack)
        flood = FloodControl(global_rate=1e9, chat_rate=1e9, group_per_minute=1e12, burst=1e9)
        channel = CountingChannel(make_bot(fake.token, fake.url), engine, store, flood)
        await channel.start()
        ours = await drive(
            fake, channel.dispatcher, channel.bot, updates, users, lambda: channel.handled
        )
        echoed = [0]
        echo_bot = make_bot(fake.token, fake.url)
        echo = Dispatcher()

        @echo.message()
        async def repeat(message: Message) -> None:
            await message.answer(message.text or "")
            echoed[0] += 1

        bare = await drive(fake, echo, echo_bot, updates, users, lambda: echoed[0])
        await echo_bot.session.close()
        await channel.close()
        await store.close()
        await fake.stop()
    print(f"updates            {updates} from {users} users")
    print(f"whole path         {ours:,.0f} updates/s (aiogram -> engine -> SQLite -> reply)")
    print(f"bare aiogram echo  {bare:,.0f} updates/s")
    print(f"ratio              {ours / bare:.2f} (target at least 0.8)")


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
    parser.add_argument("--updates", type=int, default=3000)
    parser.add_argument("--users", type=int, default=500)
    parser.add_argument("--memory-users", type=int, default=100_000)
    args = parser.parse_args()
    asyncio.run(throughput(args.updates, args.users))
    asyncio.run(memory(args.memory_users))


if __name__ == "__main__":
    main()

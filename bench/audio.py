"""Voice-note benchmark: 1,000 people who prefer listening open the same article page at once,
on Telegram (real aiogram client, fake Bot API) and on WhatsApp (real aiohttp webhook app, fake
Graph API). Reports the uploads made (must be 1 per channel and file), messages per second
through the whole path (update -> engine -> SQLite -> sender -> fake platform) and memory.
Run with `make bench`."""

from __future__ import annotations

import argparse
import asyncio
import resource
import shutil
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.channels.telegram.channel import TelegramChannel, make_bot  # noqa: E402
from bot.channels.telegram.flood import FloodControl  # noqa: E402
from bot.channels.whatsapp.channel import PATH, SIGNATURE_HEADER, WhatsAppChannel  # noqa: E402
from bot.channels.whatsapp.sender import GraphConfig, WhatsAppSender  # noqa: E402
from bot.channels.whatsapp.window import Window  # noqa: E402
from content.audio import AudioIndex, silent_opus  # noqa: E402
from content.pack import BUNDLED_PACK, ContentPack, load_pack  # noqa: E402
from handlers.engine import Engine  # noqa: E402
from storage.sqlite import SqliteStore  # noqa: E402
from tests.fake_graph import (  # noqa: E402
    APP_SECRET,
    PHONE_ID,
    TOKEN,
    VERIFY_TOKEN,
    FakeGraph,
    button_reply,
    dumps,
    sign,
)
from tests.fake_telegram import FakeTelegram, tap_update  # noqa: E402

CHOICE = "learn:article:quota-genre"
KEY = "article:quota-genre:1"


def prepare(folder: Path, people: int) -> tuple[ContentPack, Path]:
    """A pack with one approved voice note, and a database of listeners on both channels."""
    shutil.copytree(BUNDLED_PACK, folder / "pack")
    index = AudioIndex(folder / "pack")
    now = datetime.now(UTC)
    index.save_draft(KEY, "fr", silent_opus(60), recorded_by="bench", recorder=None, now=now)
    index.set_state(KEY, "fr", "approved")
    db = folder / "bench.sqlite3"

    async def migrate() -> None:
        await (await SqliteStore.open(db)).close()

    asyncio.run(migrate())
    stamp = now.isoformat(timespec="microseconds")
    with sqlite3.connect(db) as conn:
        for channel, ids in (("telegram", tg_ids(people)), ("whatsapp", wa_ids(people))):
            rows = [(f"{channel}:{i}", channel, i, stamp, stamp, stamp) for i in ids]
            conn.executemany(
                "INSERT INTO users (key, channel, external_id, language, created_at, "
                "last_seen_at, last_inbound_at) VALUES (?, ?, ?, 'fr', ?, ?, ?)",
                rows,
            )
            conn.executemany(
                "INSERT INTO audio_prefs (user_key, listen, updated_at) VALUES (?, 1, ?)",
                [(row[0], stamp) for row in rows],
            )
    return load_pack(folder / "pack"), db


def tg_ids(people: int) -> list[str]:
    return [str(10_000 + n) for n in range(people)]


def wa_ids(people: int) -> list[str]:
    return [f"223{70_000_000 + n}" for n in range(people)]


async def telegram(pack: ContentPack, db: Path, people: int) -> dict[str, float]:
    """Every listener taps the article at once; wait for every voice note and text."""
    fake = await FakeTelegram().start()
    store = await SqliteStore.open(db)
    engine = Engine(store, lambda: pack)
    flood = FloodControl(global_rate=1e6, chat_rate=1e6, group_per_minute=1e6)
    channel = TelegramChannel(make_bot(fake.token, fake.url), engine, store, flood)
    await channel.start()
    polling = asyncio.create_task(channel.run_polling())
    started = time.perf_counter()
    for uid in tg_ids(people):
        fake.push(tap_update(int(uid), CHOICE))
    sent = await fake.wait_sent(2 * people, timeout=120)
    elapsed = time.perf_counter() - started
    voices = sum(1 for call in sent if call.method == "sendVoice")
    await channel.close()
    await asyncio.wait_for(polling, timeout=30)
    await store.close()
    await fake.stop()
    return {
        "messages": len(sent),
        "voice notes": voices,
        "uploads": len(fake.uploads),
        "seconds": elapsed,
    }


async def whatsapp(pack: ContentPack, db: Path, people: int) -> dict[str, float]:
    """Every listener taps the article at once (signed webhooks); wait for every reply."""
    graph = await FakeGraph().start()
    store = await SqliteStore.open(db)
    engine = Engine(store, lambda: pack)
    config = GraphConfig(graph.url, PHONE_ID, TOKEN, rate=1e6)
    sender = WhatsAppSender(config, store, Window(store, {}, ["fr"]))
    channel = WhatsAppChannel(
        engine, store, sender, app_secret=APP_SECRET, verify_token=VERIFY_TOKEN
    )
    await channel.start()
    app = web.Application()
    channel.add_routes(app)
    client = TestClient(TestServer(app))
    await client.start_server()
    started = time.perf_counter()

    async def post(wa_id: str) -> None:
        raw = dumps(button_reply(wa_id, CHOICE))
        resp = await client.post(PATH, data=raw, headers={SIGNATURE_HEADER: sign(raw)})
        resp.release()

    await asyncio.gather(*(post(wa_id) for wa_id in wa_ids(people)))
    sent = await graph.wait_sent(2 * people, timeout=120)
    elapsed = time.perf_counter() - started
    voices = sum(1 for message in sent if message.type == "audio")
    await client.close()
    await channel.close()
    await store.close()
    await graph.stop()
    return {
        "messages": len(sent),
        "voice notes": voices,
        "uploads": len(graph.uploads),
        "seconds": elapsed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--people", type=int, default=1000)
    args = parser.parse_args()
    ok = True
    with tempfile.TemporaryDirectory() as tmp:
        pack, db = prepare(Path(tmp), args.people)
        for name, run in (("telegram", telegram), ("whatsapp", whatsapp)):
            result = asyncio.run(run(pack, db, args.people))
            rate = result["messages"] / result["seconds"]
            print(
                f"audio/{name}: {args.people} listeners, {int(result['voice notes'])} voice notes "
                f"and {int(result['messages'])} messages in {result['seconds']:.1f} s "
                f"({rate:.0f} messages/s), uploads: {int(result['uploads'])}"
            )
            ok = ok and result["uploads"] == 1 and result["voice notes"] == args.people
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"audio: peak memory {peak:.0f} MB (bot and both fake platforms in one process)")
    if not ok:
        print("audio: FAILED: expected one upload per channel and one voice note per person")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

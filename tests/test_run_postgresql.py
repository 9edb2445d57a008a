"""`civicbot run` on PostgreSQL: WhatsApp and Telegram answered through the durable inbox."""

from __future__ import annotations

import asyncio
import signal

import aiohttp
import asyncpg
import pytest

from tests.fake_graph import APP_SECRET, PHONE_ID, TOKEN, VERIFY_TOKEN, FakeGraph, dumps, sign, text
from tests.fake_telegram import FakeTelegram, text_update
from tests.run_support import ROOT, start_run

WA_ID = "22376543210"


async def stop(proc: asyncio.subprocess.Process) -> str:
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 20) == 0
    assert proc.stderr is not None
    return (await proc.stderr.read()).decode()


async def left_behind(pg_url: str) -> tuple[int, int]:
    """Inbox rows not handled, and reply rows not sent, in the database after the run."""
    conn = await asyncpg.connect(pg_url)
    try:
        inbox = await conn.fetchval("SELECT COUNT(*) FROM inbox")
        unsent = await conn.fetchval("SELECT COUNT(*) FROM outbox WHERE state <> 'sent'")
        return int(inbox), int(unsent)
    finally:
        await conn.close()


async def test_whatsapp_webhooks_are_answered_on_postgresql(pg_url: str) -> None:
    graph = await FakeGraph().start()
    try:
        proc, port = await start_run(
            {
                "CIVICBOT_WHATSAPP_TOKEN": TOKEN,
                "CIVICBOT_WHATSAPP_PHONE_ID": PHONE_ID,
                "CIVICBOT_WHATSAPP_APP_SECRET": APP_SECRET,
                "CIVICBOT_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
                "CIVICBOT_WHATSAPP_API_URL": graph.url,
                "CIVICBOT_DB": pg_url,
                "CIVICBOT_LOG_FORMAT": "json",
            }
        )
        base = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/readyz") as resp:
                ready = await resp.json()
                assert resp.status == 200 and ready["status"] == "ready", ready
            for n, words in enumerate(("bonjour", "1"), start=1):
                raw = dumps(text(WA_ID, words))
                headers = {"X-Hub-Signature-256": sign(raw)}
                async with http.post(f"{base}/whatsapp/webhook", data=raw, headers=headers) as resp:
                    assert resp.status == 200
                sent = await graph.wait_sent(n, WA_ID, timeout=20)
            assert "langue" in sent[0].text and sent[0].ids == ["lang:fr", "lang:bm"]
            # The second message was handled after the first: the language is now French.
            assert "Bienvenue" in sent[1].text
            async with http.get(f"{base}/metrics") as resp:
                assert resp.status == 200
                assert 'civicbot_inbound_total{channel="whatsapp"} 2.0' in await resp.text()
        logs = await stop(proc)
        assert WA_ID not in logs and "bonjour" not in logs
        # No SQLite writer lock is taken for a URL (it made a 'postgresql:' directory).
        assert not (ROOT / "postgresql:").exists()
        assert await left_behind(pg_url) == (0, 0)
    finally:
        await graph.stop()


@pytest.mark.parametrize("webhook", [False, True], ids=["polling", "webhook"])
async def test_telegram_updates_are_answered_on_postgresql(pg_url: str, webhook: bool) -> None:
    fake = await FakeTelegram().start()
    hook = {
        "CIVICBOT_TELEGRAM_WEBHOOK_URL": "https://bot.example.org/telegram/webhook",
        "CIVICBOT_TELEGRAM_WEBHOOK_SECRET": "hook-secret",
    }
    try:
        proc, port = await start_run(
            {
                "CIVICBOT_TELEGRAM_TOKEN": fake.token,
                "CIVICBOT_TELEGRAM_API_URL": fake.url,
                "CIVICBOT_DB": pg_url,
                "CIVICBOT_LOG_FORMAT": "json",
            }
            | (hook if webhook else {})
        )
        update = text_update(71, "bonjour")
        if webhook:
            async with (
                aiohttp.ClientSession() as http,
                http.post(
                    f"http://127.0.0.1:{port}/telegram/webhook",
                    json=update | {"update_id": 9},
                    headers={"X-Telegram-Bot-Api-Secret-Token": "hook-secret"},
                ) as resp,
            ):
                assert resp.status == 200
        else:
            fake.push(update)
        [prompt] = await fake.wait_sent(1, 71, timeout=20)
        assert "langue" in prompt.text
        await stop(proc)
        assert await left_behind(pg_url) == (0, 0)
    finally:
        await fake.stop()

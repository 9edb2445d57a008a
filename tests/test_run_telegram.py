"""`civicbot run` with Telegram configured: one process, polling or webhook, stops cleanly."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from tests.fake_telegram import FakeTelegram, text_update
from tests.run_support import start_run

ROOT = Path(__file__).resolve().parent.parent


async def start(
    fake: FakeTelegram, tmp_path: Path, **extra: str
) -> tuple[asyncio.subprocess.Process, int]:
    return await start_run(
        {
            "CIVICBOT_TELEGRAM_TOKEN": fake.token,
            "CIVICBOT_TELEGRAM_API_URL": fake.url,
            "CIVICBOT_DB": str(tmp_path / "run.sqlite3"),
            "CIVICBOT_LOG_FORMAT": "json",
        }
        | extra
    )


async def stop(proc: asyncio.subprocess.Process) -> str:
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 20) == 0
    assert proc.stderr is not None
    return (await proc.stderr.read()).decode()


async def test_run_with_polling(tmp_path: Path) -> None:
    fake = await FakeTelegram().start()
    try:
        proc, _ = await start(fake, tmp_path)
        fake.push(text_update(71, "bonjour"))
        sent = await fake.wait_sent(1, 71, timeout=20)
        assert "langue" in sent[0].text
        logs = await stop(proc)
        assert fake.token not in logs and "bonjour" not in logs
        assert '"level": "INFO"' in logs
    finally:
        await fake.stop()


async def test_run_with_webhook(tmp_path: Path) -> None:
    fake = await FakeTelegram().start()
    try:
        proc, port = await start(
            fake,
            tmp_path,
            CIVICBOT_TELEGRAM_WEBHOOK_URL="https://bot.example.org/telegram/webhook",
            CIVICBOT_TELEGRAM_WEBHOOK_SECRET="hook-secret",
        )
        [hook] = [c for c in fake.calls if c.method == "setWebhook"]
        assert hook.params["url"] == "https://bot.example.org/telegram/webhook"
        url = f"http://127.0.0.1:{port}/telegram/webhook"
        async with aiohttp.ClientSession() as http:
            update = text_update(72, "bonjour") | {"update_id": 9}
            async with http.post(url, json=update) as resp:
                assert resp.status == 401
            async with http.post(
                url, json=update, headers={"X-Telegram-Bot-Api-Secret-Token": "hook-secret"}
            ) as resp:
                assert resp.status == 200
        sent = await fake.wait_sent(1, 72, timeout=20)
        assert "langue" in sent[0].text
        logs = await stop(proc)
        assert "hook-secret" not in logs
    finally:
        await fake.stop()

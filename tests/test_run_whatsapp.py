"""`civicbot run` with WhatsApp configured: the webhook on the shared web app, stops cleanly."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import aiohttp

from tests.fake_graph import (
    APP_SECRET,
    PHONE_ID,
    TOKEN,
    VERIFY_TOKEN,
    FakeGraph,
    dumps,
    sign,
    status,
    text,
)
from tests.run_support import start_run

ROOT = Path(__file__).resolve().parent.parent
WA_ID = "22376543210"


async def start(graph: FakeGraph, tmp_path: Path) -> tuple[asyncio.subprocess.Process, int]:
    return await start_run(
        {
            "CIVICBOT_WHATSAPP_TOKEN": TOKEN,
            "CIVICBOT_WHATSAPP_PHONE_ID": PHONE_ID,
            "CIVICBOT_WHATSAPP_APP_SECRET": APP_SECRET,
            "CIVICBOT_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
            "CIVICBOT_WHATSAPP_API_URL": graph.url,
            "CIVICBOT_WHATSAPP_TEMPLATES": '{"notice": "civicbot_notice"}',
            "CIVICBOT_DB": str(tmp_path / "run.sqlite3"),
            "CIVICBOT_LOG_FORMAT": "json",
        }
    )


async def test_run_with_whatsapp(tmp_path: Path) -> None:
    graph = await FakeGraph().start()
    try:
        proc, port = await start(graph, tmp_path)
        url = f"http://127.0.0.1:{port}/whatsapp/webhook"
        async with aiohttp.ClientSession() as http:
            handshake = {
                "hub.mode": "subscribe",
                "hub.verify_token": VERIFY_TOKEN,
                "hub.challenge": "8675309",
            }
            async with http.get(url, params=handshake) as resp:
                assert resp.status == 200 and await resp.text() == "8675309"
            raw = dumps(text(WA_ID, "bonjour"))
            async with http.post(url, data=raw) as resp:
                assert resp.status == 401
            async with http.post(url, data=raw, headers={"X-Hub-Signature-256": sign(raw)}) as resp:
                assert resp.status == 200
            [prompt] = await graph.wait_sent(1, WA_ID, timeout=20)
            assert "langue" in prompt.text and prompt.ids == ["lang:fr", "lang:bm"]
            receipt = dumps(status(prompt.id, "read", WA_ID))
            async with http.post(
                url, data=receipt, headers={"X-Hub-Signature-256": sign(receipt)}
            ) as resp:
                assert resp.status == 200
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
        assert proc.stderr is not None
        logs = (await proc.stderr.read()).decode()
        assert "whatsapp: webhook at /whatsapp/webhook" in logs
        for secret in (TOKEN, APP_SECRET, VERIFY_TOKEN, WA_ID, "bonjour"):
            assert secret not in logs
    finally:
        await graph.stop()

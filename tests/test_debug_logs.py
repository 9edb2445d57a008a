"""At DEBUG, `civicbot run` logs no phone, name or message text (issue 13)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from tests.fake_telegram import FakeTelegram, tap_update, text_update
from tests.run_support import start_run

NAME = "Aminata"
WORDS = "appelez-moi au 76 54 32 10"


async def test_a_telegram_conversation_at_debug_leaves_nothing_personal(tmp_path: Path) -> None:
    fake = await FakeTelegram().start()
    try:
        proc, _ = await start_run(
            {
                "CIVICBOT_TELEGRAM_TOKEN": fake.token,
                "CIVICBOT_TELEGRAM_API_URL": fake.url,
                "CIVICBOT_DB": str(tmp_path / "debug.sqlite3"),
                "CIVICBOT_LOG_LEVEL": "DEBUG",
            }
        )
        first = text_update(7301, "bonjour")
        first["message"]["from"]["first_name"] = NAME
        fake.push(first)
        await fake.wait_sent(1, 7301, timeout=20)
        fake.push(tap_update(7301, "lang:fr"))
        await fake.wait_sent(3, 7301, timeout=20)
        fake.push(text_update(7301, WORDS))
        await fake.wait_sent(4, 7301, timeout=20)
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 30) == 0
        assert proc.stderr is not None
        logs = (await proc.stderr.read()).decode()
        assert "handled text" in logs  # the run logged its work
        for secret in (NAME, "76 54 32 10", "appelez-moi", "7301", "bonjour"):
            assert secret not in logs, secret
    finally:
        await fake.stop()

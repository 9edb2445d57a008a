"""A second `civicbot run` on the same SQLite file refuses to start (issue 13)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

from tests.fake_telegram import FakeTelegram
from tests.run_support import ROOT, start_run


async def test_a_second_run_on_the_same_file_is_refused(tmp_path: Path) -> None:
    fake = await FakeTelegram().start()
    db = tmp_path / "one.sqlite3"
    settings = {
        "CIVICBOT_TELEGRAM_TOKEN": fake.token,
        "CIVICBOT_TELEGRAM_API_URL": fake.url,
        "CIVICBOT_DB": str(db),
    }
    try:
        first, port = await start_run(settings, capture_stderr=False)
        env = settings | {"CIVICBOT_HTTP_PORT": str(port + 1)}
        second = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bot",
            "run",
            cwd=ROOT,
            env={k: v for k, v in os.environ.items() if not k.startswith("CIVICBOT_")} | env,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        _, err = await asyncio.wait_for(second.communicate(), 60)
        assert second.returncode == 1
        assert "Un autre « civicbot run » utilise déjà la base" in err.decode()
        # The lock dies with its process: after a SIGKILL the file is free again.
        first.send_signal(signal.SIGKILL)
        await first.wait()
        again, _ = await start_run(settings, capture_stderr=False)
        again.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(again.wait(), 30) == 0
    finally:
        await fake.stop()

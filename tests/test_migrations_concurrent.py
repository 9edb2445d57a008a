"""Any number of processes may open one database at once, fresh or old, and all start."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from storage.migrations import load_migrations

# Says it is ready, waits for the starting gun, then opens (and so migrates) the database:
# like `civicbot run` started by a service manager while cron starts `civicbot stats`.
_OPEN = """
import asyncio, os, sys, time
from storage.sqlite import SqliteStore
db, ready, gun = sys.argv[1:4]
open(ready, "w").close()
while not os.path.exists(gun):
    time.sleep(0.001)
async def main():
    store = await SqliteStore.open(db)
    rows = await store.fetch_all("SELECT COUNT(*) FROM schema_migrations")
    await store.close()
    print(rows[0][0])
asyncio.run(main())
"""


def test_ten_pairs_of_processes_migrating_one_fresh_database_all_succeed(tmp_path: Path) -> None:
    gun = tmp_path / "go"
    processes, ready = [], []
    for pair in range(10):
        for member in range(2):
            flag = tmp_path / f"ready-{pair}-{member}"
            ready.append(flag)
            command = [sys.executable, "-c", _OPEN, str(tmp_path / f"bot-{pair}.sqlite3")]
            processes.append(
                subprocess.Popen(
                    [*command, str(flag), str(gun)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
            )
    deadline = time.monotonic() + 120
    while not all(flag.exists() for flag in ready) and time.monotonic() < deadline:
        time.sleep(0.01)
    gun.touch()  # all twenty open their database at once
    expected = str(len(load_migrations()))
    for process in processes:
        out, err = process.communicate(timeout=120)
        assert process.returncode == 0, err[-2000:]
        assert out.strip() == expected

"""Starting `civicbot run` as a real process for tests and benchmarks."""

from __future__ import annotations

import asyncio
import os
import socket
import sys
from pathlib import Path
from typing import Any

import aiohttp

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A TCP port nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def start_run(
    settings: dict[str, str], *, capture_stderr: bool = True, log_path: Path | None = None
) -> tuple[asyncio.subprocess.Process, int]:
    """`civicbot run` with only these CIVICBOT_* settings (plus its HTTP port), once /healthz
    answers; returns the process and the port. With `log_path`, its stderr goes there."""
    port = free_port()
    # Nothing of the test run's own CIVICBOT_* environment leaks into the bot.
    env = (
        {k: v for k, v in os.environ.items() if not k.startswith("CIVICBOT_")}
        | {
            "CIVICBOT_HTTP_HOST": "127.0.0.1",
            "CIVICBOT_HTTP_PORT": str(port),
        }
        | settings
    )
    stderr: Any = asyncio.subprocess.PIPE if capture_stderr else None
    if log_path is not None:
        stderr = log_path.open("ab")
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "run",
        cwd=ROOT,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=stderr,
    )
    if log_path is not None:
        stderr.close()  # the child has its own copy
    async with aiohttp.ClientSession() as http:
        for _ in range(300):
            try:
                async with http.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return proc, port
            except aiohttp.ClientError:
                await asyncio.sleep(0.1)
    proc.kill()
    raise AssertionError("civicbot run did not start")

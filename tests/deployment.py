"""Several `civicbot run` processes on one database, behind the fake platforms' servers."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from tests.fake_graph import APP_SECRET, PHONE_ID, TOKEN, VERIFY_TOKEN, FakeGraph, dumps, sign
from tests.fake_telegram import FakeTelegram
from tests.run_support import start_run


@dataclass
class Process:
    """One `civicbot run`: its OS process, HTTP port and log file."""

    proc: asyncio.subprocess.Process
    port: int
    log: Path

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    @property
    def alive(self) -> bool:
        return self.proc.returncode is None

    def logs(self) -> str:
        return self.log.read_text(errors="replace")

    def leads(self) -> bool:
        """Whether this process led the deployment at some moment of its life."""
        return "this process leads" in self.logs()


@dataclass
class Deployment:
    """Processes sharing one PostgreSQL database, a fake Graph API and a fake Bot API."""

    db: str
    root: Path
    graph: FakeGraph | None = None
    telegram: FakeTelegram | None = None
    extra: dict[str, str] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)

    def settings(self) -> dict[str, str]:
        values = {
            "CIVICBOT_DB": self.db,
            "CIVICBOT_LOG_FORMAT": "json",
            "CIVICBOT_DELIVERY_INTERVAL_SECONDS": "0.3",
        }
        if self.graph is not None:
            values |= {
                "CIVICBOT_WHATSAPP_TOKEN": TOKEN,
                "CIVICBOT_WHATSAPP_PHONE_ID": PHONE_ID,
                "CIVICBOT_WHATSAPP_APP_SECRET": APP_SECRET,
                "CIVICBOT_WHATSAPP_VERIFY_TOKEN": VERIFY_TOKEN,
                "CIVICBOT_WHATSAPP_API_URL": self.graph.url,
            }
        if self.telegram is not None:
            values |= {
                "CIVICBOT_TELEGRAM_TOKEN": self.telegram.token,
                "CIVICBOT_TELEGRAM_API_URL": self.telegram.url,
            }
        return values | self.extra

    async def start(self, count: int) -> list[Process]:
        """Start `count` more processes (one after another: migrations run once)."""
        started = []
        for _ in range(count):
            log = self.root / f"run-{len(self.processes)}.log"
            proc, port = await start_run(self.settings(), log_path=log)
            process = Process(proc, port, log)
            self.processes.append(process)
            started.append(process)
        return started

    def kill(self, process: Process) -> None:
        """SIGKILL: no clean-up of any kind, as when a host or a container dies."""
        process.proc.send_signal(signal.SIGKILL)

    async def stop(self) -> list[int]:
        """SIGTERM every live process; their exit codes."""
        codes = []
        for process in self.processes:
            if process.alive:
                process.proc.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                codes.append(await asyncio.wait_for(process.proc.wait(), 30))
            except TimeoutError:
                process.proc.kill()
                codes.append(await process.proc.wait())
        return codes

    def leader(self) -> Process | None:
        """The live process that leads now (the last one to have said so)."""
        live = [p for p in self.processes if p.alive and p.leads()]
        return live[-1] if live else None


async def post_whatsapp(
    http: aiohttp.ClientSession, process: Process, body: dict[str, Any]
) -> int | None:
    """POST a webhook body as Meta does; its status, or None if the process is unreachable."""
    raw = dumps(body)
    try:
        async with http.post(
            process.url("/whatsapp/webhook"), data=raw, headers={"X-Hub-Signature-256": sign(raw)}
        ) as resp:
            return resp.status
    except aiohttp.ClientError:
        return None


async def deliver(
    http: aiohttp.ClientSession, processes: list[Process], body: dict[str, Any], first: int
) -> int:
    """As Meta does: try a process, and redeliver to another until one says 200."""
    for attempt in range(len(processes) * 3):
        process = processes[(first + attempt) % len(processes)]
        if process.alive and await post_whatsapp(http, process, body) == 200:
            return (first + attempt) % len(processes)
        await asyncio.sleep(0.2)
    raise AssertionError("no process accepted the webhook")


def busiest_second(stamps: list[float]) -> int:
    """The most sends in any one-second window."""
    ordered = sorted(stamps)
    most, start = 0, 0
    for end, stamp in enumerate(ordered):
        while stamp - ordered[start] >= 1.0:
            start += 1
        most = max(most, end - start + 1)
    return most


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """Wait for `condition`, failing with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def session() -> Any:
    """An HTTP client for posting webhooks."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
        yield http

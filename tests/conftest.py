"""Shared fixtures: a SQLite store in a temp dir, the bundled pack, an engine, a chat helper."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from content.pack import ContentPack, load_pack
from handlers.engine import Engine, EngineSettings
from handlers.flow import Flow
from handlers.messages import Inbound, Location, Media, Reply
from storage.sqlite import SqliteStore
from tests.pg_server import ENABLE_HINT, PgServer, start_server


@dataclass
class FakeClock:
    """A clock the test moves by hand."""

    now: datetime = field(default_factory=lambda: datetime(2026, 11, 28, 9, 0, tzinfo=UTC))

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session")
def pack() -> ContentPack:
    return load_pack()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteStore]:
    db = await SqliteStore.open(tmp_path / "bot.sqlite3")
    yield db
    await db.close()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    """A throwaway PostgreSQL server for the session; skipped without it, except under CI."""
    server = start_server()
    if server is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI runs the PostgreSQL tests; {ENABLE_HINT}")
        pytest.skip(ENABLE_HINT)
    yield server
    server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped after the test."""
    name, url = pg_server.database()
    yield url
    pg_server.drop(name)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only(reason): a contract test for a port the PostgreSQL store lacks"
    )


def make_engine(
    store: SqliteStore,
    pack: ContentPack,
    clock: FakeClock,
    flows: list[Flow] | None = None,
    **settings: Any,
) -> Engine:
    return Engine(
        store, lambda: pack, flows=flows, settings=EngineSettings(**settings), clock=clock
    )


@pytest.fixture
def engine(store: SqliteStore, pack: ContentPack, clock: FakeClock) -> Engine:
    return make_engine(store, pack, clock)


class Chat:
    """One user talking to the engine, as a dialog test reads it."""

    def __init__(self, engine: Engine, clock: FakeClock, user: str = "u1", channel: str = "test"):
        self.engine = engine
        self.clock = clock
        self.user = user
        self.channel = channel
        self.last: list[Reply] = []
        self._seq = 0

    async def send(self, **fields: Any) -> list[Reply]:
        self._seq += 1
        fields.setdefault("message_id", f"{self.user}-{self._seq}")
        inbound = Inbound(
            channel=self.channel,
            user_id=self.user,
            chat_id=fields.pop("chat_id", self.user),
            received_at=self.clock(),
            **fields,
        )
        self.last = await self.engine.handle(inbound)
        return self.last

    async def say(self, text: str) -> list[Reply]:
        return await self.send(text=text)

    async def tap(self, choice: str) -> list[Reply]:
        return await self.send(choice=choice)

    async def share(self, lat: float, lon: float) -> list[Reply]:
        return await self.send(location=Location(lat, lon))

    async def attach(self, kind: str, ref: str) -> list[Reply]:
        return await self.send(media=Media(kind, ref))  # type: ignore[arg-type]

    @property
    def text(self) -> str:
        return "\n\n".join(reply.text for reply in self.last)

    @property
    def choices(self) -> list[str]:
        return [c.id for reply in self.last for c in reply.choices]

    def label(self, choice_id: str) -> str:
        return next(c.label for r in self.last for c in r.choices if c.id == choice_id)

    async def onboard(self, lang: str = "fr") -> None:
        await self.say("bonjour")
        await self.tap(f"lang:{lang}")


@pytest.fixture
def chat(engine: Engine, clock: FakeClock) -> Chat:
    return Chat(engine, clock)

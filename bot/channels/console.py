"""The terminal channel: an interactive chat, and a JSON-lines mode for scripts and tests."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TextIO

from bot.delivery import DeliveryWorker, RetryPolicy
from handlers.engine import Engine
from handlers.messages import Inbound, Location, Media, Reply
from storage.ports import Store
from storage.records import OutboxRecord

CHANNEL = "console"
WIDTH = 80
_MEDIA_KINDS = ("photo", "voice", "document", "audio")


class ConsoleSender:
    """Delivery to terminal chats: the messages are collected and shown with the next output."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    async def send(self, chat_id: str, reply: Reply, row: OutboxRecord | None = None) -> str | None:
        """Collect one message."""
        self.sent.append(reply.to_dict(chat_id))
        return None

    def take(self) -> list[dict[str, Any]]:
        """Everything collected since the last call."""
        out, self.sent = self.sent, []
        return out


class BadLine(ValueError):
    """An input line the JSON-lines mode cannot accept."""


def _text_field(obj: dict[str, Any], name: str, *, numeric_ok: bool = False) -> str | None:
    value = obj.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str | int) if numeric_ok else str):
        raise BadLine(f"'{name}' must be a string")
    # JSON allows lone surrogates ("\\ud800"); UTF-8 output does not: replace them.
    return str(value).encode("utf-8", "replace").decode("utf-8")


def parse_line(line: str, now: datetime) -> Inbound:
    """Turn one JSON-lines input into an Inbound, or raise BadLine saying what is wrong."""
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadLine(f"not JSON: {exc.msg}") from None
    if not isinstance(obj, dict):
        raise BadLine("expected a JSON object")
    sender = _text_field(obj, "from", numeric_ok=True)
    if not sender:
        raise BadLine("missing 'from'")
    chat = _text_field(obj, "chat", numeric_ok=True) or sender
    chat_type = obj.get("chat_type", "private")
    if chat_type not in ("private", "group"):
        raise BadLine("'chat_type' must be 'private' or 'group'")
    kinds = [k for k in ("text", "choice", "location", "media") if obj.get(k) is not None]
    if len(kinds) != 1:
        raise BadLine("give exactly one of 'text', 'choice', 'location', 'media'")
    location = None
    if (loc := obj.get("location")) is not None:
        if not isinstance(loc, dict) or not all(
            isinstance(loc.get(k), int | float) and not isinstance(loc.get(k), bool)
            for k in ("lat", "lon")
        ):
            raise BadLine('\'location\' must be {"lat": number, "lon": number}')
        location = Location(float(loc["lat"]), float(loc["lon"]))
    media = None
    if (med := obj.get("media")) is not None:
        if (
            not isinstance(med, dict)
            or med.get("kind") not in _MEDIA_KINDS
            or not isinstance(med.get("ref"), str)
        ):
            raise BadLine('\'media\' must be {"kind": "photo|voice|document", "ref": string}')
        media = Media(med["kind"], med["ref"])
    admin = obj.get("admin", False)
    if not isinstance(admin, bool):
        raise BadLine("'admin' must be true or false")
    return Inbound(
        channel=CHANNEL,
        admin=admin,
        user_id=sender,
        chat_id=chat,
        chat_type=chat_type,
        received_at=now,
        message_id=_text_field(obj, "id", numeric_ok=True),
        name=_text_field(obj, "name"),
        lang_hint=_text_field(obj, "lang"),
        text=_text_field(obj, "text"),
        choice=_text_field(obj, "choice"),
        location=location,
        media=media,
    )


class ConsoleChannel:
    """Runs the engine for terminal input; the delivery worker runs after each input."""

    def __init__(
        self,
        engine: Engine,
        store: Store,
        clock: Callable[[], datetime],
        policy: RetryPolicy | None = None,
        deadlines: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self._engine = engine
        # Complaint deadlines are checked after each input too, so the terminal shows them.
        self._deadlines = deadlines
        self._sender = ConsoleSender()
        self._worker = DeliveryWorker(store, {CHANNEL: self._sender}, clock=clock, policy=policy)
        self._clock = clock

    async def exchange(self, inbound: Inbound) -> list[dict[str, Any]]:
        """Handle one input; return its replies followed by what it caused for other chats."""
        replies = [r.to_dict(inbound.chat_id) for r in await self._engine.handle(inbound)]
        if self._deadlines is not None:
            await self._deadlines()
        while await self._worker.run_once() > 0:
            pass
        return replies + self._sender.take()

    async def run_jsonl(self, source: TextIO, sink: TextIO) -> None:
        """One JSON object out for every line in, in order; a bad line gets an error object."""
        number = 0
        while True:
            line = await asyncio.to_thread(source.readline)
            if not line:
                return
            number += 1
            out: dict[str, Any]
            try:
                inbound = parse_line(line, self._clock())
            except BadLine as exc:
                out = {"in": number, "error": str(exc)}
            else:
                out = {"in": number, "replies": await self.exchange(inbound)}
            sink.write(json.dumps(out, ensure_ascii=False) + "\n")
            sink.flush()

    async def run_interactive(self, user: str, source: TextIO = sys.stdin) -> None:
        """A chat in the terminal: numbered choices, typed numbers or words."""
        print("civicbot: terminal chat. Ctrl-D to quit.\n")
        text = "menu"
        while True:
            inbound = Inbound(
                channel=CHANNEL, user_id=user, chat_id=user, received_at=self._clock(), text=text
            )
            for reply in await self.exchange(inbound):
                print(render(reply, own_chat=user))
            try:
                line = await asyncio.to_thread(_prompt, source)
            except (EOFError, KeyboardInterrupt):
                print()
                return
            text = line


def _prompt(source: TextIO) -> str:
    sys.stdout.write("> ")
    sys.stdout.flush()
    line = source.readline()
    if not line:
        raise EOFError
    return line.rstrip("\n")


def render(reply: dict[str, Any], own_chat: str) -> str:
    """Draw one reply for an 80-column terminal."""
    lines: list[str] = []
    if reply["chat"] != own_chat:
        lines.append(f"[to {reply['chat']}]")
    for paragraph in str(reply["text"]).split("\n"):
        lines.extend(textwrap.wrap(paragraph, WIDTH) or [""])
    for number, choice in enumerate(reply.get("choices", []), start=1):
        lines.extend(
            textwrap.wrap(
                choice["label"], WIDTH, initial_indent=f"  {number}. ", subsequent_indent="     "
            )
        )
    if media := reply.get("media"):
        lines.append(f"  [{media['kind']}: {media['ref']}]")
    return "\n".join(lines) + "\n"


def utc_clock() -> datetime:
    """The real clock, in UTC."""
    return datetime.now(UTC)

"""The durable inbox port: inbounds stored before the platform is told, leased by a pump.

A pump leases stored inbounds under its owner name for a while and deletes them once handled;
a lease that lapses (its process died) frees the row for another pump. One chat's inbounds
are handed out in arrival order: a row is not leased while an earlier row of its chat is
leased by another owner. A turn's replies are outbox rows held by the process that wrote
them, so that it sends them at once; the delivery worker takes them if it dies first.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple, Protocol

from storage.records import NewOutboxMessage


class NewInbound(NamedTuple):
    """An inbound to store: its channel, dedupe key, payload, and the chat it came from."""

    channel: str
    dedupe_key: str
    payload: str
    # Keeps one chat's inbounds in order across pumps; '' when the channel cannot tell.
    chat: str = ""


@dataclass(frozen=True, slots=True)
class InboxRow:
    """One stored inbound, not yet handled."""

    id: int
    channel: str
    payload: str


def inbox_key(channel: str, platform_id: str) -> str:
    """The dedupe key of an inbound: hashed, so no platform id (Meta's embed the phone) stays."""
    return hashlib.sha256(f"{channel}\x00{platform_id}".encode()).hexdigest()[:32]


def chat_key(channel: str, chat: str | None) -> str:
    """The ordering key of a chat's inbounds, hashed like dedupe keys; '' for no chat."""
    return inbox_key(channel, f"chat:{chat}") if chat else ""


class InboxTransaction(Protocol):
    """Reply rows written in a turn's own transaction."""

    def enqueue_held(
        self, message: NewOutboxMessage, now: datetime, held_for: float, owner: str | None = None
    ) -> str:
        """An outbox row `owner` means to send itself now; the worker's after `held_for` s."""
        ...


class InboxStore(Protocol):
    """The stored inbounds and the held reply rows of the durable inbox."""

    async def store_inbound(self, items: Sequence[NewInbound], now: datetime) -> None:
        """Store inbounds durably, in one transaction; a known dedupe key is stored once."""
        ...

    async def lease_inbound(
        self,
        channels: Sequence[str],
        owner: str,
        now: datetime,
        limit: int,
        lease_seconds: float,
    ) -> list[InboxRow]:
        """Lease free stored inbounds of these channels to `owner`, oldest first.

        Free: never leased, or leased until a moment now past. A row waits while an earlier
        row of its chat is leased by another owner, so one chat's inbounds keep their order.
        """
        ...

    async def renew_inbound(self, inbox_ids: Sequence[int], owner: str, until: datetime) -> None:
        """Extend `owner`'s leases of rows still being handled."""
        ...

    async def inbound_handled(self, inbox_ids: Sequence[int]) -> None:
        """Forget handled inbounds (their text with them)."""
        ...

    async def inbound_left(self, channels: Sequence[str]) -> int:
        """How many stored inbounds of these channels are not yet handled."""
        ...

    async def recover_outbox(self, now: datetime) -> int:
        """At start: rows left leased by a dead process become due, marked uncertain.

        A row that was leased may have been in flight: a second send is counted as a possible
        duplicate. Rows leased by another live process (its lease not lapsed) are left to it.
        """
        ...

    async def reply_done(
        self, outbox_id: str, now: datetime, platform_id: str | None, owner: str | None = None
    ) -> None:
        """A held reply went (or can never go): its row goes, unless it may be a duplicate.

        With `owner`, only while the row is still that owner's: if its hold lapsed and a
        worker took it, the row stays the worker's (it records the outcome), marked uncertain
        since it went at least once already.
        """
        ...

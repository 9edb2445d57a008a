"""Frozen records of campaigns: the audience, the campaign row, one recipient's outbox row."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class AudienceMember:
    """One person a campaign may reach."""

    key: str
    channel: str
    chat_id: str
    language: str | None
    last_inbound_at: datetime | None
    stopped: bool


@dataclass(frozen=True, slots=True)
class CampaignRecord:
    """A campaign as stored."""

    name: str
    status: str
    digest: str
    audience: int
    enqueued: int
    excluded: int
    created_at: datetime
    enqueued_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True, slots=True)
class NewCampaignRow:
    """One recipient's outbox row, due at `due`."""

    outbox_id: str
    channel: str
    chat_id: str
    user_key: str
    payload: str
    due: datetime
    dedupe_key: str

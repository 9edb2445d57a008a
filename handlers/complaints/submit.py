"""Submitting a complaint: reference, routing, forwarding; shared by the chat and Open311."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime

from complaints.lifecycle import ack_due
from complaints.reference import new_reference
from content.pack import ContentPack
from handlers.complaints.notices import forward, route_complaint
from storage.ports import Transaction
from storage.records import ComplaintRecord


@dataclass(frozen=True, slots=True)
class Draft:
    """What a citizen (or an Open311 client) reports."""

    category: str
    commune: str
    description: str
    place: str | None = None
    media: tuple[tuple[str, str], ...] = ()
    consent: bool = False
    contact: str | None = None


async def submit_complaint(
    tx: Transaction,
    pack: ContentPack,
    now: datetime,
    rng: random.Random,
    draft: Draft,
    *,
    user_key: str | None,
    channel: str,
    chat_id: str | None,
    lang: str,
) -> tuple[ComplaintRecord, list[str]]:
    """Record a complaint and send it to its CSOs; return it and the CSOs it went to."""
    reference = new_reference(rng)
    while await tx.complaint_by_reference(reference) is not None:
        reference = new_reference(rng)
    partners = route_complaint(pack, _placeholder(draft, reference, now, channel, lang))
    days = min((p.ack_days for p in pack.partners if p.id in partners), default=5)
    record = ComplaintRecord(
        id=uuid.UUID(int=rng.getrandbits(128)).hex,
        reference=reference,
        user_key=user_key,
        channel=channel,
        chat_id=chat_id,
        lang=lang,
        category=draft.category,
        commune=draft.commune,
        place=draft.place,
        description=draft.description,
        media=draft.media,
        contact_consent=draft.consent,
        contact=draft.contact if draft.consent else None,
        status="submitted",
        created_at=now,
        updated_at=now,
        ack_due_at=ack_due(now, days),
    )
    tx.insert_complaint(record)
    tx.add_event(record.id, "submitted", now)
    reached = await forward(tx, pack, now, record, partners, "cso.forward.new")
    # Routes record who is responsible: the CSOs reached, or those chosen if none has a chat
    # yet (the complaint waits for them, and for the desk's reminders).
    for partner_id in reached or partners:
        tx.add_route(record.id, partner_id, now)
    return record, reached or partners


def _placeholder(
    draft: Draft, reference: str, now: datetime, channel: str, lang: str
) -> ComplaintRecord:
    return ComplaintRecord(
        id="",
        reference=reference,
        channel=channel,
        lang=lang,
        category=draft.category,
        commune=draft.commune,
        description="",
        status="submitted",
        created_at=now,
        updated_at=now,
        ack_due_at=now,
    )

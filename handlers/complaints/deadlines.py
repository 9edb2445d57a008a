"""Deadlines: remind a CSO that has not acknowledged, escalate to the desk, follow up."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import cast

from complaints.lifecycle import Status, Timeline, due_actions
from content.pack import ContentPack
from handlers.complaints.notices import desk_ids, forward
from handlers.messages import Choice, Reply
from storage.ports import StaleRecord, Store, Transaction
from storage.records import ComplaintRecord, NewOutboxMessage, OutboxRecord

log = logging.getLogger(__name__)


async def check_deadlines(store: Store, pack: ContentPack, now: datetime) -> int:
    """Act on every complaint whose deadline has passed; return how many actions were taken."""
    taken = 0
    for record in await store.complaints_needing_attention(now):
        timeline = Timeline(
            status=cast(Status, record.status),
            created_at=record.created_at,
            ack_due_at=record.ack_due_at,
            reminded=record.reminded,
            escalated=record.escalated,
            resolved_at=record.resolved_at,
            followup_asked=record.followup_asked,
        )
        actions = due_actions(timeline, now)
        if not actions:
            continue
        try:
            await _act(store, pack, now, record, actions)
        except StaleRecord:
            # A CSO answered (or another worker acted) since the list was read: nothing is sent,
            # and the next check sees the complaint as it is now.
            continue
        taken += len(actions)
    return taken


async def _act(
    store: Store, pack: ContentPack, now: datetime, record: ComplaintRecord, actions: list[str]
) -> None:
    """Take the due actions on one complaint, as it was read, in one unit of work."""
    async with store.transaction() as tx:
        flags: dict[str, bool] = {}
        if "remind" in actions:
            partners = await tx.routes_of(record.id)
            await forward(tx, pack, now, record, partners, "cso.forward.reminder")
            tx.add_event(record.id, "reminded", now)
            flags["reminded"] = True
        if "escalate" in actions:
            desks = desk_ids(pack)
            for desk in desks:
                tx.add_route(record.id, desk, now)
            await forward(tx, pack, now, record, desks, "cso.forward.escalated")
            tx.add_event(record.id, "escalated", now)
            flags["escalated"] = True
        if "followup" in actions:
            _ask_citizen(tx, pack, record, now)
            flags["followup_asked"] = True
        tx.set_complaint_flags(record.id, record.status, **flags)


def _ask_citizen(
    tx: Transaction, pack: ContentPack, record: ComplaintRecord, now: datetime
) -> None:
    """A week after 'resolved': is it really solved? (Only if the citizen can still be reached.)"""
    if not record.chat_id:
        return
    texts, lang = pack.texts, record.lang
    ref = record.reference.replace("-", "")
    reply = Reply(
        text=texts.get(lang, "complaint.followup", reference=record.reference),
        choices=(
            Choice(f"complaint:solved:{ref}", texts.get(lang, "complaint.yes_solved")),
            Choice(f"complaint:unsolved:{ref}", texts.get(lang, "complaint.not_solved")),
        ),
    )
    tx.enqueue(
        NewOutboxMessage(
            record.channel,
            record.chat_id,
            "followup",
            reply.to_dict(record.chat_id),
            user_key=record.user_key,
        ),
        now,
    )


async def reroute_undelivered(
    store: Store, pack: ContentPack, now: datetime, row: OutboxRecord
) -> bool:
    """A forward that could never reach a CSO's chat goes to the desk; True if it did."""
    complaint_id = row.payload.get("complaint")
    partner_id = row.payload.get("partner")
    desks = desk_ids(pack)
    if row.kind != "forward" or not isinstance(complaint_id, str) or partner_id in desks:
        return False
    async with store.transaction() as tx:
        record = await tx.complaint_by_id(complaint_id)
        if record is None:
            return False
        for desk in desks:
            tx.add_route(record.id, desk, now)
        tx.add_event(record.id, "undelivered", now, partner_id=str(partner_id))
        await forward(tx, pack, now, record, desks, "cso.forward.undelivered")
    log.warning("complaint %s could not reach its CSO: sent to the desk", record.reference)
    return True

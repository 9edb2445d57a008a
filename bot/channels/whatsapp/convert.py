"""Meta's webhook JSON as neutral Inbound values and delivery statuses."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from bot.campaigns.model import is_campaign_code
from handlers.messages import Inbound, Location, Media

log = logging.getLogger(__name__)

CHANNEL = "whatsapp"
# Messages the bot cannot use; the engine answers them politely (an empty message).
UNSUPPORTED = frozenset({"sticker", "video", "contacts", "order", "unsupported", "unknown"})


@dataclass(frozen=True, slots=True)
class StatusError:
    """Why Meta could not deliver a message."""

    code: int | None
    title: str


@dataclass(frozen=True, slots=True)
class Status:
    """What happened to a message we sent: sent, delivered, read or failed."""

    message_id: str
    status: str
    recipient: str
    at: datetime
    errors: tuple[StatusError, ...] = ()

    @property
    def code(self) -> int | None:
        """Meta's first error code, if any."""
        return self.errors[0].code if self.errors else None


@dataclass(slots=True)
class Events:
    """Everything one webhook call carried."""

    inbounds: list[Inbound] = field(default_factory=list)
    statuses: list[Status] = field(default_factory=list)
    skipped: int = 0


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _moment(value: Any, default: datetime) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return default


def _item_sender(key: str, item: Any) -> str | None:
    """Who a message is from, or whom a status is about."""
    return _str(_dict(item).get("from" if key == "messages" else "recipient_id"))


def by_sender(body: Any) -> list[tuple[str | None, Any]]:
    """A webhook body cut into one body per person, each with only that person's items.

    Meta may batch several people's messages and statuses in one call: each person's part is
    stored (and kept in order) on its own, so nobody waits behind someone else's turn and
    nobody's message overtakes their own earlier one. A body about one person comes back
    whole and unchanged.
    """
    senders: list[str | None] = []
    for entry in _list(_dict(body).get("entry")):
        for change in _list(_dict(entry).get("changes")):
            value = _dict(_dict(change).get("value"))
            for key in ("messages", "statuses"):
                for item in _list(value.get(key)):
                    sender = _item_sender(key, item)
                    if sender not in senders:
                        senders.append(sender)
    if len(senders) <= 1:
        return [(senders[0] if senders else None, body)]
    return [(sender, _only(body, sender)) for sender in senders]


def _only(body: Any, sender: str | None) -> dict[str, Any]:
    """`body` with only the messages, statuses and contact of `sender`."""
    entries = []
    for entry in _list(_dict(body).get("entry")):
        changes = []
        for change in _list(_dict(entry).get("changes")):
            value = dict(_dict(_dict(change).get("value")))
            for key in ("messages", "statuses"):
                if key in value:
                    mine = [i for i in _list(value[key]) if _item_sender(key, i) == sender]
                    if mine:
                        value[key] = mine
                    else:
                        del value[key]
            if "contacts" in value:
                value["contacts"] = [
                    c for c in _list(value["contacts"]) if _dict(c).get("wa_id") == sender
                ]
            if "messages" in value or "statuses" in value:
                changes.append({**_dict(change), "value": value})
        if changes:
            entries.append({**_dict(entry), "changes": changes})
    return {**_dict(body), "entry": entries}


def parse(body: Any, now: datetime) -> Events:
    """Every message and status of a webhook call; what cannot be read is counted, not raised."""
    events = Events()
    for entry in _list(_dict(body).get("entry")):
        for change in _list(_dict(entry).get("changes")):
            value = _dict(_dict(change).get("value"))
            people = _people(value.get("contacts"))
            for message in _list(value.get("messages")):
                if needs_no_answer(_dict(message)):
                    continue
                inbound = from_message(_dict(message), people, now)
                if inbound is None:
                    events.skipped += 1
                else:
                    events.inbounds.append(inbound)
            for item in _list(value.get("statuses")):
                status = from_status(_dict(item), now)
                if status is None:
                    events.skipped += 1
                else:
                    events.statuses.append(status)
    return events


def _people(contacts: Any) -> dict[str, tuple[str, str | None]]:
    """Sender id (phone or business-scoped id) -> (the id we key users by, profile name)."""
    people: dict[str, tuple[str, str | None]] = {}
    for contact in _list(contacts):
        contact = _dict(contact)
        wa_id = _str(contact.get("wa_id"))
        user_id = _str(contact.get("user_id"))
        key = wa_id or user_id
        if key is None:
            continue
        name = _str(_dict(contact.get("profile")).get("name"))
        for known in (wa_id, user_id):
            if known:
                people[known] = (key, name)
    return people


def from_message(
    message: dict[str, Any], people: dict[str, tuple[str, str | None]], now: datetime
) -> Inbound | None:
    """One user message as an Inbound; None when it is not a message we can read."""
    sender = _str(message.get("from")) or _str(message.get("from_user_id"))
    message_id = _str(message.get("id"))
    kind = _str(message.get("type"))
    if sender is None or message_id is None or kind is None:
        return None
    # Users are keyed by Meta's wa_id; a user with a username and no shared phone number
    # only has the business-scoped id, which is then their key.
    user, name = people.get(sender, (sender, None))
    base = Inbound(
        channel=CHANNEL,
        user_id=user,
        chat_id=user,
        received_at=now,
        message_id=message_id,
        name=name,
    )
    content = _dict(message.get(kind))
    if kind == "text":
        body = _str(content.get("body")) or ""
        # A campaign's wa.me link pre-fills "c-NAME": kept as where the person came from.
        entry = body.strip() if is_campaign_code(body.strip()) else None
        return replace(base, text=body, entry=entry)
    if kind == "interactive":
        reply = _dict(content.get(_str(content.get("type")) or ""))
        choice = _str(reply.get("id"))
        # A button or list row tapped: its id is our choice id. Anything else (flows) is
        # answered like any message the bot cannot use.
        return replace(base, choice=choice) if choice else base
    if kind == "button":  # a quick-reply button of a template: what it says is what it means
        return replace(base, text=_str(content.get("text")) or "")
    if kind == "location":
        try:
            location = Location(float(content["latitude"]), float(content["longitude"]))
        except (KeyError, TypeError, ValueError):
            return base
        return replace(base, location=location)
    if kind in ("image", "audio", "voice", "document"):
        ref = _str(content.get("id"))
        if ref is None:
            return base
        if kind == "image":
            media = Media("photo", ref)
        elif kind == "document":
            media = Media("document", ref)
        elif kind == "voice" or content.get("voice") is True:
            media = Media("voice", ref)
        else:
            media = Media("audio", ref)
        return replace(base, media=media)
    if kind not in UNSUPPORTED and kind != "reaction":
        log.info("whatsapp message of unknown type %r answered as unsupported", kind[:32])
    return base


def needs_no_answer(message: dict[str, Any]) -> bool:
    """A reaction taken back, or WhatsApp's own notice ("the user changed their number")."""
    kind = message.get("type")
    if kind == "reaction":
        return _str(_dict(message.get("reaction")).get("emoji")) is None
    return kind == "system"


def from_status(status: dict[str, Any], now: datetime) -> Status | None:
    """A delivery status; None when its shape is not Meta's."""
    message_id = _str(status.get("id"))
    state = _str(status.get("status"))
    recipient = _str(status.get("recipient_id")) or _str(status.get("recipient_user_id")) or ""
    if message_id is None or state is None:
        return None
    errors = tuple(
        StatusError(
            code if isinstance(code := _dict(e).get("code"), int) else None,
            str(_dict(e).get("title") or _dict(e).get("message") or "")[:200],
        )
        for e in _list(status.get("errors"))
    )
    return Status(message_id, state, recipient, _moment(status.get("timestamp"), now), errors)

"""Telegram updates, as the Bot API's JSON, turned into neutral Inbound values.

Read from the JSON rather than through aiogram's models: building the models of an update
cost more CPU than the turn's own logic (bench/telegram.py).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from handlers.messages import ChatType, Inbound, Location, Media

CHANNEL = "telegram"
_IN = ("member", "administrator", "creator", "restricted")


def chat_type(kind: str) -> ChatType:
    """Private chats stay private; groups, supergroups and channels are groups."""
    return "private" if kind == "private" else "group"


def command_text(text: str, username: str | None) -> tuple[str, str | None] | None:
    """'/aide@bot payload' -> ('/aide', 'payload'); None for a command meant for another bot."""
    head, _, rest = text.partition(" ")
    command, _, target = head.partition("@")
    if target and username and target.lower() != username.lower():
        return None
    return command, rest.strip() or None


def _obj(data: dict[str, Any], key: str) -> dict[str, Any]:
    """The object under `key` of Telegram's JSON, or an empty one."""
    value = data.get(key)
    return value if isinstance(value, dict) else {}


def _text(data: dict[str, Any], key: str) -> str | None:
    value = data.get(key)
    return value if isinstance(value, str) else None


def _replies_to_bot(message: dict[str, Any], username: str | None) -> bool:
    author = _obj(_obj(message, "reply_to_message"), "from")
    return bool(author.get("is_bot") and username and author.get("username") == username)


def _media(message: dict[str, Any]) -> Media | None:
    photos = message.get("photo")
    if isinstance(photos, list) and photos and isinstance(photos[-1], dict):
        return Media("photo", str(photos[-1]["file_id"]))  # the largest size comes last
    for kind in ("voice", "audio", "document"):
        file_id = _obj(message, kind).get("file_id")
        if file_id:
            return Media(kind, str(file_id))
    return None


def from_message(
    message: dict[str, Any],
    update_id: int,
    username: str | None,
    now: datetime,
    admin: bool = False,
) -> Inbound | None:
    """A message (Telegram's JSON) as an Inbound; None when the bot should stay quiet (group
    chatter, another bot, a message without a sender)."""
    user, chat = _obj(message, "from"), _obj(message, "chat")
    if user.get("id") is None or user.get("is_bot") or chat.get("id") is None:
        return None
    kind = chat_type(str(chat.get("type", "")))
    text = _text(message, "text")
    entry = None
    if text and text.startswith("/"):
        parsed = command_text(text, username)
        if parsed is None:
            return None
        text, payload = parsed
        if text == "/start":
            entry = payload
        elif payload:
            text = f"{text} {payload}"  # the argument of /quiz ID or /lier CODE
    elif kind == "group" and not _replies_to_bot(message, username):
        # Privacy mode: in groups the bot acts on its commands, its own buttons, and replies to
        # its own messages (a CSO member answering "write a note").
        return None
    media = _media(message)
    place = _obj(message, "location")
    location = Location(float(place["latitude"]), float(place["longitude"])) if place else None
    return Inbound(
        channel=CHANNEL,
        user_id=str(user["id"]),
        chat_id=str(chat["id"]),
        chat_type=kind,
        received_at=now,
        message_id=str(update_id),
        name=_text(user, "first_name"),
        lang_hint=(_text(user, "language_code") or "")[:2] or None,
        text=text if media is None and location is None else None,
        location=location,
        media=media,
        entry=entry,
        admin=admin,
    )


def quiz_admin_check(message: dict[str, Any]) -> tuple[int | str, int] | None:
    """(chat, member) to ask Telegram about: a /quiz command in a group needs an admin."""
    user, chat = _obj(message, "from"), _obj(message, "chat")
    text = _text(message, "text") or ""
    if chat.get("type") == "private" or not text.startswith("/quiz"):
        return None
    member, where = user.get("id"), chat.get("id")
    if not isinstance(member, int) or not isinstance(where, int | str):
        return None
    return where, member


def from_callback(
    query: dict[str, Any], update_id: int, choice: str, now: datetime
) -> Inbound | None:
    """A button tap (Telegram's JSON) as an Inbound carrying the choice id."""
    user, chat = _obj(query, "from"), _obj(_obj(query, "message"), "chat")
    if user.get("id") is None:
        return None
    return Inbound(
        channel=CHANNEL,
        user_id=str(user["id"]),
        chat_id=str(chat["id"]) if chat.get("id") is not None else str(user["id"]),
        chat_type=chat_type(str(chat.get("type", ""))) if chat else "private",
        received_at=now,
        message_id=str(update_id),
        name=_text(user, "first_name"),
        lang_hint=(_text(user, "language_code") or "")[:2] or None,
        choice=choice,
    )


def from_member(update: dict[str, Any], update_id: int, now: datetime) -> Inbound | None:
    """The bot blocked by a user, or added to / removed from a group (Telegram's JSON)."""
    old = _obj(update, "old_chat_member").get("status")
    new = _obj(update, "new_chat_member").get("status")
    user, chat = _obj(update, "from"), _obj(update, "chat")
    if user.get("id") is None or chat.get("id") is None:
        return None
    kind = chat_type(str(chat.get("type", "")))
    if kind == "private":
        event = "blocked" if new == "kicked" else None
    elif new in _IN and old not in _IN:
        event = "added"
    elif new not in _IN and old in _IN:
        event = "removed"
    else:
        event = None
    if event is None:
        return None
    return Inbound(
        channel=CHANNEL,
        user_id=str(user["id"]),
        chat_id=str(chat["id"]),
        chat_type=kind,
        received_at=now,
        message_id=str(update_id),
        lang_hint=(_text(user, "language_code") or "")[:2] or None,
        event=event,
    )


def sender_of(update: dict[str, Any]) -> str | None:
    """Who an update (as Telegram sent it) is from, to keep their updates in order."""
    for name, event in update.items():
        if name == "update_id" or not isinstance(event, dict):
            continue
        for holder in (event.get("from"), event.get("chat"), _obj(_obj(event, "message"), "chat")):
            if isinstance(holder, dict) and holder.get("id") is not None:
                return str(holder["id"])
    return None


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)

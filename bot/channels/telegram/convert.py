"""Telegram updates as neutral Inbound values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiogram.types import CallbackQuery, ChatMemberUpdated, Message

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


def _replies_to_bot(message: Message, username: str | None) -> bool:
    replied = message.reply_to_message
    author = replied.from_user if replied else None
    return bool(author and author.is_bot and username and author.username == username)


def from_message(
    message: Message,
    update_id: int,
    username: str | None,
    now: datetime,
    admin: bool = False,
) -> Inbound | None:
    """A message as an Inbound; None when the bot should stay quiet (group chatter)."""
    user = message.from_user
    if user is None or user.is_bot:
        return None
    kind = chat_type(message.chat.type)
    text = message.text
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
    media = None
    if message.photo:
        media = Media("photo", message.photo[-1].file_id)
    elif message.voice:
        media = Media("voice", message.voice.file_id)
    elif message.audio:
        media = Media("audio", message.audio.file_id)
    elif message.document:
        media = Media("document", message.document.file_id)
    location = None
    if message.location:
        location = Location(message.location.latitude, message.location.longitude)
    return Inbound(
        channel=CHANNEL,
        user_id=str(user.id),
        chat_id=str(message.chat.id),
        chat_type=kind,
        received_at=now,
        message_id=str(update_id),
        name=user.first_name,
        lang_hint=(user.language_code or "")[:2] or None,
        text=text if media is None and location is None else None,
        location=location,
        media=media,
        entry=entry,
        admin=admin,
    )


def from_callback(query: CallbackQuery, update_id: int, choice: str, now: datetime) -> Inbound:
    """A button tap as an Inbound carrying the choice id."""
    message = query.message
    chat = message.chat if message is not None else None
    return Inbound(
        channel=CHANNEL,
        user_id=str(query.from_user.id),
        chat_id=str(chat.id) if chat else str(query.from_user.id),
        chat_type=chat_type(chat.type) if chat else "private",
        received_at=now,
        message_id=str(update_id),
        name=query.from_user.first_name,
        lang_hint=(query.from_user.language_code or "")[:2] or None,
        choice=choice,
    )


def from_member(update: ChatMemberUpdated, update_id: int, now: datetime) -> Inbound | None:
    """The bot blocked by a user, or added to / removed from a group."""
    old, new = update.old_chat_member.status, update.new_chat_member.status
    kind = chat_type(update.chat.type)
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
        user_id=str(update.from_user.id),
        chat_id=str(update.chat.id),
        chat_type=kind,
        received_at=now,
        message_id=str(update_id),
        lang_hint=(update.from_user.language_code or "")[:2] or None,
        event=event,
    )


def sender_of(update: dict[str, Any]) -> str | None:
    """Who an update (as Telegram sent it) is from, to keep their updates in order."""
    for name, event in update.items():
        if name == "update_id" or not isinstance(event, dict):
            continue
        for holder in (
            event.get("from"),
            event.get("chat"),
            (event.get("message") or {}).get("chat"),
        ):
            if isinstance(holder, dict) and holder.get("id") is not None:
                return str(holder["id"])
    return None


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)

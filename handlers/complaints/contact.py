"""How a CSO reads a citizen's contact: their name and a way to reach them on their platform."""

from __future__ import annotations

import re

# Rows written before issue 16 kept the sentence shown to the citizen.
_LEGACY = re.compile(
    r"^votre nom « (?P<name>.*) » et votre identifiant (?P<channel>\S+) (?P<id>\S+)$"
)
_PLATFORMS = {"whatsapp": "WhatsApp", "telegram": "Telegram", "console": "console"}


def handle(channel: str, user_id: str) -> str:
    """'+22370111222' on WhatsApp (the wa_id is the number), a chat link on Telegram."""
    if channel == "whatsapp" and user_id.isdigit():
        return f"+{user_id}"
    if channel == "telegram" and user_id.lstrip("-").isdigit():
        return f"tg://user?id={user_id}"
    return user_id


def contact_line(name: str | None, channel: str, user_id: str) -> str:
    """'Aminata Coulibaly — WhatsApp +22370111222', what is stored and forwarded."""
    platform = _PLATFORMS.get(channel, channel)
    return f"{name or '?'} — {platform} {handle(channel, user_id)}"


def readable(contact: str) -> str:
    """A stored contact as a CSO reads it, older stored sentences included."""
    legacy = _LEGACY.match(contact)
    if legacy is None:
        return contact
    return contact_line(legacy["name"], legacy["channel"], legacy["id"])

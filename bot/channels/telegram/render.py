"""How a neutral Reply looks on Telegram: escaped HTML, numbered inline keyboards, parts."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from content.pages import paginate
from handlers.messages import Choice, Reply

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_LIMIT = 64
PAGE_SIZE = 8
LABEL_LIMIT = 32
MORE_PREFIX = "tg:more:"
TOKEN_PREFIX = "tg:tk:"  # noqa: S105 - a callback prefix


@dataclass(frozen=True, slots=True)
class Button:
    """One inline button: a numbered label and either a callback payload or a URL."""

    text: str
    data: str | None = None
    url: str | None = None


# A consenting citizen's Telegram contact, as handlers/complaints/contact.py writes it: the
# CSO taps it to open a chat with her (digits only, so nothing else can become a link).
_CONTACT = re.compile(r"Telegram tg://user\?id=(-?\d{1,20})\b")


def escape(text: str) -> str:
    """Text for parse_mode=HTML: our content has no markup, so everything is escaped; a
    citizen's Telegram contact becomes a link that opens a chat with her."""
    escaped = html.escape(text, quote=False)
    if "tg://user" not in escaped:  # nearly every message: no regex run over it
        return escaped
    return _CONTACT.sub(r'Telegram <a href="tg://user?id=\1">ouvrir la conversation</a>', escaped)


def split_text(text: str) -> list[str]:
    """Parts of at most 4096 characters, cut between paragraphs where possible."""
    if len(text) <= TEXT_LIMIT:
        return [text]
    return paginate(text, TEXT_LIMIT)


def label(number: int, choice: Choice) -> str:
    """'3. Label': the number works typed too; a long label gives way to its short form."""
    text = choice.label
    if len(text) > LABEL_LIMIT:
        text = choice.short_label or text[: LABEL_LIMIT - 1].rstrip() + "…"
    return f"{number}. {text}"


def fits(data: str) -> bool:
    """Whether a payload fits in Telegram's callback_data."""
    return len(data.encode("utf-8")) <= CALLBACK_LIMIT


def pages(count: int) -> list[range]:
    """Choice positions per keyboard page: 8 on one page, else 7 and a 'Plus' button."""
    if count <= PAGE_SIZE:
        return [range(count)]
    step = PAGE_SIZE - 1
    return [range(start, min(start + step, count)) for start in range(0, count, step)]


def rows(buttons: list[Button]) -> list[list[Button]]:
    """A grid that reads well on a phone: short labels two by two, long ones alone."""
    if len(buttons) > 3 and all(len(b.text) <= 16 for b in buttons):
        return [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    return [[button] for button in buttons]


def open_private_link(reply: Reply, username: str | None) -> Button | None:
    """A URL button into the private chat, for group commands that need privacy."""
    payload = reply.open_private
    if not payload or not username:
        return None
    text = reply.open_private_label or "Open"
    return Button(text=text, url=f"https://t.me/{username}?start={payload}")

"""How a neutral Reply looks on WhatsApp, within Meta's limits: buttons, lists, text parts."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any

from content.pages import paginate
from handlers.messages import Choice, Media, Reply

# Meta's limits for Cloud API messages.
TEXT_LIMIT = 4096
BODY_LIMIT = 1024  # the body of an interactive message (buttons or list)
CAPTION_LIMIT = 1024
MAX_BUTTONS = 3
BUTTON_TITLE = 20
MAX_ROWS = 10
ROW_TITLE = 24
ROW_DESCRIPTION = 72
LIST_BUTTON = 20
ID_LIMIT = 200  # a list row id; button ids may be 256, the smaller bound serves both
# A template parameter may not hold newlines, tabs or four spaces in a row, and the whole
# template body stays under 1024 characters: our text goes in shorter and on one line.
TEMPLATE_PARAM_LIMIT = 700

MORE_PREFIX = "wa:more:"
TOKEN_PREFIX = "wa:tk:"  # noqa: S105 - a choice id prefix
ELLIPSIS = "…"

# Words of the list messages themselves (the content pack's strings are not loaded here).
LABELS = {
    "fr": {"choose": "Choisir", "more": "Autres choix ▸"},
    "bm": {"choose": "Sugandi", "more": "Tɔ ▸"},
}
_TRAILING = " ,;:-–—(/'’"

Payload = dict[str, Any]


def label_words(lang: str | None) -> dict[str, str]:
    """The list button and 'more' row words in a language, French when unknown."""
    return LABELS.get(lang or "fr", LABELS["fr"])


def shorten(text: str, limit: int) -> str:
    """At most `limit` characters, cut at a word boundary and marked with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    head = text[: limit - 1]
    space = head.rfind(" ")
    # A single word longer than the limit has to be cut; anything else ends on a whole word.
    if space > 0:
        head = head[:space]
    return head.rstrip(_TRAILING) + ELLIPSIS


def fit(choice: Choice, limit: int) -> tuple[str, str | None]:
    """A title of at most `limit` characters, and what it leaves out (for a description)."""
    label = " ".join(choice.label.split())
    if len(label) <= limit:
        return label, None
    short = " ".join((choice.short_label or "").split())
    if short and len(short) <= limit:
        return short, label
    if short:
        return shorten(short, limit), label
    title = shorten(label, limit)
    rest = label[len(title) - len(ELLIPSIS) :].lstrip(_TRAILING)
    return title, ELLIPSIS + rest


def number_title(number: int, choice: Choice) -> tuple[str, str | None]:
    """'3. Label' for a list row, so that the number can be typed too."""
    prefix = f"{number}. "
    title, left_out = fit(choice, ROW_TITLE - len(prefix))
    return prefix + title, shorten(left_out, ROW_DESCRIPTION) if left_out else None


def text_parts(text: str) -> list[str]:
    """Parts of at most 4096 characters, cut between paragraphs where possible."""
    if len(text) <= TEXT_LIMIT:
        return [text]
    return paginate(text, TEXT_LIMIT)


def split_body(text: str) -> tuple[list[str], str]:
    """Text messages to send first, and a last piece short enough for an interactive body."""
    if len(text) <= BODY_LIMIT:
        return [], text or ELLIPSIS
    pieces = paginate(text, BODY_LIMIT)
    head = "\n\n".join(pieces[:-1])
    return (text_parts(head) if head else []), pieces[-1]


def pages(count: int) -> list[range]:
    """Choice positions per list: ten on one list, else nine and a 'more' row per page."""
    spans: list[range] = []
    start = 0
    while count - start > MAX_ROWS:
        spans.append(range(start, start + MAX_ROWS - 1))
        start += MAX_ROWS - 1
    spans.append(range(start, count))
    return spans


def text_payload(text: str) -> Payload:
    """A plain text message; link previews cost data on poor networks, so none."""
    return {"type": "text", "text": {"body": text, "preview_url": False}}


def media_payload(media: Media, caption: str | None) -> Payload:
    """An image, audio or document message that re-sends a media id."""
    if media.kind == "photo":
        kind = "image"
    elif media.kind in ("voice", "audio"):
        kind = "audio"
    else:
        kind = "document"
    body: dict[str, Any] = {"id": media.ref}
    if caption and kind != "audio":  # audio messages have no caption
        body["caption"] = caption
    return {"type": kind, kind: body}


def buttons_payload(body: str, choices: Sequence[Choice]) -> Payload | None:
    """Reply buttons, or None when shortened titles would collide (Meta wants them unique)."""
    titles = [fit(choice, BUTTON_TITLE)[0] for choice in choices]
    if len(set(titles)) != len(titles):
        return None
    buttons = [
        {"type": "reply", "reply": {"id": choice.id, "title": title}}
        for choice, title in zip(choices, titles, strict=True)
    ]
    return {
        "type": "interactive",
        "interactive": {"type": "button", "body": {"text": body}, "action": {"buttons": buttons}},
    }


def list_payload(
    body: str,
    choices: Sequence[Choice],
    page: int,
    listing: str | None,
    lang: str | None,
) -> Payload:
    """One page of a list message: up to ten rows, or nine and a row that shows the next ones."""
    spans = pages(len(choices))
    span = spans[page]
    words = label_words(lang)
    rows: list[dict[str, str]] = []
    for position in span:
        title, description = number_title(position + 1, choices[position])
        row = {"id": choices[position].id, "title": title}
        if description:
            row["description"] = description
        rows.append(row)
    if page + 1 < len(spans) and listing is not None:
        following = spans[page + 1]
        rows.append(
            {
                "id": f"{MORE_PREFIX}{listing}:{page + 1}",
                "title": words["more"][:ROW_TITLE],
                "description": f"{following.start + 1}–{following.stop}",
            }
        )
    return {
        "type": "interactive",
        "interactive": {
            "type": "list",
            "body": {"text": body},
            "action": {"button": words["choose"][:LIST_BUTTON], "sections": [{"rows": rows}]},
        },
    }


def listing_of(reply: Reply) -> str | None:
    """What a long list's 'more' rows need later (stored under a token), or None if short."""
    if len(reply.choices) <= MAX_ROWS:
        return None
    return dump_listing(split_body(reply.text)[1], reply.choices)


def dump_listing(body: str, choices: Sequence[Choice]) -> str:
    """A list's body and choices as stable JSON (the same listing gets the same token)."""
    return json.dumps(
        {"body": body, "choices": [[c.id, c.label, c.short_label] for c in choices]},
        ensure_ascii=False,
        sort_keys=True,
    )


def load_listing(payload: str) -> tuple[str, tuple[Choice, ...]]:
    """The body and choices of a stored listing."""
    data = json.loads(payload)
    choices = tuple(Choice(str(i), str(label), short) for i, label, short in data["choices"])
    return str(data["body"]), choices


def render(reply: Reply, lang: str | None = None, listing: str | None = None) -> list[Payload]:
    """The messages that draw a reply, in order; `listing` is the token of a long list."""
    messages: list[Payload] = []
    text = reply.text
    if reply.media is not None:
        fits = reply.media.kind in ("photo", "document") and len(text) <= CAPTION_LIMIT
        caption = text if fits and not reply.choices else None
        messages.append(media_payload(reply.media, caption))
        if caption is not None:
            text = ""
    if not reply.choices:
        messages.extend(text_payload(part) for part in text_parts(text) if part)
        return messages
    leading, body = split_body(text)
    messages.extend(text_payload(part) for part in leading)
    interactive = None
    if len(reply.choices) <= MAX_BUTTONS:
        interactive = buttons_payload(body, reply.choices)
    if interactive is None:
        interactive = list_payload(body, reply.choices, 0, listing, lang)
    messages.append(interactive)
    return messages


_BREAKS = re.compile(r"\s*\n\s*")
_SPACES = re.compile(r"[ \t]{2,}")


def template_payload(name: str, language: str, text: str) -> Payload:
    """An approved template whose one body parameter carries the message, on one line."""
    flat = _SPACES.sub(" ", _BREAKS.sub(" · ", text.strip()))
    return {
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": language},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": shorten(flat, TEMPLATE_PARAM_LIMIT) or ELLIPSIS}
                    ],
                }
            ],
        },
    }

"""Cut an article body into pages that a cheap phone shows without scrolling forever."""

from __future__ import annotations

import re

PAGE_LIMIT = 900
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def _pieces(paragraph: str, limit: int) -> list[str]:
    """A paragraph longer than a page is cut between sentences, or between words at worst."""
    if len(paragraph) <= limit:
        return [paragraph]
    pieces: list[str] = []
    current = ""
    for sentence in _SENTENCE_END.split(paragraph):
        while len(sentence) > limit:
            cut = sentence.rfind(" ", 0, limit)
            cut = cut if cut > 0 else limit
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut].rstrip())
            sentence = sentence[cut:].lstrip()
        joined = f"{current} {sentence}".strip()
        if len(joined) > limit:
            pieces.append(current)
            current = sentence
        else:
            current = joined
    if current:
        pieces.append(current)
    return pieces


def paginate(body: str, limit: int = PAGE_LIMIT) -> list[str]:
    """Pages of at most `limit` characters, cut between paragraphs where possible."""
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", body.strip()) if p.strip()]
    return _pack(paragraphs, limit, "\n\n")


def group_lines(lines: list[str], limit: int = PAGE_LIMIT) -> list[str]:
    """Lines (a list of sources) put together into pages of at most `limit` characters.

    A line is never split across pages; one longer than a page is cut like a paragraph.
    """
    return _pack(lines, limit, "\n")


def _pack(items: list[str], limit: int, separator: str) -> list[str]:
    """Items joined by `separator` into pages of at most `limit` characters, in order."""
    pages: list[str] = []
    current = ""
    for item in items:
        for piece in _pieces(item, limit):
            joined = f"{current}{separator}{piece}" if current else piece
            if len(joined) > limit and current:
                pages.append(current)
                current = piece
            else:
                current = joined
    if current:
        pages.append(current)
    return pages or [""]

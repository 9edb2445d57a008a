"""Text folding so that `Bamakɔ`, `BAMAKO` and `bamako` compare equal."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Bambara letters folded to the ASCII spellings people type on phones without them; the old
# orthography's è, ò (accents are stripped below) and the French-style "gn" for ɲ likewise.
_BAMBARA = str.maketrans({"ɛ": "e", "ɔ": "o", "ɲ": "ny", "ŋ": "ng"})
_NON_WORD = re.compile(r"[^0-9a-z]+")
# Only at the start of a word: inside one, "gn" is French (signaler), and few French words
# start with it while Bambara ones often do (ɲinɛ typed "gninè").
_GN = re.compile(r"(?<![0-9a-z])gn")
# Control characters, invisible formatting, and lone surrogates (valid in JSON, not in UTF-8).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff\ud800-\udfff]")


def fold(text: str) -> str:
    """Lower-case, strip accents and punctuation, fold Bambara letters; words split by spaces."""
    # A message's text is folded by several matchers in one turn (commands, safety, words),
    # and people type the same short texts again and again (menu, oui, 2, aide).
    return _fold_remembered(text) if rememberable(text) else _fold(text)


# The longest typed text a cache may keep, and the most digits in it.
SHORT = 24
FEW_DIGITS = 3


def rememberable(text: str) -> bool:
    """Whether a cache of this process may keep `text` (in memory only, bounded).

    Only short texts with few digits: the words people type to move around (menu, oui, 2,
    c la 2, aide). A description, a place, a phone number or an id, where anything personal
    would be, is worked out afresh each time and forgotten with the turn.
    """
    return len(text) <= SHORT and sum(map(str.isdigit, text)) <= FEW_DIGITS


@lru_cache(maxsize=8192)
def _fold_remembered(text: str) -> str:
    return _fold(text)


def _fold(text: str) -> str:
    text = text.casefold().translate(_BAMBARA).replace("œ", "oe").replace("æ", "ae")
    if text.isascii():  # most typed text: nothing to decompose
        bare = text
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        bare = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _GN.sub("ny", _NON_WORD.sub(" ", bare).strip())


def clean_input(text: str, limit: int) -> str:
    """Drop control characters and surrounding space, and cap the length of user text."""
    return _CONTROL.sub("", text).strip()[:limit]

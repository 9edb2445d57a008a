"""JSON for the path every message takes (stored updates, reply rows, screens, Bot API bodies).

The standard library's encoder took about 10 µs for a menu with its keyboard, and a Telegram
update is encoded four times on its way (bench/telegram.py); orjson takes about 0.5 µs.
Where orjson refuses what the standard library accepts (a lone surrogate in a text, an
integer beyond 64 bits), the standard library does it, so nothing that worked before fails.
Both write integer keys as strings; non-ASCII goes as UTF-8, or escaped where orjson refused
(a lone surrogate cannot be UTF-8, in a body nor in SQLite). Dates and dataclasses are
refused, as the standard library (and the PostgreSQL store's codec) refuses them, so that a
flow that stores one fails loudly on both backends. Two small differences remain: orjson
writes a UUID or an Enum by its value where json raised, and NaN as null where json wrote
NaN, which is not JSON.
"""

from __future__ import annotations

import json
from typing import Any

import orjson

_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def dumps(value: Any) -> str:
    """`value` as JSON text."""
    try:
        return orjson.dumps(value, option=_OPTIONS).decode()
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value)


def dumps_bytes(value: Any) -> bytes:
    """`value` as UTF-8 JSON, for a request body."""
    try:
        return orjson.dumps(value, option=_OPTIONS)
    except TypeError:
        return json.dumps(value).encode()


def loads(text: str | bytes) -> Any:
    """The value of JSON text; ValueError if it is not JSON."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        # orjson refuses lone surrogates (which a client may send escaped); json takes them.
        return json.loads(text)

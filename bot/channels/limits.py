"""Total JSON parsing for untrusted input: size and depth checked before parsing."""

from __future__ import annotations

import json
import re
from typing import Any

MAX_DEPTH = 64
MAX_BYTES = 1_000_000
# A string literal (escapes included): brackets inside it do not nest anything.
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")


class BadJson(ValueError):
    """Input that is not acceptable JSON, with a short reason that names no content."""

    def __init__(self, reason: str, *, over_limit: bool = False) -> None:
        super().__init__(reason)
        # Too big or too deep: refused outright, where a merely malformed body may be ignored.
        self.over_limit = over_limit


def depth(text: str) -> int:
    """How deeply arrays and objects nest in `text` (strings ignored)."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    level = deepest = 0
    for char in brackets:
        if char in "[{":
            level += 1
            deepest = max(deepest, level)
        else:
            level -= 1
    return deepest


def loads(raw: str | bytes, *, max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH) -> Any:
    """Parse JSON or raise BadJson: too big, too deep, not UTF-8, malformed, huge numbers."""
    if len(raw) > max_bytes:
        raise BadJson(f"too long (more than {max_bytes} bytes)", over_limit=True)
    try:
        text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    except UnicodeDecodeError:
        raise BadJson("not UTF-8") from None
    if depth(text) > max_depth:
        raise BadJson(f"nested too deeply (more than {max_depth} levels)", over_limit=True)
    try:
        return json.loads(text, parse_constant=_no_constant)
    except BadJson:
        raise
    except json.JSONDecodeError as exc:
        raise BadJson(f"not JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        # A number of more than 4,300 digits, or nesting the scanner above missed.
        raise BadJson(f"unreadable JSON: {type(exc).__name__}", over_limit=True) from None


def _no_constant(name: str) -> Any:
    """NaN and Infinity are not JSON; Python's parser accepts them unless told not to."""
    raise BadJson(f"not JSON: {name} is not a number")

"""Meta's error codes, sorted by what the bot does about them."""

from __future__ import annotations

from typing import Any, Literal

Outcome = Literal["window", "rate", "pair", "blocked", "permanent", "template", "transient"]

REENGAGEMENT = 131047  # more than 24 hours since the user last wrote: only templates may go
THROUGHPUT = 130429  # the phone number's messages-per-second limit
PAIR_RATE = 131056  # too many messages to the same user in a short time
# The user cannot receive our messages (not on WhatsApp, blocked the business, opted out).
BLOCKED = frozenset({131026, 131050})
# Our request is wrong and will stay wrong: sending it again changes nothing.
PERMANENT = frozenset({100, 131008, 131009, 131021, 131030, 131051, 131052, 131053, 131055})


def classify(code: int | None) -> Outcome:
    """What a Graph API error code means for the message; unknown codes are retried."""
    if code == REENGAGEMENT:
        return "window"
    if code == THROUGHPUT:
        return "rate"
    if code == PAIR_RATE:
        return "pair"
    if code in BLOCKED:
        return "blocked"
    if code in PERMANENT:
        return "permanent"
    if code is not None and 132000 <= code < 133000:
        return "template"  # the template is missing, paused or its parameters do not fit
    # Server errors, an expired token, a locked account, spam limits: an operator or time
    # fixes them, and the message must still go out then.
    return "transient"


def error_of(data: Any, status: int) -> tuple[int | None, str]:
    """The code and title of a Graph API error answer (or of a status's first error)."""
    error = data.get("error") if isinstance(data, dict) else None
    if not isinstance(error, dict):
        return None, f"HTTP {status}"
    code = error.get("code")
    title = error.get("title") or error.get("message") or f"HTTP {status}"
    return (code if isinstance(code, int) else None), str(title)[:200]

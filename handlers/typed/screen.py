"""The current screen of a chat, and what a typed text or number means on it."""

from __future__ import annotations

from handlers.turn import Turn
from handlers.typed.words import back_choice, number_of, pick

# Steps whose answer is free text: only a whole label or a role word picks a choice there, so
# that a description that happens to contain a label's word stays a description.
FREE_TEXT_STEPS = frozenset(
    {
        ("complaint", "commune"),
        ("complaint", "place"),
        ("complaint", "description"),
        ("complaint", "answer"),
        ("profile", "commune"),
        ("circle", "name"),
        ("quiz", "pseudo"),
        ("barometer", "comment"),
    }
)


def takes_free_text(turn: Turn) -> bool:
    """Whether the conversation's step waits for typed text."""
    return (turn.flow, turn.step) in FREE_TEXT_STEPS


def typed_choice(turn: Turn, text: str) -> str | None:
    """The id of the choice on screen that a typed text names (`1.`, `suite`, `eau`), if any."""
    screen = turn.screen
    if not screen:
        return None
    number = number_of(text)
    if number is not None and not text.isdigit():
        return screen[number - 1].id if 0 < number <= len(screen) else None
    found = pick(screen, text, free_text_step=takes_free_text(turn))
    return found.id if found is not None else None


def zero_choice(turn: Turn) -> str | None:
    """What `0` means: one level back (the theme from an article, the themes from a theme)."""
    found = back_choice(turn.screen)
    return found.id if found is not None else None

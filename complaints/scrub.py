"""Contact details (Malian phone numbers, e-mail addresses) taken out of free text. Pure."""

from __future__ import annotations

import re

PLACEHOLDER = "[coordonnée retirée]"
# +223 / 00223 / 223 optional, then eight digits, in pairs or not, spaces, dots or dashes
# between them; not inside a longer run of digits.
_PHONE = re.compile(r"(?<![\d+])(?:(?:\+|00)\s?223[\s.-]?|223[\s.-])?(?:\d[\s.-]?){7}\d(?!\d)")
# Any other international number written with its + (a relative abroad).
_INTERNATIONAL = re.compile(r"\+\s?\d(?:[\s.-]?\d){7,14}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def scrub_contacts(text: str) -> str:
    """The text with every phone number and e-mail address replaced by a placeholder."""
    text = _EMAIL.sub(PLACEHOLDER, text)
    text = _INTERNATIONAL.sub(PLACEHOLDER, text)
    return _PHONE.sub(PLACEHOLDER, text)

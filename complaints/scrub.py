"""Mask phone numbers and e-mail addresses in free text that leaves the bot without consent."""

from __future__ import annotations

import re
from datetime import date

PHONE_MASK = "[numéro masqué]"
EMAIL_MASK = "[e-mail masqué]"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)

# A Malian number has 8 digits, the first 2-9 (landlines 2x/4x, mobiles 5x-9x), written
# whole (70123456), in pairs (70 12 34 56, 70-12-34-56, 70.12.34.56) or in fours (7012 3456),
# optionally after the country code: +223, 00223, (+223) or a bare 223 glued to the number.
_SEP = r"[ \u00a0.\-]?"
_LOCAL = (
    # One separator throughout, so that 2024-03-12 is not read as 20 24 03 12.
    rf"(?:[2-9]\d(?P<sep>{_SEP})\d\d(?P=sep)\d\d(?P=sep)\d\d"  # 70 12 34 56, 70123456
    # Fours only with a space: 2023-0401 is a decree number.
    r"|[2-9]\d{3}[ \u00a0]\d{4})"  # 7012 3456
)
_COUNTRY = r"(?:\(?(?:\+|00)\s?223\)?[ \u00a0.\-]*|223[ \u00a0.\-]?(?=[2-9]\d))"
_PHONE = re.compile(
    # Not glued to other digits, letters or a dash-digit (references, dates, longer numbers);
    # an amount in francs (50000000 FCFA) is money, not a number to call.
    rf"(?<![\w+\-])(?P<number>{_COUNTRY}?{_LOCAL})"
    rf"(?![\w]|[\-.]\d|\s?(?:f\b|fcfa|cfa|francs?\b|xof))",
    re.IGNORECASE,
)
# Any other country's number, written with its international prefix (+33 6 12 34 56 78,
# 0033612345678): a relative abroad is as identifying as a Malian number. The prefix is
# required, so amounts and references are never taken for one.
_FOREIGN = re.compile(r"(?<![\w+])(?:\+|00(?=[1-9]))\(?\d{1,3}\)?(?:[ \u00a0.\-]?\d){6,12}(?!\d)")
_DIGITS = re.compile(r"\d")


def scrub_contacts(text: str) -> str:
    """The text with phone numbers and e-mail addresses replaced by a placeholder."""
    text = _EMAIL.sub(EMAIL_MASK, text)
    text = _PHONE.sub(_phone_or_date, text)
    return _FOREIGN.sub(PHONE_MASK, text)


def _phone_or_date(match: re.Match[str]) -> str:
    number = match.group("number")
    digits = "".join(_DIGITS.findall(number))
    # 20240312 written whole is a date (YYYYMMDD), not a Bamako landline.
    if len(digits) == 8 and digits.isdigit() and number.isdigit() and _is_date(digits):
        return number
    return PHONE_MASK


def _is_date(digits: str) -> bool:
    year, month, day = int(digits[:4]), int(digits[4:6]), int(digits[6:])
    if not 1900 <= year <= 2099:
        return False
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True

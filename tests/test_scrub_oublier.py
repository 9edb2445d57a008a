"""`oublier` leaves neither phone nor name in the database files (issue 13)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from complaints.scrub import EMAIL_MASK, PHONE_MASK, scrub_contacts
from tests.test_console_jsonl import Bot


@pytest.mark.parametrize(
    "written",
    [
        "76 54 32 10",
        "76543210",
        "+223 76 54 32 10",
        "00223 76.54.32.10",
        "223-76-54-32-10",
        "+33 6 12 34 56 78",
        "0033612345678",
    ],
)
def test_contacts_are_scrubbed(written: str) -> None:
    scrubbed = scrub_contacts(f"Appelez-moi au {written} svp")
    assert scrubbed == f"Appelez-moi au {PHONE_MASK} svp"


def test_an_email_is_scrubbed() -> None:
    scrubbed = scrub_contacts("Appelez-moi au awa.traore@example.org svp")
    assert scrubbed == f"Appelez-moi au {EMAIL_MASK} svp"


def test_other_numbers_stay() -> None:
    text = "La pompe est en panne depuis 14 jours, 3 000 familles, plainte KX4D-7PQ2, an 2026."
    assert scrub_contacts(text) == text


PHONE = "76 54 32 10"
NAME = "Aminata Kouyaté"
SECRET_WORDS = "forage du quartier Hamdallaye"


def scenario(bot: Bot) -> list[dict[str, Any]]:
    """A citizen who gives her name, writes her phone in a complaint, then asks to be forgotten."""
    who = {"from": "77123", "name": NAME}
    outputs = []
    for step in (
        {"text": "bonjour"},
        {"choice": "lang:fr"},
        {"text": "plainte"},
        {"choice": "complaint:new"},
        {"choice": "complaint:cat:eau"},
        {"text": "Kayes"},
        {"text": "quartier Plateau"},
        {"text": f"Le {SECRET_WORDS} est en panne, appelez-moi au {PHONE}"},
        {"choice": "complaint:media_done"},
        {"choice": "complaint:consent:yes"},
    ):
        outputs.append(bot.send(who | step))
    ids = [c["id"] for r in outputs[-1]["replies"] for c in r["choices"]]
    for step in ("complaint:dup_no", "complaint:confirm"):
        if step in ids or step == "complaint:confirm":
            outputs.append(bot.send(who | {"choice": step}))
    outputs.append(bot.send(who | {"text": "oublier"}))
    outputs.append(bot.send(who | {"choice": "privacy:forget_yes"}))
    return outputs


def test_oublier_then_no_phone_nor_name_in_the_files_nor_the_debug_log(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    log = tmp_path / "debug.log"
    bot = Bot(db, log, CIVICBOT_LOG_LEVEL="DEBUG")
    try:
        outputs = scenario(bot)
        confirmed = json.dumps(outputs[-3], ensure_ascii=False)
        assert re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}", confirmed), confirmed
        # Read while the bot still runs (a crash now would leave these files as they are).
        files = [p for p in tmp_path.iterdir() if p.name.startswith("bot.sqlite3")]
        for path in files:
            data = path.read_bytes()
            for secret in (PHONE, PHONE.replace(" ", ""), NAME, "Aminata", "Kouyat"):
                assert secret.encode() not in data, (path.name, secret)
    finally:
        bot.close()
    logs = log.read_text(encoding="utf-8")
    assert "DEBUG" in logs or "INFO" in logs
    for secret in (PHONE, NAME, "Aminata", SECRET_WORDS, "77123"):
        assert secret not in logs, secret

"""Reply's typed fields read outbox rows written before they existed, and write the same JSON."""

from __future__ import annotations

from handlers.messages import Choice, Reply


def test_a_stored_row_of_before_reads_into_typed_fields_and_writes_back_the_same() -> None:
    stored = {
        "chat": "-100",
        "text": "Question 1/10",
        "choices": [{"id": "gquiz:1:0:0", "label": "Oui"}],
        "only_for": "42",
        "edit_of": "row-1",
        "whatsapp_template": "eid_2026",
        "complaint": "k1",
        "partner": "exemple-kayes",
        "_whatsapp_status": "sent",
    }
    reply = Reply.from_dict(stored)
    assert (reply.only_for, reply.edit_of, reply.template) == ("42", "row-1", "eid_2026")
    assert (reply.complaint, reply.partner) == ("k1", "exemple-kayes")
    assert reply.extra == {"_whatsapp_status": "sent"}
    assert reply.to_dict("-100") == stored


def test_typed_fields_given_in_extra_by_older_code_still_reach_channels() -> None:
    reply = Reply("Bonjour", extra={"open_private": "group", "open_private_label": "Ouvrir"})
    assert (reply.open_private, reply.open_private_label, reply.extra) == ("group", "Ouvrir", {})
    typed = Reply("Bonjour", choices=(Choice("menu", "Menu"),), open_private="group")
    assert typed.to_dict("c")["open_private"] == "group"

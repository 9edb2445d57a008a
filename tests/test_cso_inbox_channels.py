"""The CSO inbox on the real channels: a Telegram group and a WhatsApp chat, beyond one screen."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from content.pack import ContentPack
from tests.conftest import FakeClock
from tests.fake_graph import list_reply
from tests.fake_telegram import tap_update, text_update
from tests.test_cso_inbox import file
from tests.test_dialog_complaints import REF
from tests.test_telegram import _close, _rig
from tests.test_whatsapp import close_rig, make_rig


async def test_inbox_in_a_telegram_group(tmp_path: Path, pack: ContentPack) -> None:
    rig = await _rig(tmp_path, pack)
    try:
        fake, group = rig.fake, -3003
        filed = await file(rig.store, pack, FakeClock(datetime.now(UTC) - timedelta(days=12)), 9)
        await rig.store.create_link_code(
            "exemple-kayes", "LIENKAYE", datetime.now(UTC) + timedelta(days=1)
        )
        # Members who never wrote to the bot in private.
        fake.push(text_update(71, "/lier@civic_test_bot LIENKAYE", cid=group, kind="supergroup"))
        linked, summary = await fake.wait_sent(2, group)
        assert "relié" in linked.text
        assert "9 signalements vous attendaient" in summary.text
        assert [m[0] for m in REF.finditer(summary.text)] == filed[:6]
        assert len(summary.buttons) <= 8
        next_page = next(b["callback_data"] for b in summary.buttons if "Suivants" in b["text"])
        fake.push(tap_update(72, next_page, cid=group, kind="supergroup"))
        [page2] = (await fake.wait_sent(3, group))[2:]
        assert [m[0] for m in REF.finditer(page2.text)] == filed[6:]
        fake.push(text_update(72, "/plaintes@civic_test_bot", cid=group, kind="supergroup"))
        [listing] = (await fake.wait_sent(4, group))[3:]
        assert "Signalements ouverts : 9 (page 1/2)" in listing.text
        typed = filed[7].replace("-", "").lower()
        fake.push(text_update(73, f"/plainte@civic_test_bot {typed}", cid=group, kind="supergroup"))
        [one] = (await fake.wait_sent(5, group))[4:]
        assert filed[7] in one.text and "Historique :" in one.text
        assert any(b["callback_data"].startswith("cso:ack:") for b in one.buttons)
        fake.push(text_update(73, "/plainte@civic_test_bot", cid=group, kind="supergroup"))
        [usage] = (await fake.wait_sent(6, group))[5:]
        assert "/plainte RÉFÉRENCE" in usage.text
    finally:
        await _close(rig)


async def test_inbox_in_a_whatsapp_chat(tmp_path: Path, pack: ContentPack) -> None:
    rig = await make_rig(tmp_path, pack)
    try:
        filed = await file(rig.store, pack, FakeClock(rig.clock() - timedelta(days=12)), 9)
        await rig.store.create_link_code(
            "exemple-kayes", "LIENKAYE", rig.clock() + timedelta(days=1)
        )
        cso = "22376000001"
        sent = await rig.say(cso, "/lier LIENKAYE")
        summary = next(s for s in sent if "vous attendaient" in s.text)
        assert summary.interactive == "list" and len(summary.rows) <= 10
        assert [m[0] for m in REF.finditer(summary.text)] == filed[:6]
        page2 = await rig.send(cso, list_reply(cso, "inbox:list:1"))
        assert [m[0] for m in REF.finditer(page2[-1].text)] == filed[6:]
        listing = await rig.say(cso, "plaintes 2")
        assert "page 2/2" in listing[-1].text
        one = await rig.say(cso, f"/plainte {filed[0].lower()}")
        assert filed[0] in one[-1].text and "Historique :" in one[-1].text
        assert f"cso:ack:{filed[0].replace('-', '')}" in one[-1].ids
    finally:
        await close_rig(rig)

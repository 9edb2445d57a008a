"""A campaign through both real senders: the delivery worker, aiogram against the fake Bot API
and the WhatsApp sender against the fake Graph API, on one store and one injected clock."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest

from bot.campaigns.model import Campaign, load_campaign
from bot.campaigns.schedule import LEAD
from bot.channels.telegram.channel import make_bot
from bot.channels.telegram.flood import FloodControl
from bot.channels.telegram.sender import TelegramSender
from bot.commands.campaign import Rates, make_plan, send, status
from bot.delivery import DeliveryWorker
from content.pack import ContentPack
from storage.records import UserRecord
from tests.fake_telegram import FakeTelegram
from tests.test_whatsapp import Rig, close_rig, make_rig

EXAMPLE = Path(__file__).resolve().parent.parent / "campaigns" / "eid-10-decembre.yaml"
TEMPLATE = "civicbot_campaign"
RATES = Rates({"telegram": 30.0, "whatsapp": 80.0}, None)
IN, ALSO_IN, OUT = "bamako-commune-iv", "kayes", "sikasso"


@dataclass
class Mixed:
    """The WhatsApp rig (store, clock, fake Graph) with a Telegram sender on the same store."""

    wa: Rig
    tg: FakeTelegram
    worker: DeliveryWorker
    # User key -> expected on the wire: "free" or "template" on WhatsApp, "telegram".
    expected: dict[str, str]
    language: dict[str, str]


@pytest.fixture(name="m")
async def mixed(tmp_path: Path, pack: ContentPack) -> AsyncIterator[Mixed]:
    wa = await make_rig(tmp_path, pack, templates={"campaign": TEMPLATE})
    tg = await FakeTelegram().start()
    bot = make_bot(tg.token, tg.url)
    telegram = TelegramSender(bot, wa.store, FloodControl(1000, 1000, 60000))
    expected: dict[str, str] = {}
    language: dict[str, str] = {}
    now = wa.clock()

    async def user(
        channel: str,
        uid: str,
        commune: str,
        lang: str,
        *,
        inbound_ago: timedelta | None = timedelta(hours=1),
        stopped: bool = False,
        wire: str | None = None,
    ) -> None:
        record = UserRecord(
            key=f"{channel}:{uid}",
            channel=channel,
            external_id=uid,
            created_at=now - timedelta(days=3),
            last_seen_at=now,
            language=lang,
            commune=commune,
            stopped=stopped,
            last_inbound_at=now - inbound_ago if inbound_ago is not None else None,
        )
        async with wa.store.transaction() as tx:
            tx.save_user(record)
        if wire is not None:
            expected[record.key] = wire
            language[record.key] = lang

    for n in range(24):  # enough Telegram chats for a storm to matter
        lang = "bm" if n % 3 == 0 else "fr"
        await user("telegram", str(7000 + n), IN if n % 2 else ALSO_IN, lang, wire="telegram")
    await user("telegram", "7100", IN, "fr", stopped=True)
    await user("telegram", "7101", OUT, "fr")
    await user("whatsapp", "22370001001", IN, "fr", wire="free")
    await user("whatsapp", "22370001002", ALSO_IN, "bm", wire="free")
    await user("whatsapp", "22370001003", IN, "fr", inbound_ago=timedelta(days=2), wire="template")
    await user("whatsapp", "22370001004", ALSO_IN, "bm", inbound_ago=None, wire="template")
    await user("whatsapp", "22370001005", IN, "fr", stopped=True)
    await user("whatsapp", "22370001006", OUT, "fr")
    worker = wa.worker(telegram=telegram)
    try:
        yield Mixed(wa, tg, worker, expected, language)
    finally:
        await bot.session.close()
        await tg.stop()
        await close_rig(wa)


def campaign() -> Campaign:
    data = load_campaign(EXAMPLE).model_dump()
    data["audience"] = {"communes": [IN, ALSO_IN]}
    return Campaign.model_validate(data)


async def drain(m: Mixed, seconds: int = 120) -> None:
    """The bot's delivery loop, second by second of the injected clock."""
    for _ in range(seconds):
        while await m.worker.run_once() > 0:
            pass
        m.wa.clock.advance(seconds=1)


def received(m: Mixed) -> Counter[str]:
    """User key -> how many messages reached them, on both fake servers."""
    got = Counter(f"telegram:{call.chat}" for call in m.tg.sent())
    got.update(f"whatsapp:{sent.to}" for sent in m.wa.graph.sent())
    return got


async def test_mixed_audience_right_people_once_template_outside_the_window(m: Mixed) -> None:
    plan = await make_plan(m.wa.store, campaign(), RATES, {"campaign": TEMPLATE}, m.wa.clock())
    assert {ch: sum(c.values()) for ch, c in plan.recipients.items()} == {
        "telegram": 24,
        "whatsapp": 4,
    }
    assert plan.recipients["whatsapp"] == Counter({"fr": 2, "bm": 2})
    assert (plan.outside_window, plan.excluded_stopped, plan.template) == (2, 2, TEMPLATE)
    assert not plan.warnings

    result = await send(m.wa.store, campaign(), RATES, m.wa.clock)
    assert (result.queued_now, result.excluded_stopped) == (28, 2)
    m.wa.clock.advance(seconds=LEAD.total_seconds())
    await drain(m, seconds=30)

    got = received(m)
    assert set(got) == set(m.expected) and set(got.values()) == {1}
    for call in m.tg.sent():
        key = f"telegram:{call.chat}"
        start = "San o san" if m.language[key] == "bm" else "Le 10 décembre"
        assert call.text.startswith(start)
        assert call.buttons[0]["callback_data"].endswith("espace-interpellation-democratique")
    for sent in m.wa.graph.sent():
        key = f"whatsapp:{sent.to}"
        if m.expected[key] == "template":
            assert sent.type == "template"
            assert sent.payload["template"]["name"] == TEMPLATE
        else:
            assert sent.interactive == "button"
            start = "San o san" if m.language[key] == "bm" else "Le 10 décembre"
            assert sent.text.startswith(start)

    # Sending again queues nobody; the bot sends nothing more.
    again = await send(m.wa.store, campaign(), RATES, m.wa.clock)
    assert again.queued_now == 0
    await drain(m, seconds=5)
    assert received(m) == got
    figures = await status(m.wa.store, "eid-10-decembre")
    assert figures and (figures["status"], figures["sent"], figures["pending"]) == ("done", 28, 0)


async def test_a_429_storm_on_telegram_and_a_stop_in_the_middle(m: Mixed) -> None:
    await send(m.wa.store, campaign(), RATES, m.wa.clock)
    m.tg.fail("sendMessage", "429", times=12, retry_after=1)
    # One Telegram user says stop after the campaign is queued: their row is dropped.
    await m.wa.store.mark_stopped("telegram:7004")
    m.wa.clock.advance(seconds=LEAD.total_seconds())
    await drain(m, seconds=180)

    refused = [c for c in m.tg.calls if c.method == "!sendMessage"]
    assert len(refused) == 12  # the storm happened, and was waited out
    wanted = set(m.expected) - {"telegram:7004"}
    got = received(m)
    assert set(got) == wanted and set(got.values()) == {1}
    figures = await status(m.wa.store, "eid-10-decembre")
    assert figures and (figures["sent"], figures["stopped"], figures["pending"]) == (27, 1, 0)
    assert figures["failed"] == 0 and figures["dead"] == 0

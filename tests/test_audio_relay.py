"""A voice-note complaint forwarded across platforms: WhatsApp citizen to a Telegram CSO group
and Telegram citizen to a CSO's WhatsApp number, both real channels in one process against the
fake Bot API and the fake Graph API, delivered by the outbox."""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.telegram.channel import TelegramChannel, make_bot
from bot.channels.telegram.flood import FloodControl
from bot.channels.whatsapp.channel import PATH, SIGNATURE_HEADER, WhatsAppChannel
from bot.channels.whatsapp.sender import GraphConfig, WhatsAppSender
from bot.channels.whatsapp.window import Window
from bot.delivery import DeliveryWorker
from content.audio import silent_opus
from content.pack import BUNDLED_PACK, load_pack
from handlers.engine import Engine, EngineSettings, utc_now
from storage.sqlite import SqliteStore
from tests.fake_graph import (
    APP_SECRET,
    PHONE_ID,
    TOKEN,
    VERIFY_TOKEN,
    FakeGraph,
    Sent,
    button_reply,
    dumps,
    list_reply,
    sign,
    text,
    voice,
)
from tests.fake_telegram import Call, FakeTelegram, tap_update, text_update, voice_update

CSO_GROUP, CSO_MEMBER = -1001, 501
CSO_NUMBER = "22370000101"
PARTNER = "exemple-kayes"  # covers water problems in Kayes


@dataclass
class Rig:
    store: SqliteStore
    tg: FakeTelegram
    graph: FakeGraph
    telegram: TelegramChannel
    whatsapp: WhatsAppChannel
    client: TestClient
    polling: asyncio.Task[None]

    def worker(self, later: timedelta = timedelta(0)) -> DeliveryWorker:
        """The delivery worker of `civicbot run`, with both channels, `later` from now."""
        senders = {"telegram": self.telegram.sender, "whatsapp": self.whatsapp.sender}
        return DeliveryWorker(self.store, senders, clock=lambda: utc_now() + later)

    # --- Telegram ---------------------------------------------------------------------------

    async def tg_step(self, update: dict[str, object], chat: int, count: int) -> list[Call]:
        self.tg.push(update)
        sent = await self.tg.wait_sent(count, chat)
        assert len(sent) >= count, [c.text for c in sent]
        return sent

    # --- WhatsApp ---------------------------------------------------------------------------

    async def wa_send(self, wa_id: str, body: dict[str, Any]) -> list[Sent]:
        before = len(self.graph.sent(wa_id))
        raw = dumps(body)
        resp = await self.client.post(PATH, data=raw, headers={SIGNATURE_HEADER: sign(raw)})
        assert resp.status == 200
        await self.whatsapp.settle()
        return self.graph.sent(wa_id)[before:]

    async def wa_say(self, wa_id: str, words: str) -> list[Sent]:
        return await self.wa_send(wa_id, text(wa_id, words))

    async def wa_tap(self, wa_id: str, choice: str) -> list[Sent]:
        sent = self.graph.sent(wa_id)
        kind = sent[-1].interactive if sent else None
        body = list_reply(wa_id, choice) if kind == "list" else button_reply(wa_id, choice)
        return await self.wa_send(wa_id, body)


@pytest.fixture
async def rig(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Rig]:
    shutil.copytree(BUNDLED_PACK, tmp_path / "pack")
    pack = load_pack(tmp_path / "pack")
    store = await SqliteStore.open(tmp_path / "both.sqlite3")
    engine = Engine(store, lambda: pack, settings=EngineSettings())
    tg = await FakeTelegram().start()
    flood = FloodControl(global_rate=1000.0, chat_rate=1000.0, group_per_minute=60000.0)
    telegram = TelegramChannel(make_bot(tg.token, tg.url), engine, store, flood)
    await telegram.start()
    polling = asyncio.create_task(telegram.run_polling())
    graph = await FakeGraph().start()
    config = GraphConfig(graph.url, PHONE_ID, TOKEN, rate=1000.0, timeout=10.0)
    # WhatsApp templates by kind of row, for tests of the 24-hour window (none by default).
    templates: dict[str, str] = getattr(request, "param", {})
    sender = WhatsAppSender(config, store, Window(store, templates, ["fr"]), backoff=0.05)
    whatsapp = WhatsAppChannel(
        engine, store, sender, app_secret=APP_SECRET, verify_token=VERIFY_TOKEN
    )
    await whatsapp.start()
    app = web.Application()
    whatsapp.add_routes(app)
    client = TestClient(TestServer(app))
    await client.start_server()
    yield Rig(store, tg, graph, telegram, whatsapp, client, polling)
    await client.close()
    await whatsapp.close()
    await telegram.close()
    await asyncio.wait_for(polling, timeout=10)
    await store.close()
    await graph.stop()
    await tg.stop()


async def link_group(rig: Rig) -> None:
    code = "CGROUP1"
    await rig.store.create_link_code(PARTNER, code, datetime.now(UTC) + timedelta(days=1))
    update = text_update(CSO_MEMBER, f"/lier {code}", CSO_GROUP, "supergroup")
    sent = await rig.tg_step(update, CSO_GROUP, 1)
    assert "relié" in sent[-1].text


async def link_number(rig: Rig) -> None:
    code = "WNUMBER1"
    await rig.wa_say(CSO_NUMBER, "bonjour")
    await rig.wa_tap(CSO_NUMBER, "lang:fr")
    await rig.store.create_link_code(PARTNER, code, datetime.now(UTC) + timedelta(days=1))
    assert "relié" in (await rig.wa_say(CSO_NUMBER, f"/lier {code}"))[0].text


async def wa_voice_complaint(rig: Rig, wa_id: str, media_id: str, data: bytes) -> None:
    """A WhatsApp citizen describes a water problem in Kayes with a voice note."""
    await rig.wa_say(wa_id, "bonjour")
    await rig.wa_tap(wa_id, "lang:fr")
    await rig.wa_say(wa_id, "plainte")
    await rig.wa_tap(wa_id, "complaint:new")
    await rig.wa_tap(wa_id, "complaint:cat:eau")
    await rig.wa_say(wa_id, "Kayes")
    out = await rig.wa_say(wa_id, "quartier Plateau")
    assert "une voix peut être reconnue" in " ".join(s.text for s in out)
    rig.graph.add_media(media_id, data)
    out = await rig.wa_send(wa_id, voice(wa_id, media_id))
    assert "Note vocale reçue" in " ".join(s.text for s in out)
    await rig.wa_tap(wa_id, "complaint:media_done")
    await rig.wa_tap(wa_id, "complaint:consent:no")
    out = await rig.wa_tap(wa_id, "complaint:confirm")
    assert "signalement est enregistré" in " ".join(s.text for s in out)


async def tg_voice_complaint(rig: Rig, uid: int, file_id: str, data: bytes) -> None:
    """A Telegram citizen describes a water problem in Kayes with a voice note."""
    await rig.tg_step(text_update(uid, "bonjour"), uid, 1)
    await rig.tg_step(tap_update(uid, "lang:fr"), uid, 3)
    await rig.tg_step(text_update(uid, "plainte"), uid, 4)
    await rig.tg_step(tap_update(uid, "complaint:new"), uid, 5)
    await rig.tg_step(tap_update(uid, "complaint:cat:eau"), uid, 6)
    await rig.tg_step(text_update(uid, "Kayes"), uid, 7)
    await rig.tg_step(text_update(uid, "quartier Plateau"), uid, 8)
    rig.tg.add_file(file_id, data)
    sent = await rig.tg_step(voice_update(uid, file_id), uid, 10)
    assert "Note vocale reçue" in sent[-2].text
    await rig.tg_step(tap_update(uid, "complaint:media_done"), uid, 11)
    await rig.tg_step(tap_update(uid, "complaint:consent:no"), uid, 12)
    await rig.tg_step(tap_update(uid, "complaint:confirm"), uid, 13)


async def test_a_whatsapp_voice_complaint_reaches_a_telegram_group_as_a_voice_note(
    rig: Rig,
) -> None:
    await link_group(rig)
    await link_number(rig)  # the same CSO also reads complaints on a WhatsApp number
    note = silent_opus(12)
    await wa_voice_complaint(rig, "22370000401", "MEDIA-CITIZEN-1", note)
    before_wa = len(rig.graph.sent(CSO_NUMBER))
    await rig.worker().run_once()

    group = await rig.tg.wait_sent(3, CSO_GROUP)
    assert "quartier Plateau" in group[1].text and "Référence" in group[1].text
    assert group[2].method == "sendVoice"
    # Telegram got the note's own bytes, uploaded: a WhatsApp media id means nothing there.
    assert rig.tg.uploads == [note] and group[2].params["voice"].startswith("attach://")
    # The CSO's WhatsApp number hears it by the citizen's own media id: no download for it.
    on_wa = rig.graph.sent(CSO_NUMBER)[before_wa:]
    assert "quartier Plateau" in on_wa[0].text
    assert on_wa[1].type == "audio" and on_wa[1].payload["audio"]["id"] == "MEDIA-CITIZEN-1"
    assert rig.graph.downloads == ["MEDIA-CITIZEN-1"] and not rig.graph.uploads
    # Nothing of the voice was kept: no file written, no row holds its bytes or hash.
    assert rig.telegram.sender.relay.carried == 1
    uploads = await rig.store.fetch_all("SELECT COUNT(*) FROM audio_uploads", ())
    assert uploads[0][0] == 0
    # Delivered once: another run of the worker sends nothing again.
    await rig.worker(timedelta(hours=1)).run_once()
    assert len(rig.tg.sent(CSO_GROUP)) == 3 and len(rig.tg.uploads) == 1


async def test_a_telegram_voice_complaint_reaches_a_whatsapp_number_as_an_audio_message(
    rig: Rig,
) -> None:
    await link_number(rig)
    note = silent_opus(9)
    before = len(rig.graph.sent(CSO_NUMBER))
    await tg_voice_complaint(rig, 910, "VOICE-CITIZEN-TG", note)
    await rig.worker().run_once()
    on_wa = rig.graph.sent(CSO_NUMBER)[before:]
    assert [s.type for s in on_wa] == ["interactive", "audio"], [s.type for s in on_wa]
    assert "quartier Plateau" in on_wa[0].text
    # Downloaded from Telegram once, uploaded to Meta once, sent by the new media id.
    assert rig.tg.downloads == ["VOICE-CITIZEN-TG.oga"]
    assert rig.graph.uploads == [note]
    assert rig.graph.media[on_wa[1].payload["audio"]["id"]] == note


async def test_a_note_too_big_for_whatsapp_becomes_a_clear_text(rig: Rig) -> None:
    await link_number(rig)
    before = len(rig.graph.sent(CSO_NUMBER))
    # Telegram voice notes may be longer than the 16 MB WhatsApp takes.
    big = b"OggS" + bytes(17 * 1024 * 1024)
    await tg_voice_complaint(rig, 911, "VOICE-CITIZEN-BIG", big)
    await rig.worker().run_once()
    on_wa = rig.graph.sent(CSO_NUMBER)[before:]
    assert len(on_wa) == 2 and "quartier Plateau" in on_wa[0].text
    assert on_wa[1].type == "text"
    assert "note vocale" in on_wa[1].text and "trop lourde" in on_wa[1].text
    assert "Question au citoyen" in on_wa[1].text  # what the CSO can do instead
    assert not rig.graph.uploads and not rig.tg.downloads  # refused from its size alone
    rows = await rig.store.fetch_all(
        "SELECT state FROM outbox WHERE channel = 'whatsapp' AND kind = 'forward'", ()
    )
    assert {r[0] for r in rows} == {"sent"}


async def test_a_failed_download_is_retried_by_the_outbox_not_lost(rig: Rig) -> None:
    await link_group(rig)
    note = silent_opus(7)
    await wa_voice_complaint(rig, "22370000402", "MEDIA-CITIZEN-2", note)
    rig.graph.fail_downloads(1)  # Meta's media server fails once
    await rig.worker().run_once()
    group = await rig.tg.wait_sent(2, CSO_GROUP)
    assert "quartier Plateau" in group[-1].text  # the text went; the voice waits
    assert not rig.tg.uploads
    [(attempts, error)] = await rig.store.fetch_all(
        "SELECT attempts, last_error FROM outbox WHERE state != 'sent'", ()
    )
    assert attempts == 1 and "download" in error
    await rig.worker(timedelta(hours=1)).run_once()  # past the backoff
    group = await rig.tg.wait_sent(3, CSO_GROUP)
    assert group[2].method == "sendVoice" and rig.tg.uploads == [note]
    assert sum("quartier Plateau" in c.text for c in group) == 1  # the text went once


async def test_a_telegram_note_that_is_gone_becomes_a_text_to_the_cso_at_once(rig: Rig) -> None:
    await link_number(rig)
    before = len(rig.graph.sent(CSO_NUMBER))
    await tg_voice_complaint(rig, 912, "VOICE-CITIZEN-GONE", silent_opus(5))
    rig.tg.forget_file("VOICE-CITIZEN-GONE")  # getFile: 400 "invalid file_id"
    await rig.worker().run_once()
    on_wa = rig.graph.sent(CSO_NUMBER)[before:]
    assert len(on_wa) == 2 and "quartier Plateau" in on_wa[0].text
    # One try, no retries: the CSO reads at once that there was a note and what to do.
    assert on_wa[1].type == "text" and "ne la garde plus" in on_wa[1].text
    assert "Question au citoyen" in on_wa[1].text
    assert not rig.graph.uploads
    rows = await rig.store.fetch_all(
        "SELECT state, attempts FROM outbox WHERE channel = 'whatsapp' AND kind = 'forward'", ()
    )
    assert {r[0] for r in rows} == {"sent"}
    await rig.worker(timedelta(hours=1)).run_once()
    assert len(rig.graph.sent(CSO_NUMBER)) == before + 2  # said once, not again


@pytest.mark.parametrize("loss", ["forgotten id", "file 404"])
async def test_a_whatsapp_note_that_is_gone_becomes_a_text_to_the_cso_at_once(
    rig: Rig, loss: str
) -> None:
    await link_group(rig)
    await wa_voice_complaint(rig, "22370000403", "MEDIA-CITIZEN-GONE", silent_opus(6))
    if loss == "forgotten id":
        rig.graph.forget_media("MEDIA-CITIZEN-GONE")  # URL lookup: 400, code 100
    else:
        rig.graph.lose_download("MEDIA-CITIZEN-GONE")  # the URL itself: 404
    await rig.worker().run_once()
    group = await rig.tg.wait_sent(3, CSO_GROUP)
    assert "quartier Plateau" in group[1].text
    assert group[2].method == "sendMessage" and "ne la garde plus" in group[2].text
    assert not rig.tg.uploads
    rows = await rig.store.fetch_all("SELECT state FROM outbox WHERE kind = 'forward'", ())
    assert {r[0] for r in rows} == {"sent"}


async def close_window(rig: Rig, wa_id: str) -> None:
    """The user last wrote two days ago: only templates may go to them now."""
    old = (datetime.now(UTC) - timedelta(days=2)).isoformat()
    await rig.store.fetch_all(
        "UPDATE users SET last_inbound_at = ? WHERE key = ? RETURNING key",
        (old, f"whatsapp:{wa_id}"),
    )


async def test_a_note_to_a_closed_window_waits_behind_its_text_and_goes_when_the_cso_writes(
    rig: Rig,
) -> None:
    await link_number(rig)
    await close_window(rig, CSO_NUMBER)
    before = len(rig.graph.sent(CSO_NUMBER))
    note = silent_opus(8)
    await tg_voice_complaint(rig, 913, "VOICE-CITIZEN-WIN", note)
    await rig.worker().run_once()
    assert rig.graph.sent(CSO_NUMBER)[before:] == []  # no template for forwards: both wait
    rows = await rig.store.fetch_all(
        "SELECT state FROM outbox WHERE channel = 'whatsapp' AND kind = 'forward'", ()
    )
    assert sorted(r[0] for r in rows) == ["failed", "pending"]  # kept, nothing lost
    await rig.wa_say(CSO_NUMBER, "bonjour")  # the CSO writes: the window opens
    await rig.worker().run_once()
    forward = [
        s
        for s in rig.graph.sent(CSO_NUMBER)[before:]
        if s.type == "audio" or "quartier Plateau" in s.text
    ]
    assert [s.type for s in forward] == ["interactive", "audio"]  # the text, then its note
    assert rig.graph.media[forward[1].payload["audio"]["id"]] == note


@pytest.mark.parametrize("rig", [{"forward": "cso_forward"}], indirect=True)
async def test_a_note_never_goes_as_an_empty_template_and_follows_when_the_cso_writes(
    rig: Rig,
) -> None:
    await link_number(rig)
    await close_window(rig, CSO_NUMBER)
    before = len(rig.graph.sent(CSO_NUMBER))
    note = silent_opus(8)
    await tg_voice_complaint(rig, 914, "VOICE-CITIZEN-TPL", note)
    await rig.worker().run_once()
    sent = rig.graph.sent(CSO_NUMBER)[before:]
    # The forward's text goes as the template, with its words; the note does not become an
    # empty template: it waits for the window.
    assert [s.type for s in sent] == ["template"] and "quartier Plateau" in json.dumps(
        sent[0].payload
    )
    [(state, error)] = await rig.store.fetch_all(
        "SELECT state, last_error FROM outbox WHERE channel = 'whatsapp' AND state != 'sent'", ()
    )
    assert state == "failed" and error.startswith("whatsapp window:")
    assert not rig.graph.uploads
    await rig.wa_say(CSO_NUMBER, "bonjour")
    await rig.worker().run_once()
    audio = [s for s in rig.graph.sent(CSO_NUMBER)[before:] if s.type == "audio"]
    assert len(audio) == 1 and rig.graph.media[audio[0].payload["audio"]["id"]] == note

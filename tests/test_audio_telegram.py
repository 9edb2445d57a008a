"""Voice notes on Telegram, end to end: the real aiogram client against the fake Bot API."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from bot.channels.telegram.channel import TelegramChannel, make_bot
from bot.channels.telegram.flood import FloodControl
from bot.delivery import DeliveryWorker
from content.audio import MAX_SECONDS, silent_opus
from content.pack import BUNDLED_PACK, ContentPack, load_pack
from handlers.engine import Engine, EngineSettings
from storage.sqlite import SqliteStore
from tests.fake_telegram import (
    Call,
    FakeTelegram,
    document_update,
    tap_update,
    text_update,
    voice_update,
)

CSO_GROUP, CSO_MEMBER = -1001, 501
DESK_GROUP, DESK_MEMBER = -1002, 601
KEY = "article:quota-genre:1"


@dataclass
class Rig:
    fake: FakeTelegram
    store: SqliteStore
    pack: ContentPack
    channel: TelegramChannel
    polling: asyncio.Task[None]

    async def deliver(self) -> None:
        await DeliveryWorker(self.store, {"telegram": self.channel.sender}).run_once()

    async def step(self, update: dict[str, object], chat: int, count: int) -> list[Call]:
        """Push an update and wait until `chat` has received `count` messages in all."""
        self.fake.push(update)
        sent = await self.fake.wait_sent(count, chat)
        assert len(sent) >= count, [c.text for c in sent]
        return sent

    async def link(self, partner: str, group: int, member: int) -> None:
        code = f"C{abs(group)}"
        await self.store.create_link_code(partner, code, datetime.now(UTC) + timedelta(days=1))
        await self.step(text_update(member, f"/lier {code}", group, "supergroup"), group, 1)


@pytest.fixture
async def rig(tmp_path: Path) -> AsyncIterator[Rig]:
    shutil.copytree(BUNDLED_PACK, tmp_path / "pack")
    pack = load_pack(tmp_path / "pack")
    fake = await FakeTelegram().start()
    store = await SqliteStore.open(tmp_path / "tg.sqlite3")
    engine = Engine(store, lambda: pack, settings=EngineSettings())
    flood = FloodControl(global_rate=1000.0, chat_rate=1000.0, group_per_minute=60000.0)
    channel = TelegramChannel(make_bot(fake.token, fake.url), engine, store, flood)
    await channel.start()
    task = asyncio.create_task(channel.run_polling())
    r = Rig(fake, store, pack, channel, task)
    await r.link("exemple-kayes", CSO_GROUP, CSO_MEMBER)
    await r.link("bureau-programme", DESK_GROUP, DESK_MEMBER)
    yield r
    await channel.close()
    await asyncio.wait_for(task, timeout=10)
    await store.close()
    await fake.stop()


async def record(rig: Rig, file_id: str, data: bytes, page: int = 1) -> list[Call]:
    """A CSO member announces page `page` and sends a voice note; the group's messages."""
    before = len(rig.fake.sent(CSO_GROUP))
    command = text_update(
        CSO_MEMBER, f"/enregistrer quota-genre {page} fr", CSO_GROUP, "supergroup"
    )
    sent = await rig.step(command, CSO_GROUP, before + 1)
    assert "Répondez à ce message par une note vocale" in sent[-1].text
    rig.fake.add_file(file_id, data)
    return await rig.step(
        voice_update(CSO_MEMBER, file_id, CSO_GROUP, "supergroup"), CSO_GROUP, before + 3
    )


async def listener(rig: Rig, uid: int) -> None:
    """A citizen who chose "Écouter plutôt que lire" in her profile."""
    await rig.step(text_update(uid, "bonjour"), uid, 1)
    await rig.step(tap_update(uid, "lang:fr"), uid, 3)
    await rig.step(tap_update(uid, "menu:profile"), uid, 4)
    sent = await rig.step(tap_update(uid, "profile:listen:on"), uid, 6)
    assert "note vocale" in sent[4].text


async def review(rig: Rig, label: str) -> None:
    """The desk hears the draft in its chat and taps Approuver or Refuser."""
    await rig.deliver()
    sent = await rig.fake.wait_sent(3, DESK_GROUP)
    assert sent[1].method == "sendVoice" and "Nouvel enregistrement" in sent[2].text
    button = next(b for b in sent[2].buttons if label in b["text"])
    await rig.step(
        tap_update(DESK_MEMBER, button["callback_data"], DESK_GROUP, "supergroup"), DESK_GROUP, 4
    )


async def test_recorded_in_a_group_approved_by_the_desk_heard_by_a_listener(rig: Rig) -> None:
    fake = rig.fake
    sent = await record(rig, "REC-1", silent_opus(20))
    assert sent[-2].method == "sendVoice"  # played back for confirmation
    assert "brouillon" in sent[-1].text
    assert len(fake.uploads) == 1
    stored = yaml.safe_load((rig.pack.path / "audio.yaml").read_text())
    draft = stored["recordings"][KEY]["fr"]
    assert draft["state"] == "draft" and draft["recorded_by"] == "exemple-kayes"
    # The member is not named (a whole number: a random hex id may contain its digits).
    assert not re.search(rf"\b{CSO_MEMBER}\b", yaml.safe_dump(stored))
    assert (rig.pack.path / "audio" / draft["file"]).read_bytes() == fake.files["REC-1"]

    await listener(rig, 700)
    sent = await rig.step(tap_update(700, "learn:article:quota-genre"), 700, 7)
    assert sent[6].method == "sendMessage"  # a draft is not served to citizens

    await review(rig, "Approuver")
    assert "approuvé" in fake.sent(DESK_GROUP)[-1].text

    sent = await rig.step(tap_update(700, "learn:article:quota-genre"), 700, 9)
    assert sent[7].method == "sendVoice" and sent[7].params["voice"] == "VOICE-1"
    assert sent[8].text.startswith("Loi 2015-052")  # the text under the voice note
    assert len(fake.uploads) == 1  # the file went up once, then its file id was reused
    assert str(CSO_MEMBER) not in " ".join(c.text for c in sent)

    # Someone who reads gets an "Écouter" button that plays the same note.
    await rig.step(text_update(800, "bonjour"), 800, 1)
    await rig.step(tap_update(800, "lang:fr"), 800, 3)
    sent = await rig.step(tap_update(800, "learn:article:quota-genre"), 800, 4)
    assert sent[3].method == "sendMessage"
    listen = next(b for b in sent[3].buttons if "Écouter" in b["text"])
    sent = await rig.step(tap_update(800, listen["callback_data"]), 800, 5)
    assert sent[4].method == "sendVoice" and sent[4].params["voice"] == "VOICE-1"

    # Telegram forgets the file id: the file goes up again, once.
    fake.forgotten_files.add("VOICE-1")
    sent = await rig.step(tap_update(700, "learn:article:quota-genre"), 700, 11)
    assert len(fake.uploads) == 2 and sent[-2].method == "sendVoice"


async def test_a_refused_draft_is_never_served(rig: Rig) -> None:
    await record(rig, "REC-9", silent_opus(15))
    await review(rig, "Refuser")
    assert "refusé" in rig.fake.sent(DESK_GROUP)[-1].text
    await listener(rig, 701)
    sent = await rig.step(tap_update(701, "learn:article:quota-genre"), 701, 7)
    assert [c.method for c in sent[6:]] == ["sendMessage"]
    assert not any("Écouter" in b["text"] for b in sent[6].buttons)


async def test_bad_recordings_are_refused_with_a_reason(rig: Rig) -> None:
    fake = rig.fake
    sent = await rig.step(
        text_update(CSO_MEMBER, "/enregistrer quota-genre 9 fr", CSO_GROUP, "supergroup"),
        CSO_GROUP,
        2,
    )
    assert "n'existe pas" in sent[-1].text and "dans cette langue : 2" in sent[-1].text
    await rig.step(
        text_update(CSO_MEMBER, "/enregistrer quota-genre 1 fr", CSO_GROUP, "supergroup"),
        CSO_GROUP,
        3,
    )
    fake.add_file("PDF-1", b"%PDF-1.4 a receipt")
    sent = await rig.step(
        document_update(CSO_MEMBER, "PDF-1", CSO_GROUP, "supergroup"), CSO_GROUP, 4
    )
    assert "J'attends une note vocale" in sent[-1].text
    fake.add_file("REC-LONG", silent_opus(MAX_SECONDS + 60))
    sent = await rig.step(
        voice_update(CSO_MEMBER, "REC-LONG", CSO_GROUP, "supergroup"), CSO_GROUP, 5
    )
    assert "trop long" in sent[-1].text
    fake.add_file("REC-MP3", b"ID3\x03 an mp3 renamed")
    sent = await rig.step(
        voice_update(CSO_MEMBER, "REC-MP3", CSO_GROUP, "supergroup"), CSO_GROUP, 6
    )
    assert "pas une note vocale" in sent[-1].text
    assert not (rig.pack.path / "audio.yaml").exists() and not fake.uploads
    # A group that is not linked cannot record.
    sent = await rig.step(
        text_update(999, "/enregistrer quota-genre 1 fr", -1009, "supergroup"), -1009, 1
    )
    assert "réservé" in sent[-1].text


async def test_a_complaint_described_by_voice_reaches_the_cso_with_the_voice_note(rig: Rig) -> None:
    fake, uid = rig.fake, 900
    await rig.step(text_update(uid, "bonjour"), uid, 1)
    await rig.step(tap_update(uid, "lang:fr"), uid, 3)
    await rig.step(text_update(uid, "plainte"), uid, 4)
    await rig.step(tap_update(uid, "complaint:new"), uid, 5)
    await rig.step(tap_update(uid, "complaint:cat:eau"), uid, 6)
    await rig.step(text_update(uid, "Kayes"), uid, 7)
    sent = await rig.step(text_update(uid, "quartier Plateau"), uid, 8)
    # Told before sending anything that a voice can be recognised, and that writing is fine.
    assert "une voix peut être reconnue" in sent[-1].text and "écrivez" in sent[-1].text
    sent = await rig.step(voice_update(uid, "VOICE-CITIZEN-1"), uid, 10)
    assert "Note vocale reçue" in sent[-2].text
    await rig.step(tap_update(uid, "complaint:media_done"), uid, 11)
    sent = await rig.step(tap_update(uid, "complaint:consent:no"), uid, 12)
    assert "note vocale" in sent[-1].text  # the summary says how it was described
    await rig.step(tap_update(uid, "complaint:confirm"), uid, 13)
    before = len(fake.sent(CSO_GROUP))
    await rig.deliver()
    forwarded = await fake.wait_sent(before + 2, CSO_GROUP)
    assert "quartier Plateau" in forwarded[before].text
    assert forwarded[before + 1].method == "sendVoice"
    assert forwarded[before + 1].params["voice"] == "VOICE-CITIZEN-1"
    assert not fake.downloads  # same platform: the id is reused, nothing downloaded


async def test_recording_chosen_with_buttons_and_refused_by_a_typed_desk_command(rig: Rig) -> None:
    fake, pack = rig.fake, rig.pack
    article = pack.articles["quota-genre"]

    def tap(sent: Call, label: str) -> dict[str, object]:
        button = next(b for b in sent.buttons if label in b["text"])
        return tap_update(CSO_MEMBER, str(button["callback_data"]), CSO_GROUP, "supergroup")

    sent = await rig.step(
        text_update(CSO_MEMBER, "/enregistrer", CSO_GROUP, "supergroup"), CSO_GROUP, 2
    )
    assert "choisissez le thème" in sent[-1].text
    theme = pack.theme(article.theme)
    assert theme is not None
    sent = await rig.step(tap(sent[-1], pack.pick(theme.title, "fr")), CSO_GROUP, 3)
    sent = await rig.step(tap(sent[-1], pack.pick(article.title, "fr")[:20]), CSO_GROUP, 4)
    assert [b["text"] for b in sent[-1].buttons] == ["1. Page 1", "2. Page 2"]
    sent = await rig.step(tap(sent[-1], "Page 2"), CSO_GROUP, 5)
    sent = await rig.step(tap(sent[-1], "Bamanankan"), CSO_GROUP, 6)
    assert "page 2, en bm" in sent[-1].text
    fake.add_file("REC-BM", silent_opus(30))
    await rig.step(voice_update(CSO_MEMBER, "REC-BM", CSO_GROUP, "supergroup"), CSO_GROUP, 8)
    assert rig.pack.audio is not None
    assert rig.pack.audio.get("article:quota-genre:2", "bm") is not None
    # A CSO cannot review its own recording; the desk can, by typing the command.
    sent = await rig.step(
        text_update(CSO_MEMBER, "/audio refuser article:quota-genre:2 bm", CSO_GROUP, "supergroup"),
        CSO_GROUP,
        9,
    )
    assert "Seul le bureau" in sent[-1].text
    sent = await rig.step(
        text_update(
            DESK_MEMBER, "/audio refuser article:quota-genre:2 bm", DESK_GROUP, "supergroup"
        ),
        DESK_GROUP,
        2,
    )
    assert "refusé" in sent[-1].text
    recording = rig.pack.audio.get("article:quota-genre:2", "bm")
    assert recording is not None and recording.state == "rejected"

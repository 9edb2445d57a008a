"""WhatsApp end to end: signed webhooks posted to the real aiohttp app, sends captured by a
local fake Graph API server."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.telegram.channel import make_bot
from bot.channels.telegram.flood import FloodControl
from bot.channels.telegram.sender import TelegramSender
from bot.channels.whatsapp.channel import PATH, SIGNATURE_HEADER, WhatsAppChannel
from bot.channels.whatsapp.convert import parse
from bot.channels.whatsapp.render import (
    BODY_LIMIT,
    BUTTON_TITLE,
    LIST_BUTTON,
    MORE_PREFIX,
    ROW_DESCRIPTION,
    ROW_TITLE,
    TEXT_LIMIT,
    fit,
    pages,
    shorten,
)
from bot.channels.whatsapp.sender import GraphConfig, WhatsAppSender
from bot.channels.whatsapp.window import CLOSED_KEY, STATUS_KEY, WAIT_PREFIX, Window, is_open
from bot.delivery import DeliveryWorker, SendError
from complaints.reference import ALPHABET
from content.pack import ContentPack
from handlers.engine import Engine, EngineSettings
from handlers.messages import Choice, Inbound, Reply
from storage.ports_inbox import NewInbound, chat_key
from storage.records import NewOutboxMessage
from storage.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.fake_graph import (
    APP_SECRET,
    PHONE_ID,
    TOKEN,
    VERIFY_TOKEN,
    FakeGraph,
    Sent,
    button_reply,
    document,
    dumps,
    envelope,
    image,
    list_reply,
    location,
    message,
    reaction,
    sign,
    status,
    text,
    unsupported,
    voice,
)
from tests.fake_telegram import FakeTelegram

REF = re.compile(rf"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}")
NOTICE_TEMPLATE = "civicbot_notice"


def within_meta_limits(sent: Sent) -> None:
    """Every message the bot posts must be one Meta accepts."""
    if sent.type == "text":
        assert 0 < len(sent.text) <= TEXT_LIMIT
    if sent.interactive is not None:
        assert 0 < len(sent.text) <= BODY_LIMIT
    if sent.interactive == "button":
        assert 1 <= len(sent.buttons) <= 3
        titles = [b["title"] for b in sent.buttons]
        assert len(set(titles)) == len(titles)
        assert all(0 < len(t) <= BUTTON_TITLE for t in titles), titles
    if sent.interactive == "list":
        action = sent.payload["interactive"]["action"]
        assert 0 < len(action["button"]) <= LIST_BUTTON
        assert 1 <= len(sent.rows) <= 10
        assert len({r["id"] for r in sent.rows}) == len(sent.rows)
        for row in sent.rows:
            assert 0 < len(row["title"]) <= ROW_TITLE, row
            assert len(row.get("description", "")) <= ROW_DESCRIPTION, row


@dataclass
class Rig:
    graph: FakeGraph
    store: SqliteStore
    clock: FakeClock
    channel: WhatsAppChannel
    client: TestClient
    engine: Engine

    @property
    def sender(self) -> WhatsAppSender:
        return self.channel.sender

    async def post(self, body: dict[str, Any], *, raw: bytes | None = None) -> int:
        data = raw if raw is not None else dumps(body)
        resp = await self.client.post(PATH, data=data, headers={SIGNATURE_HEADER: sign(data)})
        await self.channel.settle()
        return resp.status

    async def send(self, wa_id: str, body: dict[str, Any]) -> list[Sent]:
        """Post one of the user's messages; return what the bot sent them in answer."""
        before = len(self.graph.sent(wa_id))
        assert await self.post(body) == 200
        return self.graph.sent(wa_id)[before:]

    async def say(self, wa_id: str, words: str) -> list[Sent]:
        return await self.send(wa_id, text(wa_id, words))

    async def tap(self, wa_id: str, choice: str) -> list[Sent]:
        sent = self.graph.sent(wa_id)
        kind = sent[-1].interactive if sent else None
        body = list_reply(wa_id, choice) if kind == "list" else button_reply(wa_id, choice)
        return await self.send(wa_id, body)

    async def onboard(self, wa_id: str) -> None:
        await self.say(wa_id, "bonjour")
        await self.tap(wa_id, "lang:fr")

    async def row(self, sql: str, *params: Any) -> tuple[Any, ...]:
        rows = await self.store.fetch_all(sql, params)
        assert len(rows) == 1, rows
        return rows[0]

    def worker(self, **senders: Any) -> DeliveryWorker:
        return DeliveryWorker(self.store, {"whatsapp": self.sender, **senders}, clock=self.clock)


async def make_rig(
    tmp_path: Path,
    pack: ContentPack,
    templates: dict[str, str] | None = None,
    **sender: Any,
) -> Rig:
    graph = await FakeGraph().start()
    store = await SqliteStore.open(tmp_path / f"wa-{uuid.uuid4().hex[:8]}.sqlite3")
    # Near the real time: rows the channel queues carry the real clock.
    clock = FakeClock(datetime.now(UTC))
    engine = Engine(store, lambda: pack, settings=EngineSettings(), clock=clock)
    window = Window(store, templates or {}, ["fr"], clock=clock)
    config = GraphConfig(
        graph.url,
        PHONE_ID,
        TOKEN,
        rate=sender.pop("rate", 1000.0),
        timeout=sender.pop("timeout", 5.0),
    )
    channel = WhatsAppChannel(
        engine,
        store,
        WhatsAppSender(config, store, window, backoff=0.05, **sender),
        app_secret=APP_SECRET,
        verify_token=VERIFY_TOKEN,
        clock=clock,
    )
    await channel.start()
    app = web.Application()
    channel.add_routes(app)
    client = TestClient(TestServer(app))
    await client.start_server()
    return Rig(graph, store, clock, channel, client, engine)


async def close_rig(rig: Rig) -> None:
    await rig.client.close()
    await rig.channel.close()
    await rig.store.close()
    await rig.graph.stop()
    for sent in rig.graph.calls:
        within_meta_limits(sent)


@pytest.fixture
async def rig(tmp_path: Path, pack: ContentPack) -> AsyncIterator[Rig]:
    r = await make_rig(tmp_path, pack)
    yield r
    await close_rig(r)


# --- the webhook itself ----------------------------------------------------------------------


async def test_verification_handshake(rig: Rig) -> None:
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    ok = await rig.client.get(PATH, params=query)
    assert ok.status == 200 and await ok.text() == "1158201444"
    wrong = await rig.client.get(PATH, params=query | {"hub.verify_token": "guess"})
    assert wrong.status == 403
    missing = await rig.client.get(PATH, params={"hub.mode": "subscribe", "hub.challenge": "1"})
    assert missing.status == 403


async def test_signatures_are_checked_over_the_raw_body(rig: Rig) -> None:
    raw = dumps(text("22370000001", "bonjour"))
    missing = await rig.client.post(PATH, data=raw)
    wrong = await rig.client.post(PATH, data=raw, headers={SIGNATURE_HEADER: sign(raw, "guess")})
    # Same JSON, other bytes: the signature covers the bytes as posted, not their meaning.
    spaced = raw.replace(b'":', b'": ')
    moved = await rig.client.post(PATH, data=spaced, headers={SIGNATURE_HEADER: sign(raw)})
    assert (missing.status, wrong.status, moved.status) == (401, 403, 403)
    await rig.channel.settle()
    assert rig.graph.calls == []
    assert await rig.store.fetch_all("SELECT key FROM users") == []


async def test_truncated_and_unexpected_bodies_are_acknowledged_and_ignored(rig: Rig) -> None:
    raw = dumps(text("22370000002", "bonjour"))
    assert await rig.post({}, raw=raw[:-25]) == 200
    assert await rig.post({"object": "whatsapp_business_account", "entry": "nope"}) == 200
    assert await rig.post({"entry": [{"changes": [{"value": {"messages": [{"id": "x"}]}}]}]}) == 200
    assert await rig.post([1, 2, 3]) == 200  # type: ignore[arg-type]
    assert rig.graph.calls == []
    assert await rig.store.fetch_all("SELECT key FROM users") == []


async def test_a_redelivered_message_is_answered_once(rig: Rig) -> None:
    body = text("22370000003", "bonjour", mid="wamid.DUPLICATE1")
    assert await rig.post(body) == 200
    assert await rig.post(body) == 200
    assert len(rig.graph.sent("22370000003")) == 1


async def test_users_are_keyed_by_wa_id_with_their_profile_name(rig: Rig) -> None:
    await rig.say("22370000004", "bonjour")
    assert await rig.row("SELECT key, external_id FROM users") == (
        "whatsapp:22370000004",
        "22370000004",
    )
    events = parse(text("22370000004", "x"), datetime.now(UTC))
    assert events.inbounds[0].name == "U004" and events.inbounds[0].chat_id == "22370000004"


# --- conversations ---------------------------------------------------------------------------


async def test_a_whole_learning_conversation_by_buttons_and_lists(rig: Rig) -> None:
    u = "22370000011"
    [prompt] = await rig.say(u, "bonjour")
    assert prompt.interactive == "button" and "langue" in prompt.text
    assert prompt.buttons == [
        {"id": "lang:fr", "title": "Français"},
        {"id": "lang:bm", "title": "Bamanankan"},
    ]
    welcome, menu = await rig.tap(u, "lang:fr")
    assert welcome.type == "text" and "Bienvenue" in welcome.text
    assert menu.interactive == "list" and menu.ids[0] == "menu:learn"
    assert [r["title"] for r in menu.rows][:3] == [
        "1. Connaître mes droits",
        "2. Quiz",
        "3. Signaler un problème",
    ]
    [themes] = await rig.tap(u, "menu:learn")
    assert len(themes.rows) == 9 and themes.ids[3] == "learn:theme:inclusion"
    # A long label gives way to its short form, and the description says it in full.
    assert themes.rows[0] == {
        "id": "learn:theme:redevabilite",
        "title": "1. Redevabilité",
        "description": "Redevabilité et contrôle citoyen",
    }
    [articles] = await rig.tap(u, "learn:theme:inclusion")
    assert "learn:article:quota-genre" in articles.ids
    [page1] = await rig.tap(u, "learn:article:quota-genre")
    assert page1.text.startswith("Loi 2015-052") and page1.ids[0] == "learn:page:quota-genre:2"
    [page2] = await rig.tap(u, "learn:page:quota-genre:2")
    assert "Page 2/2" in page2.text
    user = await rig.row("SELECT language FROM users WHERE key = ?", f"whatsapp:{u}")
    assert user == ("fr",)
    assert await rig.row("SELECT COUNT(*) FROM article_reads") == (1,)


async def test_the_same_conversation_by_typed_numbers(rig: Rig) -> None:
    u = "22370000012"
    await rig.say(u, "bonjour")
    welcome, menu = await rig.say(u, "1")  # Français
    assert "Bienvenue" in welcome.text and menu.ids[0] == "menu:learn"
    [themes] = await rig.say(u, "1")  # Connaître mes droits
    assert themes.ids[3] == "learn:theme:inclusion"
    [articles] = await rig.say(u, "4")  # Femmes et jeunes
    assert articles.ids[3] == "learn:article:quota-genre"
    [page1] = await rig.say(u, "4")  # Quota genre
    assert page1.text.startswith("Loi 2015-052")
    [page2] = await rig.say(u, "1")  # Suite
    assert "Page 2/2" in page2.text


async def test_location_media_and_what_the_bot_cannot_use(rig: Rig) -> None:
    u = "22370000013"
    await rig.onboard(u)
    sent = await rig.post(location(u, 12.65, -8.0))
    assert sent == 200 and "position" in rig.graph.sent(u)[-2].text
    for body in (image(u, "MEDIA-1"), voice(u, "VOICE-1"), document(u, "DOC-1")):
        before = len(rig.graph.sent(u))
        assert await rig.post(body) == 200
        assert "fichier" in rig.graph.sent(u)[before].text
    for body in (unsupported(u), reaction(u, "wamid.OLD")):
        before = len(rig.graph.sent(u))
        assert await rig.post(body) == 200
        assert "aucun texte" in rig.graph.sent(u)[before].text
    # Taking a reaction back needs no answer.
    before = len(rig.graph.sent(u))
    assert await rig.post(reaction(u, "wamid.OLD", emoji="")) == 200
    assert len(rig.graph.sent(u)) == before


async def test_menus_of_3_7_and_14_choices(rig: Rig) -> None:
    u = "22370000014"
    long = "Un agent de la mairie demande de l'argent"
    three = (
        Choice("a:1", long),
        Choice("a:2", "Taxes et impôts locaux", "Taxes locales"),
        Choice("a:3", "Menu"),
    )
    await rig.sender.reply(u, Reply("Trois choix :", three))
    [buttons] = rig.graph.sent(u)
    assert buttons.buttons == [
        {"id": "a:1", "title": "Un agent de la…"},
        {"id": "a:2", "title": "Taxes locales"},
        {"id": "a:3", "title": "Menu"},
    ]
    seven = tuple(Choice(f"b:{n}", f"Choix numéro {n}") for n in range(1, 8))
    await rig.sender.reply(u, Reply("Sept choix :", seven))
    listed = rig.graph.sent(u)[-1]
    assert listed.interactive == "list" and listed.ids == [f"b:{n}" for n in range(1, 8)]
    assert listed.rows[6]["title"] == "7. Choix numéro 7"
    fourteen = (Choice("c:1", long), *(Choice(f"c:{n}", f"Rubrique {n}") for n in range(2, 15)))
    await rig.sender.reply(u, Reply("Quatorze choix :", fourteen))
    first = rig.graph.sent(u)[-1]
    assert first.ids[:9] == [f"c:{n}" for n in range(1, 10)]
    assert first.rows[0] == {
        "id": "c:1",
        "title": "1. Un agent de la…",
        "description": "…mairie demande de l'argent",
    }
    more = first.rows[9]
    assert more["id"].startswith(MORE_PREFIX) and more["description"] == "10–14"
    tap = list_reply(u, more["id"])
    assert await rig.post(tap) == 200
    second = rig.graph.sent(u)[-1]
    assert second.text == "Quatorze choix :"
    assert second.ids == [f"c:{n}" for n in range(10, 15)]
    assert [r["title"][:4] for r in second.rows] == ["10. ", "11. ", "12. ", "13. ", "14. "]
    # Meta redelivers the tap: the page is not shown twice.
    assert await rig.post(tap) == 200
    assert len(rig.graph.sent(u)) == 4


async def test_engine_menus_fit_and_typed_numbers_reach_the_second_page(rig: Rig) -> None:
    u = "22370000015"
    await rig.onboard(u)
    [menu] = rig.graph.sent(u)[-1:]
    assert len(menu.rows) == 6
    await rig.tap(u, "menu:profile")
    [regions] = await rig.tap(u, "profile:edit:region")
    assert len(regions.rows) == 10 and regions.rows[9]["title"] == "10. Ne pas répondre"
    assert not any(r["id"].startswith(MORE_PREFIX) for r in regions.rows)
    await rig.say(u, "plainte")
    [categories] = await rig.tap(u, "complaint:new")
    assert len(categories.rows) == 10 and categories.rows[9]["id"].startswith(MORE_PREFIX)
    assert categories.rows[6] == {
        "id": "complaint:cat:corruption",
        "title": "7. Argent demandé",
        "description": "Un agent demande de l'argent",
    }
    [rest] = await rig.tap(u, categories.rows[9]["id"])
    assert rest.ids == [
        "complaint:cat:liste-electorale",
        "complaint:cat:accessibilite",
        "complaint:cat:autre",
        "complaint:cancel",
    ]
    [cancelled, *_] = await rig.say(u, "13")  # Annuler, typed from the second page
    assert "annul" in cancelled.text.lower()


async def test_long_text_is_split_on_paragraphs_with_the_choices_last(rig: Rig) -> None:
    u = "22370000016"
    paragraph = "Un paragraphe assez long pour remplir la page, avec des mots. " * 20
    body = "\n\n".join(paragraph.strip() for _ in range(8)) + "\n\nQue voulez-vous faire ?"
    await rig.sender.reply(u, Reply(body, (Choice("menu:main", "Menu"),)))
    parts = rig.graph.sent(u)
    assert [p.type for p in parts[:-1]] == ["text"] * (len(parts) - 1) and len(parts) >= 3
    assert parts[-1].interactive == "button" and parts[-1].text.endswith("Que voulez-vous faire ?")
    joined = " ".join(" ".join(p.text.split()) for p in parts)
    assert joined == " ".join(body.split())
    await rig.sender.reply(u, Reply("x " * 3000))
    assert [len(p.text) <= TEXT_LIMIT for p in rig.graph.sent(u)[len(parts) :]] == [True, True]


def test_shortening_never_cuts_a_word() -> None:
    assert shorten("Signaler un problème à la mairie", 20) == "Signaler un…"
    assert shorten("Court", 20) == "Court"
    assert shorten("Anticonstitutionnellement", 10) == "Anticonst…"  # one word: no choice
    assert fit(Choice("x", "Redevabilité et contrôle citoyen", "Redevabilité"), 20) == (
        "Redevabilité",
        "Redevabilité et contrôle citoyen",
    )
    assert fit(Choice("x", "Le contrôle citoyen : budget, travaux"), 20) == (
        "Le contrôle…",
        "…citoyen : budget, travaux",
    )
    assert [len(p) for p in pages(10)] == [10]
    assert [len(p) for p in pages(11)] == [9, 2]
    assert [len(p) for p in pages(25)] == [9, 9, 7]


# --- complaints across channels --------------------------------------------------------------


async def test_a_complaint_from_whatsapp_reaches_a_cso_on_telegram(rig: Rig) -> None:
    tg = await FakeTelegram().start()
    bot = make_bot(tg.token, tg.url)
    try:
        telegram = TelegramSender(bot, rig.store, FloodControl(1000, 1000, 60000))
        worker = rig.worker(telegram=telegram)
        expires = rig.clock() + timedelta(days=7)
        await rig.store.create_link_code("exemple-kayes", "LIENKAYES", expires)

        async def cso(**fields: Any) -> list[Reply]:
            inbound = Inbound(
                channel="telegram",
                user_id="501",
                chat_id="-1001",
                chat_type="group",
                received_at=rig.clock(),
                message_id=f"tg-{len(tg.calls)}-{fields}",
                **fields,
            )
            return await rig.engine.handle(inbound)

        [linked] = await cso(text="/lier LIENKAYES")
        assert "OSC exemple, région de Kayes" in linked.text
        u = "22370000020"
        await rig.onboard(u)
        await rig.say(u, "plainte")
        await rig.tap(u, "complaint:new")
        await rig.say(u, "3")  # Eau potable, typed from the list
        [where] = await rig.say(u, "kayes")
        assert "Où exactement" in where.text
        await rig.say(u, "quartier Plateau, forage près du marché")
        await rig.say(u, "La pompe du forage est en panne depuis deux semaines.")
        received = await rig.send(u, image(u, "MEDIA-7"))
        assert "Fichiers reçus : 1" in received[-1].text
        received = await rig.send(u, voice(u, "VOICE-7"))
        assert "Fichiers reçus : 2" in received[-1].text
        await rig.tap(u, "complaint:media_done")
        out = await rig.tap(u, "complaint:consent:no")
        if "complaint:dup_no" in out[-1].ids:
            await rig.tap(u, "complaint:dup_no")
        confirmed = await rig.tap(u, "complaint:confirm")
        found = REF.search(" ".join(s.text for s in confirmed))
        assert found, [s.text for s in confirmed]
        reference = found[0]
        media = await rig.row("SELECT media FROM complaints WHERE reference = ?", reference)
        assert "MEDIA-7" in media[0] and "VOICE-7" in media[0]

        assert await worker.run_once() >= 1
        forward, voice_note = tg.sent(-1001)
        assert reference in forward.text and "panne" in forward.text
        # The fake Graph API never had VOICE-7: the CSO reads at once that the note is gone
        # (the photo stays on WhatsApp: only voice notes cross platforms).
        assert reference in voice_note.text and "ne la garde plus" in voice_note.text
        assert "anonyme" in forward.text and u not in forward.text
        datas = [b["callback_data"] for b in forward.buttons]
        assert f"cso:ack:{reference.replace('-', '')}" in datas

        # The CSO acknowledges on Telegram; the citizen hears of it on WhatsApp.
        await cso(choice=f"cso:ack:{reference.replace('-', '')}")
        assert await worker.run_once() >= 1
        notice = rig.graph.sent(u)[-1]
        assert reference in notice.text and notice.ids == ["complaint:mine"]
        row = await rig.row(
            "SELECT state, platform_message_id FROM outbox WHERE kind = 'notice' AND channel = ?",
            "whatsapp",
        )
        assert row == ("sent", notice.id)
    finally:
        await bot.session.close()
        await tg.stop()


# --- the 24-hour window ----------------------------------------------------------------------


async def notice(rig: Rig, u: str, words: str = "Votre signalement a été reçu.\n\nMerci.") -> str:
    reply = Reply(words, (Choice("complaint:mine", "Mes signalements"),))
    async with rig.store.transaction() as tx:
        return tx.enqueue(
            NewOutboxMessage("whatsapp", u, "notice", reply.to_dict(u), user_key=f"whatsapp:{u}"),
            rig.clock(),
        )


@pytest.fixture
async def templated(tmp_path: Path, pack: ContentPack) -> AsyncIterator[Rig]:
    r = await make_rig(tmp_path, pack, templates={"notice": NOTICE_TEMPLATE})
    yield r
    await close_rig(r)


async def test_a_notice_inside_the_window_goes_free_form(templated: Rig) -> None:
    rig, u = templated, "22370000040"
    await rig.onboard(u)
    rig.clock.advance(hours=23)
    row_id = await notice(rig, u)
    assert await rig.worker().run_once() == 1
    sent = rig.graph.sent(u)[-1]
    assert sent.interactive == "button" and sent.text.startswith("Votre signalement")
    stored = await rig.store.get_outbox(row_id)
    assert stored is not None and stored.state == "sent" and stored.platform_message_id == sent.id


async def test_outside_the_window_the_kinds_template_goes(templated: Rig) -> None:
    rig, u = templated, "22370000041"
    await rig.onboard(u)
    rig.clock.advance(hours=25)
    row_id = await notice(rig, u)
    assert await rig.worker().run_once() == 1
    sent = rig.graph.sent(u)[-1]
    assert sent.type == "template"
    template = sent.payload["template"]
    assert template["name"] == NOTICE_TEMPLATE and template["language"] == {"code": "fr"}
    assert sent.text == "Votre signalement a été reçu. · Merci."  # one line, as Meta requires
    stored = await rig.store.get_outbox(row_id)
    assert stored is not None and stored.state == "sent"


async def test_outside_the_window_without_template_it_waits_for_the_user(rig: Rig) -> None:
    u = "22370000042"
    await rig.onboard(u)
    rig.clock.advance(hours=25)
    row_id = await notice(rig, u)
    worker = rig.worker()
    before = len(rig.graph.sent(u))
    assert await worker.run_once() == 0
    assert len(rig.graph.sent(u)) == before
    waiting = await rig.store.get_outbox(row_id)
    assert waiting is not None and waiting.state == "failed"
    assert waiting.last_error is not None and waiting.last_error.startswith(WAIT_PREFIX)
    assert waiting.next_attempt_at > rig.clock() + timedelta(days=6)
    assert await worker.run_once() == 0
    # The user writes again: the notice goes right after the reply, free-form.
    rig.clock.advance(minutes=1)
    await rig.say(u, "menu")
    assert await worker.run_once() == 1
    sent = rig.graph.sent(u)[-1]
    assert sent.interactive == "button" and sent.text.startswith("Votre signalement")
    done = await rig.store.get_outbox(row_id)
    assert done is not None and done.state == "sent"


async def test_a_131047_answer_follows_the_same_rule(templated: Rig, rig: Rig) -> None:
    for r, u in ((templated, "22370000043"), (rig, "22370000044")):
        await r.onboard(u)
        await notice(r, u)
        r.graph.fail("131047")
        before = len(r.graph.sent(u))
        await r.worker().run_once()
        if r is templated:
            assert [s.type for s in r.graph.sent(u)[before:]] == ["template"]
        else:
            assert r.graph.sent(u)[before:] == []
            state, error = await r.row("SELECT state, last_error FROM outbox")
            assert state == "failed" and error.startswith(WAIT_PREFIX)


async def test_a_131047_status_makes_the_row_wait_until_the_user_writes(rig: Rig) -> None:
    u = "22370000045"
    await rig.onboard(u)
    row_id = await notice(rig, u)
    worker = rig.worker()
    assert await worker.run_once() == 1
    wamid = rig.graph.sent(u)[-1].id
    assert await rig.post(status(wamid, "failed", u, code=131047)) == 200
    refused = await rig.store.get_outbox(row_id)
    assert refused is not None and refused.state == "failed" and CLOSED_KEY in refused.payload
    before = len(rig.graph.sent(u))
    assert await worker.run_once() == 0  # Meta said closed: no free-form, no template: wait
    assert len(rig.graph.sent(u)) == before
    rig.clock.advance(minutes=2)  # after the moment of Meta's status
    await rig.say(u, "aide")
    assert await worker.run_once() == 1
    assert rig.graph.sent(u)[-1].text.startswith("Votre signalement")


def test_window_arithmetic() -> None:
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    assert is_open(now - timedelta(hours=23), None, now)
    assert not is_open(now - timedelta(hours=24), None, now)
    assert not is_open(None, None, now)
    assert not is_open(now - timedelta(hours=1), now - timedelta(minutes=30), now)
    assert is_open(now - timedelta(minutes=10), now - timedelta(minutes=30), now)


# --- statuses and errors ---------------------------------------------------------------------


async def test_delivery_statuses_update_the_outbox_row(rig: Rig) -> None:
    u = "22370000050"
    await rig.onboard(u)
    first = await notice(rig, u)
    worker = rig.worker()
    assert await worker.run_once() == 1
    wamid = rig.graph.sent(u)[-1].id
    for state in ("sent", "delivered", "read", "delivered"):  # the last one arrives late
        assert await rig.post(status(wamid, state, u)) == 200
    row = await rig.store.get_outbox(first)
    assert row is not None and row.state == "sent" and row.payload[STATUS_KEY] == "read"
    second = await notice(rig, u, "Autre nouvelle.")
    assert await worker.run_once() == 1
    assert await rig.post(status(rig.graph.sent(u)[-1].id, "failed", u, code=131026)) == 200
    dead = await rig.store.get_outbox(second)
    assert dead is not None and dead.state == "dead"
    assert dead.last_error == "whatsapp 131026: Message Undeliverable"
    assert await rig.row("SELECT stopped FROM users WHERE key = ?", f"whatsapp:{u}") == (1,)


async def test_graph_errors_map_to_the_outbox_rules(rig: Rig) -> None:
    u = "22370000051"
    rig.graph.fail("130429")  # throughput: wait and try again
    await rig.sender.reply(u, Reply("un"))
    assert len(rig.graph.sent(u)) == 1 and len(rig.graph.refused) == 1
    expected = {
        "131056": (False, False, 6.0),  # pair rate: again in a few seconds
        "500": (False, False, None),  # Meta's trouble: the outbox backs off
        "131026": (True, True, None),  # cannot receive: stop writing to them
        "131009": (True, False, None),  # our mistake: retrying changes nothing
    }
    for kind, (permanent, blocked, retry_after) in expected.items():
        rig.graph.fail(kind)
        with pytest.raises(SendError) as caught:
            await rig.sender.reply(u, Reply("deux"))
        error = caught.value
        assert (error.permanent, error.blocked, error.retry_after) == (
            permanent,
            blocked,
            retry_after,
        ), kind
    rig.graph.fail("130429", times=4)
    with pytest.raises(SendError) as caught:
        await rig.sender.reply(u, Reply("trois"))
    assert caught.value.retry_after == 30.0 and not caught.value.permanent


async def test_a_timeout_is_a_transient_error(tmp_path: Path, pack: ContentPack) -> None:
    r = await make_rig(tmp_path, pack, timeout=0.2)
    try:
        r.graph.fail("slow", delay=1.0)
        with pytest.raises(SendError) as caught:
            await r.sender.reply("22370000052", Reply("lent"))
        assert "unreachable" in str(caught.value) and not caught.value.permanent
    finally:
        await close_rig(r)


async def test_failed_replies_wait_in_the_outbox_in_order(rig: Rig) -> None:
    u = "22370000053"
    await rig.say(u, "bonjour")
    rig.graph.fail("500")
    assert await rig.tap(u, "lang:fr") == []
    rows = await rig.store.fetch_all("SELECT kind, state FROM outbox ORDER BY created_at")
    assert rows == [("reply", "pending"), ("reply", "pending")]
    assert await rig.worker().run_once() == 2
    welcome, menu = rig.graph.sent(u)[-2:]
    assert "Bienvenue" in welcome.text and menu.ids[0] == "menu:learn"


async def test_pair_rate_spaces_bulk_sends_to_one_user(tmp_path: Path, pack: ContentPack) -> None:
    r = await make_rig(tmp_path, pack, clock=lambda: 100.0)
    try:
        u = "22370000054"
        await r.onboard(u)
        rows = [await notice(r, u, f"Nouvelle {n}.") for n in range(5)]
        assert await r.worker().run_once() == 4  # a short burst goes
        deferred = await r.store.get_outbox(rows[4])
        assert deferred is not None and deferred.state == "failed"
        assert deferred.last_error is not None and deferred.last_error.startswith("pair rate")
        assert deferred.next_attempt_at >= r.clock() + timedelta(seconds=5)
    finally:
        await close_rig(r)


async def test_global_rate_limit(tmp_path: Path, pack: ContentPack) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    r = await make_rig(tmp_path, pack, rate=2.0, clock=lambda: 50.0, sleep=sleep)
    try:
        for n in range(5):
            await r.sender.reply("22370000055", Reply(f"message {n}"))
        assert slept == pytest.approx([0.5, 1.0, 1.5])
    finally:
        await close_rig(r)


async def test_a_refused_template_keeps_the_message_waiting(templated: Rig) -> None:
    rig, u = templated, "22370000056"
    await rig.onboard(u)
    rig.clock.advance(hours=30)
    row_id = await notice(rig, u)
    rig.graph.fail("132001")
    assert await rig.worker().run_once() == 0
    row = await rig.store.get_outbox(row_id)
    assert row is not None and row.state == "failed"
    assert row.last_error is not None and row.last_error.startswith(f"{WAIT_PREFIX} template")
    assert row.next_attempt_at > rig.clock() + timedelta(days=6)


async def test_a_circle_quiz_played_on_whatsapp(rig: Rig, pack: ContentPack) -> None:
    from handlers.clocks import run_clocks

    lead, member = "22370000101", "22370000102"
    await rig.onboard(lead)
    await rig.say(lead, "cercle")
    await rig.tap(lead, "circle:create")
    [created] = await rig.say(lead, "Femmes de Ségou")
    code = created.text.split("invitation : ")[1].split()[0]
    await rig.onboard(member)
    joined = await rig.say(member, code)
    assert any("rejoint" in s.text for s in joined)
    await rig.say(member, "Soleil")
    await rig.tap(member, "quiz:listed:yes")
    home = await rig.say(lead, "cercle")
    ids = [c["id"] for s in home for c in (s.buttons or s.rows)]
    circle_id = next(i for i in ids if i.startswith("circle:open:")).split(":")[2]
    await rig.tap(lead, f"circle:open:{circle_id}")
    await rig.tap(lead, f"circle:quiz:{circle_id}")
    await rig.tap(lead, f"circle:q:{circle_id}:femmes-jeunes")
    await rig.tap(lead, f"circle:d:{circle_id}:femmes-jeunes:24")
    before = len(rig.graph.sent(member))
    await rig.worker().run_once()
    [invite] = rig.graph.sent(member)[before:]
    start = next(c["id"] for c in (invite.buttons or invite.rows))
    sent = await rig.tap(member, start)
    quiz = pack.quizzes["femmes-jeunes"]
    for n in range(len(quiz.questions)):
        options = [c["id"] for c in (sent[-1].buttons or sent[-1].rows)]
        right = next(
            o
            for o in options
            if o.startswith("quiz:a:") and quiz.questions[n].options[int(o.split(":")[3])].correct
        )
        await rig.tap(member, right)
        sent = await rig.tap(member, "quiz:finish" if n == len(quiz.questions) - 1 else "quiz:next")
    assert any("10/10" in s.text for s in sent)
    rig.clock.advance(hours=25)
    await run_clocks(rig.store, pack, rig.clock())
    before = len(rig.graph.sent(member))
    await rig.worker().run_once()
    # 25 hours later the window is closed and no template is set: the results wait...
    assert rig.graph.sent(member)[before:] == []
    await rig.say(member, "menu")  # ...until she writes again
    before = len(rig.graph.sent(member))
    await rig.worker().run_once()
    results = " ".join(s.text for s in rig.graph.sent(member)[before:])
    assert "membres ayant joué : 1 sur 1" in results and "Soleil : 10/10" in results


async def test_a_campaign_link_is_counted_as_the_entry_source(rig: Rig) -> None:
    u = "22370000199"
    await rig.say(u, "c-eid-10-decembre")
    row = await rig.row("SELECT entry_source FROM users WHERE key = ?", f"whatsapp:{u}")
    assert row == ("c-eid-10-decembre",)


async def test_a_campaign_can_name_its_own_template(rig: Rig) -> None:
    u = "22370000177"
    await rig.onboard(u)
    rig.clock.advance(days=2)
    window = Window(rig.store, {}, ["fr"], clock=rig.clock)
    own = await window.decide(u, Reply("Le 10 décembre", extra={"whatsapp_template": "eid_2026"}))
    assert own.mode == "template" and own.template == "eid_2026"
    none = await window.decide(u, Reply("Le 10 décembre"))
    assert none.mode == "wait"


@pytest.mark.parametrize("first", ["A", "B"])
async def test_a_batch_of_two_people_keeps_each_in_order_and_neither_waits(
    rig: Rig, first: str
) -> None:
    """Meta batched A's second message with B's first while another process holds A's first."""
    a, b = "22370000071", "22370000072"
    # Another process has A's first message in hand (leased, not yet answered).
    await rig.channel.pump.stop()
    held = text(a, "bonjour", mid="wamid.A1")
    await rig.store.store_inbound(
        [NewInbound("whatsapp", "held-a1", dumps(held).decode(), chat_key("whatsapp", a))],
        rig.clock(),
    )
    taken = await rig.store.lease_inbound(["whatsapp"], "other", rig.clock(), 10, 600)
    assert len(taken) == 1
    # One webhook call with A's second message and B's first, in either order.
    mine = {
        "A": message(a, "text", {"body": "aide"}, "wamid.A2"),
        "B": message(b, "text", {"body": "bonjour"}, "wamid.B1"),
    }
    batch = envelope(messages=[mine[first], mine["B" if first == "A" else "A"]])
    batch["entry"][0]["changes"][0]["value"]["contacts"] = [
        {"profile": {"name": "Awa"}, "wa_id": a},
        {"profile": {"name": "Bintou"}, "wa_id": b},
    ]
    data = dumps(batch)
    resp = await rig.client.post(PATH, data=data, headers={SIGNATURE_HEADER: sign(data)})
    assert resp.status == 200
    rig.channel.pump.start()
    for _ in range(400):
        if rig.graph.sent(b):
            break
        await asyncio.sleep(0.01)
    # B is answered at once; A's "aide" waits for her "bonjour", which the other process holds.
    assert rig.graph.sent(b)
    assert rig.graph.sent(a) == []
    # The same batch redelivered is stored once: B is not answered twice.
    answered = len(rig.graph.sent(b))
    resp = await rig.client.post(PATH, data=data, headers={SIGNATURE_HEADER: sign(data)})
    assert resp.status == 200
    await asyncio.sleep(0.3)
    assert len(rig.graph.sent(b)) == answered
    assert await rig.store.inbound_left(["whatsapp"]) == 2  # A's two, in order, still waiting
    # The other process is done with A's first message: her second is answered now.
    await rig.store.inbound_handled([taken[0].id])
    await rig.channel.settle()
    assert rig.graph.sent(a)

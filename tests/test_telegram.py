"""Telegram end to end: the real aiogram client against a local fake Bot API server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.channels.telegram.channel import SECRET_HEADER, TelegramChannel, make_bot
from bot.channels.telegram.flood import FloodControl
from bot.channels.telegram.render import MORE_PREFIX, TOKEN_PREFIX, escape
from bot.delivery import DeliveryWorker
from content.pack import ContentPack
from handlers.engine import Engine, EngineSettings
from handlers.messages import Choice, Reply
from storage.sqlite import SqliteStore
from tests.fake_telegram import (
    FakeTelegram,
    location_update,
    member_update,
    photo_update,
    tap_update,
    text_update,
)


@dataclass
class Rig:
    fake: FakeTelegram
    store: SqliteStore
    channel: TelegramChannel
    polling: asyncio.Task[None] | None

    async def user(self, key: str):  # type: ignore[no-untyped-def]
        async with self.store.transaction() as tx:
            return await tx.get_user(key)


async def _rig(tmp_path: Path, pack: ContentPack, poll: bool = True, **flood: float) -> Rig:
    fake = await FakeTelegram().start()
    store = await SqliteStore.open(tmp_path / "tg.sqlite3")
    engine = Engine(store, lambda: pack, settings=EngineSettings())
    limits = {"global_rate": 1000.0, "chat_rate": 1000.0, "group_per_minute": 60000.0} | flood
    channel = TelegramChannel(make_bot(fake.token, fake.url), engine, store, FloodControl(**limits))
    await channel.start()
    task = asyncio.create_task(channel.run_polling()) if poll else None
    return Rig(fake, store, channel, task)


@pytest.fixture
async def rig(tmp_path: Path, pack: ContentPack) -> AsyncIterator[Rig]:
    r = await _rig(tmp_path, pack)
    yield r
    await _close(r)


async def _close(r: Rig) -> None:
    await r.channel.close()
    if r.polling:
        await asyncio.wait_for(r.polling, timeout=10)
    await r.store.close()
    await r.fake.stop()


async def test_a_whole_conversation_by_taps_and_typed_numbers(rig: Rig) -> None:
    fake = rig.fake
    fake.push(text_update(7, "/start affiche-kayes"))
    [prompt] = await fake.wait_sent(1, 7)
    assert "langue" in prompt.text
    assert [b["callback_data"] for b in prompt.buttons] == ["lang:fr", "lang:bm"]
    assert [b["text"] for b in prompt.buttons] == ["1. Français", "2. Bamanankan"]
    fake.push(tap_update(7, "lang:fr"))
    sent = await fake.wait_sent(3, 7)
    assert "Bienvenue" in sent[1].text and sent[2].buttons[0]["callback_data"] == "menu:learn"
    fake.push(text_update(7, "1"))  # typed number: learn
    sent = await fake.wait_sent(4, 7)
    assert sent[3].buttons[0]["callback_data"] == "learn:theme:redevabilite"
    fake.push(tap_update(7, "learn:article:quota-genre"))
    sent = await fake.wait_sent(5, 7)
    assert sent[4].text.startswith("Loi 2015-052")
    assert sent[4].params["parse_mode"] == "HTML"
    fake.push(tap_update(7, "learn:page:quota-genre:2"))  # the article's second part
    sent = await fake.wait_sent(6, 7)
    assert "Page 2/2" in sent[5].text
    answered = [c for c in fake.calls if c.method == "answerCallbackQuery"]
    assert len(answered) == 3
    user = await rig.user("telegram:7")
    assert user is not None and user.entry_source == "affiche-kayes" and user.language == "fr"


async def test_language_hint_and_location_and_photo(rig: Rig) -> None:
    fake = rig.fake
    fake.push(text_update(8, "bonjour"))
    await fake.wait_sent(1, 8)
    fake.push(tap_update(8, "lang:fr"))
    await fake.wait_sent(3, 8)
    fake.push(location_update(8, 12.65, -8.0))
    sent = await fake.wait_sent(5, 8)
    assert "position" in sent[3].text
    fake.push(photo_update(8, "PHOTO-1"))
    sent = await fake.wait_sent(7, 8)
    assert "fichier" in sent[5].text


async def test_updates_that_cannot_be_read_do_not_hold_up_the_others(rig: Rig) -> None:
    fake = rig.fake
    # Among a polled batch: a message whose chat is not an object, one without a sender, a
    # tap without its payload's message: each is dropped alone; polling and people go on.
    fake.push({"message": {"message_id": 1, "date": 0, "chat": "oops", "text": "menu"}})
    fake.push({"message": {"message_id": 2, "date": 0, "chat": {"id": 44, "type": "private"}}})
    fake.push({"callback_query": {"id": "q1", "from": "nobody", "data": "lang:fr"}})
    fake.push({"callback_query": {"id": "q2", "message": 5, "data": "lang:fr"}})
    fake.push(text_update(44, "bonjour"))
    [prompt] = await fake.wait_sent(1, 44)
    assert "langue" in prompt.text
    fake.push(tap_update(44, "lang:fr"))
    sent = await fake.wait_sent(3, 44)
    assert "Bienvenue" in sent[1].text
    assert await rig.store.inbound_left(["telegram"]) == 0


async def test_more_than_eight_choices_go_behind_plus(rig: Rig) -> None:
    fake = rig.fake
    steps = (
        (text_update(9, "salut"), 1),
        (tap_update(9, "lang:fr"), 3),
        (tap_update(9, "menu:profile"), 4),
        (tap_update(9, "profile:edit:region"), 5),
    )
    for update, expected in steps:  # one at a time, as a person taps
        fake.push(update)
        sent = await fake.wait_sent(expected, 9)
    regions = sent[4]
    datas = [b["callback_data"] for b in regions.buttons]
    assert len(datas) == 8 and datas[-1].startswith(MORE_PREFIX)
    assert regions.buttons[6]["text"].startswith("7. ")
    fake.push(tap_update(9, datas[-1]))
    for _ in range(100):
        edits = [c for c in fake.calls if c.method == "editMessageReplyMarkup"]
        if edits:
            break
        await asyncio.sleep(0.02)
    page2 = [b for row in edits[0].params["reply_markup"]["inline_keyboard"] for b in row]
    assert [b["text"][:3] for b in page2[:3]] == ["8. ", "9. ", "10."]
    assert page2[2]["callback_data"] == "profile:skip"
    # The typed number of a choice on the second page works too.
    fake.push(text_update(9, "9"))  # Bamako
    sent = await fake.wait_sent(6, 9)
    assert "commune" in sent[5].text


async def test_long_text_is_split_on_paragraphs_with_the_keyboard_last(rig: Rig) -> None:
    paragraph = "Un paragraphe assez long pour remplir la page. " * 20
    text = "\n\n".join(paragraph for _ in range(10)) + "\n\n<b>pas du HTML</b> & co"
    await rig.channel.sender.send("11", Reply(text=text, choices=(Choice("menu:main", "Menu"),)))
    parts = rig.fake.sent(11)
    assert len(parts) == 3
    assert all(len(p.text) <= 4096 for p in parts)
    assert not parts[0].buttons and not parts[1].buttons and parts[2].buttons
    assert "&lt;b&gt;pas du HTML&lt;/b&gt; &amp; co" in parts[2].text


async def test_a_consenting_citizens_contact_opens_a_chat_with_her(rig: Rig) -> None:
    from handlers.complaints.contact import contact_line

    contact = contact_line("Awa Traoré", "telegram", "4410")
    await rig.channel.sender.send("12", Reply(text=f"Contact (accepté par le citoyen) : {contact}"))
    await rig.channel.sender.send("12", Reply(text="Anonyme. Texte : écrire tg://user?id=9 <a>"))
    consented, anonymous = rig.fake.sent(12)
    assert 'Awa Traoré — Telegram <a href="tg://user?id=4410">' in consented.text
    # Only the contact line the bot writes becomes a link; typed text stays escaped text.
    assert "<a href" not in anonymous.text and "&lt;a&gt;" in anonymous.text


async def test_long_choice_ids_travel_as_tokens(rig: Rig) -> None:
    long_id = "menu:main"
    markup = await rig.channel.sender.markup((Choice("x" * 70, "Long"), Choice(long_id, "Menu")), 0)
    assert markup is not None
    data = [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
    assert data[0] is not None and data[0].startswith(TOKEN_PREFIX) and len(data[0]) <= 64
    assert data[1] == long_id
    token = await rig.store.save_token("menu:main", __import__("datetime").datetime.now())
    rig.fake.push(text_update(12, "salut"))
    rig.fake.push(tap_update(12, "lang:fr"))
    await rig.fake.wait_sent(3, 12)
    rig.fake.push(tap_update(12, TOKEN_PREFIX + token))
    sent = await rig.fake.wait_sent(4, 12)
    assert sent[3].buttons[0]["callback_data"] == "menu:learn"


async def test_a_429_storm_delivers_everything_once_and_in_order(rig: Rig) -> None:
    fake = rig.fake
    fake.fail("sendMessage", "429", times=4, retry_after=1)
    for uid in (21, 22, 23):
        fake.push(text_update(uid, "bonjour"))
    for uid in (21, 22, 23):
        # A person taps after seeing the question; updates of one user are not reordered.
        await fake.wait_sent(1, uid, timeout=20)
        fake.push(tap_update(uid, "lang:fr"))
    for uid in (21, 22, 23):
        sent = await fake.wait_sent(3, uid, timeout=20)
        assert len(sent) == 3
        assert "langue" in sent[0].text and "Bienvenue" in sent[1].text
        assert sent[2].buttons[0]["callback_data"] == "menu:learn"
    assert len([c for c in fake.calls if c.method == "!sendMessage"]) == 4
    await asyncio.sleep(0.3)
    assert len(fake.sent()) == 9


async def test_server_errors_go_through_the_outbox(rig: Rig) -> None:
    fake = rig.fake
    fake.fail("sendMessage", "500", times=1)
    fake.push(text_update(31, "bonjour"))
    for _ in range(200):
        rows = await rig.store.fetch_all("SELECT state, kind FROM outbox")
        if rows:
            break
        await asyncio.sleep(0.02)
    assert rows == [("pending", "reply")]
    assert fake.sent(31) == []
    worker = DeliveryWorker(rig.store, {"telegram": rig.channel.sender})
    assert await worker.run_once() == 1
    sent = fake.sent(31)
    assert len(sent) == 1 and "langue" in sent[0].text
    assert await rig.store.fetch_all("SELECT state FROM outbox") == [("sent",)]


async def test_a_blocked_user_is_marked_stopped(rig: Rig) -> None:
    fake = rig.fake
    fake.push(text_update(41, "bonjour"))
    await fake.wait_sent(1, 41)
    fake.fail("sendMessage", "blocked", times=1)
    fake.push(tap_update(41, "lang:fr"))
    for _ in range(200):
        user = await rig.user("telegram:41")
        if user and user.stopped:
            break
        await asyncio.sleep(0.02)
    assert user is not None and user.stopped
    assert await rig.store.fetch_all("SELECT * FROM outbox") == []
    # Blocking the bot (my_chat_member) marks the user too.
    fake.push(text_update(42, "bonjour"))
    await fake.wait_sent(1, 42)
    fake.push(member_update(42, 42, "member", "kicked", kind="private"))
    for _ in range(200):
        other = await rig.user("telegram:42")
        if other and other.stopped:
            break
        await asyncio.sleep(0.02)
    assert other is not None and other.stopped


async def test_outbox_row_to_a_blocked_user_dies_and_stops_them(rig: Rig) -> None:
    from storage.records import NewOutboxMessage

    rig.fake.push(text_update(43, "bonjour"))
    await rig.fake.wait_sent(1, 43)
    async with rig.store.transaction() as tx:
        row = tx.enqueue(
            NewOutboxMessage(
                "telegram", "43", "notice", {"text": "Nouvelles"}, user_key="telegram:43"
            ),
            __import__("datetime").datetime.now(__import__("datetime").UTC),
        )
    rig.fake.fail("sendMessage", "not_found", times=1)
    await DeliveryWorker(rig.store, {"telegram": rig.channel.sender}).run_once()
    stored = await rig.store.get_outbox(row)
    assert stored is not None and stored.state == "dead"
    user = await rig.user("telegram:43")
    assert user is not None and user.stopped


async def test_group_intro_quiet_chatter_and_commands(rig: Rig) -> None:
    fake = rig.fake
    group = -1001
    fake.push(member_update(51, group, "left", "member"))
    [intro] = await fake.wait_sent(1, group)
    assert "/aide" in intro.text
    fake.push(text_update(52, "bonjour tout le monde", cid=group, kind="supergroup"))
    fake.push(text_update(52, "/aide@another_bot", cid=group, kind="supergroup"))
    fake.push(text_update(52, "/aide@civic_test_bot", cid=group, kind="supergroup"))
    sent = await fake.wait_sent(2, group)
    await asyncio.sleep(0.3)
    assert len(fake.sent(group)) == 2
    assert "privé" in sent[1].text
    assert sent[1].buttons[0]["url"] == "https://t.me/civic_test_bot?start=group"


async def test_webhook_secret_and_duplicate_updates(tmp_path: Path, pack: ContentPack) -> None:
    r = await _rig(tmp_path, pack, poll=False)
    try:
        await r.channel.set_webhook("https://bot.example.org/telegram/webhook", "s3cret-token")
        [hook] = [c for c in r.fake.calls if c.method == "setWebhook"]
        assert hook.params["secret_token"] == "s3cret-token"
        app = web.Application()
        app.router.add_post("/telegram/webhook", r.channel.webhook_handler("s3cret-token"))
        async with TestClient(TestServer(app)) as client:
            update = text_update(61, "bonjour") | {"update_id": 5000}
            wrong = await client.post(
                "/telegram/webhook", json=update, headers={SECRET_HEADER: "guess"}
            )
            missing = await client.post("/telegram/webhook", json=update)
            assert wrong.status == 401 and missing.status == 401
            await asyncio.sleep(0.2)
            assert r.fake.sent(61) == []
            for _ in range(2):  # Telegram resends: the same update id twice
                ok = await client.post(
                    "/telegram/webhook", json=update, headers={SECRET_HEADER: "s3cret-token"}
                )
                assert ok.status == 200
            junk = await client.post(
                "/telegram/webhook", data=b"not json", headers={SECRET_HEADER: "s3cret-token"}
            )
            assert junk.status == 200
            await r.fake.wait_sent(1, 61)
            await asyncio.sleep(0.3)
            assert len(r.fake.sent(61)) == 1
    finally:
        await _close(r)


def test_html_escaping() -> None:
    assert escape("a < b & c > d") == "a &lt; b &amp; c &gt; d"


def test_flood_control_limits() -> None:
    now = [0.0]
    flood = FloodControl(
        global_rate=30, chat_rate=1, group_per_minute=20, burst=3, clock=lambda: now[0]
    )
    assert [flood.delay("1", False) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert flood.delay("1", False) == pytest.approx(1.0)
    assert flood.delay("2", False) == 0.0  # another chat is not held back
    for _ in range(3):
        flood.delay("-5", True)
    assert flood.delay("-5", True) == pytest.approx(3.0)  # 20 a minute: one every 3 s
    busy = FloodControl(global_rate=30, chat_rate=100, burst=100, clock=lambda: now[0])
    waits = [busy.delay(str(n), False) for n in range(40)]
    assert waits[29] == 0.0 and waits[30] > 0 and waits[39] == pytest.approx(10 / 30)


async def test_group_quiz_on_telegram(rig: Rig, pack: ContentPack) -> None:
    from datetime import UTC, datetime, timedelta

    from handlers.clocks import run_clocks

    fake, group = rig.fake, -2002
    fake.admins = {81}
    worker = DeliveryWorker(rig.store, {"telegram": rig.channel.sender})
    fake.push(text_update(82, "/quiz redevabilite", cid=group, kind="supergroup"))
    [refused] = await fake.wait_sent(1, group)
    assert "administrateurs" in refused.text
    fake.push(text_update(81, "/quiz@civic_test_bot redevabilite", cid=group, kind="supergroup"))
    await fake.wait_sent(2, group)
    await worker.run_once()  # the question goes out through the outbox
    question = fake.sent(group)[-1]
    assert "Question 1/10" in question.text
    quiz = pack.quizzes["redevabilite"]
    right = next(
        b["callback_data"]
        for b in question.buttons
        if quiz.questions[0].options[int(b["callback_data"].split(":")[3])].correct
    )
    wrong = next(b["callback_data"] for b in question.buttons if b["callback_data"] != right)
    fake.push(tap_update(83, right, cid=group, kind="supergroup"))
    fake.push(tap_update(84, wrong, cid=group, kind="supergroup"))
    fake.push(tap_update(84, right, cid=group, kind="supergroup"))
    for _ in range(200):
        answers = [c for c in fake.calls if c.method == "answerCallbackQuery"]
        if len(answers) == 3:
            break
        await asyncio.sleep(0.02)
    texts = [a.params.get("text", "") for a in answers]
    assert any("Bonne réponse" in t for t in texts) and any("Ce n'est pas ça" in t for t in texts)
    assert any("une seule réponse" in t for t in texts)
    assert all(a.params.get("show_alert") in ("true", True) for a in answers)
    # Nothing about who answered what reaches the group.
    assert len(fake.sent(group)) == 3
    later = datetime.now(UTC) + timedelta(seconds=31)
    await run_clocks(rig.store, pack, later)
    worker = DeliveryWorker(rig.store, {"telegram": rig.channel.sender}, clock=lambda: later)
    await worker.run_once()
    [edit] = [c for c in fake.calls if c.method == "editMessageText"]
    assert edit.chat == str(group) and "Réponses : 2" in edit.text and "Réponse :" in edit.text
    assert "Question 2/10" in fake.sent(group)[-1].text
    fake.push(text_update(81, "/quiz stop", cid=group, kind="supergroup"))
    await fake.wait_sent(4, group)
    await asyncio.sleep(0.1)
    await worker.run_once()
    final = fake.sent(group)[-1].text
    assert "Participants : 2" in final and "U83" not in final and "U84" not in final


async def test_a_long_flood_wait_goes_back_to_the_outbox(tmp_path: Path, pack: ContentPack) -> None:
    from bot.delivery import SendError

    r = await _rig(tmp_path, pack, poll=False, chat_rate=0.1, burst=1.0)
    try:
        await r.channel.sender.send("77", Reply(text="un"))
        with pytest.raises(SendError) as waited:
            await r.channel.sender.send("77", Reply(text="deux"))
        assert waited.value.retry_after is not None and waited.value.retry_after > 2
        assert [c.text for c in r.fake.sent(77)] == ["un"]
    finally:
        await _close(r)


async def test_a_burst_held_by_flood_control_waits_without_a_warning_per_message(
    tmp_path: Path, pack: ContentPack, caplog: pytest.LogCaptureFixture
) -> None:
    """Pacing is the bot keeping a limit, not a failure: the log stays readable in a burst."""
    import logging
    from datetime import UTC, datetime

    from bot.delivery import DeliveryWorker
    from storage.records import NewOutboxMessage

    r = await _rig(tmp_path, pack, poll=False, chat_rate=0.1, burst=1.0)
    try:
        now = datetime.now(UTC)
        async with r.store.transaction() as tx:
            for n in range(5):
                tx.enqueue(
                    NewOutboxMessage("telegram", "77", "notice", Reply(text=f"n{n}").to_dict("77")),
                    now,
                )
        worker = DeliveryWorker(r.store, {"telegram": r.channel.sender})
        with caplog.at_level(logging.INFO):
            await worker.run_once(10)
        assert [c.text for c in r.fake.sent(77)] == ["n0"]
        rows = await r.store.fetch_all("SELECT state FROM outbox ORDER BY created_at, rowid")
        assert [row[0] for row in rows] == ["sent", "failed", "pending", "pending", "pending"]
        assert [rec.message for rec in caplog.records if rec.levelno >= logging.WARNING] == []
    finally:
        await _close(r)


def test_declined_waits_take_no_token() -> None:
    now = [0.0]
    flood = FloodControl(global_rate=1, chat_rate=100, burst=1, clock=lambda: now[0])
    assert flood.delay("1", False, max_wait=2) == 0.0
    for _ in range(10):  # sends pushed back to the outbox: they must not pile up a debt
        flood.delay("2", False, max_wait=0.5)
    now[0] = 1.0
    assert flood.delay("3", False, max_wait=2) == 0.0


def test_group_messages_pass_only_as_commands_or_replies_to_the_bot() -> None:
    from datetime import UTC, datetime

    from bot.channels.telegram.convert import from_message
    from tests.fake_telegram import BOT_USER

    plain = text_update(90, "Le forage est réparé.", cid=-5, kind="supergroup")["message"]
    reply = {
        **plain,
        "reply_to_message": {
            "message_id": 9,
            "date": 0,
            "chat": {"id": -5, "type": "supergroup", "title": "g"},
            "from": BOT_USER,
            "text": "Écrivez un message",
        },
    }
    now = datetime.now(UTC)
    assert from_message(plain, 1, "civic_test_bot", now) is None
    inbound = from_message(reply, 2, "civic_test_bot", now)
    assert inbound is not None and inbound.text == "Le forage est réparé."
    assert inbound.chat_type == "group"


async def test_a_text_with_half_an_emoji_is_answered(rig: Rig) -> None:
    fake = rig.fake
    # A phone that cut an emoji in two sends half of its UTF-16 pair, escaped in the JSON.
    fake.push(text_update(45, "bonjour \ud83d"))
    fake.push(text_update(46, "bonjour"))
    [prompt] = await fake.wait_sent(1, 45)
    assert "langue" in prompt.text
    await fake.wait_sent(1, 46)
    fake.push(tap_update(45, "lang:fr"))
    fake.push(text_update(45, "je veux signaler \ud83d un probleme d eau"))
    sent = await fake.wait_sent(4, 45)
    assert "Bienvenue" in sent[1].text
    assert await rig.store.inbound_left(["telegram"]) == 0

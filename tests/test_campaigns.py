"""Public information campaigns: audience, paced resumable queueing, stop, quiet hours, reach."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot import cli
from bot.campaigns.model import Campaign, CampaignError, check_targets, load_campaign
from bot.campaigns.schedule import LEAD, QuietHours
from bot.commands.campaign import Rates, make_plan, report, send, status
from bot.delivery import DeliveryWorker
from content.pack import ContentPack
from handlers.engine import Engine
from handlers.messages import Reply
from storage.records import NewOutboxMessage, OutboxRecord, UserRecord, from_iso
from storage.sqlite import SqliteStore
from tests.conftest import Chat, FakeClock
from tests.storage_backends import store as store  # each test on every backend

EXAMPLE = Path(__file__).resolve().parent.parent / "campaigns" / "eid-10-decembre.yaml"
ARTICLE = "espace-interpellation-democratique"
PREFIX = "campaign:eid-10-decembre:"
NO_QUIET = Rates({"telegram": 30.0, "whatsapp": 80.0}, None)


class Recorder:
    """A sender that records every message, in order."""

    def __init__(self, log: list[tuple[str, str, Reply]], channel: str) -> None:
        self.log = log
        self.channel = channel

    async def send(self, chat_id: str, reply: Reply, row: OutboxRecord | None = None) -> str | None:
        self.log.append((self.channel, chat_id, reply))
        return f"{self.channel}-{len(self.log)}"


def worker(
    store: SqliteStore, clock: FakeClock, sent: list[tuple[str, str, Reply]], **kw: Any
) -> DeliveryWorker:
    senders = {ch: Recorder(sent, ch) for ch in ("telegram", "whatsapp")}
    return DeliveryWorker(store, senders, clock=clock, rng=random.Random(1), **kw)


async def drain(w: DeliveryWorker, clock: FakeClock, seconds: float = 3600) -> None:
    """Run the worker as the bot would, second by second of the fake clock."""
    end = clock() + timedelta(seconds=seconds)
    while clock() < end:
        while await w.run_once() > 0:
            pass
        clock.advance(seconds=1)


async def add_user(
    store: SqliteStore,
    clock: FakeClock,
    channel: str,
    uid: str,
    *,
    lang: str = "fr",
    region: str | None = None,
    stopped: bool = False,
    inbound_ago: timedelta | None = timedelta(hours=1),
    read: str | None = None,
) -> str:
    now = clock()
    user = UserRecord(
        key=f"{channel}:{uid}",
        channel=channel,
        external_id=uid,
        created_at=now,
        last_seen_at=now,
        language=lang,
        region=region,
        stopped=stopped,
        last_inbound_at=now - inbound_ago if inbound_ago is not None else None,
    )
    async with store.transaction() as tx:
        tx.save_user(user)
        if read:
            tx.record_read(user.key, read, now)
    return user.key


def example(**changes: Any) -> Campaign:
    data = load_campaign(EXAMPLE).model_dump()
    data.update(changes)
    return Campaign.model_validate(data)


async def rows(store: SqliteStore) -> list[tuple[Any, ...]]:
    return await store.fetch_all(
        "SELECT user_key, state, next_attempt_at, last_error, attempts, payload FROM outbox "
        "WHERE kind = 'campaign' ORDER BY next_attempt_at"
    )


def test_example_file_is_valid_and_targets_exist(pack: ContentPack) -> None:
    campaign = load_campaign(EXAMPLE)
    assert campaign.code == "c-eid-10-decembre"
    assert check_targets(campaign, set(pack.articles), set(pack.quizzes)) == []
    assert check_targets(example(button=None, audience={"read_article": "nope"}), set(), set())


def test_unknown_fields_and_missing_french_are_refused(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ntext: {bm: foo}\ncolour: red\n", encoding="utf-8")
    with pytest.raises(CampaignError) as caught:
        load_campaign(bad)
    text = "\n".join(caught.value.problems)
    assert "text.fr" in text and "colour" in text


async def test_plan_counts_per_channel_language_window_and_exclusions(
    store: SqliteStore, clock: FakeClock
) -> None:
    await add_user(store, clock, "telegram", "1", region="ML01")
    await add_user(store, clock, "telegram", "2", region="ML01", lang="bm")
    await add_user(store, clock, "telegram", "3", region="ML02", read=ARTICLE)
    await add_user(store, clock, "telegram", "4", region="ML01", stopped=True)
    await add_user(store, clock, "whatsapp", "5", region="ML01")  # wrote an hour ago
    await add_user(store, clock, "whatsapp", "6", region="ML01", inbound_ago=timedelta(days=2))
    await add_user(store, clock, "test", "7", region="ML01")  # not a campaign channel

    untemplated = example(whatsapp_template=None)
    plan = await make_plan(store, untemplated, NO_QUIET, {}, clock(), bot_username="@civic_bot")
    assert {ch: dict(c) for ch, c in plan.recipients.items()} == {
        "telegram": {"fr": 2, "bm": 1},
        "whatsapp": {"fr": 2},
    }
    assert plan.outside_window == 1 and plan.excluded_stopped == 1
    assert plan.links["telegram"] == "https://t.me/civic_bot?start=c-eid-10-decembre"
    assert plan.links["whatsapp"] == "https://wa.me/NUMBER?text=c-eid-10-decembre"
    assert any("no whatsapp_template" in w for w in plan.warnings)
    own = await make_plan(store, example(), NO_QUIET, {}, clock())
    assert own.template == "civicbot_campaign" and not own.warnings  # the file's own

    narrow = example(audience={"regions": ["ML01"], "languages": ["fr"]})
    plan = await make_plan(store, narrow, NO_QUIET, {"campaign": "civicbot_campaign"}, clock())
    assert plan.total == 3 and plan.template == "civicbot_campaign" and not plan.warnings
    readers = example(audience={"read_article": ARTICLE})
    assert (await make_plan(store, readers, NO_QUIET, {}, clock())).total == 1


async def test_send_killed_and_restarted_reaches_everyone_once(
    store: SqliteStore, clock: FakeClock
) -> None:
    keys = {await add_user(store, clock, "telegram", f"t{i}") for i in range(700)}
    keys |= {await add_user(store, clock, "whatsapp", f"w{i}", lang="bm") for i in range(500)}
    campaign = example()

    class Killed(Exception):
        pass

    def kill_after_first_batch(done: int, total: int) -> None:
        if done >= 500:
            raise Killed

    with pytest.raises(Killed):
        await send(store, campaign, NO_QUIET, clock, kill_after_first_batch, batch=500)
    assert len(await rows(store)) == 500
    # The bot sends part of what was queued before the send is started again.
    sent: list[tuple[str, str, Reply]] = []
    w = worker(store, clock, sent)
    await drain(w, clock, seconds=15)
    assert 0 < len(sent) < 500
    progress: list[tuple[int, int]] = []
    result = await send(store, campaign, NO_QUIET, clock, lambda d, t: progress.append((d, t)))
    assert (result.queued_before, result.queued_now) == (500, 700)
    assert progress[0] == (500, 1200) and progress[-1] == (1200, 1200)
    await drain(w, clock, seconds=120)

    received = [f"{ch}:{chat}" for ch, chat, _ in sent]
    assert sorted(received) == sorted(keys)  # everyone, each once
    again = await send(store, campaign, NO_QUIET, clock)
    assert again.queued_now == 0
    texts = {ch: reply.text for ch, _, reply in sent}
    assert texts["telegram"].startswith("Le 10 décembre")
    assert texts["whatsapp"].startswith("San o san")
    wa_button = next(r for ch, _, r in sent if ch == "whatsapp").choices[0]
    assert (wa_button.id, wa_button.label) == (f"learn:article:{ARTICLE}", "Sɛbɛn kalan")
    figures = await status(store, "eid-10-decembre")
    assert figures and figures["status"] == "done" and figures["sent"] == 1200


@pytest.mark.sqlite_only(reason="reads outbox times as SQLite text through raw SQL")
async def test_sends_are_paced_at_the_channel_rates(store: SqliteStore, clock: FakeClock) -> None:
    for i in range(270):
        await add_user(store, clock, "telegram", f"t{i}")
    await send(store, example(), Rates({"telegram": 30.0}, None), clock)
    due = [from_iso(r[2]) for r in await rows(store)]
    assert due[0] == clock() + LEAD
    # 270 at 90 % of 30/s: 10 seconds, so the senders' flood control has room for replies.
    assert due[-1] - due[0] == pytest.approx(timedelta(seconds=269 / 27), abs=timedelta(0.01))


async def test_replies_and_notices_go_ahead_of_the_campaign(
    store: SqliteStore, clock: FakeClock
) -> None:
    for i in range(300):
        await add_user(store, clock, "telegram", f"t{i}")
    await send(store, example(), NO_QUIET, clock)
    clock.advance(seconds=LEAD.total_seconds() + 2)
    async with store.transaction() as tx:
        tx.enqueue(
            NewOutboxMessage("telegram", "t5", "notice", Reply("Votre plainte").to_dict("t5")),
            clock(),
        )
    sent: list[tuple[str, str, Reply]] = []
    await worker(store, clock, sent).run_once(limit=100)
    # Only the campaign rows whose moment has come (about 2 s at 27/s) are due: the notice
    # is in the first batch, not behind the 300 rows of the campaign.
    assert [r.text for _, _, r in sent].count("Votre plainte") == 1
    assert len(sent) < 70


async def test_stop_in_the_middle_of_a_send(
    store: SqliteStore, clock: FakeClock, engine: Engine
) -> None:
    chats = [Chat(engine, clock, user=f"10{i}", channel="telegram") for i in range(3)]
    for chat in chats:
        await chat.onboard()
    await send(store, example(), NO_QUIET, clock)
    clock.advance(seconds=LEAD.total_seconds())
    sent: list[tuple[str, str, Reply]] = []
    w = worker(store, clock, sent)
    assert await w.run_once(limit=1) == 1
    await chats[2].say("stop")
    await drain(w, clock, seconds=5)
    assert sorted(chat for _, chat, _ in sent) == ["100", "101"]
    by_user = {r[0]: r for r in await rows(store)}
    assert by_user["telegram:102"][1:2] == ("dead",)
    assert by_user["telegram:102"][3] == "stopped"
    figures = await status(store, "eid-10-decembre")
    assert figures and (figures["sent"], figures["stopped"]) == (2, 1)


@pytest.mark.sqlite_only(reason="reads outbox times as SQLite text through raw SQL")
async def test_quiet_hours_hold_messages_until_morning(
    store: SqliteStore, clock: FakeClock
) -> None:
    quiet = QuietHours.parse("21:00-07:00")
    assert quiet is not None
    clock.now = datetime(2026, 12, 9, 20, 59, 40, tzinfo=UTC)
    for i in range(30):
        await add_user(store, clock, "telegram", f"t{i}")
    # 1 message a second: the first ten fit before 21:00, the others wait for the morning.
    await send(store, example(), Rates({"telegram": 1 / 0.9}, quiet), clock)
    due = [from_iso(r[2]) for r in await rows(store)]
    morning = datetime(2026, 12, 10, 7, 0, tzinfo=UTC)
    assert [d for d in due if d < morning] == [
        clock() + LEAD + timedelta(seconds=i) for i in range(10)
    ]
    assert due[10] == morning and due[-1] == morning + timedelta(seconds=19)

    # The worker holds due rows too (a send that ran late, a retry): no attempt is counted.
    sent: list[tuple[str, str, Reply]] = []
    w = worker(store, clock, sent, quiet_hours=quiet)
    clock.now = datetime(2026, 12, 9, 21, 30, tzinfo=UTC)
    assert await w.run_once() == 0 and sent == []
    held = await rows(store)
    assert all(from_iso(r[2]) >= morning and r[4] == 0 and r[1] == "pending" for r in held)
    clock.now = morning
    await drain(w, clock, seconds=30)
    assert len(sent) == 30


async def test_cancel_drops_unsent_rows(store: SqliteStore, clock: FakeClock) -> None:
    for i in range(5):
        await add_user(store, clock, "telegram", f"t{i}")
    campaign = example()
    await send(store, campaign, NO_QUIET, clock)
    clock.advance(seconds=LEAD.total_seconds() + 1)
    sent: list[tuple[str, str, Reply]] = []
    await worker(store, clock, sent).run_once(limit=2)
    dropped = await store.cancel_campaign(campaign.name, PREFIX, clock())
    assert dropped == 3
    await drain(worker(store, clock, sent), clock, seconds=10)
    assert len(sent) == 2
    figures = await status(store, campaign.name)
    assert figures and figures["status"] == "cancelled"
    assert (figures["sent"], figures["cancelled"], figures["pending"]) == (2, 3, 0)
    with pytest.raises(CampaignError, match="cancelled"):
        await send(store, campaign, NO_QUIET, clock)


async def test_a_changed_message_is_not_resumed_under_the_same_name(
    store: SqliteStore, clock: FakeClock
) -> None:
    await add_user(store, clock, "telegram", "1")
    await send(store, example(), NO_QUIET, clock)
    with pytest.raises(CampaignError, match="another message"):
        await send(store, example(text={"fr": "Autre chose"}), NO_QUIET, clock)


async def test_report_figures(store: SqliteStore, clock: FakeClock, engine: Engine) -> None:
    readers = [Chat(engine, clock, user=f"20{i}", channel="telegram") for i in range(3)]
    for chat in readers:
        await chat.onboard()
    wa = [await add_user(store, clock, "whatsapp", f"w{i}") for i in range(2)]
    await send(store, example(), NO_QUIET, clock)
    sent: list[tuple[str, str, Reply]] = []
    clock.advance(seconds=LEAD.total_seconds())
    await drain(worker(store, clock, sent), clock, seconds=5)
    # WhatsApp statuses as the channel writes them, by the id the platform gave each send.
    platform_ids = {
        chat: f"whatsapp-{n}" for n, (ch, chat, _) in enumerate(sent, 1) if ch == "whatsapp"
    }
    for key, state in zip(wa, ("delivered", "read"), strict=True):
        chat = key.split(":", 1)[1]
        await store.mark_status("whatsapp", platform_ids[chat], "_whatsapp_status", state, [])
    clock.advance(minutes=5)
    await readers[0].tap(f"learn:article:{ARTICLE}")  # the campaign's button
    await readers[1].say("stop")
    newcomer = Chat(engine, clock, user="300", channel="telegram")
    await newcomer.send(text="/start", entry="c-eid-10-decembre")

    figures = await report(store, "eid-10-decembre")
    assert figures is not None
    assert (figures["sent"], figures["delivered"], figures["read"], figures["failed"]) == (
        5,
        2,
        1,
        0,
    )
    # What people did is counted ...
    outcomes = await store.campaign_outcomes("campaign:eid-10-decembre:", example().code, ARTICLE)
    assert (outcomes["opened_article"], outcomes["stopped_after"]) == (1, 1)
    assert (outcomes.get("new_users_telegram"), outcomes.get("new_users_whatsapp", 0)) == (1, 0)
    # ... but under 5 people the report hides it, as every other small cell.
    assert figures["opened_article"] is None and figures["stopped_after"] is None
    assert (figures["new_users_telegram"], figures["new_users_whatsapp"]) == (None, None)


def test_cli_plan_send_status(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "cli.sqlite3")
    assert cli.main(["campaign", "plan", str(EXAMPLE), "--db", db, "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["total"] == 0 and plan["links"]["telegram"].endswith("?start=c-eid-10-decembre")
    assert cli.main(["campaign", "send", str(EXAMPLE), "--db", db]) == 0
    assert "0 message(s) mis en file maintenant" in capsys.readouterr().out
    assert cli.main(["campaign", "status", "eid-10-decembre", "--db", db, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["status"] == "done"
    assert cli.main(["campaign", "status", "nothing", "--db", db]) == 1

"""Learning and free-text search through the engine."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from content.pack import BUNDLED_PACK, ContentPack, load_pack
from handlers.engine import default_flows
from handlers.flow import Flow, Router
from handlers.turn import Turn
from storage.sqlite import SqliteStore
from tests.conftest import Chat, FakeClock, make_engine
from tests.storage_backends import store as store  # each test on every backend

ROOT = Path(__file__).resolve().parent.parent


async def test_themes_articles_pages_related_sources(chat: Chat, pack: ContentPack) -> None:
    await chat.onboard()
    await chat.say("1")  # learn
    assert chat.choices[: len(pack.themes)] == [f"learn:theme:{t.id}" for t in pack.themes]
    await chat.tap("learn:theme:inclusion")
    assert "Articles lus : 0 sur 4" in chat.text
    await chat.tap("learn:article:quota-genre")
    assert chat.text.startswith(pack.articles["quota-genre"].title["fr"])
    assert "Page 1/2" in chat.text
    await chat.say("1")  # Suite
    assert "Page 2/2" in chat.text
    assert "learn:page:quota-genre:3" not in chat.choices
    await chat.tap("learn:sources:quota-genre")
    assert "Loi n°2015-052" in chat.text and "Page 1/2" in chat.text
    await chat.say("suite")
    assert "relu le 02/12/2026" in chat.text and "Page 2/2" in chat.text
    assert "Sources : sites officiels, articles de presse" in chat.text and "(presse)" in chat.text
    await chat.tap("learn:article:quota-genre")
    await chat.tap("learn:related:quota-genre")
    assert "learn:article:jeunes-participation" in chat.choices
    await chat.tap("learn:article:jeunes-participation")
    await chat.tap("learn:theme:inclusion")
    assert "Articles lus : 2 sur 4" in chat.text
    assert chat.label("learn:article:quota-genre").startswith("✓ ")
    assert not chat.label("learn:article:femmes-foncier").startswith("✓")


async def test_reading_is_recorded(chat: Chat, store: SqliteStore) -> None:
    await chat.onboard()
    await chat.tap("learn:article:eau-potable")
    await chat.tap("learn:article:eau-potable")
    rows = await store.fetch_all("SELECT user_key, article_id, times FROM article_reads")
    assert rows == [("test:u1", "eau-potable", 2)]


async def test_old_article_buttons_work_from_any_state(chat: Chat) -> None:
    await chat.onboard()
    await chat.tap("menu:profile")
    await chat.tap("profile:edit:age")
    await chat.tap("learn:article:cscom-inexistant")
    assert "plus valable" in chat.text
    await chat.tap("learn:article:ecole-cgs")
    assert "CGS" in chat.text or "comité" in chat.text.lower()


async def test_bambara_reader_gets_bambara_titles_and_french_body(
    store: SqliteStore, clock: FakeClock
) -> None:
    pack = load_pack()
    article = pack.articles["femmes-sante"]
    # Every article now has a Bambara draft: take this one's away to see the French fallback.
    del article.body["bm"]
    chat = Chat(make_engine(store, pack, clock), clock)
    await chat.onboard("bm")
    await chat.tap("learn:article:femmes-sante")
    assert chat.text.startswith(article.title["bm"])
    assert pack.pages(article, "fr")[0] in chat.text
    assert chat.label("menu:main") == "Menu"


class FakeComplaintFlow(Flow):
    name = "complaint"

    async def show(self, turn: Turn, router: Router) -> None:
        turn.say("complaint form")

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        turn.say(f"form for {choice}")
        return True


async def test_action_buttons_appear_only_when_complaints_exist(
    store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    without = [f for f in default_flows() if f.name != "complaint"]
    plain = Chat(make_engine(store, pack, clock, flows=without), clock, user="p")
    await plain.onboard()
    await plain.tap("learn:article:eau-potable")
    assert not any(c.startswith("complaint:") for c in plain.choices)
    flows = [*without, FakeComplaintFlow()]
    full = Chat(make_engine(store, pack, clock, flows=flows), clock, user="q")
    await full.onboard()
    await full.tap("learn:article:eau-potable")
    assert "complaint:new:eau" in full.choices
    assert "Eau potable" in full.label("complaint:new:eau")


async def test_free_text_opens_the_article_when_sure(chat: Chat, store: SqliteStore) -> None:
    await chat.onboard()
    await chat.say("c koi le bvg")
    assert chat.text.startswith("Le Vérificateur Général")
    rows = await store.fetch_all("SELECT query, outcome, article_id FROM search_queries")
    assert rows == [("c koi le bvg", "confident", "verificateur-general")]


async def test_free_text_offers_choices_when_unsure(chat: Chat) -> None:
    await chat.onboard()
    await chat.say("prix du riz au marche")
    # Off topic: never an article opened as if it were the answer.
    articles = chat.engine._pack().articles.values()
    assert not any(chat.text.startswith(a.title["fr"]) for a in articles)
    await chat.say("les femmes")
    assert "Vouliez-vous lire" in chat.text
    offered = [c for c in chat.choices if c.startswith("learn:article:")]
    assert 2 <= len(offered) <= 3
    await chat.say("1")
    assert chat.text.startswith(chat.engine._pack().articles[offered[0].split(":")[2]].title["fr"])


async def test_nothing_found_says_so_and_offers_the_menu(chat: Chat, store: SqliteStore) -> None:
    await chat.onboard()
    await chat.say("azerty qsdfg")
    assert "rien trouvé" in chat.text and "azerty" in chat.text
    assert "menu:learn" in chat.choices
    rows = await store.fetch_all("SELECT outcome FROM search_queries")
    assert rows == [("none",)]


async def test_greetings_thanks_and_insults_get_a_short_reply(chat: Chat) -> None:
    await chat.onboard()
    for text, answer in [
        ("Bonjour !", "Posez-moi"),
        ("i ni ce", "Posez-moi"),
        ("merci beaucoup", "plaisir"),
        ("t es un idiot", "polis"),
    ]:
        await chat.say(text)
        assert answer in chat.text, text
        assert not any(c.startswith("learn:article") for c in chat.choices)


async def test_search_is_not_used_where_a_step_expects_text(chat: Chat) -> None:
    await chat.onboard()
    await chat.tap("menu:profile")
    await chat.tap("profile:edit:region")
    await chat.tap("profile:region:ML01")
    await chat.say("Kayes")
    assert "enregistré" in chat.text


async def test_gaps_command_lists_unanswered_questions(tmp_path: Path) -> None:
    db = tmp_path / "bot.sqlite3"
    store = await SqliteStore.open(db)
    pack = load_pack()
    clock = FakeClock()
    chat = Chat(make_engine(store, pack, clock), clock)
    await chat.onboard()
    for _ in range(3):
        await chat.say("horaires du marché de nuit")
    await chat.say("c koi le bvg")
    await store.close()
    clock.advance(days=1)
    proc = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "bot", "content", "gaps", "--db", str(db)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    lines = proc.stdout.splitlines()
    assert "horaires du marche de nuit" in lines[1] and lines[1].split()[0] == "3"
    assert "bvg" not in proc.stdout


async def test_audio_is_sent_with_the_first_page(
    tmp_path: Path, store: SqliteStore, clock: FakeClock
) -> None:
    folder = tmp_path / "pack"
    shutil.copytree(BUNDLED_PACK, folder)
    path = folder / "articles/services/eau-potable.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["audio"] = {"bm": "voice-eau-bm"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    chat = Chat(make_engine(store, load_pack(folder), clock), clock)
    await chat.onboard("bm")
    await chat.tap("learn:article:eau-potable")
    media = [r.media for r in chat.last if r.media]
    assert media and media[0].kind == "audio" and media[0].ref == "voice-eau-bm"

"""Dialog tests through the engine: what the user says, what the bot replies."""

from __future__ import annotations

from datetime import timedelta

import pytest

from content.pack import ContentPack
from handlers.engine import Engine
from handlers.flow import Flow, Router
from handlers.menu import MenuFlow
from handlers.turn import Turn
from storage.sqlite import SqliteStore
from tests.conftest import Chat, FakeClock, make_engine
from tests.storage_backends import store as store  # each test on every backend

MENU = [
    "menu:learn",
    "menu:quiz",
    "menu:complaint",
    "menu:barometer",
    "menu:profile",
    "menu:help",
]


async def test_first_contact_asks_language_then_shows_menu(chat: Chat) -> None:
    await chat.say("salut")
    assert chat.choices == ["lang:fr", "lang:bm"]
    assert "langue" in chat.text
    await chat.tap("lang:fr")
    assert "Bienvenue" in chat.text
    assert chat.choices == MENU
    assert chat.label("menu:learn") == "Connaître mes droits"


async def test_typed_number_picks_the_offered_choice(chat: Chat) -> None:
    await chat.say("bonjour")
    await chat.say("2")
    assert chat.label("menu:learn") == "N ka josiraw"
    assert "bisimila" in chat.text


async def test_language_keyword_changes_language_from_any_state(chat: Chat) -> None:
    await chat.onboard("fr")
    await chat.tap("menu:profile")
    await chat.say("LANGUE")
    assert chat.choices == ["lang:fr", "lang:bm"]
    await chat.say("2")
    assert "bamanankan" in chat.text
    assert chat.label("menu:profile") == "N ko"


@pytest.mark.parametrize("word", ["menu", "MENU", "Menu !", "/menu", "daminɛ", "damine"])
async def test_menu_keyword_works_mid_flow(chat: Chat, word: str) -> None:
    await chat.onboard()
    await chat.tap("menu:profile")
    await chat.tap("profile:edit:age")
    await chat.say(word)
    assert chat.choices == MENU


@pytest.mark.parametrize("word", ["aide", "Aide", "dɛmɛ", "deme"])
async def test_help_keyword_in_both_languages(chat: Chat, word: str) -> None:
    await chat.onboard()
    await chat.tap("menu:profile")
    await chat.say(word)
    assert "MENU" in chat.text and "OUBLIER" in chat.text and "STOP" in chat.text


@pytest.mark.parametrize("entry", ["menu:learn", "menu:quiz", "menu:complaint"])
async def test_entries_not_built_yet_say_so_politely(
    store: SqliteStore, pack: ContentPack, clock: FakeClock, entry: str
) -> None:
    # Only the foundation flows: the capabilities of later work are absent.
    chat = Chat(make_engine(store, pack, clock, flows=None), clock)
    engine = chat.engine
    engine._router.flows = {
        name: flow
        for name, flow in engine._router.flows.items()
        if name not in ("learn", "quiz", "complaint", "search")
    }
    await chat.onboard()
    await chat.tap(entry)
    assert "pas encore ouverte" in chat.text
    assert chat.choices == MENU


async def test_profile_region_commune_age_gender(chat: Chat, store: SqliteStore) -> None:
    await chat.onboard()
    await chat.tap("menu:profile")
    assert "facultatif" in chat.text
    await chat.tap("profile:edit:region")
    assert "Pourquoi" in chat.text and "Qui le voit" in chat.text
    await chat.tap("profile:region:ML03")
    await chat.say("koutiala commune")
    assert "enregistré" in chat.text
    assert "Koutiala" in chat.text and "Sikasso" in chat.text
    await chat.tap("profile:edit:age")
    assert "Pourquoi" in chat.text
    await chat.say("3")  # 20 à 24 ans
    await chat.tap("profile:edit:gender")
    await chat.tap("profile:gender:f")
    assert "20 à 24 ans" in chat.text and "Une femme" in chat.text
    async with store.transaction() as tx:
        user = await tx.get_user("test:u1")
    assert user is not None
    assert (user.region, user.age_group, user.gender) == ("ML03", "20-24", "f")
    assert user.commune is not None and user.commune.startswith("ML03")


async def test_commune_typo_without_accents_offers_candidates(chat: Chat) -> None:
    await chat.onboard()
    await chat.tap("menu:profile")
    await chat.tap("profile:edit:region")
    await chat.tap("profile:region:ML04")
    await chat.say("segu")
    assert any("Segou" in chat.label(c) for c in chat.choices if c.startswith("profile:commune"))


async def test_unknown_commune_is_explained_and_skippable(chat: Chat, store: SqliteStore) -> None:
    await chat.onboard()
    await chat.tap("menu:profile")
    await chat.tap("profile:edit:region")
    await chat.tap("profile:region:ML01")
    await chat.say("zzqxw")
    assert "Je ne trouve pas" in chat.text
    await chat.tap("profile:skip")
    async with store.transaction() as tx:
        user = await tx.get_user("test:u1")
    assert user is not None and user.region == "ML01" and user.commune is None


async def test_skip_clears_a_previous_answer(chat: Chat) -> None:
    await chat.onboard()
    await chat.tap("menu:profile")
    await chat.tap("profile:edit:age")
    await chat.tap("profile:age:15-19")
    assert "15 à 19 ans" in chat.text
    await chat.tap("profile:edit:age")
    await chat.tap("profile:skip")
    assert "15 à 19 ans" not in chat.text and "non indiqué" in chat.text


async def test_stop_and_resume_set_the_flag(chat: Chat, store: SqliteStore) -> None:
    await chat.onboard()
    await chat.say("stop")
    assert "REPRENDRE" in chat.text
    async with store.transaction() as tx:
        assert (await tx.get_user("test:u1")).stopped  # type: ignore[union-attr]
    await chat.say("reprendre")
    async with store.transaction() as tx:
        assert not (await tx.get_user("test:u1")).stopped  # type: ignore[union-attr]


async def test_forget_asks_confirmation_then_deletes_and_says_what(
    chat: Chat, store: SqliteStore
) -> None:
    await chat.onboard()
    await chat.tap("menu:profile")
    await chat.tap("profile:edit:gender")
    await chat.tap("profile:gender:m")
    await chat.say("oublier")
    assert chat.choices == ["privacy:forget_yes", "privacy:forget_no"]
    async with store.transaction() as tx:
        assert await tx.get_user("test:u1") is not None
    await chat.say("1")
    assert "effacé" in chat.text and "profil" in chat.text
    async with store.transaction() as tx:
        assert await tx.get_user("test:u1") is None
        assert await tx.get_conversation("test:u1") is None
    await chat.say("salut")
    assert chat.choices == ["lang:fr", "lang:bm"]


async def test_forget_cancelled_keeps_everything(chat: Chat, store: SqliteStore) -> None:
    await chat.onboard()
    await chat.say("oublier")
    await chat.tap("privacy:forget_no")
    assert "Rien n'a été effacé" in chat.text
    async with store.transaction() as tx:
        assert await tx.get_user("test:u1") is not None


async def test_idle_conversation_restarts_at_menu_saying_so(chat: Chat, clock: FakeClock) -> None:
    await chat.onboard()
    await chat.tap("menu:profile")
    await chat.tap("profile:edit:age")
    clock.advance(hours=25)
    await chat.say("2")
    assert "reprend au menu" in chat.text
    assert chat.choices == MENU


async def test_choice_from_expired_conversation_is_not_applied(
    chat: Chat, clock: FakeClock, store: SqliteStore
) -> None:
    await chat.onboard()
    await chat.tap("menu:profile")
    await chat.tap("profile:edit:gender")
    clock.advance(days=2)
    await chat.tap("profile:gender:f")
    assert "reprend au menu" in chat.text
    async with store.transaction() as tx:
        assert (await tx.get_user("test:u1")).gender is None  # type: ignore[union-attr]


async def test_conversation_within_ttl_resumes_where_it_was(chat: Chat, clock: FakeClock) -> None:
    await chat.onboard()
    await chat.tap("menu:profile")
    await chat.tap("profile:edit:gender")
    clock.advance(hours=5)
    await chat.say("1")
    assert "Une femme" in chat.text


async def test_ttl_is_configurable(store: SqliteStore, pack: ContentPack, clock: FakeClock) -> None:
    chat = Chat(make_engine(store, pack, clock, conversation_ttl=timedelta(minutes=10)), clock)
    await chat.onboard()
    await chat.tap("menu:profile")
    clock.advance(minutes=11)
    await chat.say("1")
    assert "reprend au menu" in chat.text


async def test_idle_user_at_menu_gets_no_expiry_notice(chat: Chat, clock: FakeClock) -> None:
    await chat.onboard()
    clock.advance(days=3)
    await chat.say("5")
    assert "reprend" not in chat.text
    assert "facultatif" in chat.text


# --- bad input -------------------------------------------------------------------------------


async def test_empty_text_is_answered_politely(chat: Chat) -> None:
    await chat.onboard()
    await chat.say("   ")
    assert "aucun texte" in chat.text
    assert chat.choices == MENU


async def test_huge_text_does_not_break_anything(chat: Chat) -> None:
    await chat.onboard()
    await chat.say("a" * 10_000)
    assert chat.last and all(len(r.text) < 2000 for r in chat.last)
    await chat.say("menu")
    assert chat.choices == MENU


async def test_emoji_only(chat: Chat) -> None:
    await chat.onboard()
    await chat.say("👍🙏🏾")
    assert "pas compris" in chat.text


async def test_control_characters_are_ignored(chat: Chat) -> None:
    await chat.onboard()
    await chat.say("\x00me\x07nu\x1b")
    assert chat.choices == MENU
    await chat.say("\x00\x01\x02")
    assert "aucun texte" in chat.text


async def test_unknown_choice_id(chat: Chat) -> None:
    await chat.onboard()
    await chat.tap("nothing:here")
    assert "plus valable" in chat.text
    assert chat.choices == MENU
    await chat.tap("lang:xx")
    assert "plus valable" in chat.text


async def test_step_choice_not_offered_now_is_refused(chat: Chat, store: SqliteStore) -> None:
    await chat.onboard()
    await chat.tap("profile:gender:f")  # never offered in this conversation
    assert "plus valable" in chat.text
    async with store.transaction() as tx:
        assert (await tx.get_user("test:u1")).gender is None  # type: ignore[union-attr]


async def test_number_out_of_range(chat: Chat) -> None:
    await chat.onboard()
    await chat.say("9")
    assert "pas de choix numéro 9" in chat.text
    assert chat.choices == MENU


async def test_location_and_media_where_not_expected(chat: Chat) -> None:
    await chat.onboard()
    await chat.share(12.6, -8.0)
    assert "position" in chat.text and chat.choices == MENU
    await chat.attach("photo", "file-1")
    assert "fichier" in chat.text


async def test_message_seen_before_is_not_processed_twice(chat: Chat, store: SqliteStore) -> None:
    await chat.onboard()
    await chat.tap("menu:profile")
    await chat.tap("profile:edit:age")
    first = await chat.send(text="2", message_id="dup-1")
    assert "15 à 19 ans" in "".join(r.text for r in first)
    await chat.tap("profile:edit:age")
    again = await chat.send(text="3", message_id="dup-1")
    assert again == []
    async with store.transaction() as tx:
        assert (await tx.get_user("test:u1")).age_group == "15-19"  # type: ignore[union-attr]


async def test_same_message_id_on_another_channel_is_distinct(
    engine: Engine, clock: FakeClock
) -> None:
    a = Chat(engine, clock, user="x", channel="telegram")
    b = Chat(engine, clock, user="x", channel="whatsapp")
    assert await a.send(text="hi", message_id="m1")
    assert await b.send(text="hi", message_id="m1")


class ExplodingFlow(Flow):
    name = "menu"
    stateless_choices = True

    async def show(self, turn: Turn, router: Router) -> None:
        await MenuFlow().show(turn, router)

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        turn.update_user(gender="f")
        raise RuntimeError("boom")


async def test_a_crash_in_a_flow_rolls_back_and_answers_politely(
    store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    from handlers.engine import default_flows

    flows = [f for f in default_flows() if f.name != "menu"] + [ExplodingFlow()]
    chat = Chat(make_engine(store, pack, clock, flows=flows), clock)
    await chat.onboard()
    await chat.tap("menu:profile")
    assert "problème" in chat.text and "Traceback" not in chat.text
    async with store.transaction() as tx:
        user = await tx.get_user("test:u1")
    assert user is not None and user.gender is None


async def test_groups_stay_quiet_except_for_commands(chat: Chat) -> None:
    replies = await chat.send(text="bonjour à tous", chat_id="g1", chat_type="group")
    assert replies == []
    replies = await chat.send(text="aide", chat_id="g1", chat_type="group")
    assert "message privé" in replies[0].text


async def test_bambara_user_gets_bambara_and_french_fallback(chat: Chat) -> None:
    await chat.onboard("bm")
    await chat.say("aide")
    assert "DƐMƐ" in chat.text


async def test_start_resumes_after_stop_and_otherwise_shows_the_menu(
    chat: Chat, store: SqliteStore
) -> None:
    await chat.say("/start")
    assert chat.choices == ["lang:fr", "lang:bm"]  # first contact: onboarding
    await chat.tap("lang:fr")
    await chat.say("start")
    assert chat.choices == MENU
    await chat.say("unsubscribe")
    async with store.transaction() as tx:
        assert (await tx.get_user("test:u1")).stopped  # type: ignore[union-attr]
    await chat.say("/start")
    assert "de nouveau" in chat.text
    async with store.transaction() as tx:
        assert not (await tx.get_user("test:u1")).stopped  # type: ignore[union-attr]

"""Typed words bind to the screen: every label of every screen, synonyms, keywords, first words."""

from __future__ import annotations

import itertools
import re

import pytest

from complaints.reference import ALPHABET
from content.pack import ContentPack
from handlers.engine import Engine
from handlers.messages import Choice
from handlers.typed.words import number_of, pick
from storage.sqlite import SqliteStore
from tests.conftest import Chat, FakeClock, make_engine

INTAKE = [
    "menu:complaint",
    "complaint:new",
    "complaint:cat:eau",
    "=Kayes",
    "complaint:skip_place",
    "=La pompe du forage est en panne depuis deux semaines.",
]
# What differs between two walkers: a complaint's reference, and their own user id.
REF = re.compile(rf"[{ALPHABET}]{{4}}-[{ALPHABET}]{{4}}|walker\d+")

# Paths to screens, as taps (choice ids) or texts, from a fresh French-speaking user.
SCREENS: list[list[str]] = [
    [],
    ["menu:learn"],
    ["menu:learn", "learn:theme:gouvernance-locale"],
    ["menu:complaint"],
    ["menu:complaint", "complaint:new"],
    ["menu:complaint", "complaint:new", "complaint:cat:eau", "=Kayes"],
    ["menu:learn", "learn:theme:services", "learn:article:eau-potable"],
    INTAKE,
    [*INTAKE, "complaint:media_done"],
    [*INTAKE, "complaint:media_done", "complaint:consent:no"],
    [*INTAKE, "complaint:media_done", "complaint:consent:no", "complaint:change"],
    ["menu:profile"],
    ["menu:profile", "profile:edit:region"],
    ["menu:profile", "profile:edit:age"],
    ["=langue"],
    ["menu:quiz"],
    ["menu:quiz", "quiz:start:redevabilite"],
    ["=oublier"],
]

_users = itertools.count()


async def _at(engine: Engine, clock: FakeClock, path: list[str]) -> Chat:
    chat = Chat(engine, clock, user=f"walker{next(_users)}")
    await chat.onboard()
    for step in path:
        if step.startswith("="):
            await chat.say(step[1:])
        else:
            await chat.tap(step)
        if "complaint:dup_no" in chat.choices:
            # Earlier walkers reported the same problem: this one is another.
            await chat.tap("complaint:dup_no")
    return chat


def _screen(chat: Chat) -> list[Choice]:
    return [c for reply in chat.last for c in reply.choices]


@pytest.mark.parametrize("path", SCREENS, ids=lambda p: "/".join(p) or "menu")
async def test_every_label_typed_as_a_word_selects_it(
    store: SqliteStore, pack: ContentPack, clock: FakeClock, path: list[str]
) -> None:
    engine = make_engine(store, pack, clock)
    shown = _screen(await _at(engine, clock, path))
    assert shown, path
    for choice in shown:
        names = [choice.label] + ([choice.short_label] if choice.short_label else [])
        tapped = await _at(engine, clock, path)
        await tapped.tap(choice.id)
        for name in names:
            for typed in (name, name.upper(), name.lower()):
                chat = await _at(engine, clock, path)
                await chat.say(typed)
                assert REF.sub("REF", chat.text) == REF.sub("REF", tapped.text), (
                    path,
                    choice.id,
                    typed,
                )
                # Quiz options come in a random order: the same ones, whatever their order.
                assert sorted(chat.choices) == sorted(tapped.choices)


@pytest.mark.parametrize(
    ("path", "typed", "expected"),
    [
        (["menu:complaint", "complaint:new"], "eau", "Dans quelle commune"),
        (["menu:complaint", "complaint:new"], "EAU", "Dans quelle commune"),
        (["menu:profile", "profile:edit:region"], "segou", "commune"),
        ([], "signaler un probleme", "Signaler"),
        ([], "signaler un pb", "Signaler"),
        ([], "mon profil", "profil"),
        ([], "1.", "thème"),
    ],
)
async def test_typed_words_and_sms_spellings(
    chat: Chat, path: list[str], typed: str, expected: str
) -> None:
    await chat.onboard()
    for step in path:
        await chat.tap(step)
    await chat.say(typed)
    assert expected.lower() in chat.text.lower(), chat.text


async def test_global_keywords_people_type(chat: Chat) -> None:
    await chat.onboard()
    await chat.say("mes signalements")
    assert "complaint:new" in chat.choices  # none yet: offers to report one
    await chat.say("quiz")
    assert any(c.startswith("quiz:start:") for c in chat.choices)
    await chat.say("mon profil")
    assert "profile:edit:region" in chat.choices
    await chat.say("bambara")
    assert chat.last and "Menu" in chat.text
    await chat.say("francais")
    assert "français" in chat.text


async def test_zero_goes_back_one_level(chat: Chat) -> None:
    await chat.onboard()
    await chat.tap("menu:learn")
    themes = chat.text
    first_theme = chat.choices[0]
    await chat.tap(first_theme)
    article = next(c for c in chat.choices if c.startswith("learn:article:"))
    await chat.tap(article)
    await chat.say("0")
    assert "learn:article" in " ".join(chat.choices), chat.text  # the theme's articles again
    await chat.say("0")
    assert chat.text == themes
    await chat.say("0")
    assert "menu:learn" in chat.choices


@pytest.mark.parametrize(
    ("labels", "typed", "expected"),
    [
        (["Suite", "Menu"], "suite svp", 0),
        (["Suite", "Menu"], "suivant", 0),
        (["Question suivante", "Menu"], "suivante", 0),
        (["Oui", "Non"], "ɔwɔ", 0),
        (["Oui", "Non"], "ayi", 1),
        (["Oui", "Non"], "ouais", 0),
        (["Continuer", "Annuler"], "continu", 0),
        (["Continuer", "Annuler"], "anuler", 1),
        (["Passer", "Annuler"], "passer", 0),
        (["Envoyer", "Modifier", "Annuler"], "envoyer", 0),
        (["Ségou", "Sikasso", "Kayes"], "SEGOU", 0),
        (["Ségou", "Sikasso", "Kayes"], "sikaso", 1),
        (["Eau potable", "Santé", "École"], "l'eau", 0),
        (["Répondre"], "repondre", 0),
        (["Suite", "Retour au thème", "Menu"], "retour", 1),
        (["Tɔ", "Segin barokun ma", "Menu"], "to", 0),
        (["Tɔ", "Segin barokun ma", "Menu"], "segin", 1),
        (["A ci", "A yɛlɛma", "A dabila"], "a dabila", 2),
        (["Mes signalements", "Signaler un problème"], "mes signalements", 0),
    ],
)
def test_pick_names(labels: list[str], typed: str, expected: int) -> None:
    screen = [Choice(f"x:{n}", label) for n, label in enumerate(labels)]
    found = pick(screen, typed)
    assert found is not None and found.id == f"x:{expected}", (typed, found)


@pytest.mark.parametrize(
    ("labels", "typed"),
    [
        (["Eau potable", "Santé"], "forage en panne depuis deux semaines"),
        (["Connaître mes droits", "Quiz"], "que fait le maire"),
        (["Suite", "Retour au thème", "Retour au menu"], "retour"),  # two ways back: no guess
        (["Annuler"], "le maire a annulé la réunion du conseil"),
    ],
)
def test_pick_does_not_guess(labels: list[str], typed: str) -> None:
    screen = [Choice(f"x:{n}", label) for n, label in enumerate(labels)]
    assert pick(screen, typed, free_text_step=True) is None


def test_numbers_typed_with_punctuation() -> None:
    assert number_of("1.") == 1 and number_of("n°2") == 2 and number_of("choix 3") == 3
    assert number_of("12 ans") is None


async def test_a_newcomers_first_question_is_answered_after_the_language(chat: Chat) -> None:
    await chat.say("c'est quoi le budget de la commune ?")
    assert "lang:fr" in chat.choices
    await chat.say("francais")
    assert "budget" in chat.text.lower(), chat.text
    assert "Bienvenue" in chat.text


@pytest.mark.parametrize("word", ["francais", "Français", "fr", "bambara", "bamanankan", "bm"])
async def test_a_language_word_at_the_prompt_is_understood(chat: Chat, word: str) -> None:
    await chat.say("bonjour")
    await chat.say(word)
    assert "menu:learn" in chat.choices, chat.text


async def test_a_greeting_first_is_not_replayed(chat: Chat) -> None:
    await chat.say("bonjour")
    await chat.say("1")
    assert chat.choices[0] == "menu:learn"
    assert "Bonjour" not in chat.text.split("\n")[0] or "Bienvenue" in chat.text


def _labels(chat: Chat) -> str:
    return " | ".join(c.label for reply in chat.last for c in reply.choices)


async def _complaint_typed(chat: Chat, words: bool) -> None:
    """A whole complaint typed, in words or in numbers, with detours on the way."""
    await chat.onboard()
    await chat.say("signaler un probleme" if words else "3")
    await chat.say("signaler un pb" if words else "1")
    await chat.say("eau" if words else "3")
    await chat.say("aide")  # a detour
    await chat.say("plainte")
    assert "Reprendre mon signalement (Eau potable)" in _labels(chat)
    await chat.say("reprendre" if words else "1")
    assert "commune" in chat.text.lower()
    await chat.say("Kayes")
    await chat.say("quartier Plateau")
    await chat.say("La pompe du forage est en panne depuis deux semaines.")
    await chat.say("c quoi le budget communal")  # a question at the photo step: searched
    assert "budget" in chat.text.lower()
    await chat.say("signaler")
    assert "Reprendre mon signalement (Eau potable, Kayes" in _labels(chat)
    await chat.say("reprendre" if words else "1")
    assert "photo" in chat.text
    await chat.say("continuer" if words else "1")
    await chat.say("non" if words else "1")
    assert "forage" in chat.text and "complaint:confirm" in chat.choices, chat.text
    await chat.say("envoyer" if words else "1")


@pytest.mark.parametrize("words", [True, False], ids=["words", "numbers"])
async def test_a_whole_complaint_typed_with_detours(
    chat: Chat, store: SqliteStore, words: bool
) -> None:
    await _complaint_typed(chat, words)
    assert "complaint:mine" in chat.choices, chat.text
    rows = await store.fetch_all("SELECT category, commune, description FROM complaints")
    assert len(rows) == 1 and rows[0][0] == "eau" and "forage" in rows[0][2]


async def test_a_stray_1_or_annuler_asks_before_throwing_a_draft_away(chat: Chat) -> None:
    await chat.onboard()
    await chat.say("plainte")
    await chat.say("1")
    await chat.say("eau")
    await chat.say("1")  # at the commune step: the first choice is Annuler
    assert "vraiment annuler" in chat.text
    await chat.say("non")
    assert "commune" in chat.text.lower()
    await chat.say("annuler")
    assert "vraiment annuler" in chat.text
    await chat.say("oui")
    assert "annulé" in chat.text
    await chat.say("plainte")
    assert "Reprendre" not in _labels(chat) and "complaint:new" in chat.choices


async def test_a_draft_ends_with_the_conversation(chat: Chat, clock: FakeClock) -> None:
    await chat.onboard()
    await chat.say("plainte")
    await chat.say("1")
    await chat.say("eau")
    clock.advance(days=2)
    await chat.say("plainte")
    assert "Reprendre" not in _labels(chat) and "complaint:new" in chat.choices


async def test_a_campaign_code_first_is_counted_not_searched(
    chat: Chat, store: SqliteStore
) -> None:
    await chat.send(text="c-radio-kayes", entry="c-radio-kayes")
    await chat.say("francais")
    assert "menu:learn" in chat.choices and "rien trouvé" not in chat.text
    rows = await store.fetch_all("SELECT entry_source FROM users")
    assert rows == [("c-radio-kayes",)]

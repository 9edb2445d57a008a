"""Conversations as people type them (text only), for what a try-out by real people broke."""

from __future__ import annotations

import pytest

from content.pack import ContentPack
from storage.sqlite import SqliteStore
from tests.conftest import Chat, FakeClock
from tests.test_dialog_complaints import World, _submit, texts

MENU = "menu:learn"


async def _typed_complaint_until_place(chat: Chat) -> None:
    await chat.say("slt")
    await chat.say("1")
    await chat.say("plainte")
    await chat.say("1")
    await chat.say("l'eau")
    await chat.say("Kayes")
    assert "Où exactement" in chat.text, chat.text


async def test_confusion_at_the_language_prompt_keeps_the_first_question(chat: Chat) -> None:
    # "g pa compri" or "ok" at the language prompt is not the question to answer afterwards.
    await chat.say("comment payer la taxe de développement")
    await chat.say("g pa compri")
    assert "lang:fr" in chat.choices
    await chat.say("ok")
    await chat.say("1")
    assert "Les impôts locaux" in chat.text, chat.text
    assert "rien trouvé" not in chat.text and "compris" not in chat.text


async def test_ok_alone_at_the_language_prompt_is_not_searched(chat: Chat) -> None:
    await chat.say("slt")
    await chat.say("ok")
    await chat.say("1")
    assert "rien trouvé" not in chat.text, chat.text
    assert MENU in chat.choices


async def test_reprendre_after_a_detour_resumes_the_complaint_draft(chat: Chat) -> None:
    await _typed_complaint_until_place(chat)
    await chat.say("aide")
    await chat.say("reprendre")
    assert "Où exactement" in chat.text, chat.text
    await chat.say("quartier Plateau")
    assert "Décrivez le problème" in chat.text, chat.text


async def test_reprendre_without_a_draft_still_opens_the_menu(chat: Chat) -> None:
    await chat.onboard()
    await chat.say("aide")
    await chat.say("reprendre")
    assert MENU in chat.choices, chat.text


async def test_oui_and_non_off_screen_draw_the_screen_again_not_search(chat: Chat) -> None:
    await chat.onboard()
    for word in ["oui", "non", "ouais", "nan"]:
        await chat.say(word)
        assert "article" not in chat.text and "rien trouvé" not in chat.text, (word, chat.text)
        assert "Vouliez-vous lire" not in chat.text, (word, chat.text)
        assert MENU in chat.choices, (word, chat.text)


async def test_confusion_on_an_article_keeps_the_reader_on_the_article(chat: Chat) -> None:
    await chat.onboard()
    await chat.say("1")  # learn
    await chat.say("2")  # la commune et son budget
    await chat.say("1")  # first article
    page = chat.text
    article = [c for c in chat.choices if c.startswith("learn:sources:")]
    assert article, chat.text
    await chat.say("g pa compri")
    assert "je vous explique" in chat.text
    assert article[0] in chat.choices, chat.text  # still on the article, not the themes
    await chat.say("ok")
    assert article[0] in chat.choices, chat.text
    await chat.say("")
    assert article[0] in chat.choices, chat.text
    assert page.split("\n")[0] in chat.text


async def test_confusion_on_a_theme_keeps_the_theme(chat: Chat) -> None:
    await chat.onboard()
    await chat.say("1")
    await chat.say("2")
    shown = chat.choices
    await chat.say("99")
    assert chat.choices == shown, chat.text


async def test_non_typed_as_the_answer_to_a_cso_question_reaches_the_cso(
    store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    world = World(store, pack, clock)
    await world.link("exemple-kayes", "cso-kayes")
    await world.onboard("fanta")
    reference, _ = await _submit(world, "fanta")
    await world.tap("awa", f"cso:ask:{reference.replace('-', '')}", chat="cso-kayes")
    await world.say("awa", "Le forage a-t-il été réparé ?", chat="cso-kayes")
    await world.say("fanta", "1")
    out = await world.say("fanta", "non")
    assert "non" in texts(out, "cso-kayes").lower(), out


@pytest.mark.parametrize("word", ["oui", "ok"])
async def test_yes_at_the_language_prompt_is_not_kept_as_a_question(chat: Chat, word: str) -> None:
    await chat.say(word)
    await chat.say("francais")
    assert "Vouliez-vous lire" not in chat.text and "rien trouvé" not in chat.text, chat.text


@pytest.mark.parametrize("typed", ["la 2", "c la 2", "reponse 2", "c'est la 2", "le numero 2"])
async def test_a_quiz_answer_typed_as_la_2_is_choice_2(chat: Chat, typed: str) -> None:
    await chat.onboard()
    await chat.say("quiz")
    await chat.say("1")
    assert "Question 1/10" in chat.text
    await chat.say(typed)
    assert "Bonne réponse" in chat.text or "Ce n'est pas ça" in chat.text, chat.text
    assert "rien trouvé" not in chat.text


async def test_text_typed_at_the_photo_step_is_added_to_the_description(chat: Chat) -> None:
    await _typed_complaint_until_place(chat)
    await chat.say("quartier Plateau")
    await chat.say("Le forage est en panne depuis 3 semaines.")
    assert "photo" in chat.text
    await chat.say("les femmes marchent 5 km pour avoir de l'eau")
    assert "Vouliez-vous lire" not in chat.text and "article" not in chat.text, chat.text
    assert "photo" in chat.text, chat.text  # still at the photo step
    await chat.say("continuer")
    await chat.say("non")
    assert "depuis 3 semaines" in chat.text and "5 km" in chat.text, chat.text  # the summary


async def test_annuler_after_a_detour_asks_to_cancel_the_kept_draft(chat: Chat) -> None:
    await _typed_complaint_until_place(chat)
    await chat.say("menu")
    await chat.say("annuler")
    assert "vraiment annuler" in chat.text, chat.text
    await chat.say("oui")
    assert "annulé" in chat.text, chat.text
    await chat.say("plainte")
    assert "complaint:resume" not in chat.choices


async def test_annuler_after_a_detour_then_non_keeps_the_draft(chat: Chat) -> None:
    await _typed_complaint_until_place(chat)
    await chat.say("aide")
    await chat.say("annuler")
    await chat.say("non")
    assert "Où exactement" in chat.text, chat.text


@pytest.mark.parametrize("word", ["continuer", "on continue", "continu"])
async def test_continuer_after_a_detour_resumes_the_complaint_draft(chat: Chat, word: str) -> None:
    await _typed_complaint_until_place(chat)
    await chat.say("aide")
    await chat.say(word)
    assert "rien trouvé" not in chat.text, chat.text
    assert "Où exactement" in chat.text, chat.text


async def test_continuer_without_a_draft_is_not_a_resume(chat: Chat) -> None:
    await chat.onboard()
    await chat.say("aide")
    await chat.say("continuer")
    assert "Où exactement" not in chat.text, chat.text


@pytest.mark.parametrize("word", ["suite", "la suite", "suivant"])
async def test_suite_on_a_screen_without_a_next_draws_the_screen_again(
    chat: Chat, word: str
) -> None:
    await chat.onboard()
    await chat.say("1")  # the themes: no 'Suite' there
    themes = chat.choices
    await chat.say(word)
    assert "pas d'article" not in chat.text and "rien trouvé" not in chat.text, chat.text
    assert "pas de suite" in chat.text, chat.text
    assert chat.choices == themes, chat.text


async def test_continuer_without_a_draft_draws_the_screen_again(chat: Chat) -> None:
    await chat.onboard()
    await chat.say("continuer")
    assert "rien trouvé" not in chat.text, chat.text
    assert MENU in chat.choices, chat.text

"""The topics people asked about and found nothing on, typed the way they type them."""

from __future__ import annotations

import pytest

from content.pack import ContentPack
from storage.sqlite import SqliteStore
from tests.conftest import Chat


@pytest.mark.parametrize(
    ("typed", "article"),
    [
        ("acte de naissance prix", "acte-naissance"),
        ("g pa d acte de naissance pour mon fils", "acte-naissance"),
        ("comment avoir la carte nina", "carte-nina"),
        ("carte biometrique gratuite?", "carte-nina"),
        ("mon enfant on lui demande de payer a lecole", "ecole-gratuite"),
        ("numero police urgence", "aide-urgence"),
        ("cmt minscrire pour voter", "elections-liste-electorale"),
        ("partage heritage de mon papa", "famille-mariage-heritage"),
        ("titre foncier c koi", "foncier-titres-cofo"),
        ("ramed c koi", "soins-gratuits"),
        ("droits des handicapes", "handicap-droits"),
        ("plainte cndh", "apdp-cndh"),
    ],
)
async def test_each_new_topic_is_answered(
    chat: Chat, pack: ContentPack, typed: str, article: str
) -> None:
    await chat.onboard()
    await chat.say(typed)
    title = pack.articles[article].title["fr"]
    # Opened directly, or first among the articles offered.
    opened = chat.text.startswith(title)
    offered = [c for c in chat.choices if c.startswith("learn:article:")]
    assert opened or offered[:1] == [f"learn:article:{article}"], (typed, chat.text[:80])


async def test_someone_in_danger_gets_help_first_and_the_longer_article_offered(
    chat: Chat, pack: ContentPack
) -> None:
    await chat.onboard()
    await chat.say("mon mari me frappe")
    # The safety help comes first (issue 14), with the free numbers ...
    assert "80 333" in chat.text
    assert "learn:article:violences-femmes" in chat.choices
    # ... and the article on violence opens from it.
    await chat.tap("learn:article:violences-femmes")
    assert chat.text.startswith(pack.articles["violences-femmes"].title["fr"])


async def test_danger_article_gives_the_free_numbers_and_says_the_bot_is_no_hotline(
    chat: Chat,
) -> None:
    await chat.onboard()
    await chat.say("numero d urgence")
    assert "80 333" in chat.text and "18" in chat.text
    assert "n'est pas un numéro d'urgence" in chat.text


async def test_a_question_without_an_article_is_answered_honestly(
    chat: Chat, store: SqliteStore
) -> None:
    await chat.onboard()
    await chat.say("prix du riz au marche")
    assert "Je n'ai pas d'article sur ce sujet" in chat.text
    themes = [c for c in chat.choices if c.startswith("learn:theme:")]
    assert 1 <= len(themes) <= 3 and "menu:main" in chat.choices
    assert not any(c.startswith("learn:article:") for c in chat.choices)
    await chat.tap(themes[0])
    assert any(c.startswith("learn:article:") for c in chat.choices)
    rows = await store.fetch_all("SELECT outcome FROM search_queries")
    assert rows == [("none",)]


async def test_sources_say_what_was_checked_and_mark_press(chat: Chat) -> None:
    await chat.onboard()
    await chat.tap("learn:sources:femmes-sante")
    assert "Décret n°05-350" in chat.text and "(presse)" in chat.text
    assert "Sources : textes de loi, articles de presse — relu le 02/12/2026" in chat.text
    assert "Vérifié le" not in chat.text
    await chat.tap("learn:sources:carte-nina")
    assert "viennent seulement de la presse" in chat.text

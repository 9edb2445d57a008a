"""The topics people asked about and found nothing on, typed the way they type them."""

from __future__ import annotations

import pytest

from content.pack import ContentPack
from content.pages import PAGE_LIMIT
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
    sources = await _all_sources(chat, "femmes-sante")
    assert "Décret n°05-350" in sources and "(presse)" in sources
    assert "Sources : textes de loi, articles de presse — relu le 02/12/2026" in sources
    assert "Vérifié le" not in sources
    assert "viennent seulement de la presse" in await _all_sources(chat, "carte-nina")


async def _all_sources(chat: Chat, article: str) -> str:
    """Every page of an article's sources, one after the other."""
    return "\n".join(await _source_pages(chat, article))


async def _source_pages(chat: Chat, article: str) -> list[str]:
    await chat.tap(f"learn:sources:{article}")
    pages = [chat.text]
    for _ in range(10):
        following = [c for c in chat.choices if c.startswith(f"learn:sources:{article}:")]
        if not following:
            break
        await chat.tap(following[0])
        pages.append(chat.text)
    return pages


@pytest.mark.parametrize("lang", ["fr", "bm"])
async def test_sources_come_in_pages_no_heavier_than_an_article_page(
    chat: Chat, pack: ContentPack, lang: str
) -> None:
    # "Fanga jɛnsɛnni" lists 11 sources: 2,720 characters in one message for a cheap phone.
    await chat.onboard(lang)
    for article in pack.articles.values():
        pages = await _source_pages(chat, article.id)
        for page in pages:
            assert len(page) <= PAGE_LIMIT + 20, (article.id, len(page))
        seen = "\n".join(pages)
        for source in article.sources:
            assert source.title in seen, (article.id, source.title)
        assert f"learn:article:{article.id}" in chat.choices


async def test_suite_typed_on_a_sources_page_shows_the_next_one(chat: Chat) -> None:
    await chat.onboard()
    await chat.tap("learn:sources:decentralisation")
    assert "Page 1/" in chat.text, chat.text
    await chat.say("suite")
    assert "Page 2/" in chat.text, chat.text
    await chat.say("0")
    assert "learn:sources:decentralisation" in chat.choices, chat.text  # back to the article

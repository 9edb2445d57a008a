"""Search quality and behaviour: typed the way people type, in French and Bambara."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from content.pack import ContentPack
from content.search import decide, terms
from content.text import fold

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT.parent / "shared" / "eval" / "search_sample.tsv"
OURS = ROOT / "tests" / "data" / "search_queries.tsv"


def labelled(path: Path) -> list[tuple[str, list[str]]]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            query, _lang, expected = line.split("\t")
            rows.append((query, expected.split("|")))
    return rows


def rates(pack: ContentPack, rows: list[tuple[str, list[str]]]) -> tuple[float, float]:
    first = three = 0
    for query, expected in rows:
        ids = [hit.article_id for hit in pack.search.search(query)]
        first += bool(ids) and ids[0] in expected
        three += any(i in expected for i in ids[:3])
    return first / len(rows), three / len(rows)


@pytest.mark.skipif(
    not SAMPLE.exists(), reason="the shared evaluation sample is not beside the project"
)
def test_public_sample_quality(pack: ContentPack) -> None:
    top1, top3 = rates(pack, labelled(SAMPLE))
    assert top1 >= 0.85 and top3 >= 0.95, (top1, top3)


def test_our_labelled_queries_quality(pack: ContentPack) -> None:
    rows = labelled(OURS)
    assert len(rows) >= 60
    top1, top3 = rates(pack, rows)
    assert top1 >= 0.85 and top3 >= 0.95, (top1, top3)


def test_every_article_is_found_by_its_own_title(pack: ContentPack) -> None:
    for article in pack.articles.values():
        hits = pack.search.search(article.title["fr"])
        assert hits[0].article_id == article.id, article.id


def test_folding_accents_case_and_bambara_letters() -> None:
    assert fold("Égalité DES Usagers") == "egalite des usagers"
    assert fold("Bamakɔ ɲɛ ŋ ɛ") == "bamako nye ng e"
    assert fold("l'œuvre, c'est ça!") == "l oeuvre c est ca"


def test_sms_spellings_and_plurals() -> None:
    assert terms("c koi une asso") == ["association"]
    assert terms("les dépenses des communes") == ["depense", "commune"]
    assert terms("pk ds la mairie") == ["mairie"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("KESAKO LA REDEVABILITÉ ?!", "redevabilite"),
        ("verificateur generale", "verificateur-general"),  # a typo
        ("mediater de la republik", "mediateur-republique"),
        ("decentraliser", "decentralisation"),
        ("cesarienne gratuite", "femmes-sante"),
    ],
)
def test_typos_and_spelling_still_find_the_article(
    pack: ContentPack, query: str, expected: str
) -> None:
    hits = pack.search.search(query)
    assert hits and hits[0].article_id == expected


@pytest.mark.parametrize("query", ["quel temps fait il demain", "match de foot ce soir", "azerty"])
def test_off_topic_is_not_answered_with_confidence(pack: ContentPack, query: str) -> None:
    assert decide(pack.search.search(query)) != "confident"


def test_clear_question_is_confident(pack: ContentPack) -> None:
    assert decide(pack.search.search("c koi le bvg")) == "confident"


def test_ask_command_reads_stdin_and_prints_json_lines() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "ask", "--lang", "bm"],
        input="pot de vin\ncomite gestion ecole\n\n",
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    )
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [line["query"] for line in lines] == ["pot de vin", "comite gestion ecole", ""]
    assert lines[0]["results"][0]["id"] == "oclei-enrichissement-illicite"
    assert lines[1]["results"][0]["id"] == "ecole-cgs"
    assert lines[2]["results"] == []
    first = lines[0]["results"]
    assert 1 <= len(first) <= 5
    assert [r["score"] for r in first] == sorted((r["score"] for r in first), reverse=True)
    assert set(first[0]) == {"id", "title", "score"}
    assert lines[0]["confident"] is True and lines[2]["confident"] is False
    # --lang picks the title's language.
    assert first[0]["title"] != "Corruption et enrichissement illicite : l'OCLEI"


def test_ask_one_query_and_no_chat_platform_imported() -> None:
    code = (
        "import sys; from bot.cli import main; main(['ask', '--json', 'taxe locale']);"
        "print(sorted(m for m in ('aiogram', 'pywa', 'aiohttp', 'aiosqlite') if m in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True
    )
    result, loaded = proc.stdout.splitlines()
    assert json.loads(result)["results"][0]["id"] == "impots-locaux"
    assert loaded == "[]"


@pytest.mark.parametrize(
    ("typed", "article"),
    [
        ("APDP", "apdp-cndh"),
        ("cndh", "apdp-cndh"),
        ("AIGE", "elections-liste-electorale"),
        ("nina", "carte-nina"),
        ("CNIBS", "carte-nina"),
        ("ramed", "soins-gratuits"),
        ("AMO", "soins-gratuits"),
        ("anam", "soins-gratuits"),
        ("cofo", "foncier-titres-cofo"),
        ("CSRéf", "femmes-sante"),
        ("cscom", "sante-cscom-asaco"),
        ("tdrl", "impots-locaux"),
        ("bvg", "verificateur-general"),
        ("oclei", "oclei-enrichissement-illicite"),
        ("EID", "espace-interpellation-democratique"),
    ],
)
def test_acronyms_and_names_resolve_to_their_article(
    pack: ContentPack, typed: str, article: str
) -> None:
    hits = pack.search.search(typed)
    assert hits and hits[0].article_id == article
    assert decide(hits) != "none"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("tɔn", {"liberte-association", "societe-civile"}),
        (
            "sariya",
            {"quota-genre", "femmes-foncier", "constitution-2023", "droits-devoirs-citoyen"},
        ),
        ("josira", {"liberte-expression", "constitution-2023", "droits-devoirs-citoyen"}),
    ],
)
def test_bambara_words_find_their_articles(
    pack: ContentPack, typed: str, expected: set[str]
) -> None:
    ids = [hit.article_id for hit in pack.search.search(typed)[:3]]
    assert expected & set(ids), ids


def test_a_word_written_with_a_bambara_letter_is_not_a_french_function_word() -> None:
    assert terms("tɔn") == ["ton"] and terms("ton association") == ["association"]


@pytest.mark.parametrize(
    "query", ["prix du riz au marche", "mon telephone est casse", "quel temps fait il demain"]
)
def test_one_matching_word_in_a_longer_question_is_no_answer(pack: ContentPack, query: str) -> None:
    assert decide(pack.search.search(query)) == "none"


def test_an_article_mentioned_in_passing_is_not_opened_with_confidence(pack: ContentPack) -> None:
    # 'ou-se-plaindre' names the Vérificateur in its body only: offer a choice, do not open it.
    hits = pack.search.search("plainte verificateur")
    assert decide(hits) == "uncertain"
    assert "verificateur-general" in [hit.article_id for hit in hits]


@pytest.mark.parametrize("query", ["c koi mes droit", "mes droits", "quels sont mes droits"])
def test_a_question_that_is_one_article_s_own_keyword_is_confident(
    pack: ContentPack, query: str
) -> None:
    # Several articles speak of rights; only one declares "droits" as its keyword. The margin
    # to the second was too small and the right article, first, was offered as a guess.
    hits = pack.search.search(query)
    assert hits[0].article_id == "droits-devoirs-citoyen"
    assert decide(hits) == "confident"


def test_a_keyword_two_articles_share_still_needs_a_margin(pack: ContentPack) -> None:
    shared = {
        phrase
        for article in pack.articles.values()
        for phrase in article.keywords.get("fr", [])
        if sum(phrase in other.keywords.get("fr", []) for other in pack.articles.values()) > 1
    }
    assert shared  # e.g. "plainte": the search must not pretend to know which one
    for phrase in shared:
        hits = pack.search.search(phrase)
        assert not hits or not hits[0].named, phrase

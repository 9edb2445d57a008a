"""Bambara as people type it: with or without ɛ, ɔ, ɲ, ŋ, in old or French-style spelling."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.pack import ContentPack
from content.text import fold

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "eval" / "search_sample.tsv"


@pytest.mark.parametrize(
    ("typed", "standard"),
    [
        ("nyinè", "ɲinɛ"),  # old orthography: è for ɛ, ny for ɲ
        ("GNINE", "ɲinɛ"),  # French-style gn, capitals
        ("Ŋana", "ŋana"),
        ("dogotoroso", "dɔgɔtɔrɔso"),
        ("bizeti", "bizɛti"),
    ],
)
def test_spellings_without_special_letters_fold_to_the_standard_one(
    typed: str, standard: str
) -> None:
    assert fold(typed) == fold(standard)


def test_gn_inside_a_french_word_is_left_alone() -> None:
    assert fold("signaler") == "signaler"


@pytest.mark.parametrize("typed", ["ɲinɛ", "nyine", "gninè", "Ɲinɛ"])
def test_forget_keyword_in_every_spelling(pack: ContentPack, typed: str) -> None:
    assert pack.texts.command_for(typed) == "forget"


@pytest.mark.parametrize(
    ("with_letters", "without"),
    [("dɔgɔtɔrɔso", "dogotoroso"), ("komini ka bizɛti", "komini ka bizeti"), ("sɔsɔli", "sosoli")],
)
def test_search_gives_the_same_answer_with_and_without_special_letters(
    pack: ContentPack, with_letters: str, without: str
) -> None:
    first = [hit.article_id for hit in pack.search.search(with_letters)]
    assert first and first == [hit.article_id for hit in pack.search.search(without)]


@pytest.mark.skipif(not SAMPLE.exists(), reason="the shared evaluation sample is not beside us")
def test_public_sample_bambara_queries_find_their_article(pack: ContentPack) -> None:
    rows = [
        line.split("\t")
        for line in SAMPLE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    bambara = [(query, expected.split("|")) for query, lang, expected in rows if lang == "bm"]
    assert bambara
    for query, expected in bambara:
        hits = pack.search.search(query)
        assert hits and hits[0].article_id in expected, query

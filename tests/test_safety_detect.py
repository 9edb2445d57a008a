"""The safety detector: people in danger are recognised, civic questions are left alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from content.pack import ContentPack
from handlers.safety.detect import detect

DANGER = [
    # Violence at home, as typed, with and without accents, in SMS spelling.
    ("mon mari me frappe", "violence"),
    ("Mon mari me bat tous les soirs", "violence"),
    ("mn mari m frap", "violence"),
    ("il m'a frappée hier", "violence"),
    ("on m a tabassé", "violence"),
    ("mon oncle me maltraite", "violence"),
    ("je suis battue par mon mari", "violence"),
    ("j'ai été frappée", "violence"),
    ("g ete batue", None),  # too mangled: left to search, which is no worse than before
    ("il frappe mes enfants", "violence"),
    ("violence conjugale que faire", "violence"),
    ("mon père me brûle avec le fer", "violence"),
    ("n cɛ bɛ n gosi", "violence"),
    ("n ce b n gosi", "violence"),
    ("a ye n bugɔ", "violence"),
    # Sexual violence.
    ("on m'a violée", "sexual"),
    ("on ma violer", "sexual"),
    ("il m'a violé", "sexual"),
    ("j'ai été violée", "sexual"),
    ("ma fille a été violée par un voisin", "sexual"),
    ("mon patron veut me violer", "sexual"),
    ("abus sexuel sur ma niece", "sexual"),
    ("harcèlement sexuel au travail", "sexual"),
    ("le maître fait des attouchements", "sexual"),
    ("u ye n minɛ fanga la", "sexual"),
    # Forced and child marriage.
    ("on veut me marier de force, j'ai 14 ans", "marriage"),
    ("on veut me marier de force", "marriage"),
    ("ils veulent me marier", "marriage"),
    ("mon père veut marier ma soeur de 13 ans", "marriage"),
    ("mariage forcé", "marriage"),
    ("ont veu me marié de force", "marriage"),
    ("g 15 an et on va me marier", "marriage"),
    ("u b'a fɛ ka n furu fanga la", "marriage"),
    ("denmisɛn furu", "marriage"),
    ("on m'a forcée à me marier", "marriage"),
    ("mes parents m obligent a me marier avec un vieux", "marriage"),
    ("j'ai été forcée au mariage", "marriage"),
    # Threats by officials or armed people.
    ("un policier m'a menacé", "threat"),
    ("polisie ma menacer", "threat"),
    ("le gendarme m'a frappé au poste", "threat"),
    ("des hommes armés sont entrés au village", "threat"),
    ("les militaires ont tiré sur les gens", "threat"),
    ("on veut me tuer", "threat"),
    ("il va me tuer", "threat"),
    ("menace de mort", "threat"),
    ("il menace de me tuer", "threat"),
    ("mon mari menace de me bruler", "threat"),
    ("il a dit qu'il allait me tuer", "threat"),
    ("ils ont enlevé mon frère, ils m'ont menacé", "threat"),
    ("le maire m'a menacé", "threat"),
    # SMS word order: the object after the verb.
    ("policier menace moi", "threat"),
    ("le policier menace moi", "threat"),
    ("gendarme menace nous", "threat"),
    ("les gendarmes menacent nous", "threat"),
    ("il a menacé moi", "threat"),
    ("mon mari menace ma famille", "threat"),
    ("a b'a fɛ ka n faga", "threat"),
    ("n bɛ farati la", "threat"),
    ("sɔrɔdasiw ye n gosi", "threat"),
    # Self-harm.
    ("je veux me suicider", "self_harm"),
    ("je vais me tuer", "self_harm"),
    ("j ai plus envie de vivre", "self_harm"),
    ("je veux mourir", "self_harm"),
    ("suicide", "self_harm"),
    ("je veux en finir avec la vie", "self_harm"),
    ("n b a fɛ ka sa", "self_harm"),
    ("n b'a fɛ ka n yɛrɛ faga", "self_harm"),
]

CIVIC = [
    "forage en panne",
    "le maire a pris l'argent du marché",
    "le maire a violé la loi",
    "la constitution a été violée par le gouvernement",
    "le maire menace de fermer le marché",
    "la sécheresse menace nous",
    "les criquets menacent nos champs",
    "l'insécurité menace le village, que fait la commune",
    "le policier a menacé de partir si on ne paie pas",
    "à quel âge peut-on se marier",
    "je veux me marier, quels papiers",
    "comment devenir policier",
    "la police ne vient jamais au village",
    "ma batterie est morte",
    "mariam a 12 ans elle ne va pas a l ecole",
    "pourquoi on m'a refusé un papier",
    "pot de vin au commissariat",
    "le policier demande de l'argent",
    "la route est cassée depuis 2 ans",
    "frapper à la porte du maire",
    "il faut battre le record de participation",
    "bonjour",
    "merci",
    "1",
    "suite",
    "mon enfant n'a pas d'acte de naissance",
    "violation de ma vie privée",
    "combien de conseillers municipaux",
    "mon mari ne veut pas que je vote",
    "le chef de village a vendu la terre",
    "n ka komini",
    "dugukolo",
]


@pytest.mark.parametrize(("text", "kind"), DANGER)
def test_danger_is_recognised(text: str, kind: str | None) -> None:
    assert detect(text) == kind


@pytest.mark.parametrize("text", CIVIC)
def test_civic_questions_are_left_alone(text: str) -> None:
    assert detect(text) is None


def test_the_table_is_big_enough() -> None:
    assert len(DANGER) + len(CIVIC) >= 60


def _queries(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return [line.split("\t")[0] for line in lines if line.strip() and not line.startswith("#")]


def test_no_false_alarm_on_our_labelled_queries() -> None:
    queries = _queries(Path(__file__).parent / "data" / "search_queries.tsv")
    assert len(queries) > 50
    assert [q for q in queries if detect(q)] == []


# Articles that are about danger: their example questions are meant to bring help.
_ABOUT_DANGER = {
    "aide-urgence",
    "violences-femmes",
    "liberte-expression",
    "apdp-cndh",
    "ou-se-plaindre",
}


def test_no_false_alarm_on_the_pack_example_questions(pack: ContentPack) -> None:
    flagged = [
        (article.id, question)
        for article in pack.articles.values()
        for questions in article.questions.values()
        for question in questions
        if detect(question) and article.id not in _ABOUT_DANGER
    ]
    assert flagged == []


def test_no_false_alarm_on_the_public_query_sample() -> None:
    # The public sample sits beside the project, not in it: skipped where it is absent.
    here = Path(__file__).resolve()
    found = [
        folder / "shared" / "eval" / "search_sample.tsv"
        for folder in here.parents
        if (folder / "shared" / "eval" / "search_sample.tsv").exists()
    ]
    if not found:
        pytest.skip("public query sample ../shared/eval/search_sample.tsv not found")
    sample = found[0]
    queries = _queries(sample)
    assert queries
    assert [q for q in queries if detect(q)] == []

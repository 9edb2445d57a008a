"""The content pack: the bundled content is complete, and a broken pack is reported whole."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from content.jsonschema import SCHEMAS, render
from content.pack import BUNDLED_PACK, ContentPack, PackError, load_pack
from content.pages import PAGE_LIMIT, paginate

ROOT = Path(__file__).resolve().parent.parent

REQUIRED = {
    "redevabilite": [
        "redevabilite",
        "controle-citoyen",
        "barometre-bonne-gouvernance",
        "droits-devoirs-citoyen",
        "societe-civile",
    ],
    "commune": [
        "decentralisation",
        "conseil-communal",
        "budget-communal",
        "debat-public-budget",
        "impots-locaux",
        "bamako-reforme",
    ],
    "droits": [
        "constitution-2023",
        "acces-documents-administratifs",
        "motivation-decisions",
        "liberte-expression",
        "liberte-association",
        "non-discrimination",
    ],
    "inclusion": ["quota-genre", "femmes-foncier", "femmes-sante", "jeunes-participation"],
    "services": ["sante-cscom-asaco", "ecole-cgs", "eau-potable", "services-publics-egalite"],
    "recours": [
        "ou-se-plaindre",
        "mediateur-republique",
        "verificateur-general",
        "espace-interpellation-democratique",
        "oclei-enrichissement-illicite",
        "signaler-via-le-bot",
        "donnees-personnelles",
    ],
}


def test_required_articles_exist_in_their_theme(pack: ContentPack) -> None:
    for theme, ids in REQUIRED.items():
        for aid in ids:
            assert aid in pack.articles, aid
            assert pack.articles[aid].theme == theme, aid


def test_every_article_cites_sources_and_has_bambara_marked_for_review(pack: ContentPack) -> None:
    for article in pack.articles.values():
        assert article.sources, article.id
        assert article.keywords.get("fr"), article.id
        # New articles wait for their Bambara; any Bambara present is marked for review.
        if article.title.get("bm") or article.summary.get("bm"):
            assert article.needs_review.get("bm") is True, article.id
        assert len(article.title["fr"]) <= 60, article.id


def test_complaint_categories(pack: ContentPack) -> None:
    ids = [c.id for c in pack.categories]
    assert ids == [
        "sante",
        "ecole",
        "eau",
        "etat-civil",
        "foncier",
        "taxes",
        "corruption",
        "mairie",
        "securite",
        "liste-electorale",
        "accessibilite",
        "autre",
    ]
    assert len({c.service_code for c in pack.categories}) == len(ids)


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "pack"
    shutil.copytree(BUNDLED_PACK, target)
    return target


def _edit(path: Path, change: dict[str, object], drop: tuple[str, ...] = ()) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data.update(change)
    for key in drop:
        data.pop(key, None)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def test_every_problem_is_reported_at_once_with_file_and_path(tmp_path: Path) -> None:
    pack = _copy(tmp_path)
    arts = pack / "articles"
    _edit(arts / "inclusion/quota-genre.yaml", {"related": ["nowhere", "quota-genre"]})
    _edit(
        arts / "services/eau-potable.yaml",
        {"actions": [{"complaint": "weather"}]},
        drop=("sources",),
    )
    _edit(
        arts / "droits/non-discrimination.yaml",
        {
            "title": {"fr": "Un titre bien trop long pour un bouton de téléphone"},
            "theme": "sport",
            "surprise": 1,
        },
        drop=("short_title",),
    )
    _edit(
        arts / "commune/impots-locaux.yaml",
        {"summary": {"bm": "only bambara"}, "keywords": {"xx": ["a"]}},
    )
    shutil.copy(arts / "recours/ou-se-plaindre.yaml", arts / "recours/copy.yaml")
    with pytest.raises(PackError) as caught:
        load_pack(pack)
    text = "\n".join(caught.value.problems)
    expected = [
        "articles/inclusion/quota-genre.yaml: related.0: no article 'nowhere'",
        "articles/inclusion/quota-genre.yaml: related.1: an article cannot be related to itself",
        "articles/services/eau-potable.yaml: sources: Field required",
        "articles/droits/non-discrimination.yaml: surprise: Extra inputs are not permitted",
        "articles/commune/impots-locaux.yaml: summary: Value error, the French text",
        "articles/recours/ou-se-plaindre.yaml: id: 'ou-se-plaindre' is already the id of "
        "articles/recours/copy.yaml",
    ]
    for line in expected:
        assert line in text, line
    assert "no article 'non-discrimination'" not in text  # broken, not missing
    # Cross-file checks need files that parse: fix two and the rest appears.
    _edit(arts / "services/eau-potable.yaml", {"sources": [{"title": "Code de l'eau"}]})
    _edit(arts / "droits/non-discrimination.yaml", {}, drop=("surprise",))
    _edit(arts / "commune/impots-locaux.yaml", {"summary": {"fr": "ok"}})
    with pytest.raises(PackError) as caught:
        load_pack(pack)
    text = "\n".join(caught.value.problems)
    for line in [
        "articles/services/eau-potable.yaml: actions.0.complaint: no category 'weather'",
        "articles/droits/non-discrimination.yaml: theme: 'sport' is not in themes.yaml",
        "articles/droits/non-discrimination.yaml: title.fr: 51 characters is too long for a button",
        "articles/commune/impots-locaux.yaml: keywords.xx: language not in pack.yaml",
        "articles/recours/ou-se-plaindre.yaml: id: 'ou-se-plaindre' is already the id of "
        "articles/recours/copy.yaml",
    ]:
        assert line in text, line


def test_content_check_command(tmp_path: Path) -> None:
    good = subprocess.run(
        [sys.executable, "-m", "bot", "content", "check"], cwd=ROOT, capture_output=True, text=True
    )
    assert good.returncode == 0, good.stdout
    assert "43 articles" in good.stdout and "bm: title " in good.stdout
    pack = _copy(tmp_path)
    _edit(pack / "articles/inclusion/quota-genre.yaml", {"related": ["nowhere"]})
    (pack / "themes.yaml").write_text("themes: [", encoding="utf-8")
    bad = subprocess.run(
        [sys.executable, "-m", "bot", "content", "check", str(pack)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 1
    assert "themes.yaml : YAML invalide" in bad.stdout  # staff read problems in French


def test_committed_json_schemas_are_up_to_date() -> None:
    for name in SCHEMAS:
        committed = (BUNDLED_PACK / "schema" / f"{name}.schema.json").read_text(encoding="utf-8")
        assert committed == render(name), f"run `civicbot content schema` ({name})"


def test_schema_rejects_what_the_loader_rejects() -> None:
    schema = SCHEMAS["article"].model_json_schema()
    assert schema["additionalProperties"] is False
    assert "sources" in schema["required"]


@pytest.mark.parametrize(
    "body",
    [
        "court",
        "Un paragraphe.\n\nUn autre paragraphe.",
        "\n\n".join(f"Paragraphe {n}. " + "mot " * 60 for n in range(12)),
        "Phrase longue. " * 200,
        "x" * 3000,
    ],
)
def test_pages_are_short_and_lose_nothing(body: str) -> None:
    pages = paginate(body)
    assert all(len(page) <= PAGE_LIMIT for page in pages)
    assert "".join(pages).replace("\n", "").replace(" ", "") == body.replace("\n", "").replace(
        " ", ""
    )


def test_bundled_articles_fit_in_a_few_pages(pack: ContentPack) -> None:
    for article in pack.articles.values():
        pages = pack.pages(article, "fr")
        assert 1 <= len(pages) <= 3, article.id


def test_check_catches_wording_and_source_errors(tmp_path: Path) -> None:
    pack = _copy(tmp_path)
    arts = pack / "articles"
    article = yaml.safe_load((arts / "services/eau-potable.yaml").read_text(encoding="utf-8"))
    sources = article["sources"]
    sources[0].pop("url")
    sources[1].pop("kind")
    body = article["body"]["fr"] + "\n\nTu peux payer 2.5 litres, soit 15000 FCFA par membre(s)."
    _edit(
        arts / "services/eau-potable.yaml",
        {"sources": sources, "body": {"fr": body}},
    )
    ui = pack / "ui" / "fr.yaml"
    ui.write_text(
        ui.read_text(encoding="utf-8").replace("Réponses : {count}", "{count} réponse(s)"),
        encoding="utf-8",
    )
    with pytest.raises(PackError) as caught:
        load_pack(pack)
    text = "\n".join(caught.value.problems)
    where = "articles/services/eau-potable.yaml"
    for expected in [
        f"{where}: sources.0: no url",
        f"{where}: sources.1: no kind (law, official or press)",
        f"{where}: body.fr: 'e(s)' is a plural hack",
        f"{where}: body.fr: '2.5': French decimals take a comma",
        f"{where}: body.fr: '15000': group thousands with a space",
        f"{where}: body.fr: mixes 'tu' and 'vous'",
        "ui/fr.yaml: quiz.group_closed: 'e(s)' is a plural hack",
    ]:
        assert expected in text, expected


def test_bundled_pack_speaks_vous_everywhere(pack: ContentPack) -> None:
    from content.check import _TU, article_texts, quiz_texts

    for article in pack.articles.values():
        assert not any(_TU.search(text) for _, text in article_texts(article)), article.id
    for quiz in pack.quizzes.values():
        assert not any(_TU.search(text) for _, text in quiz_texts(quiz)), quiz.id

"""Translation tooling: the glossary check, drafts served or withheld, coverage per file."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from content.glossary import Glossary
from content.pack import BUNDLED_PACK, ContentPack, load_pack
from content.units import Unit

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "mali"
    shutil.copytree(BUNDLED_PACK, target)
    return target


def civicbot(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], capture_output=True, text=True, cwd=ROOT, check=False
    )


def test_glossary_flags_a_known_wrong_variant(pack: ContentPack) -> None:
    glossary = Glossary(pack.glossary, "bm")
    unit = Unit("themes.yaml", "themes.droits.title", "Mes droits", "N ka josariyaw", True)
    assert [f.variant for f in glossary.wrong(unit)] == ["josariyaw"]
    right = Unit("themes.yaml", "themes.droits.title", "Mes droits", "N ka josiraw", True)
    assert glossary.wrong(right) == []
    assert [t.id for t in glossary.used_in("N ka josiraw")] == ["droit"]


def test_a_word_right_in_another_sense_is_flagged_only_where_the_french_says_so(
    pack: ContentPack,
) -> None:
    glossary = Glossary(pack.glossary, "bm")
    chat = Unit("ui", "x", "La conversation a expiré.", "An ka baro banna.", True)
    debate = Unit("ui", "y", "Les débats publics", "Baro ka ɲɛ.", True)
    assert glossary.wrong(chat) == []
    assert [f.variant for f in glossary.wrong(debate)] == ["baro"]


def test_content_check_warns_about_variants_and_lists_term_uses(copy: Path) -> None:
    themes = copy / "themes.yaml"
    text = re.sub(r"(fr: Mes droits, bm: )[^}]*", r"\1N ka josariyaw", themes.read_text("utf-8"))
    themes.write_text(text, encoding="utf-8")
    done = civicbot("content", "check", str(copy), "--uses")
    assert done.returncode == 0, done.stdout + done.stderr
    assert (
        "warning: themes.yaml:themes.droits.title: 'josariyaw' for « droit »; "
        "the glossary says 'josira'" in done.stdout
    )
    assert "term droit = josira:" in done.stdout
    assert "    themes.yaml:themes." in done.stdout  # --uses lists where a term is used


def test_coverage_counts_reviewed_draft_and_missing_per_file(copy: Path) -> None:
    categories = copy / "complaints.yaml"
    text = categories.read_text(encoding="utf-8")
    categories.write_text(text.replace("needs_review: {bm: true}", "needs_review: {}", 1))
    done = civicbot("content", "check", str(copy), "--coverage")
    assert done.returncode == 0, done.stderr
    line = next(x for x in done.stdout.splitlines() if x.strip().startswith("complaints.yaml:"))
    reviewed = int(line.split(":")[1].split()[0])
    assert reviewed >= 2, line  # the first category's label and description
    assert "missing (of" in line


def _withhold(copy: Path, what: str) -> None:
    manifest = copy / "pack.yaml"
    text = manifest.read_text(encoding="utf-8")
    manifest.write_text(text.replace(f"{what}: serve", f"{what}: withhold"), encoding="utf-8")


def test_withheld_article_drafts_fall_back_to_french(copy: Path) -> None:
    served = load_pack(copy)
    _withhold(copy, "articles")
    withheld = load_pack(copy)
    article = next(a for a in served.articles.values() if a.needs_review.get("bm"))
    assert "bm" in article.title
    assert withheld.pick(withheld.articles[article.id].title, "bm") == article.title["fr"]
    assert withheld.texts.get("bm", "menu.learn") == served.texts.get("bm", "menu.learn")


def test_withheld_interface_drafts_fall_back_to_french_except_reviewed_keys(copy: Path) -> None:
    ui = copy / "ui" / "bm.yaml"
    text = ui.read_text(encoding="utf-8")
    ui.write_text(
        text.replace("needs_review: true\n", "needs_review: true\nreviewed: [menu.help]\n", 1),
        encoding="utf-8",
    )
    served = load_pack(copy)
    _withhold(copy, "interface")
    withheld = load_pack(copy)
    assert served.texts.get("bm", "menu.learn") != served.texts.get("fr", "menu.learn")
    assert withheld.texts.get("bm", "menu.learn") == withheld.texts.get("fr", "menu.learn")
    assert withheld.texts.get("bm", "menu.help") == served.texts.get("bm", "menu.help")
    category = withheld.categories[0]
    assert withheld.pick(category.label, "bm") == category.label["fr"]


def test_placeholders_and_commands_are_not_checked_as_words(pack: ContentPack) -> None:
    glossary = Glossary(pack.glossary, "bm")
    unit = Unit("ui", "circle.invite", "Le quiz « {quiz} »", "Kizi « {quiz} » : /quiz stop", True)
    assert glossary.wrong(unit) == []

"""Staff tools in French (English on request): content check problems and quiz statistics."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from bot.commands.quiz import render_quiz_stats
from content.check import in_french
from content.pack import ContentPack
from quiz.stats import summarise
from tests.test_content_pack import _copy, _edit

ROOT = Path(__file__).resolve().parent.parent


def check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, capture_output=True, text=True
    )


def test_content_check_problems_in_french_or_english(tmp_path: Path) -> None:
    pack = _copy(tmp_path)
    _edit(pack / "articles/inclusion/quota-genre.yaml", {"colour": "red"}, drop=("title",))
    french = check("content", "check", str(pack))
    assert french.returncode == 1
    assert "articles/inclusion/quota-genre.yaml: title : champ obligatoire" in french.stdout
    assert "colour : champ inconnu" in french.stdout
    assert "Field required" not in french.stdout and "problème(s) dans" in french.stderr
    english = check("--lang", "en", "content", "check", str(pack))
    assert "title: Field required" in english.stdout and "problem(s) in" in english.stderr


def test_problems_are_translated_and_unknown_ones_kept() -> None:
    assert in_french(
        "a.yaml: options: List should have at least 2 items after validation, not 1"
    ) == ("a.yaml: options : au moins 2 élément(s) (il y en a 1)")
    assert in_french("b.yaml: title.fr: 70 characters (max 60)") == (
        "b.yaml: title.fr : 70 caractères (au plus 60)"
    )
    assert in_french("c.yaml: a rule nobody translated") == "c.yaml: a rule nobody translated"


def test_quiz_stats_show_questions_and_answer_labels(pack: ContentPack) -> None:
    quiz = pack.quizzes["commune-budget"]
    question = quiz.questions[0]
    right = next(n for n, o in enumerate(question.options) if o.correct)
    rows = [
        (
            f"s{n}",
            quiz.id,
            question.id,
            right if n < 7 else (right + 1) % 2,
            int(n < 7),
            "f",
            "20-24",
        )
        for n in range(12)
    ]
    text = render_quiz_stats(summarise(rows), pack, "fr")
    assert question.text["fr"] in text and f"« {quiz.title['fr']} »" in text
    assert f"• {question.options[right].text['fr']} ✓ : 58.3 %" in text
    assert "femmes 58.3 %" in text and "20 à 24 ans 58.3 %" in text
    assert "q01" not in text.replace(f"({quiz.id})", "") and '"0"' not in text

"""`civicbot quiz stats`: what people get wrong, for the programme's teaching."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from bot.settings import Settings
from bot.staff import lang
from content.pack import ContentPack, PackError, load_pack
from quiz.stats import AnswerRow, summarise
from reports.cells import MIN_CELL
from reports.labels import Labels, labels_from_pack


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print the statistics: readable text with the questions and answers, or JSON."""
    rows = asyncio.run(_rows(settings))
    report = summarise(rows)
    if getattr(args, "json", False):
        print(json.dumps(report, ensure_ascii=False, indent=2))
        return 0
    try:
        pack: ContentPack | None = load_pack(settings.content)
    except PackError:
        pack = None
    print(render_quiz_stats(report, pack, lang()))
    return 0


def _percent(value: Any, fr: bool) -> str:
    if value is None:
        return f"<{MIN_CELL} " + ("pers." if fr else "people")
    return f"{value:g} %" if fr else f"{value:g}%"


def render_quiz_stats(report: dict[str, Any], pack: ContentPack | None, code: str) -> str:
    """Each quiz with its questions' text and answer labels, not q01 and '0'."""
    fr = code == "fr"
    words = labels_from_pack(pack, code) if pack else Labels(code)
    content_lang = "fr" if pack is None or code not in pack.languages else code
    if not report:
        return "Aucune réponse de quiz pour l'instant." if fr else "No quiz answers yet."
    lines: list[str] = []
    for quiz_id, figures in report.items():
        quiz = pack.quizzes.get(quiz_id) if pack else None
        title = pack.pick(quiz.title, content_lang) if pack and quiz else quiz_id
        participants = figures["participants"]
        count = f"<{MIN_CELL}" if participants is None else participants
        lines.append(
            f"Quiz « {title} » ({quiz_id}) : {count} participant(s)"
            if fr
            else f"Quiz '{title}' ({quiz_id}): {count} participant(s)"
        )
        questions = {q.id: q for q in quiz.questions} if quiz else {}
        for n, (qid, stats) in enumerate(figures["questions"].items(), start=1):
            question = questions.get(qid)
            text = pack.pick(question.text, content_lang) if pack and question else qid
            lines.append(f"  {n}. {text}")
            answers = f"<{MIN_CELL}" if stats["answers"] is None else stats["answers"]
            right = _percent(stats["right_percent"], fr)
            lines.append(
                f"     réponses : {answers} ; bonnes réponses : {right}"
                if fr
                else f"     answers: {answers}; right: {right}"
            )
            for option, share in stats["options_percent"].items():
                index = int(option)
                chosen = (
                    question.options[index] if question and index < len(question.options) else None
                )
                label = pack.pick(chosen.text, content_lang) if pack and chosen else option
                mark = " ✓" if chosen and chosen.correct else ""
                lines.append(f"     • {label}{mark} : {_percent(share, fr)}")
            for key, kind, title_fr, title_en in (
                ("right_percent_by_gender", "gender", "par genre", "by gender"),
                ("right_percent_by_age", "age", "par âge", "by age"),
            ):
                bands = stats[key]
                if bands:
                    shown = ", ".join(
                        f"{words.named(kind, band)} {_percent(v, fr)}" for band, v in bands.items()
                    )
                    lines.append(f"     {title_fr if fr else title_en} : {shown}")
        lines.append("")
    return "\n".join(lines).rstrip()


async def _rows(settings: Settings) -> list[AnswerRow]:
    from bot.store import open_store

    store = await open_store(settings.db)
    try:
        return [tuple(row) for row in await store.quiz_answer_rows()]
    finally:
        await store.close()

"""Quiz statistics for the programme: what people get wrong, with small groups hidden. Pure."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from quiz.play import suppress_small
from reports.cells import suppress

# (session, quiz, question, option, correct, gender, age group)
AnswerRow = tuple[str, str, str, int, int, str | None, str | None]


@dataclass
class QuestionStats:
    """Answers to one question, overall and by profile band."""

    answers: int = 0
    right: int = 0
    options: Counter[int] = field(default_factory=Counter)
    by_gender: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    by_age: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))


def summarise(rows: Iterable[AnswerRow]) -> dict[str, object]:
    """Per quiz and question: participants, share right, share of each option, by band.

    Every figure about fewer than five people is replaced by None (it could point at someone).
    """
    quizzes: dict[str, dict[str, QuestionStats]] = defaultdict(dict)
    sessions: dict[str, set[str]] = defaultdict(set)
    for session, quiz_id, question_id, option, correct, gender, age in rows:
        stats = quizzes[quiz_id].setdefault(question_id, QuestionStats())
        sessions[quiz_id].add(session)
        stats.answers += 1
        stats.right += correct
        stats.options[option] += 1
        for table, band in ((stats.by_gender, gender), (stats.by_age, age)):
            if band:
                table[band][0] += 1
                table[band][1] += correct
    report: dict[str, object] = {}
    for quiz_id, questions in sorted(quizzes.items()):
        report[quiz_id] = {
            "participants": suppress_small(len(sessions[quiz_id])),
            "questions": {qid: _question(stats) for qid, stats in sorted(questions.items())},
        }
    return report


def _share(part: int, whole: int) -> float | None:
    return round(part / whole * 100, 1) if suppress_small(whole) else None


def _question(stats: QuestionStats) -> dict[str, object]:
    return {
        "answers": suppress_small(stats.answers),
        "right_percent": _share(stats.right, stats.answers),
        # How many chose each option is a count too: small ones hidden, with company.
        "options_percent": {
            option: _share(stats.options[int(option)], stats.answers) if shown is not None else None
            for option, shown in suppress(
                {str(option): count for option, count in sorted(stats.options.items())}
            ).items()
        },
        "right_percent_by_gender": {
            band: _share(right, total) for band, (total, right) in sorted(stats.by_gender.items())
        },
        "right_percent_by_age": {
            band: _share(right, total) for band, (total, right) in sorted(stats.by_age.items())
        },
    }

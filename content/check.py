"""Checks across the files of a pack: references, label lengths, languages, coverage."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping, Sequence

from content.communes import CommuneIndex
from content.schema import (
    EXPLANATION_LIMIT,
    OPTION_LIMIT,
    Article,
    BarometerFile,
    ComplaintCategory,
    Partner,
    Quiz,
    Theme,
)

# What the channels can draw: WhatsApp reply buttons take 20 characters, list rows 24.
BUTTON_LIMIT = 20
TITLE_LIMIT = 60


def _labels(
    where: str,
    field: str,
    label: Mapping[str, str],
    short: Mapping[str, str] | None,
) -> list[str]:
    """A label too long for a button needs a short form in the same language."""
    problems: list[str] = []
    for lang, text in label.items():
        if len(text) <= BUTTON_LIMIT:
            continue
        if not short or lang not in short:
            problems.append(
                f"{where}: {field}.{lang}: {len(text)} characters is too long for a button "
                f"(max {BUTTON_LIMIT}); add short_{field.removeprefix('short_')}.{lang}"
            )
    for lang, text in (short or {}).items():
        if len(text) > BUTTON_LIMIT:
            problems.append(
                f"{where}: short_{field}.{lang}: {len(text)} characters (max {BUTTON_LIMIT})"
            )
    return problems


def _languages(where: str, article: Article, known: Sequence[str]) -> list[str]:
    maps: dict[str, Mapping[str, object] | None] = {
        "title": article.title,
        "short_title": article.short_title,
        "summary": article.summary,
        "body": article.body,
        "keywords": article.keywords,
        "questions": article.questions,
        "audio": article.audio,
        "needs_review": article.needs_review,
    }
    return [
        f"{where}: {field}.{lang}: language not in pack.yaml"
        for field, value in maps.items()
        for lang in (value or {})
        if lang not in known
    ]


def cross_check(
    languages: Sequence[str],
    themes: Sequence[Theme],
    articles: Mapping[str, tuple[str, Article]],
    categories: Sequence[ComplaintCategory],
    duplicates: Sequence[tuple[str, str, str]],
    broken: Collection[str] = (),
) -> list[str]:
    """Every problem that no single file shows: `articles` maps id -> (file, article)."""
    problems = [
        f"{where}: id: '{aid}' is already the id of {other}" for where, aid, other in duplicates
    ]
    theme_ids = Counter(theme.id for theme in themes)
    problems += [f"themes.yaml: id '{tid}' appears twice" for tid, n in theme_ids.items() if n > 1]
    for theme in themes:
        problems += _labels(f"themes.yaml: {theme.id}", "title", theme.title, theme.short_title)
    category_ids = {c.id for c in categories}
    # Open311 lists each service_code once and routes a POST to the first category with it.
    for key in ("id", "service_code"):
        counted = Counter(getattr(c, key) for c in categories)
        problems += [
            f"complaints.yaml: categories: {key} '{value}' appears {n} times"
            for value, n in counted.items()
            if n > 1
        ]
    for category in categories:
        problems += _labels(
            f"complaints.yaml: {category.id}", "label", category.label, category.short_label
        )
    for aid, (where, article) in articles.items():
        if where.rsplit("/", 1)[-1] != f"{aid}.yaml":
            problems.append(f"{where}: id: '{aid}' does not match the file name")
        if article.theme not in theme_ids:
            problems.append(f"{where}: theme: '{article.theme}' is not in themes.yaml")
        for lang, title in article.title.items():
            if len(title) > TITLE_LIMIT:
                problems.append(
                    f"{where}: title.{lang}: {len(title)} characters (max {TITLE_LIMIT})"
                )
        problems += _labels(where, "title", article.title, article.short_title)
        problems += _languages(where, article, languages)
        for n, related in enumerate(article.related):
            if related not in articles and related not in broken:
                problems.append(f"{where}: related.{n}: no article '{related}'")
            elif related == aid:
                problems.append(f"{where}: related.{n}: an article cannot be related to itself")
        for n, action in enumerate(article.actions):
            if action.complaint not in category_ids:
                problems.append(
                    f"{where}: actions.{n}.complaint: no category '{action.complaint}' "
                    "in complaints.yaml"
                )
    return problems


def coverage(languages: Sequence[str], articles: Sequence[Article]) -> dict[str, dict[str, int]]:
    """How many articles have each field in each language (French is the fallback)."""
    report: dict[str, dict[str, int]] = {}
    for lang in languages:
        report[lang] = {
            "title": sum(lang in a.title for a in articles),
            "summary": sum(lang in a.summary for a in articles),
            "body": sum(lang in a.body for a in articles),
            "keywords": sum(bool(a.keywords.get(lang)) for a in articles),
            "questions": sum(bool(a.questions.get(lang)) for a in articles),
            "needs_review": sum(a.needs_review.get(lang, False) for a in articles),
        }
    return report


def check_partners(
    partners: Sequence[Partner], communes: CommuneIndex, categories: Sequence[ComplaintCategory]
) -> list[str]:
    """Partner ids unique, a desk present, every P-code and category known."""
    problems: list[str] = []
    seen: set[str] = set()
    known = {c.id for c in categories}
    regions = {r.pcode for r in communes.regions}
    cercles = {c.cercle_pcode for c in communes.communes}
    for n, partner in enumerate(partners):
        where = f"partners.yaml: partners.{n}"
        if partner.id in seen:
            problems.append(f"{where}.id: '{partner.id}' appears twice")
        seen.add(partner.id)
        for field, valid in (
            ("regions", regions),
            ("cercles", cercles),
            ("communes", communes.by_pcode),
        ):
            for code in getattr(partner.area, field):
                if code not in valid:
                    problems.append(f"{where}.area.{field}: no {field[:-1]} '{code}'")
        problems += [
            f"{where}.categories: no category '{c}' in complaints.yaml"
            for c in partner.categories
            if c not in known
        ]
    if not any(p.desk for p in partners):
        problems.append("partners.yaml: partners: one entry needs desk: true (the programme desk)")
    return problems


def check_quizzes(quizzes: Mapping[str, tuple[str, Quiz]], articles: Collection[str]) -> list[str]:
    """One right option each, short options and explanations, existing articles."""
    problems: list[str] = []
    for quiz_id, (where, quiz) in quizzes.items():
        if where.rsplit("/", 1)[-1] != f"{quiz_id}.yaml":
            problems.append(f"{where}: id: '{quiz_id}' does not match the file name")
        problems += _labels(where, "title", quiz.title, quiz.short_title)
        seen: set[str] = set()
        for n, question in enumerate(quiz.questions):
            at = f"{where}: questions.{n}"
            if question.id in seen:
                problems.append(f"{at}.id: '{question.id}' appears twice")
            seen.add(question.id)
            right = sum(option.correct for option in question.options)
            if right != 1:
                problems.append(f"{at}.options: {right} options are correct, exactly 1 must be")
            for m, option in enumerate(question.options):
                if len(option.text["fr"]) > OPTION_LIMIT:
                    problems.append(
                        f"{at}.options.{m}.text.fr: {len(option.text['fr'])} characters "
                        f"(max {OPTION_LIMIT})"
                    )
            for lang, text in question.explanation.items():
                if len(text) > EXPLANATION_LIMIT:
                    problems.append(
                        f"{at}.explanation.{lang}: {len(text)} characters (max {EXPLANATION_LIMIT})"
                    )
            if question.article not in articles:
                problems.append(f"{at}.article: no article '{question.article}'")
    return problems


def check_barometer(barometer: BarometerFile, languages: Sequence[str]) -> list[str]:
    """Unique ids, scale words and criterion titles short enough for buttons, known languages."""
    where = "barometer.yaml"
    problems: list[str] = []
    criteria = Counter(c.id for c in barometer.criteria)
    problems += [
        f"{where}: criteria: id '{cid}' appears twice" for cid, n in criteria.items() if n > 1
    ]
    questions = Counter(q.id for _, q in barometer.questions())
    problems += [
        f"{where}: criteria: question id '{qid}' appears twice"
        for qid, n in questions.items()
        if n > 1
    ]
    labels = [(f"scale.{n}", label) for n, label in enumerate(barometer.scale)]
    labels += [(f"criteria.{n}.title", c.title) for n, c in enumerate(barometer.criteria)]
    for path, label in labels:
        for lang, text in label.items():
            if lang not in languages:
                problems.append(f"{where}: {path}.{lang}: language not in pack.yaml")
            elif len(text) > BUTTON_LIMIT:
                problems.append(
                    f"{where}: {path}.{lang}: {len(text)} characters (max {BUTTON_LIMIT})"
                )
    return problems

"""Checks across the files of a pack: references, label lengths, languages, coverage."""

from __future__ import annotations

import re
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
from content.strings import Texts

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


# Wording rules for the French texts people read (not keywords or example questions, which
# copy how people type).
_PLURAL_HACK = re.compile(r"\w\((?:s|e|es|x)\)", re.IGNORECASE)
_DECIMAL_POINT = re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])")
_UNGROUPED = re.compile(r"(?<![\w\-/°.])\d{5,}(?![\w\-/])")
_TU = re.compile(r"\b(?:tu|toi|ton|tes)\b|\bt'|\bta\s|-toi\b", re.IGNORECASE)
_VOUS = re.compile(r"\b(?:vous|votre|vos)\b", re.IGNORECASE)


def check_wording(where: str, texts: Sequence[tuple[str, str]], address: bool = True) -> list[str]:
    """Real plurals, French number formats and, when `address`, one form of address per file."""
    problems: list[str] = []
    for field, text in texts:
        if found := _PLURAL_HACK.search(text):
            problems.append(
                f"{where}: {field}: '{found.group()}' is a plural hack; write a real plural "
                "or rephrase ('Membres : {count}')"
            )
        if found := _DECIMAL_POINT.search(text):
            problems.append(f"{where}: {field}: '{found.group()}': French decimals take a comma")
        if found := _UNGROUPED.search(text):
            problems.append(
                f"{where}: {field}: '{found.group()}': group thousands with a space (15 000)"
            )
    if address:
        tu = [field for field, text in texts if _TU.search(text)]
        if tu and any(_VOUS.search(text) for _, text in texts):
            problems.append(f"{where}: {tu[0]}: mixes 'tu' and 'vous'; the interface says 'vous'")
    return problems


def article_texts(article: Article) -> list[tuple[str, str]]:
    """The French texts of an article that readers see."""
    fields = [("title.fr", article.title["fr"]), ("summary.fr", article.summary["fr"])]
    fields.append(("body.fr", article.body["fr"]))
    if article.short_title:
        fields.append(("short_title.fr", article.short_title["fr"]))
    return fields


def quiz_texts(quiz: Quiz) -> list[tuple[str, str]]:
    """The French texts of a quiz that players see."""
    fields = [("title.fr", quiz.title["fr"]), ("description.fr", quiz.description["fr"])]
    for n, question in enumerate(quiz.questions):
        fields.append((f"questions.{n}.text.fr", question.text["fr"]))
        fields.append((f"questions.{n}.explanation.fr", question.explanation["fr"]))
        fields += [
            (f"questions.{n}.options.{m}.text.fr", option.text["fr"])
            for m, option in enumerate(question.options)
        ]
    return fields


def check_sources(where: str, article: Article) -> list[str]:
    """Each source can be opened and says what it is, so the review date has a basis."""
    problems: list[str] = []
    for n, source in enumerate(article.sources):
        if not source.url:
            problems.append(f"{where}: sources.{n}: no url; readers cannot check '{source.title}'")
        if source.kind is None:
            problems.append(
                f"{where}: sources.{n}: no kind (law, official or press): reviewed_on "
                "must say what was checked against what"
            )
    return problems


def check_pack_wording(
    texts: Texts,
    articles: Mapping[str, tuple[str, Article]],
    categories: Sequence[ComplaintCategory],
) -> list[str]:
    """Wording and source rules over articles, complaint categories and the French interface."""
    problems: list[str] = []
    for where, article in articles.values():
        problems += check_wording(where, article_texts(article))
        problems += check_sources(where, article)
    shown = [(f"{c.id}.label.fr", c.label["fr"]) for c in categories]
    shown += [(f"{c.id}.description.fr", c.description["fr"]) for c in categories]
    problems += check_wording("complaints.yaml", shown)
    interface = sorted(texts.catalogs.get(texts.fallback, {}).items())
    problems += check_wording(f"ui/{texts.fallback}.yaml", interface, address=False)
    return problems


# issue 16: problems are written in English where they are found; staff read them in French.
_FRENCH: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), french)
    for pattern, french in (
        (r"Field required", "champ obligatoire"),
        (r"Extra inputs are not permitted", "champ inconnu (pas prévu par le modèle)"),
        (r"Input should be a valid string", "doit être un texte"),
        (r"Input should be a valid integer.*", "doit être un nombre entier"),
        (r"Input should be a valid number.*", "doit être un nombre"),
        (r"Input should be a valid boolean.*", "doit être true ou false"),
        (r"Input should be a valid list", "doit être une liste"),
        (r"Input should be a valid dictionary.*", "doit être une liste « clé: valeur »"),
        (r"Input should be a valid date.*", "doit être une date AAAA-MM-JJ"),
        (r"Input should be (.+)", r"doit être \1"),
        (r"String should have at most (\d+) characters?", r"au plus \1 caractères"),
        (r"String should have at least (\d+) characters?", r"au moins \1 caractère(s)"),
        (r"String should match pattern '(.*)'", r"ne suit pas le format attendu (\1)"),
        (
            r"List should have at least (\d+) items? after validation, not (\d+)",
            r"au moins \1 élément(s) (il y en a \2)",
        ),
        (
            r"List should have at most (\d+) items? after validation, not (\d+)",
            r"au plus \1 élément(s) (il y en a \2)",
        ),
        (
            r"Value error, the French text \('fr'\) is required; other languages fall back to it",
            "le texte en français (fr) est obligatoire : les autres langues s'y replient",
        ),
        (r"Value error, (.*)", r"\1"),
        (r"file is missing", "fichier manquant"),
        (r"not valid YAML: (.*)", r"YAML invalide : \1"),
        (r"cannot be read: (.*)", r"illisible : \1"),
        (
            r"id: '(.*)' does not match the file name",
            r"id : « \1 » ne correspond pas au nom du fichier",
        ),
        (r"'(.*)' is not in themes\.yaml", r"« \1 » n'est pas dans themes.yaml"),
        (r"no (article|category|region|cercle|commune|quiz) '(.*?)'(.*)", r"aucun(e) \1 « \2 »\3"),
        (r"an article cannot be related to itself", "un article ne peut pas renvoyer à lui-même"),
        (r"(.*)'(.*)' appears twice", r"\1« \2 » apparaît deux fois"),
        (r"id: '(.*)' is already used", r"id : « \1 » est déjà utilisé"),
        (
            r"(\d+) options are correct, exactly 1 must be",
            r"\1 bonnes réponses : il en faut une seule",
        ),
        (r"language not in pack\.yaml", "langue absente de pack.yaml"),
        (
            r"(\d+) characters is too long for a button \(max (\d+)\); add (.*)",
            r"\1 caractères, trop long pour un bouton (au plus \2) ; ajoutez \3",
        ),
        (r"(\d+) characters \(max (\d+)\)", r"\1 caractères (au plus \2)"),
        (
            r"one entry needs desk: true \(the programme desk\)",
            "une entrée doit avoir desk: true (le bureau du programme)",
        ),
    )
)


def in_french(problem: str) -> str:
    """'articles/x.yaml: title: Field required' -> 'articles/x.yaml: title : champ obligatoire'."""
    start = 0
    while (cut := problem.find(": ", start)) != -1:
        prefix, text = problem[:cut].replace("(top)", "(racine)"), problem[cut + 2 :]
        for pattern, french in _FRENCH:
            if pattern.fullmatch(text):
                return f"{prefix} : {pattern.sub(french, text)}"
        start = cut + 2
    return problem  # a rule added later without a translation stays readable in English

"""Load a content pack folder and validate it whole: every problem, with file and path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from content.audio import UI_VOICE_KEYS, AudioIndex, check_index, parse_key
from content.check import (
    check_barometer,
    check_pack_wording,
    check_partners,
    check_quizzes,
    check_wording,
    coverage,
    cross_check,
    quiz_texts,
)
from content.communes import CommuneIndex
from content.drafts import without
from content.glossary import GlossaryFile, Term
from content.pages import paginate
from content.safety import SafetyFile
from content.schema import (
    Article,
    BarometerFile,
    ComplaintCategory,
    ComplaintsFile,
    Partner,
    PartnersFile,
    Quiz,
    Theme,
    ThemesFile,
)
from content.search import SearchIndex
from content.strings import COMMANDS, Texts, flatten
from content.text import fold

BUNDLED_PACK = Path(__file__).parent / "packs" / "mali"
# The key part of the safety recording that reads "read more" (the services that help).
SAFETY_MORE = "more"
M = TypeVar("M", bound=BaseModel)

try:  # libyaml's parser is ten times faster where it is installed.
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


class PackError(Exception):
    """A pack that cannot be used; `problems` lists every one, with file and path."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__(f"{len(problems)} problem(s) in the content pack")
        self.problems = problems


class Drafts(BaseModel):
    """Whether a language's unreviewed texts are shown (`serve`) or replaced by French."""

    model_config = ConfigDict(extra="forbid")
    interface: Literal["serve", "withhold"] = Field(
        default="serve",
        description="interface strings, themes, complaint categories, quizzes, barometer",
    )
    articles: Literal["serve", "withhold"] = Field(
        default="serve", description="article titles, summaries and bodies"
    )


class Language(BaseModel):
    """A language the pack speaks."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z]{2,3}$")
    name: str = Field(min_length=1, max_length=20)
    drafts: Drafts = Field(
        default_factory=Drafts, description="texts marked needs_review: serve or withhold"
    )


class Manifest(BaseModel):
    """`pack.yaml`: the pack's identity and languages, French first."""

    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    languages: list[Language] = Field(min_length=1)

    @property
    def codes(self) -> list[str]:
        """Language codes in menu order; the first is the fallback."""
        return [lang.code for lang in self.languages]


class UiFile(BaseModel):
    """`ui/<lang>.yaml`: the bot's sentences and keywords in one language."""

    model_config = ConfigDict(extra="forbid")
    needs_review: bool = False
    reviewed: list[str] = Field(
        default_factory=list,
        description="keys (menu.title) a native speaker has reviewed while needs_review is true",
    )
    keywords: dict[str, list[str]] = Field(default_factory=dict)
    smalltalk: dict[str, list[str]] = Field(default_factory=dict)
    strings: dict[str, Any]


@dataclass(frozen=True)
class ContentPack:
    """Everything the handlers read from a pack."""

    path: Path
    manifest: Manifest
    texts: Texts
    communes: CommuneIndex
    ui_needs_review: frozenset[str]
    themes: tuple[Theme, ...] = ()
    articles: Mapping[str, Article] = field(default_factory=dict)
    categories: tuple[ComplaintCategory, ...] = ()
    partners: tuple[Partner, ...] = ()
    quizzes: Mapping[str, Quiz] = field(default_factory=dict)
    smalltalk: Mapping[str, str] = field(default_factory=dict)
    # None in a pack without barometer.yaml: the barometer is optional.
    barometer: BarometerFile | None = None
    glossary: tuple[Term, ...] = ()
    # None in a pack without safety.yaml: danger messages then get the generic help only.
    safety: SafetyFile | None = None
    # Voice notes (issue 18); None only for packs built by hand in tests.
    audio: AudioIndex | None = None
    _pages: dict[tuple[str, str], list[str]] = field(default_factory=dict, repr=False)
    _search: list[SearchIndex] = field(default_factory=list, repr=False)

    @property
    def languages(self) -> list[str]:
        """Language codes, fallback first."""
        return self.manifest.codes

    def pick(self, texts: Mapping[str, str] | None, lang: str) -> str:
        """The text in `lang`, else in French."""
        if not texts:
            return ""
        return texts.get(lang) or texts[self.languages[0]]

    def theme(self, theme_id: str) -> Theme | None:
        """A theme by id."""
        return next((t for t in self.themes if t.id == theme_id), None)

    def category(self, category_id: str) -> ComplaintCategory | None:
        """A complaint category by id."""
        return next((c for c in self.categories if c.id == category_id), None)

    def partner(self, partner_id: str) -> Partner | None:
        """A CSO of the directory by id."""
        return next((p for p in self.partners if p.id == partner_id), None)

    def in_theme(self, theme_id: str) -> list[Article]:
        """The articles of a theme, in file order."""
        return [a for a in self.articles.values() if a.theme == theme_id]

    def pages(self, article: Article, lang: str) -> list[str]:
        """The article's body in `lang` (or French), cut into pages; computed once."""
        key = (article.id, lang)
        if key not in self._pages:
            self._pages[key] = paginate(self.pick(article.body, lang))
        return self._pages[key]

    @property
    def search(self) -> SearchIndex:
        """The search index over every article, built on first use."""
        if not self._search:
            self._search.append(SearchIndex.build(self))
        return self._search[0]

    def coverage(self) -> dict[str, dict[str, int]]:
        """Translation coverage per language."""
        return coverage(self.languages, list(self.articles.values()))


def read_yaml(root: Path, relative: str, problems: list[str]) -> Any:
    """Parse one YAML file of a pack, recording a problem instead of raising."""
    try:
        return yaml.load((root / relative).read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - a safe loader
    except FileNotFoundError:
        problems.append(f"{relative}: file is missing")
    except yaml.YAMLError as exc:
        problems.append(f"{relative}: not valid YAML: {' '.join(str(exc).split())}")
    return None


def validation_problems(where: str, exc: ValidationError) -> list[str]:
    """One line per pydantic error: `file: path.to.field: message`."""
    lines = []
    for err in exc.errors():
        loc = ".".join(str(part) for part in err["loc"]) or "(top)"
        lines.append(f"{where}: {loc}: {err['msg']}")
    return lines


def _model(model: type[M], root: Path, relative: str, problems: list[str]) -> M | None:
    raw = read_yaml(root, relative, problems)
    if raw is None:
        return None
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems.extend(validation_problems(relative, exc))
        return None


def _ui(
    path: Path, codes: list[str], problems: list[str], withheld: frozenset[str] = frozenset()
) -> tuple[Texts, set[str], dict[str, str]]:
    catalogs: dict[str, dict[str, str]] = {}
    keywords: dict[str, dict[str, list[str]]] = {}
    smalltalk: dict[str, str] = {}
    review: set[str] = set()
    for code in codes:
        where = f"ui/{code}.yaml"
        ui = _model(UiFile, path, where, problems)
        if ui is None:
            continue
        unknown = sorted(set(ui.keywords) - set(COMMANDS))
        problems.extend(f"{where}: keywords.{name}: unknown command" for name in unknown)
        problems.extend(
            f"{where}: {group}.{name}: '{word}' has no letters or digits"
            for group, table in (("keywords", ui.keywords), ("smalltalk", ui.smalltalk))
            for name, words in table.items()
            for word in words
            if not fold(word)
        )
        for kind, words in ui.smalltalk.items():
            for word in words:
                smalltalk.setdefault(fold(word), kind)
        catalogs[code] = flatten(ui.strings)
        if code in withheld and ui.needs_review:
            catalogs[code] = {k: v for k, v in catalogs[code].items() if k in set(ui.reviewed)}
        keywords[code] = ui.keywords
        if ui.needs_review:
            review.add(code)
    if codes and codes[0] in catalogs:
        french = catalogs[codes[0]]
        for code, catalog in catalogs.items():
            extra = sorted(set(catalog) - set(french))
            problems.extend(f"ui/{code}.yaml: strings.{key}: not in French" for key in extra)
    fallback = codes[0] if codes else "fr"
    return Texts.build(fallback, catalogs, keywords), review, smalltalk


def _articles(
    path: Path, problems: list[str]
) -> tuple[dict[str, tuple[str, Article]], list[tuple[str, str, str]], set[str]]:
    """Valid articles by id, duplicate ids, and the ids of articles that failed validation."""
    found: dict[str, tuple[str, Article]] = {}
    duplicates: list[tuple[str, str, str]] = []
    broken: set[str] = set()
    for file in sorted((path / "articles").rglob("*.yaml")):
        relative = file.relative_to(path).as_posix()
        raw = read_yaml(path, relative, problems)
        if raw is None:
            continue
        try:
            article = Article.model_validate(raw)
        except ValidationError as exc:
            problems.extend(validation_problems(relative, exc))
            # Its id still exists for references: it is reported once, where it is broken.
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                broken.add(raw["id"])
            continue
        if article.id in found:
            duplicates.append((relative, article.id, found[article.id][0]))
            continue
        found[article.id] = (relative, article)
    return found, duplicates, broken


def load_pack(path: Path = BUNDLED_PACK) -> ContentPack:
    """Load and validate a pack; raise PackError listing every problem."""
    problems: list[str] = []
    manifest = _model(Manifest, path, "pack.yaml", problems)
    codes = manifest.codes if manifest else []
    languages = manifest.languages if manifest else []
    hide_ui = frozenset(x.code for x in languages if x.drafts.interface == "withhold")
    hide_articles = frozenset(x.code for x in languages if x.drafts.articles == "withhold")
    texts, review, smalltalk = _ui(path, codes, problems, hide_ui)
    themes = _model(ThemesFile, path, "themes.yaml", problems)
    complaints = _model(ComplaintsFile, path, "complaints.yaml", problems)
    articles, duplicates, broken = _articles(path, problems)
    if themes and complaints:
        problems += cross_check(
            codes, themes.themes, articles, complaints.categories, duplicates, broken
        )
        problems += check_pack_wording(texts, articles, complaints.categories)
    partners = _model(PartnersFile, path, "partners.yaml", problems)
    quizzes: dict[str, tuple[str, Quiz]] = {}
    for file in sorted((path / "quizzes").glob("*.yaml")):
        relative = file.relative_to(path).as_posix()
        quiz = _model(Quiz, path, relative, problems)
        if quiz is not None:
            if quiz.id in quizzes:
                problems.append(f"{relative}: id: '{quiz.id}' is already used")
            quizzes[quiz.id] = (relative, quiz)
    problems += check_quizzes(quizzes, {*articles, *broken})
    for where, quiz in quizzes.values():
        problems += check_wording(where, quiz_texts(quiz))
    communes: CommuneIndex | None = None
    try:
        communes = CommuneIndex.load(path / "communes.csv")
    except (OSError, KeyError, ValueError) as exc:
        problems.append(f"communes.csv: cannot be read: {exc}")
    if partners and communes and complaints:
        problems += check_partners(partners.partners, communes, complaints.categories)
    barometer = None
    if (path / "barometer.yaml").exists():
        barometer = _model(BarometerFile, path, "barometer.yaml", problems)
        if barometer is not None:
            problems += check_barometer(barometer, codes)
    glossary = None
    if (path / "glossary.yaml").exists():
        glossary = _model(GlossaryFile, path, "glossary.yaml", problems)
    safety = None
    if (path / "safety.yaml").exists():
        safety = _model(SafetyFile, path, "safety.yaml", problems)
        if safety is not None:
            problems += [
                f"safety.yaml: sources: '{source}' is used but not listed"
                for source in safety.unknown_sources()
            ]
            known = {article.id for _, article in articles.values()}
            problems += [
                f"safety.yaml: articles.{kind}: no article '{article_id}'"
                for kind, article_id in safety.articles.items()
                if article_id not in known
            ]
    if problems or manifest is None or communes is None or not themes or not complaints:
        raise PackError(problems or ["pack.yaml: cannot be read"])
    if partners is None:  # pragma: no cover - a missing file is a problem above
        raise PackError(problems or ["pack.yaml: cannot be read"])
    # Articles are listed theme by theme, in the order of themes.yaml, then by file name.
    order = {theme.id: n for n, theme in enumerate(themes.themes)}
    ordered = sorted(articles.values(), key=lambda item: (order[item[1].theme], item[0]))
    for lang in hide_articles:
        ordered = [(where, without(article, lang)) for where, article in ordered]
    for lang in hide_ui:
        themes = ThemesFile(themes=[without(t, lang) for t in themes.themes])
        complaints = ComplaintsFile(categories=[without(c, lang) for c in complaints.categories])
        quizzes = {qid: (where, without(quiz, lang)) for qid, (where, quiz) in quizzes.items()}
        barometer = without(barometer, lang) if barometer else None
    pack = ContentPack(
        path=path,
        manifest=manifest,
        texts=texts,
        communes=communes,
        ui_needs_review=frozenset(review),
        themes=tuple(themes.themes),
        articles={article.id: article for _, article in ordered},
        categories=tuple(complaints.categories),
        partners=tuple(partners.partners),
        quizzes={qid: quiz for qid, (_, quiz) in quizzes.items()},
        smalltalk=smalltalk,
        barometer=barometer,
        glossary=tuple(glossary.terms) if glossary else (),
        safety=safety,
        audio=AudioIndex(path),
    )
    assert pack.audio is not None
    problems = check_index(pack.audio, codes, lambda key, lang: key_exists(pack, key, lang))
    if problems:
        raise PackError(problems)
    return pack


def key_exists(pack: ContentPack, key: str, lang: str) -> bool:
    """Whether a key names something of the pack (an article page in that language's text)."""
    parts = parse_key(key)
    kind, rest = (parts[0], parts[1:]) if parts else ("", ())
    if kind == "article" and len(rest) == 2 and rest[1].isdigit():
        article = pack.articles.get(rest[0])
        return article is not None and 1 <= int(rest[1]) <= len(pack.pages(article, lang))
    if kind == "quiz" and len(rest) == 2 and rest[1].isdigit():
        quiz = pack.quizzes.get(rest[0])
        return quiz is not None and 1 <= int(rest[1]) <= len(quiz.questions)
    if kind == "barometer" and len(rest) == 1:
        scorecard = pack.barometer
        return scorecard is not None and any(q.id == rest[0] for _, q in scorecard.questions())
    if kind == "ui" and len(rest) == 1:
        # Only the messages that play a recording (a file for any other would never be heard).
        return rest[0] in UI_VOICE_KEYS and rest[0] in pack.texts.catalogs.get(
            pack.texts.fallback, {}
        )
    if kind == "safety" and len(rest) == 1:
        return rest[0] in safety_keys(pack)
    return False


def safety_keys(pack: ContentPack) -> tuple[str, ...]:
    """The safety texts a recording may read: the help for each kind of danger, then 'more'.

    `safety:KIND` reads what the bot answers to that danger (the opening, what to do now, the
    numbers shown, the reminder to check them); `safety:more` reads where to find help.
    """
    if pack.safety is None:
        return ()
    return (*pack.safety.opening, SAFETY_MORE)


def recordable(pack: ContentPack) -> dict[str, int]:
    """How many keys of each kind could have a recording (pages counted in French)."""
    french = pack.languages[0]
    return {
        "article": sum(len(pack.pages(a, french)) for a in pack.articles.values()),
        "quiz": sum(len(q.questions) for q in pack.quizzes.values()),
        "barometer": len(pack.barometer.questions()) if pack.barometer else 0,
        "safety": len(safety_keys(pack)),
        "ui": sum(1 for key in UI_VOICE_KEYS if key_exists(pack, f"ui:{key}", french)),
    }

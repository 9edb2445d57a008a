"""Load a content pack folder and validate it whole: every problem, with file and path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from content.check import (
    check_barometer,
    check_partners,
    check_quizzes,
    coverage,
    cross_check,
)
from content.communes import CommuneIndex
from content.pages import paginate
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


class Language(BaseModel):
    """A language the pack speaks."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z]{2,3}$")
    name: str = Field(min_length=1, max_length=20)


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
    path: Path, codes: list[str], problems: list[str]
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
    texts, review, smalltalk = _ui(path, codes, problems)
    themes = _model(ThemesFile, path, "themes.yaml", problems)
    complaints = _model(ComplaintsFile, path, "complaints.yaml", problems)
    articles, duplicates, broken = _articles(path, problems)
    if themes and complaints:
        problems += cross_check(
            codes, themes.themes, articles, complaints.categories, duplicates, broken
        )
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
    if problems or manifest is None or communes is None or not themes or not complaints:
        raise PackError(problems or ["pack.yaml: cannot be read"])
    if partners is None:  # pragma: no cover - a missing file is a problem above
        raise PackError(problems or ["pack.yaml: cannot be read"])
    # Articles are listed theme by theme, in the order of themes.yaml, then by file name.
    order = {theme.id: n for n, theme in enumerate(themes.themes)}
    ordered = sorted(articles.values(), key=lambda item: (order[item[1].theme], item[0]))
    return ContentPack(
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
    )

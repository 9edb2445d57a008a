"""Load a content pack folder: manifest, interface strings, communes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from content.communes import CommuneIndex
from content.strings import COMMANDS, Texts, flatten
from content.text import fold

BUNDLED_PACK = Path(__file__).parent / "packs" / "mali"


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
    strings: dict[str, Any]


@dataclass(frozen=True, slots=True)
class ContentPack:
    """Everything the handlers read from a pack."""

    path: Path
    manifest: Manifest
    texts: Texts
    communes: CommuneIndex
    ui_needs_review: frozenset[str]

    @property
    def languages(self) -> list[str]:
        """Language codes, fallback first."""
        return self.manifest.codes


def read_yaml(root: Path, relative: str, problems: list[str]) -> Any:
    """Parse one YAML file of a pack, recording a problem instead of raising."""
    try:
        return yaml.safe_load((root / relative).read_text(encoding="utf-8"))
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


def load_pack(path: Path = BUNDLED_PACK) -> ContentPack:
    """Load and validate a pack; raise PackError listing every problem."""
    problems: list[str] = []
    manifest: Manifest | None = None
    raw = read_yaml(path, "pack.yaml", problems)
    if raw is not None:
        try:
            manifest = Manifest.model_validate(raw)
        except ValidationError as exc:
            problems.extend(validation_problems("pack.yaml", exc))
    catalogs: dict[str, dict[str, str]] = {}
    keywords: dict[str, dict[str, list[str]]] = {}
    review: set[str] = set()
    for code in manifest.codes if manifest else []:
        where = f"ui/{code}.yaml"
        raw = read_yaml(path, where, problems)
        if raw is None:
            continue
        try:
            ui = UiFile.model_validate(raw)
        except ValidationError as exc:
            problems.extend(validation_problems(where, exc))
            continue
        unknown = sorted(set(ui.keywords) - set(COMMANDS))
        problems.extend(f"{where}: keywords.{name}: unknown command" for name in unknown)
        problems.extend(
            f"{where}: keywords.{name}: '{word}' has no letters or digits"
            for name, words in ui.keywords.items()
            for word in words
            if not fold(word)
        )
        catalogs[code] = flatten(ui.strings)
        keywords[code] = ui.keywords
        if ui.needs_review:
            review.add(code)
    if manifest and manifest.codes[0] in catalogs:
        french = catalogs[manifest.codes[0]]
        for code, catalog in catalogs.items():
            extra = sorted(set(catalog) - set(french))
            problems.extend(f"ui/{code}.yaml: strings.{key}: not in French" for key in extra)
    communes: CommuneIndex | None = None
    try:
        communes = CommuneIndex.load(path / "communes.csv")
    except (OSError, KeyError, ValueError) as exc:
        problems.append(f"communes.csv: cannot be read: {exc}")
    if problems or manifest is None or communes is None:
        raise PackError(problems or ["pack.yaml: cannot be read"])
    texts = Texts.build(manifest.codes[0], catalogs, keywords)
    return ContentPack(path, manifest, texts, communes, frozenset(review))

"""JSON Schemas of the pack's files, so that editors check YAML while CSOs type it.

The schemas carry the rules `content check` applies to a single file (French required,
no blank text, lengths that fit a button or a title), so an editor's check refuses what the
bot refuses. Rules across files (references, unique codes) stay with `content check`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from content.check import BUTTON_LIMIT, TITLE_LIMIT
from content.glossary import GlossaryFile
from content.pack import Manifest, UiFile
from content.safety import SafetyFile
from content.schema import (
    EXPLANATION_LIMIT,
    OPTION_LIMIT,
    Article,
    BarometerFile,
    ComplaintsFile,
    PartnersFile,
    Quiz,
    ThemesFile,
)

SCHEMAS: dict[str, type[BaseModel]] = {
    "article": Article,
    "themes": ThemesFile,
    "complaints": ComplaintsFile,
    "ui": UiFile,
    "pack": Manifest,
    "glossary": GlossaryFile,
    "safety": SafetyFile,
    "quiz": Quiz,
    "partners": PartnersFile,
    "barometer": BarometerFile,
}
# Which files of a pack each schema describes (globs relative to the pack folder).
FILES: dict[str, str] = {
    "article": "articles/**/*.yaml",
    "themes": "themes.yaml",
    "complaints": "complaints.yaml",
    "ui": "ui/*.yaml",
    "pack": "pack.yaml",
    "quiz": "quizzes/*.yaml",
    "partners": "partners.yaml",
    "barometer": "barometer.yaml",
}
MARK = "# yaml-language-server: $schema="
FALLBACK = "fr"

# (model, field) -> (most characters, every language or French only), as content check counts.
_LIMITS: dict[tuple[str, str], tuple[int, bool]] = {
    ("Article", "title"): (TITLE_LIMIT, True),
    ("Article", "short_title"): (BUTTON_LIMIT, True),
    ("Theme", "short_title"): (BUTTON_LIMIT, True),
    ("ComplaintCategory", "short_label"): (BUTTON_LIMIT, True),
    ("Quiz", "short_title"): (BUTTON_LIMIT, True),
    ("QuizOption", "text"): (OPTION_LIMIT, False),
    ("QuizQuestion", "explanation"): (EXPLANATION_LIMIT, True),
    ("BarometerCriterion", "title"): (BUTTON_LIMIT, True),
}
# (model, label, its short form): a French label too long for a button needs a short one.
_SHORT_FORMS = (
    ("Article", "title", "short_title"),
    ("Theme", "title", "short_title"),
    ("ComplaintCategory", "label", "short_label"),
    ("Quiz", "title", "short_title"),
)


def render(name: str) -> str:
    """One schema as JSON text."""
    return json.dumps(schema(name), ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def schema(name: str) -> dict[str, Any]:
    """One schema, with the rules content check applies to a single file."""
    model = SCHEMAS[name]
    document = model.model_json_schema()
    document["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    for cls in _models(model):
        target = document if cls is model else document.get("$defs", {}).get(cls.__name__)
        if target is not None:
            _french(cls, target)
    for (owner, field), (limit, every) in _LIMITS.items():
        for lang_map in _lang_maps(document, model, owner, field):
            _limit(lang_map, limit, every)
    for owner, label, short in _SHORT_FORMS:
        target = _model_schema(document, model, owner)
        if target is not None and label in target.get("properties", {}):
            _needs_short(target, label, short)
    _special(document, model)
    _non_blank(document)
    return document


def write_schemas(folder: Path) -> list[Path]:
    """Write `<name>.schema.json` for every file kind; return the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCHEMAS:
        path = folder / f"{name}.schema.json"
        path.write_text(render(name), encoding="utf-8")
        written.append(path)
    return written


def schema_comment(pack: Path, file: Path, name: str) -> str:
    """The first line that points an editor at a file's schema (path relative to the file)."""
    depth = len(file.relative_to(pack).parts) - 1
    return f"{MARK}{'../' * depth}schema/{name}.schema.json"


def pack_files(pack: Path) -> Iterator[tuple[Path, str]]:
    """Every YAML file of a pack with the name of its schema."""
    for name, pattern in FILES.items():
        for file in sorted(pack.glob(pattern)):
            yield file, name


def mark_files(pack: Path) -> list[Path]:
    """Put (or correct) the schema comment on the first line of every YAML file of a pack."""
    changed = []
    for file, name in pack_files(pack):
        text = file.read_text(encoding="utf-8")
        first, _, rest = text.partition("\n")
        comment = schema_comment(pack, file, name)
        if first == comment:
            continue
        body = rest if first.startswith(MARK) else text
        file.write_text(f"{comment}\n{body}", encoding="utf-8")
        changed.append(file)
    return changed


def _models(model: type[BaseModel]) -> Iterator[type[BaseModel]]:
    """The model and every model nested in its fields, once each."""
    seen: set[type[BaseModel]] = set()
    todo = [model]
    while todo:
        cls = todo.pop()
        if cls in seen:
            continue
        seen.add(cls)
        yield cls
        for field in cls.model_fields.values():
            todo.extend(_nested(field.annotation))


def _nested(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
    for arg in getattr(annotation, "__args__", ()):
        yield from _nested(arg)


def _model_schema(
    document: dict[str, Any], model: type[BaseModel], name: str
) -> dict[str, Any] | None:
    if model.__name__ == name:
        return document
    found: dict[str, Any] | None = document.get("$defs", {}).get(name)
    return found


def _object(prop: dict[str, Any]) -> dict[str, Any] | None:
    """The object branch of a property (`X | None` is an anyOf with null)."""
    if prop.get("type") == "object":
        return prop
    return next((p for p in prop.get("anyOf", []) if p.get("type") == "object"), None)


def _lang_maps(
    document: dict[str, Any], model: type[BaseModel], owner: str, field: str
) -> Iterator[dict[str, Any]]:
    target = _model_schema(document, model, owner)
    prop = (target or {}).get("properties", {}).get(field)
    if prop is None:
        return
    if prop.get("type") == "array":  # a list of language maps (the barometer's scale)
        prop = prop["items"]
    found = _object(prop)
    if found is not None:
        yield found


def _french(cls: type[BaseModel], target: dict[str, Any]) -> None:
    """Fields whose validator asks for the French text require the `fr` key."""
    for decorator in cls.__pydantic_decorators__.field_validators.values():
        if getattr(decorator.func, "__name__", "") != "_needs_fallback":
            continue
        for field in decorator.info.fields:
            prop = target.get("properties", {}).get(field)
            branch = _object(prop) if prop else None
            if branch is not None:
                branch["required"] = [FALLBACK]


def _limit(lang_map: dict[str, Any], limit: int, every_language: bool) -> None:
    if every_language:
        lang_map["additionalProperties"] = {**lang_map["additionalProperties"], "maxLength": limit}
    else:
        texts = lang_map.setdefault("properties", {})
        texts[FALLBACK] = {**lang_map["additionalProperties"], "maxLength": limit}


def _needs_short(target: dict[str, Any], label: str, short: str) -> None:
    rule = {
        "if": {
            "properties": {label: {"properties": {FALLBACK: {"minLength": BUTTON_LIMIT + 1}}}},
            "required": [label],
        },
        "then": {"properties": {short: {"required": [FALLBACK]}}, "required": [short]},
    }
    target.setdefault("allOf", []).append(rule)


def _special(document: dict[str, Any], model: type[BaseModel]) -> None:
    """Rules on lists: exactly one right option, a programme desk among the partners."""
    question = _model_schema(document, model, "QuizQuestion")
    if question is not None:
        question["properties"]["options"].update(
            contains={"properties": {"correct": {"const": True}}, "required": ["correct"]},
            minContains=1,
            maxContains=1,
        )
    if model is PartnersFile:
        document["properties"]["partners"].update(
            contains={"properties": {"desk": {"const": True}}, "required": ["desk"]},
            minContains=1,
        )


def _non_blank(node: Any) -> None:
    """Text the loader strips must hold more than spaces: `minLength: 1` gains a pattern."""
    if isinstance(node, dict):
        if node.get("type") == "string" and node.get("minLength") == 1 and "pattern" not in node:
            node["pattern"] = r"\S"
        for value in node.values():
            _non_blank(value)
    elif isinstance(node, list):
        for value in node:
            _non_blank(value)

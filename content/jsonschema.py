"""JSON Schemas of the pack's files, so that editors check YAML while CSOs type it."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel

from content.glossary import GlossaryFile
from content.pack import Manifest, UiFile
from content.safety import SafetyFile
from content.schema import Article, ComplaintsFile, ThemesFile

SCHEMAS: dict[str, type[BaseModel]] = {
    "article": Article,
    "themes": ThemesFile,
    "complaints": ComplaintsFile,
    "ui": UiFile,
    "pack": Manifest,
    "glossary": GlossaryFile,
    "safety": SafetyFile,
}


def render(name: str) -> str:
    """One schema as JSON text."""
    schema = SCHEMAS[name].model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def write_schemas(folder: Path) -> list[Path]:
    """Write `<name>.schema.json` for every file kind; return the paths written."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SCHEMAS:
        path = folder / f"{name}.schema.json"
        path.write_text(render(name), encoding="utf-8")
        written.append(path)
    return written

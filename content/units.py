"""Every translatable text of a pack as a unit: file, key path, French, translations, review."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

try:  # libyaml's parser is ten times faster where it is installed.
    _Loader: Any = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader

UI = "ui"  # the logical file of the interface strings: French in ui/fr.yaml, others beside it
# Lists of words, voice recordings and marks are not translations of the French.
NOT_TRANSLATED = frozenset({"keywords", "audio", "needs_review"})


@dataclass(frozen=True, slots=True)
class Unit:
    """One French text and its translation in one language."""

    file: str  # pack-relative file, or "ui" for the interface strings
    path: str  # dotted key path; list items with an id are named by it
    french: str
    text: str | None  # the translation, None when missing
    draft: bool  # the translation is marked needs_review

    @property
    def context(self) -> str:
        """`file:path`, unique in the pack: the PO msgctxt."""
        return f"{self.file}:{self.path}"

    @property
    def status(self) -> str:
        """`reviewed`, `draft` or `missing`."""
        if self.text is None:
            return "missing"
        return "draft" if self.draft else "reviewed"


def is_language_map(node: object) -> bool:
    """A `{fr: ..., bm: ...}` map of texts (lists of keywords are not)."""
    return (
        isinstance(node, Mapping)
        and isinstance(node.get("fr"), str)
        and all(isinstance(k, str) and isinstance(v, str) for k, v in node.items())
    )


def _step(item: object, index: int) -> str:
    """A list item is named by its id when it has one: stable when items are inserted."""
    if isinstance(item, Mapping) and isinstance(item.get("id"), str):
        return str(item["id"])
    return str(index)


def language_maps(node: Any, path: str = "") -> Iterator[tuple[str, Any]]:
    """Every language map under `node`, with its dotted path (works on ruamel trees too)."""
    if is_language_map(node):
        yield path, node
        return
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in NOT_TRANSLATED:
                continue
            yield from language_maps(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, Sequence) and not isinstance(node, str):
        for n, item in enumerate(node):
            step = _step(item, n)
            yield from language_maps(item, f"{path}.{step}" if path else step)


def record_of(file: str, path: str) -> str:
    """The key path of the record whose `needs_review` covers a unit."""
    if file in ("complaints.yaml", "themes.yaml"):
        return ".".join(path.split(".")[:2])
    return ""


def find(tree: Any, dotted: str) -> Any:
    """The node at a dotted path as `language_maps` names it, or None."""
    node = tree
    for step in dotted.split(".") if dotted else []:
        if isinstance(node, Mapping):
            node = node.get(step)
        elif isinstance(node, Sequence) and not isinstance(node, str):
            node = next((item for n, item in enumerate(node) if _step(item, n) == step), None)
        else:
            return None
        if node is None:
            return None
    return node


def _review(record: Any, lang: str) -> bool:
    marks = record.get("needs_review") if isinstance(record, Mapping) else None
    return bool(isinstance(marks, Mapping) and marks.get(lang))


def pack_files(root: Path) -> list[str]:
    """The pack's files that hold language maps, pack-relative, in a stable order."""
    files = [n for n in ("themes.yaml", "complaints.yaml", "barometer.yaml") if (root / n).exists()]
    for folder in ("quizzes", "articles"):
        files += sorted(p.relative_to(root).as_posix() for p in (root / folder).rglob("*.yaml"))
    return files


def file_units(file: str, tree: Any, lang: str) -> Iterator[Unit]:
    """The units of one parsed content file (not the interface strings)."""
    for path, texts in language_maps(tree):
        record = find(tree, record_of(file, path))
        text = texts.get(lang)
        yield Unit(file, path, texts["fr"], text, text is not None and _review(record, lang))


def flat_strings(tree: Any, prefix: str = "") -> dict[str, str]:
    """Nested interface strings as dotted keys (non-text values are skipped)."""
    flat: dict[str, str] = {}
    for key, value in (tree or {}).items():
        dotted = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(flat_strings(value, dotted + "."))
        elif isinstance(value, str):
            flat[dotted] = value
    return flat


def ui_drafts(tree: Mapping[str, Any], keys: Sequence[str]) -> set[str]:
    """Which of a ui file's keys are drafts: all when `needs_review`, except those `reviewed`."""
    if tree.get("needs_review") is True:
        reviewed = set(tree.get("reviewed") or [])
        return {key for key in keys if key not in reviewed}
    return set()


def ui_units(french: Mapping[str, Any], target: Mapping[str, Any] | None) -> Iterator[Unit]:
    """The units of the interface strings: French file against one language's file."""
    source = flat_strings(french.get("strings"))
    found = flat_strings((target or {}).get("strings"))
    drafts = ui_drafts(target or {}, list(found))
    for key, text in source.items():
        yield Unit(UI, key, text, found.get(key), key in drafts)


def read(root: Path, file: str) -> Any:
    """Parse one pack file (None when it is missing)."""
    target = root / file
    if not target.exists():
        return None
    return yaml.load(target.read_text(encoding="utf-8"), Loader=_Loader)  # noqa: S506 - safe


def pack_units(root: Path, lang: str) -> list[Unit]:
    """Every unit of a pack in one language: interface strings first, then file by file."""
    units = list(ui_units(read(root, "ui/fr.yaml") or {}, read(root, f"ui/{lang}.yaml")))
    for file in pack_files(root):
        units += file_units(file, read(root, file), lang)
    return units

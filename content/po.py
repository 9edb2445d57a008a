"""Translators' round trip: the pack's texts as a gettext PO file, and translations back in.

One PO file holds a whole language: msgctxt = `file:key.path`, msgid = the French,
msgstr = the translation, the `fuzzy` flag = marked needs_review, translator comments = the
glossary terms the French uses. Import writes into the YAML with ruamel's round trip, so the
files keep their comments, quotes and layout, and refuses entries whose French has changed.
"""

from __future__ import annotations

import io
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polib
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.scalarstring import DoubleQuotedScalarString, LiteralScalarString

from content.glossary import Term
from content.text import fold
from content.units import UI, Unit, find, pack_units, read, record_of

FUZZY = "fuzzy"


class StalePO(Exception):
    """Entries whose French changed since the export (or that left the pack): nothing written."""

    def __init__(self, stale: list[str]) -> None:
        super().__init__(f"{len(stale)} entries are stale: their French changed since the export")
        self.stale = stale


@dataclass
class ImportReport:
    """What an import did."""

    changed: list[str] = field(default_factory=list)  # contexts whose translation was written
    reviewed: list[str] = field(default_factory=list)  # records / keys no longer needs_review
    drafts: list[str] = field(default_factory=list)  # records / keys now marked needs_review
    stale: list[str] = field(default_factory=list)  # skipped, with why


def _french_terms(terms: Iterable[Term], lang: str) -> list[tuple[re.Pattern[str], Term]]:
    found = []
    for term in terms:
        if lang not in term.translations:
            continue
        french = fold(re.sub(r"\(.*?\)", "", term.fr).split(",")[0])
        if french:
            found.append((re.compile(r"(?<![0-9a-z])" + re.escape(french)), term))
    return found


def export(root: Path, lang: str, terms: Iterable[Term] = ()) -> polib.POFile:
    """Every French text of the pack with its `lang` translation, as one PO file."""
    po = polib.POFile(wrapwidth=0)
    po.metadata = {
        "Project-Id-Version": root.name,
        # gettext's placeholders for "not filled yet": the translator's tool fills them in.
        "PO-Revision-Date": "YEAR-MO-DA HO:MI+ZONE",
        "Last-Translator": "FULL NAME <EMAIL@ADDRESS>",
        "Language-Team": lang,
        "Language": lang,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
    }
    glossary = _french_terms(terms, lang)
    for unit in pack_units(root, lang):
        used = [t for pattern, t in glossary if pattern.search(fold(unit.french))]
        entry = polib.POEntry(
            msgctxt=unit.context,
            msgid=unit.french,
            msgstr=unit.text or "",
            occurrences=[(_target(unit.file, lang), "")],
            tcomment="\n".join(f"{t.fr} = {t.translations[lang].use}" for t in used),
            flags=[FUZZY] if unit.draft else [],
        )
        po.append(entry)
    return po


def _target(file: str, lang: str) -> str:
    return f"ui/{lang}.yaml" if file == UI else file


# Indentations tried, most likely first: the one that writes the file back unchanged is kept,
# so a file laid out differently (by another editor) is not re-indented by an import.
_LAYOUTS = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0))


def _yaml(layout: tuple[int, int, int] = _LAYOUTS[0]) -> YAML:
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 100_000  # never re-wrap a long line
    mapping, sequence, offset = layout
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def _load(path: Path) -> tuple[YAML, Any]:
    """Parse a file for a round trip, with the indentation that reproduces it."""
    text = path.read_text(encoding="utf-8")
    for layout in _LAYOUTS:
        yaml = _yaml(layout)
        tree = yaml.load(text)
        out = io.StringIO()
        yaml.dump(tree, out)
        if out.getvalue() == text:
            return yaml, tree
    yaml = _yaml()
    return yaml, yaml.load(text)


def _styled(value: str, like: object, flow: bool) -> object:
    """A new text written in the style of its French: `|` blocks stay blocks."""
    if isinstance(like, LiteralScalarString) and not flow:
        return LiteralScalarString(value)
    if isinstance(like, DoubleQuotedScalarString) or "\n" in value:
        return DoubleQuotedScalarString(value)
    return value


def _is_flow(node: Any) -> bool:
    return isinstance(node, CommentedMap) and bool(node.fa.flow_style())


def import_po(root: Path, po: polib.POFile, skip_stale: bool = False) -> ImportReport:
    """Write a PO file's translations into the pack; StalePO lists entries whose French moved."""
    lang = po.metadata.get("Language", "").strip()
    if not lang or lang == "fr":
        raise ValueError("the PO file names no target language (header 'Language')")
    units = {unit.context: unit for unit in pack_units(root, lang)}
    report = ImportReport()
    wanted: dict[str, list[tuple[Unit, polib.POEntry]]] = defaultdict(list)
    for entry in po:
        if entry.obsolete:
            continue
        unit = units.get(entry.msgctxt or "")
        if unit is None:
            report.stale.append(f"{entry.msgctxt}: no longer in the pack")
        elif unit.french != entry.msgid:
            report.stale.append(f"{entry.msgctxt}: the French changed since the export")
        elif entry.msgstr.strip():
            wanted[unit.file].append((unit, entry))
    if report.stale and not skip_stale:
        raise StalePO(report.stale)
    for file, entries in wanted.items():
        if file == UI:
            _write_ui(root, lang, entries, report)
        else:
            _write_file(root, file, lang, entries, units, report)
    return report


def _save(root: Path, relative: str, yaml: YAML, tree: Any) -> None:
    out = io.StringIO()
    yaml.dump(tree, out)
    path = root / relative
    if not path.exists() or path.read_text(encoding="utf-8") != out.getvalue():
        path.write_text(out.getvalue(), encoding="utf-8")


def _write_file(
    root: Path,
    file: str,
    lang: str,
    entries: Sequence[tuple[Unit, polib.POEntry]],
    units: Mapping[str, Unit],
    report: ImportReport,
) -> None:
    yaml, tree = _load(root / file)
    confirmed: dict[str, set[str]] = defaultdict(set)  # record -> contexts imported as reviewed
    touched: set[str] = set()
    for unit, entry in entries:
        node = find(tree, unit.path)
        text = entry.msgstr
        if node.get(lang) != text:
            node[lang] = _styled(text, node["fr"], _is_flow(node))
            report.changed.append(unit.context)
        record = record_of(file, unit.path)
        touched.add(record)
        if FUZZY not in entry.flags:
            confirmed[record].add(unit.context)
    for record in sorted(touched):
        holder = find(tree, record)
        translated = [
            c
            for c, u in units.items()
            if u.file == file and record_of(file, u.path) == record and _has(tree, u.path, lang)
        ]
        done = all(c in confirmed[record] for c in translated)
        where = f"{file}:{record}" if record else file
        if _mark(holder, lang, not done):
            (report.drafts if not done else report.reviewed).append(where)
    _save(root, file, yaml, tree)


def _has(tree: Any, path: str, lang: str) -> bool:
    node = find(tree, path)
    return isinstance(node, Mapping) and bool(node.get(lang))


def _mark(record: CommentedMap, lang: str, draft: bool) -> bool:
    """Set or clear `needs_review: {lang: true}` on a record; True when it changed."""
    marks = record.get("needs_review")
    before = bool(isinstance(marks, Mapping) and marks.get(lang))
    if before == draft:
        return False
    if draft:
        if not isinstance(marks, CommentedMap):
            marks = CommentedMap()
            marks.fa.set_flow_style()
            record["needs_review"] = marks
        marks[lang] = True
    else:
        del marks[lang]
        if not marks:
            del record["needs_review"]
    return True


def _write_ui(
    root: Path, lang: str, entries: Sequence[tuple[Unit, polib.POEntry]], report: ImportReport
) -> None:
    relative = f"ui/{lang}.yaml"
    target = root / relative
    yaml, tree = _load(target) if target.exists() else (_yaml(), CommentedMap())
    french = read(root, "ui/fr.yaml") or {}
    if "strings" not in tree:
        tree["strings"] = CommentedMap()
    keys = _flat_keys(tree["strings"])
    drafted = bool(tree.get("needs_review"))
    reviewed = set(tree.get("reviewed") or []) if drafted else set(keys)
    for unit, entry in entries:
        node = _ensure(tree["strings"], french.get("strings") or {}, unit.path.split("."))
        leaf = unit.path.split(".")[-1]
        if node.get(leaf) != entry.msgstr:
            multiline = "\n" in entry.msgstr.rstrip("\n")
            node[leaf] = LiteralScalarString(entry.msgstr) if multiline else entry.msgstr
            report.changed.append(unit.context)
        if FUZZY in entry.flags:
            if unit.path in reviewed:
                report.drafts.append(f"{relative}:{unit.path}")
            reviewed.discard(unit.path)
        else:
            if drafted and unit.path not in reviewed:
                report.reviewed.append(f"{relative}:{unit.path}")
            reviewed.add(unit.path)
    everything = set(_flat_keys(tree["strings"]))
    if reviewed >= everything:
        if "needs_review" in tree:
            tree["needs_review"] = False
        tree.pop("reviewed", None)
    else:
        if not drafted:
            tree.insert(0, "needs_review", True)
        tree["needs_review"] = True
        listed = CommentedSeq(sorted(reviewed & everything))
        if "reviewed" in tree:
            tree["reviewed"] = listed
        elif listed:
            position = list(tree).index("needs_review") + 1
            tree.insert(position, "reviewed", listed)
    _save(root, relative, yaml, tree)


def _flat_keys(tree: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for key, value in tree.items():
        if isinstance(value, Mapping):
            keys += _flat_keys(value, f"{prefix}{key}.")
        else:
            keys.append(f"{prefix}{key}")
    return keys


def _ensure(tree: CommentedMap, french: Mapping[str, Any], steps: list[str]) -> CommentedMap:
    """The map that holds the last step, created level by level in the French order."""
    node, model = tree, french
    for step in steps[:-1]:
        if step not in node:
            node.insert(_position(node, list(model), step), step, CommentedMap())
        node, model = node[step], (model.get(step) or {})
    if steps[-1] not in node:
        node.insert(_position(node, list(model), steps[-1]), steps[-1], "")
    return node


def _position(node: Mapping[str, Any], order: list[str], key: str) -> int:
    """Just after the last key that comes before `key` in the French file."""
    if key not in order:
        return len(node)
    position = 0
    for n, existing in enumerate(node):
        if existing in order and order.index(existing) < order.index(key):
            position = n + 1
    return position


def read_po(path: Path) -> polib.POFile:
    """Parse a PO file."""
    return polib.pofile(str(path), wrapwidth=0)

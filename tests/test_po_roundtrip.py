"""Translators' round trip: export a PO file, translate in it, import it back into the YAML."""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import polib
import pytest
from ruamel.yaml import YAML

from content.pack import BUNDLED_PACK, load_pack

ROOT = Path(__file__).resolve().parent.parent
BODY = "articles/inclusion/femmes-sante.yaml"  # its Bambara body is taken out of the copy


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    target = tmp_path / "mali"
    shutil.copytree(BUNDLED_PACK, target)
    without_bambara_body(target / BODY)
    return target


def without_bambara_body(file: Path) -> None:
    """Remove an article's `bm:` body block, so the copy has a body still to translate."""
    lines = file.read_text(encoding="utf-8").splitlines(keepends=True)
    start = lines.index("  bm: |\n", lines.index("body:\n"))
    end = start + 1
    while end < len(lines) and (lines[end].startswith("    ") or lines[end] == "\n"):
        end += 1
    file.write_text("".join(lines[:start] + lines[end:]), encoding="utf-8")


def civicbot(pack: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CIVICBOT_CONTENT": str(pack)}
    return subprocess.run(
        [sys.executable, "-m", "bot", "content", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )


def exported(pack: Path, tmp_path: Path) -> tuple[Path, polib.POFile]:
    out = tmp_path / "bm.po"
    done = civicbot(pack, "export", "--lang", "bm", "--format", "po", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out, polib.pofile(str(out))


def entry(po: polib.POFile, context: str) -> polib.POEntry:
    return next(e for e in po if e.msgctxt == context)


def changed_lines(before: Path, after: Path) -> dict[str, list[str]]:
    """File -> the lines added or removed, for every file that differs."""
    changes = {}
    for file in sorted(before.rglob("*")):
        if not file.is_file():
            continue
        relative = file.relative_to(before).as_posix()
        old = file.read_text(encoding="utf-8").splitlines()
        new = (after / relative).read_text(encoding="utf-8").splitlines()
        lines = [
            line
            for line in difflib.unified_diff(old, new, lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))
        ]
        if lines:
            changes[relative] = lines
    return changes


def test_export_names_context_french_translation_review_and_glossary(
    copy: Path, tmp_path: Path
) -> None:
    _, po = exported(copy, tmp_path)
    learn = entry(po, "ui:menu.learn")
    assert learn.msgid == "Connaître mes droits"
    assert learn.msgstr and "fuzzy" in learn.flags
    assert "droit = josira" in learn.tcomment
    body = entry(po, f"{BODY}:body")
    assert body.msgstr == "" and "fuzzy" not in body.flags  # missing, not a draft
    assert po.metadata["Language"] == "bm"


def test_import_changes_exactly_the_edited_entries_and_the_review_mark_follows(
    copy: Path, tmp_path: Path
) -> None:
    original = tmp_path / "original"
    shutil.copytree(copy, original)
    path, po = exported(copy, tmp_path)
    learn = entry(po, "ui:menu.learn")
    learn.msgstr = "N ka josiraw dɔn"
    learn.flags.remove("fuzzy")  # a reviewer approved it
    body = entry(po, f"{BODY}:body")
    body.msgstr = "Sariya bɛ mɔgɔw bɛɛ lakana.\n\nMuso ni cɛ bɛ kelen ye.\n"
    body.flags.append("fuzzy")
    po.save(str(path))

    done = civicbot(copy, "import", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 translations written" in done.stdout

    changes = changed_lines(original, copy)
    assert set(changes) == {"ui/bm.yaml", BODY}, changes
    assert changes["ui/bm.yaml"] == [
        "+reviewed:",
        "+  - menu.learn",
        "-    learn: N ka josiraw",
        "+    learn: N ka josiraw dɔn",
    ]
    assert all(line.startswith("+") for line in changes[BODY])
    assert "+    Sariya bɛ mɔgɔw bɛɛ lakana." in changes[BODY]

    pack = load_pack(copy)
    assert pack.texts.get("bm", "menu.learn") == "N ka josiraw dɔn"
    assert pack.articles["femmes-sante"].body["bm"].startswith("Sariya bɛ mɔgɔw")
    assert pack.articles["femmes-sante"].needs_review["bm"] is True
    # The review mark followed: with drafts withheld, only the approved string is served.
    manifest = copy / "pack.yaml"
    manifest.write_text(manifest.read_text().replace("interface: serve", "interface: withhold"))
    strict = load_pack(copy)
    assert strict.texts.get("bm", "menu.learn") == "N ka josiraw dɔn"
    assert strict.texts.get("bm", "menu.quiz") == strict.texts.get("fr", "menu.quiz")


def test_a_record_is_reviewed_when_all_its_entries_are(copy: Path, tmp_path: Path) -> None:
    path, po = exported(copy, tmp_path)
    for e in po:
        if e.msgctxt.startswith("complaints.yaml:categories.sante."):
            e.flags.remove("fuzzy")
    po.save(str(path))
    done = civicbot(copy, "import", str(path))
    assert done.returncode == 0, done.stderr
    assert "reviewed: complaints.yaml:categories.sante" in done.stdout
    pack = load_pack(copy)
    assert pack.category("sante").needs_review == {}  # type: ignore[union-attr]
    assert pack.category("ecole").needs_review == {"bm": True}  # type: ignore[union-attr]


def test_a_po_whose_french_changed_is_refused_naming_each_stale_entry(
    copy: Path, tmp_path: Path
) -> None:
    path, po = exported(copy, tmp_path)
    entry(po, "ui:menu.help").msgstr = "Dɛmɛ kura"
    entry(po, f"{BODY}:summary").msgstr = "Kuma kura"
    po.save(str(path))
    article = copy / BODY
    text = article.read_text(encoding="utf-8")
    french = load_pack(copy).articles["femmes-sante"].summary["fr"]
    article.write_text(text.replace(french[:30], "Nouveau début. " + french[:30]), encoding="utf-8")
    before = (copy / "ui" / "bm.yaml").read_text(encoding="utf-8")

    refused = civicbot(copy, "import", str(path))
    assert refused.returncode == 1
    assert f"stale: {BODY}:summary: the French changed since the export" in refused.stderr
    assert (copy / "ui" / "bm.yaml").read_text(encoding="utf-8") == before  # nothing written

    skipped = civicbot(copy, "import", "--skip-stale", str(path))
    assert skipped.returncode == 0, skipped.stderr
    assert f"skipped (stale): {BODY}:summary" in skipped.stdout
    pack = load_pack(copy)
    assert pack.texts.get("bm", "menu.help") == "Dɛmɛ kura"
    assert pack.articles["femmes-sante"].summary["bm"] != "Kuma kura"


def test_missing_interface_strings_are_inserted_in_the_french_order(
    copy: Path, tmp_path: Path
) -> None:
    ui = copy / "ui" / "bm.yaml"
    yaml = YAML()
    tree = yaml.load(ui.read_text(encoding="utf-8"))
    del tree["strings"]["circle"]  # a whole section
    del tree["strings"]["complaint"]["field"]  # a nested one
    del tree["strings"]["complaint"]["status"]["resolved"]  # one leaf
    with ui.open("w", encoding="utf-8") as out:
        yaml.dump(tree, out)
    path, po = exported(copy, tmp_path)
    missing = [e for e in po if e.msgctxt.startswith("ui:") and not e.msgstr]
    assert len(missing) > 10
    for e in missing:
        e.msgstr = f"[bm] {e.msgid}"
        e.flags.append("fuzzy")
    po.save(str(path))
    done = civicbot(copy, "import", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    pack = load_pack(copy)
    for e in missing:
        assert pack.texts.get("bm", e.msgctxt.removeprefix("ui:")) == e.msgstr
    french = yaml.load((copy / "ui" / "fr.yaml").read_text(encoding="utf-8"))["strings"]
    written = yaml.load(ui.read_text(encoding="utf-8"))["strings"]
    for section in (written, written["complaint"], written["complaint"]["status"]):
        order = [key for key in french_of(french, section) if key in section]
        assert list(section) == order


def french_of(french: Any, section: Any) -> list[str]:
    """The keys of the French map at the same place as `section`."""
    if "menu" in section:
        return list(french)
    if "home" in section and "new" in section:
        return list(french["complaint"])
    return list(french["complaint"]["status"])


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="GNU gettext is not installed")
def test_gettext_itself_accepts_the_exported_file(copy: Path, tmp_path: Path) -> None:
    path, _ = exported(copy, tmp_path)
    done = subprocess.run(
        ["msgfmt", "--check", "-o", os.devnull, str(path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr

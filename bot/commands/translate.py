"""`civicbot content export|import`: the pack's texts for translators, as gettext PO files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot.settings import Settings
from content.pack import PackError, load_pack


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Dispatch `content export` or `content import`."""
    if args.action == "export":
        return export(settings.content, args.lang, args.out)
    return import_(settings.content, args.file, args.skip_stale)


def export(root: Path, lang: str, out: Path | None) -> int:
    """Write the PO file of one language (the pack must be valid)."""
    from content.po import export as to_po

    try:
        pack = load_pack(root)
    except PackError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 1
    if lang not in pack.languages[1:]:
        print(f"'{lang}' is not a translated language of pack.yaml", file=sys.stderr)
        return 2
    po = to_po(root, lang, pack.glossary)
    if out is None:
        sys.stdout.write(str(po))
    else:
        po.save(str(out))
        print(f"{out}: {len(po)} entries, {len(po.fuzzy_entries())} to review", file=sys.stderr)
    return 0


def import_(root: Path, file: Path, skip_stale: bool) -> int:
    """Write a PO file's translations into the pack, then check the pack."""
    from content.po import StalePO, import_po, read_po

    try:
        report = import_po(root, read_po(file), skip_stale)
    except StalePO as exc:
        for line in exc.stale:
            print(f"stale: {line}", file=sys.stderr)
        print(
            f"{len(exc.stale)} stale entries: nothing written. Export again and carry the "
            "translations over, or import with --skip-stale.",
            file=sys.stderr,
        )
        return 1
    except (OSError, ValueError) as exc:
        print(f"cannot import {file}: {exc}", file=sys.stderr)
        return 2
    for line in report.stale:
        print(f"skipped (stale): {line}")
    for where in report.reviewed:
        print(f"reviewed: {where}")
    for where in report.drafts:
        print(f"needs review: {where}")
    print(f"{len(report.changed)} translations written, {len(report.stale)} stale entries skipped")
    try:
        load_pack(root)
    except PackError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 1
    return 0

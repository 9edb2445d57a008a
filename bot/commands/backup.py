"""`civicbot backup FILE`: a consistent copy of the SQLite database, safe while the bot runs."""

from __future__ import annotations

import os
import sqlite3
import sys
from pathlib import Path

from bot.store import describe, postgres_url

# Pages copied per step: small steps let the running bot's writes go through between them.
_PAGES_PER_STEP = 1024


def backup(source: Path, target: Path) -> int:
    """Copy `source` to `target` with SQLite's online backup API; return the page count."""
    if not source.is_file():
        raise FileNotFoundError(source)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    # Read-only: a backup must never migrate, lock for writing or create the database.
    src = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst, pages=_PAGES_PER_STEP, sleep=0.01)
            # A copy is only worth keeping if SQLite itself vouches for it.
            (verdict,) = dst.execute("PRAGMA integrity_check").fetchone()
            if verdict != "ok":
                raise sqlite3.DatabaseError(f"integrity check of the copy failed: {verdict}")
            (pages,) = dst.execute("PRAGMA page_count").fetchone()
        finally:
            dst.close()
    finally:
        src.close()
    # The finished copy replaces an older one in one step: never a half-written backup file.
    os.replace(partial, target)
    return int(pages)


def run(source: Path, target: Path) -> int:
    """The command: copy, then say what was written, in French."""
    if postgres_url(source) is not None:
        # PostgreSQL has its own online backup; the URL may carry a password: never shown.
        print(
            f"« civicbot backup » copie une base SQLite. Pour {describe(source)}, utilisez"
            " pg_dump (voir le README, section déploiement) : pg_dump -Fc -f FICHIER",
            file=sys.stderr,
        )
        return 2
    if target.resolve() == source.resolve():
        print("La sauvegarde doit aller dans un autre fichier que la base.", file=sys.stderr)
        return 2
    try:
        pages = backup(source, target)
    except FileNotFoundError:
        print(f"Base introuvable : {source}", file=sys.stderr)
        return 1
    except sqlite3.Error as exc:
        print(f"Sauvegarde impossible : {exc}", file=sys.stderr)
        return 1
    size = target.stat().st_size
    print(f"Sauvegarde écrite : {target} ({pages} pages, {size:,} octets)".replace(",", "\u202f"))
    return 0

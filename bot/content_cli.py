"""`civicbot content check|schema|gaps` and `civicbot ask`: tools for content editors."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.settings import Settings
from content.pack import ContentPack, PackError, load_pack


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Dispatch a content command."""
    if args.command == "ask":
        return ask(settings.content, args.query, args.lang, args.json)
    if args.action == "check":
        return check(args.path or settings.content)
    if args.action == "schema":
        from content.jsonschema import mark_files, write_schemas

        out = args.out or settings.content / "schema"
        for path in write_schemas(out):
            print(path)
        if args.out is None:  # the pack's own schemas: point every YAML file at its schema
            for path in mark_files(settings.content):
                print(f"{path}: schema comment added")
        return 0
    return asyncio.run(gaps(settings.db, args.days, args.limit))


def check(path: Path) -> int:
    """Validate a pack; print every problem, or the translation coverage when it is valid."""
    try:
        pack = load_pack(path)
    except PackError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"{len(exc.problems)} problem(s) in {path}", file=sys.stderr)
        return 1
    total = len(pack.articles)
    print(
        f"content pack '{pack.manifest.id}' is valid: {total} articles in "
        f"{len(pack.themes)} themes, {len(pack.categories)} complaint categories, "
        f"{len(pack.quizzes)} quizzes of "
        f"{sum(len(q.questions) for q in pack.quizzes.values())} questions"
    )
    for lang, fields in pack.coverage().items():
        shown = ", ".join(f"{name} {count}/{total}" for name, count in fields.items())
        note = " (interface needs review)" if lang in pack.ui_needs_review else ""
        print(f"  {lang}: {shown}{note}")
    return 0


def _open(path: Path) -> ContentPack | None:
    try:
        return load_pack(path)
    except PackError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return None


def _results(pack: ContentPack, query: str, lang: str) -> dict[str, object]:
    hits = pack.search.search(query, limit=5)
    return {
        "query": query,
        "results": [
            {
                "id": hit.article_id,
                "title": pack.pick(pack.articles[hit.article_id].title, lang),
                "score": round(hit.score, 3),
            }
            for hit in hits
        ],
    }


def ask(path: Path, query: str | None, lang: str, as_json: bool) -> int:
    """Search from the command line: one query, or one JSON line per stdin line."""
    pack = _open(path)
    if pack is None:
        return 1
    if query is None:
        for line in sys.stdin:
            print(json.dumps(_results(pack, line.strip(), lang), ensure_ascii=False), flush=True)
        return 0
    found = _results(pack, query, lang)
    if as_json:
        print(json.dumps(found, ensure_ascii=False))
        return 0
    results = found["results"]
    assert isinstance(results, list)
    if not results:
        print("nothing found")
    for result in results:
        print(f"{result['score']:.2f}  {result['id']}  {result['title']}")
    return 0


async def gaps(db: Path, days: int, limit: int) -> int:
    """Print the queries most often answered badly, for CSOs to write what is missing."""
    from storage.sqlite import SqliteStore

    store = await SqliteStore.open(db)
    try:
        found = await store.search_gaps(datetime.now(UTC) - timedelta(days=days), limit)
    finally:
        await store.close()
    if not found:
        print(f"no unanswered questions in the last {days} days")
        return 0
    print(f"{'asked':>5}  {'none':>4}  query  (closest article)")
    for gap in found:
        closest = f"  ({gap.best_article})" if gap.best_article else ""
        print(f"{gap.count:>5}  {gap.unanswered:>4}  {gap.query}{closest}")
    return 0

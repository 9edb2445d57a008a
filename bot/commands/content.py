"""`civicbot content check|schema|gaps` and `civicbot ask`: tools for content editors."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.settings import Settings
from bot.staff import lang, say
from content.check import in_french
from content.pack import ContentPack, PackError, load_pack
from content.search import decide


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Dispatch a content command."""
    if args.command == "ask":
        return ask(settings.content, args.query, args.lang, args.json)
    if args.action == "audio":
        from bot.commands import audio as audio_cli

        return audio_cli.run(args, settings.content)
    if args.action == "check":
        return check(args.path or settings.content, args.coverage, args.uses)
    if args.action in ("export", "import"):
        from bot.commands import translate as translate_cli

        return translate_cli.run(args, settings)
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


def check(path: Path, by_file: bool = False, uses: bool = False) -> int:
    """Validate a pack; print every problem, or the translation coverage when it is valid."""
    try:
        pack = load_pack(path)
    except PackError as exc:
        for problem in exc.problems:
            print(in_french(problem) if lang() == "fr" else problem)
        print(say("pack_errors", count=len(exc.problems), path=path), file=sys.stderr)
        return 1
    total = len(pack.articles)
    print(
        say(
            "pack_valid",
            id=pack.manifest.id,
            articles=total,
            themes=len(pack.themes),
            categories=len(pack.categories),
            quizzes=len(pack.quizzes),
            questions=sum(len(q.questions) for q in pack.quizzes.values()),
        )
    )
    for code, fields in pack.coverage().items():
        shown = ", ".join(f"{name} {count}/{total}" for name, count in fields.items())
        note = say("coverage_review") if code in pack.ui_needs_review else ""
        print(f"  {code}: {shown}{note}")
    translations(pack, by_file, uses)
    from bot.commands.audio import coverage_lines

    for line in coverage_lines(pack):
        print(line)
    return 0


def translations(pack: ContentPack, by_file: bool, uses: bool) -> None:
    """Per language: coverage, glossary warnings (wrong variants) and each term's uses."""
    from content.coverage import coverage
    from content.glossary import Glossary
    from content.units import pack_units

    for code in pack.languages[1:]:
        units = pack_units(pack.path, code)
        rows = coverage(units)
        print(f"{code}: {rows[-1]}")
        for row in rows[:-1] if by_file else []:
            print(f"  {row}")
        glossary = Glossary(pack.glossary, code)
        for unit in units:
            for finding in glossary.wrong(unit):
                print(f"warning: {finding}")
        found = glossary.uses(units)
        for term in glossary.terms:
            rendering = term.translations[code].use
            print(f"  term {term.fr} = {rendering}: {len(found[term.id])} uses")
            for context in found[term.id] if uses else []:
                print(f"    {context}")


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
        # True only when the chat would open the first article without asking.
        "confident": decide(hits) == "confident",
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
        print(say("nothing_found"))
    elif not found["confident"]:
        print(say("not_confident"))
    for result in results:
        print(f"{result['score']:.2f}  {result['id']}  {result['title']}")
    return 0


async def gaps(db: Path, days: int, limit: int) -> int:
    """Print the queries most often answered badly, for CSOs to write what is missing."""
    from bot.store import open_store

    store = await open_store(db)
    try:
        found = await store.search_gaps(datetime.now(UTC) - timedelta(days=days), limit)
    finally:
        await store.close()
    if not found:
        print(say("no_gaps", days=days))
        return 0
    print(say("gaps_head", asked=say("asked"), none=say("unanswered")))
    for gap in found:
        closest = f"  ({gap.best_article})" if gap.best_article else ""
        print(f"{gap.count:>6}  {gap.unanswered:>6}  {gap.query}{closest}")
    return 0

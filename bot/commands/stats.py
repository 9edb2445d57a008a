"""`civicbot stats` and `civicbot report --html`: the programme's figures, small cells hidden."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from datetime import UTC, datetime, time
from typing import Any

from bot.settings import Settings
from bot.staff import lang
from reports.figures import build, flatten
from reports.labels import Labels, labels_from_pack


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print the statistics (text, JSON or CSV), or write the HTML report."""
    now = datetime.now(UTC)
    region = args.region
    if region:
        from content.pack import PackError, load_pack
        from content.places import PlaceError, resolver

        try:
            region = resolver(load_pack(settings.content).communes).resolve(region, ("region",))
        except (PlaceError, PackError) as exc:
            # A misspelt region would show an empty table, "<5" everywhere: say so instead.
            print(exc, file=sys.stderr)
            return 1
        region = region.pcode
    figures = asyncio.run(collect(settings, now, args.since, region))
    labels = _labels(settings, getattr(args, "lang", None) or lang())
    if args.command == "report":
        from reports.html import render

        args.html.write_text(render(figures, labels=labels), encoding="utf-8")
        print(
            f"Rapport écrit dans {args.html}"
            if labels.lang == "fr"
            else f"report written to {args.html}"
        )
        return 0
    if getattr(args, "format", None) == "tidy-csv":
        from bot.commands.stats_tidy import write_tidy
        from content.communes import CommuneIndex

        write_tidy(figures, CommuneIndex.load(settings.content / "communes.csv"), sys.stdout)
        return 0
    if args.json:
        print(json.dumps(figures, ensure_ascii=False, indent=2))
    elif args.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(["figure", "value"])
        writer.writerows((path, "" if v is None else v) for path, v in flatten(figures))
    else:
        from reports.text import render_text

        print(render_text(figures, labels))
    return 0


def _labels(settings: Settings, lang: str | None) -> Labels:
    """Names for the codes, from the pack; codes alone if the pack cannot be read."""
    from content.pack import PackError, load_pack

    chosen = lang or settings.staff_lang
    try:
        return labels_from_pack(load_pack(settings.content), chosen)
    except PackError:
        return Labels(chosen)


async def collect(
    settings: Settings, now: datetime, since: Any = None, region: str | None = None
) -> dict[str, Any]:
    """Read the grouped rows and build every figure."""
    from bot.store import open_store

    start = datetime.combine(since, time(0), tzinfo=UTC) if since else None
    store = await open_store(settings.db)
    try:
        raw = await store.stats_rows(now, start, region)
        duplicates = await store.possible_duplicates()
    finally:
        await store.close()
    figures = build(
        raw,
        generated=now.isoformat(timespec="seconds"),
        since=since.isoformat() if since else None,
        region=region,
    )
    # Sends whose outcome was unknown (a timeout) may have arrived twice: say how many.
    figures["delivery"] = {"possible_duplicates": duplicates}
    return figures

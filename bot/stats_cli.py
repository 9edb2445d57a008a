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
from reports.figures import build, flatten


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Print the statistics (text, JSON or CSV), or write the HTML report."""
    now = datetime.now(UTC)
    figures = asyncio.run(collect(settings, now, args.since, args.region))
    if args.command == "report":
        from reports.html import render

        args.html.write_text(render(figures), encoding="utf-8")
        print(f"report written to {args.html}")
        return 0
    if getattr(args, "format", None) == "tidy-csv":
        from bot.stats_tidy import write_tidy
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
        for path, value in flatten(figures):
            if path in ("since", "region"):
                value = value or "all"
            print(f"{path}: {'<5' if value is None else value}")
    return 0


async def collect(
    settings: Settings, now: datetime, since: Any = None, region: str | None = None
) -> dict[str, Any]:
    """Read the grouped rows and build every figure."""
    from storage.sqlite import SqliteStore

    start = datetime.combine(since, time(0), tzinfo=UTC) if since else None
    store = await SqliteStore.open(settings.db)
    try:
        raw = await store.stats_rows(now, start, region)
    finally:
        await store.close()
    return build(
        raw,
        generated=now.isoformat(timespec="seconds"),
        since=since.isoformat() if since else None,
        region=region,
    )

"""`civicbot barometer open|list|actions|export`: barometer rounds from the command line."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import secrets
import sys
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.settings import Settings
from bot.staff import lang, say
from complaints.reference import ALPHABET
from content.pack import ContentPack, PackError, load_pack
from reports.cells import MIN_CELL, suppress
from reports.labels import Labels, labels_from_pack
from storage.barometer_records import BarometerRound


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Dispatch a barometer command."""
    try:
        pack = load_pack(settings.content)
    except PackError as exc:
        print("\n".join(exc.problems))
        return 1
    if pack.barometer is None:
        print(say("no_barometer"), file=sys.stderr)
        return 1
    if args.action == "open":
        return _open(args, settings, pack)
    if args.action == "actions":
        return asyncio.run(_actions(settings, pack, args.round_id, args.text))
    if args.action == "export":
        return asyncio.run(_export(settings, pack, args.round, args.format))
    return asyncio.run(_list(settings, labels_from_pack(pack, lang())))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _open(args: argparse.Namespace, settings: Settings, pack: ContentPack) -> int:
    from content.places import PlaceError, communes_named

    try:
        # Names or P-codes; a cercle or a region stands for all its communes.
        communes = communes_named(pack.communes, ",".join(args.commune))
    except PlaceError as exc:
        print(exc, file=sys.stderr)
        return 1
    if args.cso and pack.partner(args.cso) is None:
        print(say("no_cso", id=args.cso, known=", ".join(p.id for p in pack.partners)))
        return 1
    if args.to < args.start:
        print(say("to_before_from"), file=sys.stderr)
        return 1
    now = datetime.now(UTC)
    record = BarometerRound(
        id="bbg-" + "".join(secrets.choice(ALPHABET) for _ in range(6)).lower(),
        communes=tuple(communes),
        opens_at=_midnight(args.start),
        # Answers are taken through the whole last day.
        closes_at=_midnight(args.to + timedelta(days=1)),
        status="scheduled",
        created_at=now,
        partner_id=args.cso,
    )
    if record.closes_at <= now:
        print(say("to_in_past"), file=sys.stderr)
        return 1
    invited = asyncio.run(_save_and_open(settings, pack, record, now))
    names = ", ".join(pack.communes.by_pcode[c].name for c in record.communes)
    print(
        say(
            "round_saved",
            id=record.id,
            communes=names,
            start=_day(args.start.isoformat()),
            end=_day(args.to.isoformat()),
        )
    )
    if invited is None:
        print(say("round_later"))
    else:
        print(say("round_now", count=invited))
    return 0


async def _save_and_open(
    settings: Settings, pack: ContentPack, record: BarometerRound, now: datetime
) -> int | None:
    from bot.store import open_store
    from handlers.barometer.rounds import open_round

    store = await open_store(settings.db)
    try:
        async with store.transaction() as tx:
            tx.save_barometer_round(record)
        if record.opens_at > now:
            return None
        # Invite now rather than at the bot's next tick, so the count can be printed.
        async with store.transaction() as tx:
            return await open_round(tx, pack, record, now)
    finally:
        await store.close()


async def _actions(settings: Settings, pack: ContentPack, round_id: str, text: str) -> int:
    from bot.store import open_store
    from handlers.barometer.rounds import announce_actions

    store = await open_store(settings.db)
    try:
        told = await announce_actions(store, pack, round_id, text.strip(), datetime.now(UTC))
    except LookupError:
        print(say("no_round", id=round_id), file=sys.stderr)
        return 1
    finally:
        await store.close()
    print(say("actions_done", id=round_id, count=told))
    return 0


def _hide_counts(results: dict[str, Any] | None) -> dict[str, Any] | None:
    """Frozen results with each commune's respondents hidden the way the report hides them."""
    if not results:
        return results
    cells = suppress({c: int(r.get("respondents", 0)) for c, r in results.items()})
    return {c: {**r, "respondents": cells[c]} for c, r in results.items()}


def _day(iso_day: str) -> str:
    return Labels(lang()).day(iso_day)


async def _list(settings: Settings, labels: Labels) -> int:
    from bot.store import open_store

    store = await open_store(settings.db)
    try:
        rounds = await store.barometer_rounds()
    finally:
        await store.close()
    for r in rounds:
        # The last day of answers, not the closing instant (midnight after it).
        last = (r.closes_at - timedelta(days=1)).date()
        names = ", ".join(f"{labels.named('commune', c)}" for c in r.communes)
        status = labels.named("status", r.status)
        start, end = labels.day(r.opens_at.date().isoformat()), labels.day(last.isoformat())
        print(say("round_line", id=r.id, status=status, communes=names, start=start, end=end))
    if not rounds:
        print(say("no_rounds"))
    return 0


async def _export(settings: Settings, pack: ContentPack, round_id: str, fmt: str) -> int:
    from bot.store import open_store

    store = await open_store(settings.db)
    try:
        async with store.transaction() as tx:
            record = await tx.barometer_round(round_id)
            answers = await tx.barometer_responses(round_id) if record else []
    finally:
        await store.close()
    if record is None:
        print(say("no_round", id=round_id), file=sys.stderr)
        return 1
    assert pack.barometer is not None
    questions = [q.id for _, q in pack.barometer.questions()]
    # The answer sets of a commune with few respondents would be theirs alone: they stay out,
    # with a companion commune when needed so that totals do not give them away.
    counts = Counter(a.commune for a in answers)
    cells = suppress({c: counts[c] for c in dict.fromkeys([*record.communes, *counts])})
    withheld = [c for c, n in cells.items() if n is None and counts[c]]
    answers = [a for a in answers if cells.get(a.commune) is not None]
    if withheld:
        names = ", ".join(pack.communes.by_pcode[c].name for c in withheld)
        print(say("withheld", min=MIN_CELL, names=names), file=sys.stderr)
    # No user key and no time of answer: an answer set must not lead back to a person.
    if fmt == "json":
        out: dict[str, Any] = {
            "round": record.id,
            "communes": list(record.communes),
            "opens": record.opens_at.date().isoformat(),
            "last_day": (record.closes_at - timedelta(days=1)).date().isoformat(),
            "withheld_communes": withheld,
            "status": record.status,
            "cso": record.partner_id,
            "results": _hide_counts(record.results),
            "actions": record.actions,
            "responses": [
                {"commune": a.commune, "answers": a.answers, "comment": a.comment} for a in answers
            ],
        }
        print(json.dumps(out, ensure_ascii=False, indent=2))
        return 0
    writer = csv.writer(sys.stdout)
    writer.writerow(["round", "commune", *questions, "comment"])
    for a in answers:
        writer.writerow(
            [record.id, a.commune, *(a.answers.get(q, "") for q in questions), a.comment or ""]
        )
    return 0

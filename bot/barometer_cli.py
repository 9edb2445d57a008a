"""`civicbot barometer open|list|actions|export`: barometer rounds from the command line."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import secrets
import sys
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from bot.settings import Settings
from complaints.reference import ALPHABET
from content.pack import ContentPack, PackError, load_pack
from storage.barometer_records import BarometerRound


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Dispatch a barometer command."""
    try:
        pack = load_pack(settings.content)
    except PackError as exc:
        print("\n".join(exc.problems))
        return 1
    if pack.barometer is None:
        print("this content pack has no barometer.yaml")
        return 1
    if args.action == "open":
        return _open(args, settings, pack)
    if args.action == "actions":
        return asyncio.run(_actions(settings, pack, args.round_id, args.text))
    if args.action == "export":
        return asyncio.run(_export(settings, pack, args.round, args.format))
    return asyncio.run(_list(settings))


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


def _open(args: argparse.Namespace, settings: Settings, pack: ContentPack) -> int:
    unknown = [c for c in args.commune if c not in pack.communes.by_pcode]
    if unknown:
        print(f"unknown commune P-code(s): {', '.join(unknown)} (see communes.csv)")
        return 1
    if args.cso and pack.partner(args.cso) is None:
        print(f"no CSO '{args.cso}' in partners.yaml")
        return 1
    if args.to < args.start:
        print("--to must not be before --from")
        return 1
    now = datetime.now(UTC)
    record = BarometerRound(
        id="bbg-" + "".join(secrets.choice(ALPHABET) for _ in range(6)).lower(),
        communes=tuple(dict.fromkeys(args.commune)),
        opens_at=_midnight(args.start),
        # Answers are taken through the whole last day.
        closes_at=_midnight(args.to + timedelta(days=1)),
        status="scheduled",
        created_at=now,
        partner_id=args.cso,
    )
    if record.closes_at <= now:
        print("--to is in the past: the round would close at once")
        return 1
    invited = asyncio.run(_save_and_open(settings, pack, record, now))
    print(f"Round {record.id}: {', '.join(record.communes)}, {args.start} to {args.to}")
    if invited is None:
        print("It opens on its first day; people of these communes are invited then.")
    else:
        print(f"Open now: {invited} people invited (sent by the running bot).")
    return 0


async def _save_and_open(
    settings: Settings, pack: ContentPack, record: BarometerRound, now: datetime
) -> int | None:
    from bot.store import open_store
    from handlers.barometer_rounds import open_round

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
    from handlers.barometer_rounds import announce_actions

    store = await open_store(settings.db)
    try:
        told = await announce_actions(store, pack, round_id, text.strip(), datetime.now(UTC))
    except LookupError:
        print(f"no round '{round_id}'")
        return 1
    finally:
        await store.close()
    print(f"Actions attached to {round_id}; {told} participant(s) will be told.")
    return 0


async def _list(settings: Settings) -> int:
    from bot.store import open_store

    store = await open_store(settings.db)
    try:
        rounds = await store.barometer_rounds()
    finally:
        await store.close()
    for r in rounds:
        last = (r.closes_at - timedelta(days=1)).date()
        print(f"{r.id} [{r.status}] {', '.join(r.communes)} {r.opens_at.date()} to {last}")
    if not rounds:
        print("no barometer round yet")
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
        print(f"no round '{round_id}'")
        return 1
    assert pack.barometer is not None
    questions = [q.id for _, q in pack.barometer.questions()]
    # No user key and no time of answer: an answer set must not lead back to a person.
    if fmt == "json":
        out: dict[str, Any] = {
            "round": record.id,
            "communes": list(record.communes),
            "opens": record.opens_at.date().isoformat(),
            "closes": (record.closes_at - timedelta(days=1)).date().isoformat(),
            "status": record.status,
            "cso": record.partner_id,
            "results": record.results,
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

"""`civicbot complaints export`: complaints as CSV or JSON for the CSOs, anonymous by default."""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any, TextIO

from bot.settings import Settings
from bot.store import open_store
from content.pack import ContentPack, PackError, load_pack
from storage.records import ComplaintRecord

FIELDS = (
    "reference",
    "created_at",
    "updated_at",
    "status",
    "category",
    "service_code",
    "commune",
    "commune_name",
    "cercle",
    "region",
    "place",
    "description",
    "voices",
    "partners",
)
# Text people typed: a spreadsheet would run it as a formula if it starts with one of these.
_FREE_TEXT = ("place", "description", "contact")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """`civicbot complaints export`; exit status 1 when the database or pack is unusable."""
    if not settings.db.exists():
        # Opening would create (and migrate) an empty database: a mistyped path must not pass.
        print(f"no database at {settings.db}", file=sys.stderr)
        return 1
    try:
        pack = load_pack(settings.content)
    except PackError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 1
    if args.cso is not None and pack.partner(args.cso) is None:
        # Still exported: a CSO that left the directory keeps its past complaints.
        known = ", ".join(p.id for p in pack.partners)
        print(f"warning: {args.cso} is not in the CSO directory ({known})", file=sys.stderr)
    since = datetime.combine(args.since, time(), UTC) if args.since else None
    asyncio.run(
        export(
            settings.db,
            pack,
            args.format,
            sys.stdout,
            since=since,
            partner_id=args.cso,
            with_contact=args.with_contact,
        )
    )
    return 0


async def export(
    db: Path,
    pack: ContentPack,
    fmt: str,
    out: TextIO,
    *,
    since: datetime | None = None,
    partner_id: str | None = None,
    with_contact: bool = False,
) -> None:
    """Write the complaints (oldest first) to `out` as CSV or JSON."""
    store = await open_store(db)
    try:
        found = await store.export_complaints(since=since, partner_id=partner_id)
    finally:
        await store.close()
    rows = [row(pack, record, partners, with_contact=with_contact) for record, partners in found]
    if fmt == "json":
        json.dump(rows, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        write_csv(rows, (*FIELDS, "contact") if with_contact else FIELDS, out)


def row(
    pack: ContentPack, record: ComplaintRecord, partners: Sequence[str], *, with_contact: bool
) -> dict[str, Any]:
    """One complaint without who sent it; the contact only if asked for and agreed to."""
    category = pack.category(record.category)
    commune = pack.communes.by_pcode.get(record.commune)
    item: dict[str, Any] = {
        "reference": record.reference,
        "created_at": _stamp(record.created_at),
        "updated_at": _stamp(record.updated_at),
        "status": record.status,
        "category": record.category,
        "service_code": category.service_code if category else None,
        "commune": record.commune,
        "commune_name": commune.name if commune else None,
        "cercle": commune.cercle if commune else None,
        "region": commune.region if commune else None,
        "place": record.place,
        "description": record.description,
        "voices": record.voices,
        "partners": ";".join(partners),
    }
    if with_contact:
        item["contact"] = record.contact if record.contact_consent else None
    return item


def write_csv(rows: Sequence[dict[str, Any]], fields: Sequence[str], out: TextIO) -> None:
    """CSV with a header line; empty cells for missing values."""
    writer = csv.DictWriter(out, fieldnames=fields)
    writer.writeheader()
    for item in rows:
        writer.writerow({name: _cell(name, item[name]) for name in fields})


def _cell(name: str, value: Any) -> Any:
    if value is None:
        return ""
    if name in _FREE_TEXT and isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # shown as text by Excel and LibreOffice
    return value


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")

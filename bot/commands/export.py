"""`civicbot complaints export`: CSV, JSON or XLSX for the CSOs, anonymous by default."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any, TextIO

from bot.settings import Settings
from bot.store import open_store, postgres_url
from complaints.scrub import scrub_contacts
from content.pack import ContentPack, PackError, load_pack
from storage.records import ComplaintRecord

FIELDS = (
    "reference",
    "created_at",
    "updated_at",
    "status",
    "category",
    "category_name",
    "service_code",
    "commune",
    "commune_name",
    "cercle",
    "region",
    "place",
    "description",
    "voices",
    "partners",
    "partner_names",
)
# Who to call back, each in its own column so that a spreadsheet can sort and filter them;
# `contact` keeps the sentence the citizen agreed to, word for word.
CONTACT_FIELDS = ("contact", "contact_name", "contact_channel", "contact_handle")
# Text people typed: a spreadsheet would run it as a formula if it starts with one of these.
_FREE_TEXT = ("place", "description", *CONTACT_FIELDS)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NAME = re.compile(r"«\s*(.+?)\s*»")


def run(args: argparse.Namespace, settings: Settings) -> int:
    """`civicbot complaints export`; exit status 1 when the database or pack is unusable."""
    if postgres_url(settings.db) is None and not settings.db.exists():
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
    options = dict(since=since, partner_id=args.cso, with_contact=args.with_contact)
    excel: Path | None = getattr(args, "excel", None)
    if excel is not None:
        rows = asyncio.run(collect(settings.db, pack, **options))
        from bot.commands.export_xlsx import write_xlsx

        write_xlsx(excel, pack, rows, with_contact=args.with_contact)
        print(f"{len(rows)} complaint(s) written to {excel}", file=sys.stderr)
        return 0
    if args.format == "json":
        asyncio.run(export(settings.db, pack, "json", sys.stdout, **options))
        return 0
    # UTF-8 with a byte-order mark: Excel otherwise reads "Près" as "PrÃ¨s".
    out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8-sig", newline="")
    asyncio.run(export(settings.db, pack, "csv", out, delimiter=args.delimiter, **options))
    out.flush()
    out.detach()
    return 0


async def collect(
    db: Path,
    pack: ContentPack,
    *,
    since: datetime | None = None,
    partner_id: str | None = None,
    with_contact: bool = False,
) -> list[dict[str, Any]]:
    """The complaints (oldest first) as export rows."""
    store = await open_store(db)
    try:
        found = await store.export_complaints(since=since, partner_id=partner_id)
    finally:
        await store.close()
    return [row(pack, record, partners, with_contact=with_contact) for record, partners in found]


async def export(
    db: Path,
    pack: ContentPack,
    fmt: str,
    out: TextIO,
    *,
    since: datetime | None = None,
    partner_id: str | None = None,
    with_contact: bool = False,
    delimiter: str = ",",
) -> None:
    """Write the complaints (oldest first) to `out` as CSV or JSON."""
    rows = await collect(db, pack, since=since, partner_id=partner_id, with_contact=with_contact)
    if fmt == "json":
        json.dump(rows, out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        fields = (*FIELDS, *CONTACT_FIELDS) if with_contact else FIELDS
        write_csv(rows, fields, out, delimiter=delimiter)


def row(
    pack: ContentPack, record: ComplaintRecord, partners: Sequence[str], *, with_contact: bool
) -> dict[str, Any]:
    """One complaint without who sent it; the contact only if asked for and agreed to."""
    category = pack.category(record.category)
    commune = pack.communes.by_pcode.get(record.commune)
    shared = with_contact and record.contact_consent and bool(record.contact)
    # Without the citizen's consent, a number or address typed into her text stays behind too.

    def text(value: str | None) -> str | None:
        return value if shared or not value else scrub_contacts(value)

    item: dict[str, Any] = {
        "reference": record.reference,
        "created_at": _stamp(record.created_at),
        "updated_at": _stamp(record.updated_at),
        "status": record.status,
        "category": record.category,
        "category_name": pack.pick(category.label, "fr") if category else None,
        "service_code": category.service_code if category else None,
        "commune": record.commune,
        "commune_name": commune.name if commune else None,
        "cercle": commune.cercle if commune else None,
        "region": commune.region if commune else None,
        "place": text(record.place),
        "description": text(record.description),
        "voices": record.voices,
        "partners": ";".join(partners),
        "partner_names": ";".join(p.name if (p := pack.partner(pid)) else pid for pid in partners),
    }
    if with_contact:
        item.update(contact_columns(record) if shared else dict.fromkeys(CONTACT_FIELDS))
    return item


def contact_columns(record: ComplaintRecord) -> dict[str, Any]:
    """The agreed contact, and its name, channel and handle apart."""
    name = _NAME.search(record.contact or "")
    handle = record.user_key.split(":", 1)[1] if record.user_key else None
    return {
        "contact": record.contact,
        "contact_name": name[1] if name and name[1] != "?" else None,
        "contact_channel": record.channel,
        "contact_handle": handle,
    }


def write_csv(
    rows: Sequence[dict[str, Any]], fields: Sequence[str], out: TextIO, *, delimiter: str = ","
) -> None:
    """CSV with a header line; empty cells for missing values."""
    writer = csv.DictWriter(out, fieldnames=fields, delimiter=delimiter)
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

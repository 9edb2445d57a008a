"""The complaints export as an XLSX workbook: one sheet per table, typed cells, names by codes."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from bot.commands.export import CONTACT_FIELDS, FIELDS
from content.pack import ContentPack

DATE_FORMAT = "yyyy-mm-dd hh:mm"
_DATES = ("created_at", "updated_at")


def write_xlsx(
    path: Path, pack: ContentPack, rows: Sequence[dict[str, Any]], *, with_contact: bool
) -> None:
    """Complaints, then the categories, communes and CSOs their codes refer to."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Plaintes"
    fields = (*FIELDS, *CONTACT_FIELDS) if with_contact else FIELDS
    _table(sheet, fields, ([_typed(name, item[name]) for name in fields] for item in rows))
    _table(
        book.create_sheet("Catégories"),
        ("category", "category_name", "service_code", "sensitive"),
        ([c.id, pack.pick(c.label, "fr"), c.service_code, c.sensitive] for c in pack.categories),
    )
    used = sorted({item["commune"] for item in rows})
    communes = [pack.communes.by_pcode[p] for p in used if p in pack.communes.by_pcode]
    _table(
        book.create_sheet("Communes"),
        ("commune", "commune_name", "cercle_pcode", "cercle", "region_pcode", "region"),
        ([c.pcode, c.name, c.cercle_pcode, c.cercle, c.region_pcode, c.region] for c in communes),
    )
    _table(
        book.create_sheet("OSC"),
        ("partner", "partner_name", "desk"),
        ([p.id, p.name, p.desk] for p in pack.partners),
    )
    book.save(path)


def _typed(name: str, value: Any) -> Any:
    if name in _DATES and isinstance(value, str):
        # Excel has no time zones: the moment in UTC (Mali's time all year), as a real date.
        return datetime.fromisoformat(value).astimezone(UTC).replace(tzinfo=None)
    return value


def _table(sheet: Worksheet, header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    sheet.append(list(header))
    for values in rows:
        sheet.append([None if v is None else v for v in values])
        for cell in sheet[sheet.max_row]:
            if isinstance(cell.value, str):
                cell.data_type = "s"  # typed text, never a formula, whatever it starts with
            elif isinstance(cell.value, datetime):
                cell.number_format = DATE_FORMAT
    sheet.freeze_panes = "A2"
    for index, name in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = max(12, min(40, len(name) + 4))

"""Exports people open in Excel: BOM, ';', XLSX with typed cells, no typed-in phone numbers."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from openpyxl import load_workbook

from storage.sqlite import SqliteStore
from tests.test_export import complain, export

PHONE = "Forage en panne. Appelez Awa au +223 70 12 34 56 ou awa@exemple.ml"
CONTACT = "votre nom « Awa Traoré » et votre identifiant telegram user-4410"


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    path = tmp_path / "formats.sqlite3"
    store = await SqliteStore.open(path)
    try:
        await complain(store, "2026-01-10", "eau", "ML010101", PHONE, consent=False)
        await complain(
            store, "2026-02-10", "sante", "ML090104", PHONE, consent=True, contact=CONTACT
        )
        await complain(store, "2026-03-10", "ecole", "ML010101", "=1+2 les maîtres", consent=False)
    finally:
        await store.close()
    return path


def rows_of(out: str, delimiter: str = ",") -> list[dict[str, str]]:
    assert out.startswith("\ufeff")
    text = io.StringIO(out.removeprefix("\ufeff"), newline="")
    return list(csv.DictReader(text, delimiter=delimiter))


async def test_anonymous_exports_show_no_phone_number(db: Path) -> None:
    for out in (export(db), export(db, "--format", "json")):
        assert "70 12 34 56" not in out and "awa@exemple.ml" not in out
        assert "[numéro masqué]" in out and "[e-mail masqué]" in out
    [water, *_] = rows_of(export(db))
    assert water["description"] == (
        "Forage en panne. Appelez Awa au [numéro masqué] ou [e-mail masqué]"
    )


async def test_contact_columns_only_with_consent(db: Path) -> None:
    rows = json.loads(export(db, "--format", "json", "--with-contact"))
    water, health, school = rows
    assert (health["contact_name"], health["contact_channel"], health["contact_handle"]) == (
        "Awa Traoré",
        "telegram",
        "user-4410",
    )
    # She agreed to be called back: her text goes as she wrote it.
    assert health["description"] == PHONE
    # He did not: nothing of his, and no number in his text either.
    for row in (water, school):
        assert [row[k] for k in ("contact", "contact_name", "contact_channel")] == [None] * 3
    assert "70 12 34 56" not in water["description"]


async def test_semicolon_for_french_excel(db: Path) -> None:
    out = export(db, "--delimiter", ";")
    assert out.removeprefix("\ufeff").startswith("reference;created_at;")
    rows = rows_of(out, ";")
    assert [r["category_name"] for r in rows] == ["Eau potable", "Centre de santé", "École"]
    assert rows[2]["description"] == "'=1+2 les maîtres"


async def test_xlsx_has_sheets_names_and_typed_cells(db: Path, tmp_path: Path) -> None:
    target = tmp_path / "plaintes.xlsx"
    export(db, "--excel", str(target))
    book = load_workbook(target)
    assert book.sheetnames == ["Plaintes", "Catégories", "Communes", "OSC"]
    sheet = book["Plaintes"]
    header = [c.value for c in sheet[1]]
    assert header[header.index("category") + 1] == "category_name"
    assert header[header.index("commune") + 1] == "commune_name"
    records = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(2)]
    assert len(records) == 3
    first = records[0]
    assert first["created_at"] == datetime(2026, 1, 10, 10, 0)
    assert sheet.cell(2, header.index("created_at") + 1).is_date
    assert first["voices"] == 1 and isinstance(first["voices"], int)
    assert first["category_name"] == "Eau potable" and first["commune_name"] == "Bangassi"
    assert "70 12 34 56" not in str(first["description"])
    formula_cell = sheet.cell(4, header.index("description") + 1)
    assert formula_cell.value == "=1+2 les maîtres" and formula_cell.data_type == "s"
    categories = {r[0].value: r[2].value for r in book["Catégories"].iter_rows(2)}
    assert categories["eau"] == "WATER"
    communes = [r[0].value for r in book["Communes"].iter_rows(2)]
    assert communes == ["ML010101", "ML090104"]

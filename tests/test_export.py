"""`civicbot complaints export`, run as a subprocess against a SQLite file in tmp_path."""

from __future__ import annotations

import csv
import io
import json
import os
import random
import subprocess
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest

from bot.commands.export import CONTACT_FIELDS, FIELDS
from content.pack import load_pack
from handlers.complaints.submit import Draft, submit_complaint
from storage.ports import Store
from storage.records import UserRecord
from storage.sqlite import SqliteStore

ROOT = Path(__file__).resolve().parent.parent
# What identifies a citizen or their chat; an export never shows it (the contact only on demand).
IDENTITIES = ("telegram", "user-4410", "chat-4410")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text + "T10:00:00+00:00")


async def complain(
    store: Store,
    when: str,
    category: str,
    commune: str,
    description: str,
    *,
    consent: bool,
    contact: str | None = None,
) -> str:
    pack = load_pack()
    moment = at(when)
    user = UserRecord(
        key="telegram:user-4410",
        channel="telegram",
        external_id="user-4410",
        created_at=moment,
        last_seen_at=moment,
    )
    draft = Draft(
        category=category,
        commune=commune,
        description=description,
        place="Près de la mairie",
        consent=consent,
        contact=contact,
    )
    async with store.transaction() as tx:
        tx.save_user(user)
        record, _ = await submit_complaint(
            tx,
            pack,
            moment,
            random.Random(moment.timestamp()),
            draft,
            user_key=user.key,
            channel="telegram",
            chat_id="chat-4410",
            lang="fr",
        )
    return record.reference


@pytest.fixture
async def db(tmp_path: Path) -> Path:
    path = tmp_path / "export.sqlite3"
    store = await SqliteStore.open(path)
    try:
        await complain(
            store,
            "2026-01-10",
            "eau",
            "ML010101",
            "Le forage est en panne, ligne 1\nligne 2, avec virgule",
            consent=True,
            contact="Awa (telegram: user-4410)",
        )
        await complain(
            store,
            "2026-03-05",
            "sante",
            "ML090104",
            "On nous demande de payer les carnets.",
            consent=False,
            contact="never kept",
        )
        third = await complain(
            store,
            "2026-06-01",
            "ecole",
            "ML030101",
            '=HYPERLINK("http://evil.example") les maîtres sont absents',
            consent=False,
        )
        # A contact stored without consent (older data, a bug elsewhere) must still not leave.
        async with store.transaction() as tx:
            record = await tx.complaint_by_reference(third)
            assert record is not None
            tx.save_complaint(replace(record, contact="Secret Contact", voices=3))
    finally:
        await store.close()
    return path


def export(db: Path, *args: str, code: int = 0) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICBOT_")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "complaints", "export", "--db", str(db), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == code, done.stderr
    return done.stdout


def anonymous(out: str) -> None:
    for identity in IDENTITIES:
        assert identity not in out
    assert "Secret Contact" not in out and "never kept" not in out


def read_csv(out: str) -> list[dict[str, str]]:
    assert out.startswith("\ufeff")  # UTF-8 with a BOM, as Excel needs to read accents
    return list(csv.DictReader(io.StringIO(out.removeprefix("\ufeff"), newline="")))


async def test_csv_is_anonymous_by_default(db: Path) -> None:
    out = export(db)  # csv is the default
    anonymous(out)
    header = next(csv.reader(io.StringIO(out.removeprefix("\ufeff"))))
    assert header == list(FIELDS)
    rows = read_csv(out)
    assert [r["commune"] for r in rows] == ["ML010101", "ML090104", "ML030101"]  # oldest first
    kayes = rows[0]
    assert kayes["created_at"] == "2026-01-10T10:00:00+00:00"
    assert kayes["status"] == "submitted"
    assert (kayes["category"], kayes["service_code"]) == ("eau", "WATER")
    assert (kayes["commune_name"], kayes["cercle"], kayes["region"]) == (
        "Bangassi",
        "Kayes",
        "Kayes",
    )
    assert kayes["place"] == "Près de la mairie"
    assert kayes["description"] == "Le forage est en panne, ligne 1\nligne 2, avec virgule"
    assert kayes["voices"] == "1"
    assert "exemple-kayes" in kayes["partners"].split(";")
    assert rows[2]["voices"] == "3"


async def test_csv_cells_cannot_run_as_formulas(db: Path) -> None:
    school = read_csv(export(db))[2]
    assert school["description"].startswith("'=HYPERLINK(")
    # JSON is for programs: the text is kept as typed.
    school_json = json.loads(export(db, "--format", "json"))[2]
    assert school_json["description"].startswith("=HYPERLINK(")


async def test_json_has_the_same_fields(db: Path) -> None:
    out = export(db, "--format", "json")
    anonymous(out)
    rows = json.loads(out)
    assert [list(r) for r in rows] == [list(FIELDS)] * 3
    assert rows[1]["service_code"] == "HEALTH_CENTRE"
    assert rows[1]["commune_name"] == "Commune IV"
    assert rows[2]["voices"] == 3
    for row in rows:
        assert row["partners"] and all(row["partners"].split(";"))


async def test_since(db: Path) -> None:
    rows = read_csv(export(db, "--since", "2026-03-05"))
    assert [r["commune"] for r in rows] == ["ML090104", "ML030101"]
    assert json.loads(export(db, "--format", "json", "--since", "2026-06-02")) == []
    export(db, "--since", "March", code=2)


async def test_cso(db: Path) -> None:
    rows = read_csv(export(db, "--cso", "exemple-kayes"))
    assert [r["commune"] for r in rows] == ["ML010101"]
    rows = json.loads(export(db, "--format", "json", "--cso", "exemple-sikasso"))
    assert [r["commune"] for r in rows] == ["ML030101"]
    assert all("exemple-sikasso" in r["partners"].split(";") for r in rows)


async def test_contact_only_on_demand_and_with_consent(db: Path) -> None:
    rows = read_csv(export(db, "--with-contact"))
    assert list(rows[0]) == [*FIELDS, *CONTACT_FIELDS]
    assert [r["contact"] for r in rows] == ["Awa (telegram: user-4410)", "", ""]
    assert [r["contact_channel"] for r in rows] == ["telegram", "", ""]
    assert [r["contact_handle"] for r in rows] == ["user-4410", "", ""]
    rows = json.loads(export(db, "--format", "json", "--with-contact"))
    assert [r["contact"] for r in rows] == ["Awa (telegram: user-4410)", None, None]
    # The contact is the only identity that ever leaves, and only the one consented to.
    out = export(db, "--with-contact", "--since", "2026-02-01")
    anonymous(out)


async def test_missing_database_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.sqlite3"
    export(missing, code=1)
    assert not missing.exists()


async def test_export_from_postgresql(pg_url: str, tmp_path: Path) -> None:
    from bot.store import open_store

    store = await open_store(pg_url)
    try:
        reference = await complain(
            store, "2026-02-01", "eau", "ML010101", "Plus d'eau au forage", consent=False
        )
    finally:
        await store.close()
    # A URL with a password, as compose sets it: the export works and never prints it.
    out = export(Path(pg_url), "--since", "2026-01-01")
    rows = read_csv(out)
    assert [row["reference"] for row in rows] == [reference]
    assert rows[0]["description"] == "Plus d'eau au forage"
    assert not (ROOT / "postgresql:").exists()

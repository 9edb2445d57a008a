"""`civicbot stats --format tidy-csv`: one data value a line, with P-codes and a period."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from storage.sqlite import SqliteStore
from tests.test_stats import fill

ROOT = Path(__file__).resolve().parent.parent


async def database(tmp_path: Path) -> Path:
    path = tmp_path / "stats.sqlite3"
    store = await SqliteStore.open(path)
    await store.close()
    fill(path)
    return path


def tidy(db: Path, *args: str) -> list[dict[str, str]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICBOT_")}
    done = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--format", "tidy-csv", "--db", str(db), *args],
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    reader = csv.DictReader(io.StringIO(done.stdout, newline=""))
    assert reader.fieldnames == [
        "indicator",
        "breakdown",
        "pcode",
        "name",
        "period_start",
        "period_end",
        "value",
        "suppressed",
    ]
    return list(reader)


def pick(rows: list[dict[str, str]], indicator: str, breakdown: str, pcode: str) -> dict[str, str]:
    [found] = [
        r
        for r in rows
        if (r["indicator"], r["breakdown"], r["pcode"]) == (indicator, breakdown, pcode)
    ]
    return found


async def test_tidy_rows_pivot_by_place_and_dimension(tmp_path: Path) -> None:
    rows = tidy(await database(tmp_path))
    today = datetime.now(UTC).date().isoformat()
    total = pick(rows, "users.total", "total", "ML")
    assert (total["name"], total["value"], total["suppressed"]) == ("Mali", "18", "false")
    assert total["period_end"] == today and total["period_start"] == ""
    kayes = pick(rows, "users.total", "region", "ML01")
    assert (kayes["name"], kayes["value"]) == ("Kayes", "10")
    koulikoro = pick(rows, "users.total", "region", "ML02")
    assert (koulikoro["value"], koulikoro["suppressed"]) == ("", "true")  # 3 people: hidden
    assert pick(rows, "users.total", "gender=f", "ML")["value"] == "11"
    # Bangassi's 6 complaints are hidden too (complementary suppression): otherwise a small
    # commune's count could be worked out from the total by subtraction.
    bangassi = pick(rows, "complaints.total", "commune", "ML010101")
    assert (bangassi["name"], bangassi["value"], bangassi["suppressed"]) == ("Bangassi", "", "true")
    assert pick(rows, "complaints.total", "category=eau", "ML")["value"] == "8"
    assert pick(rows, "searches.share_unanswered", "total", "ML")["value"] == "0.3"
    # One value a line, each a number or empty-and-suppressed: nothing to unflatten.
    for row in rows:
        if row["suppressed"] == "true":
            assert row["value"] == ""
        else:
            float(row["value"])


async def test_period_and_region(tmp_path: Path) -> None:
    rows = tidy(await database(tmp_path), "--since", "2026-01-01", "--region", "ML01")
    total = pick(rows, "users.total", "total", "ML01")
    assert (total["name"], total["period_start"]) == ("Kayes", "2026-01-01")

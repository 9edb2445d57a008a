"""The report and `stats` as staff read them: French, names, phones, small cells hidden for good."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import random
import re
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot import cli
from content.pack import ContentPack
from reports.cells import MIN_CELL, suppress
from reports.figures import build
from reports.html import render
from reports.labels import labels_from_pack
from storage.sqlite import SqliteStore
from tests.report_browser import measure
from tests.test_stats import NOW, fill

MARKALA, SEGOU, BAROUELI = "ML040216", "ML040224", "ML040101"


def add_round(path: Path) -> None:
    """A closed round: Ségou 6 respondents, Baraouéli 5, Markala only one (with a comment)."""
    db = sqlite3.connect(path)
    db.execute(
        "INSERT INTO barometer_rounds (id, communes, opens_at, closes_at, status, created_at) "
        "VALUES ('bbg-test', ?, '2026-06-01T00:00:00+00:00', '2026-06-11T00:00:00+00:00', "
        "'closed', '2026-05-30T00:00:00+00:00')",
        (json.dumps([SEGOU, BAROUELI, MARKALA]),),
    )
    people = [(f"k{n}", SEGOU) for n in range(6)] + [(f"s{n}", BAROUELI) for n in range(1, 5)]
    people += [("b0", BAROUELI), ("s0", MARKALA)]
    db.executemany(
        "INSERT INTO barometer_responses (round_id, user_key, commune, answers, comment, "
        "updated_at) VALUES ('bbg-test', ?, ?, ?, ?, '2026-06-05T00:00:00+00:00')",
        [
            (
                user,
                commune,
                json.dumps({"services": 2}),
                "Le maire de Markala" if user == "s0" else None,
            )
            for user, commune in people
        ],
    )
    db.commit()
    db.close()


async def make_db(path: Path) -> None:
    store = await SqliteStore.open(path)
    await store.close()
    fill(path)
    add_round(path)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "programme.sqlite3"
    asyncio.run(make_db(path))
    return path


def figures_of(path: Path) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        store = await SqliteStore.open(path)
        try:
            raw = await store.stats_rows(NOW)
        finally:
            await store.close()
        return build(raw, generated=NOW.isoformat(), since=None, region=None)

    return asyncio.run(read())


def test_the_report_fits_a_phone_and_a_desktop_in_chromium(
    db: Path, pack: ContentPack, tmp_path: Path
) -> None:
    page = render(figures_of(db), labels=labels_from_pack(pack))
    for width in (390, 1280):
        seen = measure(page, width, tmp_path)
        assert seen["width"] == width
        assert seen["charts"] >= 4
        assert seen["over"] == [], (width, seen["over"])
        assert seen["page"] <= width  # nothing makes the page scroll sideways
        assert all(0 < w <= width for w in seen["chartWidths"])


def test_the_report_speaks_french_with_names_tables_and_landmarks(
    db: Path, pack: ContentPack
) -> None:
    page = render(figures_of(db), labels=labels_from_pack(pack))
    assert '<html lang="fr">' in page
    for landmark in ("<header>", "<nav ", "<main>", "</main>"):
        assert landmark in page
    assert "Utilisateurs par région" in page and "Kayes (ML01)" in page
    assert "femmes" in page and ">f<" not in page
    # Every chart has its numbers in a table (hidden cells included, as "<5").
    assert page.count("<figure") == page.count("<caption>Chiffres")
    assert re.search(r"<svg[^>]*\swidth=", page) is None  # no fixed width: it scales
    # The round's last day is 10 June: it closes at midnight after it.
    assert "1 juin 2026 au 10 juin 2026" in page and "11 juin" not in page
    assert "30 juin 2026 à 12 h 00 (heure du Mali)" in page
    english = render(figures_of(db), labels=labels_from_pack(pack, "en"))
    assert "Users by region" in english and "women" in english


def test_stats_text_in_french_sections(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["stats", "--db", str(db)]) == 0
    text = capsys.readouterr().out
    assert "UTILISATEURS" in text and "SIGNALEMENTS" in text and "BAROMÈTRE" in text.upper()
    assert "Kayes (ML01) : 10" in text and "femmes : 11" in text
    assert "users.by_region" not in text and "ML01:" not in text
    assert "Segou Commune (ML040224) : 6" in text and "Markala (ML040216) : <5" in text
    assert cli.main(["stats", "--db", str(db), "--lang", "en"]) == 0
    assert "Users by region" in capsys.readouterr().out


def test_stats_csv_gives_the_last_day(db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["stats", "--db", str(db), "--csv"]) == 0
    rows = dict(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows["barometer.by_round.0.last_day"] == "2026-06-10"


def test_barometer_export_withholds_a_lone_respondent(
    db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["barometer", "export", "--round", "bbg-test", "--db", str(db)]) == 0
    out = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(out.out)))
    communes = Counter(r["commune"] for r in rows)
    # Markala's one answer set is out, and Baraouéli's 5 with it: the round had 12 respondents
    # in the report, so 12 - 6 - 5 would otherwise give Markala's 1 away.
    assert communes == {SEGOU: 6}
    assert "Le maire de Markala" not in out.out and "Markala" in out.err
    assert (
        cli.main(
            ["barometer", "export", "--round", "bbg-test", "--format", "json", "--db", str(db)]
        )
        == 0
    )
    exported = json.loads(capsys.readouterr().out)
    assert {r["commune"] for r in exported["responses"]} == {SEGOU}
    assert exported["last_day"] == "2026-06-10"


def test_no_hidden_cell_can_be_recovered_from_its_total(db: Path) -> None:
    figures = figures_of(db)
    complaints = figures["complaints"]
    # 8 complaints: 6 in Bangassi would leave 2 for Colimbine, so both are hidden.
    assert complaints["total"] == 8 and set(complaints["by_commune"].values()) == {None}
    users = figures["users"]["by_region"]["total"]
    assert users == {"ML01": 10, "ML02": None, "ML03": None}
    round_ = figures["barometer"]["by_round"][0]
    assert round_["respondents"] == 12
    assert {c: v["respondents"] for c, v in round_["communes"].items()} == {
        SEGOU: 6,
        BAROUELI: None,
        MARKALA: None,
    }
    # What the totals let anyone work out about the hidden cells: nobody, or 5 or more people.
    for dim in ("by_region", "by_gender", "by_age_group"):
        for metric, cells in figures["users"][dim].items():
            total = figures["users"][metric]
            if total is None:
                continue
            behind = total - sum(v for v in cells.values() if v is not None)
            hidden = [k for k, v in cells.items() if v is None]
            assert behind == 0 or (behind >= MIN_CELL and len(hidden) >= 2), (dim, metric)


def test_suppression_never_leaves_a_small_total_behind() -> None:
    rng = random.Random(16)
    for _ in range(2000):
        counts = {
            f"c{n}": rng.choice([0, 1, 2, 3, 4, 5, 6, 9, 20]) for n in range(rng.randint(1, 6))
        }
        if sum(counts.values()) < MIN_CELL:
            continue  # the total itself is hidden then
        cells = suppress(counts)
        behind = sum(counts[k] for k, v in cells.items() if v is None)
        hidden = [k for k, v in cells.items() if v is None]
        shown = [v for v in cells.values() if v is not None]
        assert all(v >= MIN_CELL for v in shown)
        # What subtraction from the total reveals: nobody, or at least MIN_CELL people in 2+ cells.
        assert behind == 0 or (len(hidden) >= 2 and behind >= MIN_CELL), (counts, cells)


def test_a_lone_score_and_a_small_commune_are_hidden_in_round_results(pack: ContentPack) -> None:
    from barometer.scoring import Response, score_round
    from handlers.barometer.rounds import results_text
    from storage.barometer_records import BarometerRound

    criteria = [("a", ["q1"])]
    # Six people gave 4 and one gave 1: that one's score must not show as "1 person".
    answers = [Response(SEGOU, {"q1": 4}) for _ in range(6)] + [Response(SEGOU, {"q1": 1})]
    answers += [Response(MARKALA, {"q1": 2})]
    results = score_round(answers, criteria)
    assert results[SEGOU]["criteria"]["a"]["distribution"] == [None, 0, 0, None, 0]
    record = BarometerRound(
        id="bbg-x",
        communes=(SEGOU, MARKALA),
        opens_at=NOW,
        closes_at=NOW,
        status="closed",
        created_at=NOW,
        results=results,
    )
    text = results_text(pack, record, "fr")
    assert "Markala : participants : < 5" in text and "Segou Commune : participants : 7" in text

"""`civicbot stats` and the HTML report, checked against a database built here."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from reports.figures import build
from reports.html import render
from storage.sqlite import SqliteStore

NOW = datetime(2026, 6, 30, 12, 0, tzinfo=UTC)


def at(days_ago: float) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat(timespec="microseconds")


def fill(path: Path) -> None:
    """A small programme: known counts on each side of the suppression threshold."""
    db = sqlite3.connect(path)
    users = []
    # Kayes (ML01): 8 women (6 new this week, all active), 2 men. Koulikoro (ML02): 3 women.
    for n in range(8):
        users.append((f"k{n}", "ML01", "f", "18-24", "qr-affiche", at(3 if n < 6 else 60), at(1)))
    for n in range(2):
        users.append((f"m{n}", "ML01", "m", "25-34", "radio", at(90), at(45)))
    for n in range(3):
        users.append((f"b{n}", "ML02", "f", "18-24", "radio", at(90), at(20)))
    # Sikasso (ML03): 5 men of 35-44, so that hiding Koulikoro's 3 needs a companion cell.
    for n in range(5):
        users.append((f"s{n}", "ML03", "m", "35-44", "radio", at(90), at(45)))
    db.executemany(
        "INSERT INTO users (key, channel, external_id, region, gender, age_group, entry_source, "
        "created_at, last_seen_at) VALUES (?, 'test', ?, ?, ?, ?, ?, ?, ?)",
        [(k, k, r, g, a, e, c, s) for k, r, g, a, e, c, s in users],
    )
    # 'droits' read by 6 people, 'budget' by 2.
    reads = [(f"k{n}", "droits") for n in range(6)] + [("k0", "budget"), ("k1", "budget")]
    reads += [(f"s{n}", "vote") for n in range(5)]
    db.executemany(
        "INSERT INTO article_reads VALUES (?, ?, ?, ?, 1)", [(u, a, at(2), at(2)) for u, a in reads]
    )
    searches = ["none"] * 3 + ["confident"] * 5 + ["uncertain"] * 2
    db.executemany(
        "INSERT INTO search_queries (query, lang, outcome, score, asked_at) "
        "VALUES ('q', 'fr', ?, 0, ?)",
        [(o, at(1)) for o in searches],
    )
    # Women: 6 quizzes, scores 5/10 and 10/10 alternately (average 0.75); men: 2 quizzes.
    results = [(f"k{n}", 5 if n % 2 else 10) for n in range(6)] + [("m0", 10), ("m1", 10)]
    db.executemany(
        "INSERT INTO quiz_results (user_key, quiz_id, score, total, finished_at) "
        "VALUES (?, 'x', ?, 10, ?)",
        [(u, s, at(1)) for u, s in results],
    )
    # Complaints in Bangassi (ML010101): 6 acknowledged after 1..6 days, 5 of them resolved
    # after 10 days, one of those reopened; 2 in Colimbine.
    for n in range(8):
        commune = "ML010101" if n < 6 else "ML010102"
        resolved = at(30 - 10) if n < 5 else None
        db.execute(
            "INSERT INTO complaints (id, reference, channel, lang, category, commune, description, "
            "status, created_at, updated_at, ack_due_at, resolved_at) "
            "VALUES (?, ?, 'test', 'fr', 'eau', ?, 'x', ?, ?, ?, ?, ?)",
            (
                f"c{n}",
                f"R{n}",
                commune,
                "resolved" if resolved else "submitted",
                at(30),
                at(30),
                at(25),
                resolved,
            ),
        )
        if n < 6:
            db.execute(
                "INSERT INTO complaint_events (complaint_id, action, at) VALUES (?, 'ack', ?)",
                (f"c{n}", at(30 - (n + 1))),
            )
    db.execute(
        "INSERT INTO complaint_events (complaint_id, action, at) VALUES ('c0', 'reopened', ?)",
        (at(5),),
    )
    db.commit()
    db.close()


@pytest.fixture
async def figures(tmp_path: Path) -> dict[str, object]:
    path = tmp_path / "stats.sqlite3"
    store = await SqliteStore.open(path)
    await store.close()
    fill(path)
    store = await SqliteStore.open(path)
    try:
        raw = await store.stats_rows(NOW)
    finally:
        await store.close()
    return build(raw, generated=NOW.isoformat(), since=None, region=None)


async def test_users_by_region_gender_and_age_with_small_cells_hidden(figures: dict) -> None:
    users = figures["users"]
    assert users["total"] == 18
    assert users["new_7d"] == 6 and users["active_7d"] == 8 and users["active_30d"] == 11
    # Koulikoro's 3 alone would follow from 18 - 10 - 5: Sikasso's 5 are hidden with them.
    assert users["by_region"]["total"] == {"ML01": 10, "ML02": None, "ML03": None}
    assert users["by_gender"]["total"] == {"f": 11, "m": 7}
    assert users["by_age_group"]["total"] == {"18-24": 11, "25-34": None, "35-44": None}
    # Nobody new elsewhere: hidden zeros hide nobody, so Kayes's 6 can show.
    assert users["by_region"]["new_7d"] == {"ML01": 6, "ML02": None, "ML03": None}
    assert figures["entry_sources"] == {"qr-affiche": 8, "radio": 10}


async def test_learning_and_quiz_figures(figures: dict) -> None:
    assert figures["articles"]["reads"] == 13
    # 'budget' (2) is hidden, and 'vote' (5) with it: the total of readers would betray it.
    assert figures["articles"]["most_read"] == [{"article": "droits", "readers": 6}]
    assert figures["searches"] == {"total": 10, "share_unanswered": 0.3, "share_uncertain": 0.2}
    quizzes = figures["quizzes"]
    assert quizzes["taken"] == 8 and quizzes["average_score"] == 0.812
    # The men's 2 quizzes would be 8 - 6: both genders are hidden.
    assert quizzes["by_gender"] == {
        "f": {"taken": None, "average_score": None},
        "m": {"taken": None, "average_score": None},
    }


async def test_complaint_figures(figures: dict) -> None:
    complaints = figures["complaints"]
    assert complaints["total"] == 8
    # 8 complaints: showing the 6 of Bangassi would give away Colimbine's 2.
    assert complaints["by_commune"] == {"ML010101": None, "ML010102": None}
    assert complaints["by_status"] == {"resolved": None, "submitted": None}
    assert complaints["median_days_to_acknowledge"] == 3.5
    assert complaints["median_days_to_resolve"] == 10.0
    assert complaints["share_reopened"] == 0.2


async def test_region_filter_and_since(tmp_path: Path) -> None:
    path = tmp_path / "stats.sqlite3"
    store = await SqliteStore.open(path)
    await store.close()
    fill(path)
    store = await SqliteStore.open(path)
    try:
        raw = await store.stats_rows(NOW, NOW - timedelta(days=10), "ML02")
    finally:
        await store.close()
    figures = build(raw, generated="", since="2026-06-20", region="ML02")
    assert figures["users"]["total"] is None  # 3 people in ML02
    assert figures["complaints"]["total"] is None  # none since, none in ML02
    assert figures["users"]["new"] is None


async def test_the_report_is_one_self_contained_page(figures: dict, tmp_path: Path) -> None:
    page = render(figures)
    assert page.startswith("<!DOCTYPE html>")
    assert page.count("<svg") >= 5 and 'class="bar"' in page
    # Nothing fetched: no script, stylesheet link, image or URL other than the SVG namespace.
    assert "<script" not in page and "<link" not in page and "<img" not in page
    assert page.replace("http://www.w3.org/2000/svg", "").count("http") == 0
    assert "&lt;5" in page  # suppressed cells are marked, not drawn
    json.dumps(figures)  # the same figures serialise for --json


def test_the_report_renders_in_headless_chromium(figures: dict, tmp_path: Path) -> None:
    browser = next(
        (
            shutil.which(b)
            for b in ("chromium", "chromium-browser", "google-chrome")
            if shutil.which(b)
        ),
        None,
    )
    if browser is None:
        pytest.skip("no Chromium on this machine (apt-get install chromium)")
    page = tmp_path / "report.html"
    page.write_text(render(figures), encoding="utf-8")
    shot = tmp_path / "report.png"
    dom = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    ).stdout
    assert "Utilisateurs par région" in dom and "<svg" in dom
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--screenshot={shot}",
            "--window-size=1000,3000",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert shot.stat().st_size > 10_000


async def _one_uncertain_send(db: Path) -> None:
    from storage.records import NewOutboxMessage

    store = await SqliteStore.open(db)
    now = datetime.now(UTC)
    async with store.transaction() as tx:
        row = tx.enqueue(NewOutboxMessage("console", "c1", "notice", {"text": "n"}), now)
    # A send that timed out, then went through on its retry: it may have arrived twice.
    await store.mark_uncertain(row)
    await store.mark_sent(row, now, None)
    await store.close()


def test_stats_and_report_say_how_many_sends_may_have_arrived_twice(tmp_path: Path) -> None:
    import asyncio

    db = tmp_path / "dup.sqlite3"
    asyncio.run(_one_uncertain_send(db))
    env = {k: v for k, v in os.environ.items() if not k.startswith("CIVICBOT_")}
    shown = subprocess.run(
        [sys.executable, "-m", "bot", "stats", "--db", str(db)],
        capture_output=True, text=True, check=True, env=env,
    ).stdout  # fmt: skip
    assert "messages peut-être reçus deux fois (envoi sans réponse sûre) : 1" in shown
    page = tmp_path / "r.html"
    subprocess.run(
        [sys.executable, "-m", "bot", "report", "--html", str(page), "--db", str(db)],
        capture_output=True, text=True, check=True, env=env,
    )  # fmt: skip
    assert "peut-être reçus deux fois" in page.read_text(encoding="utf-8")

"""Quiz statistics: right shares by option and band, cells under five people hidden."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from quiz.stats import summarise

ROOT = Path(__file__).resolve().parent.parent


def test_shares_and_small_cells_suppressed() -> None:
    rows = [
        (f"s{n}", "q", "q01", n % 2, int(n % 2 == 0), "f" if n < 6 else "m", "15-19")
        for n in range(8)
    ]
    report = summarise(rows)
    question = report["q"]["questions"]["q01"]  # type: ignore[index]
    assert report["q"]["participants"] == 8  # type: ignore[index]
    assert question["right_percent"] == 50.0
    # 4 and 4 people chose each option: too few to show either.
    assert question["options_percent"] == {"0": None, "1": None}
    assert question["right_percent_by_gender"] == {"f": 50.0, "m": None}  # 2 men: hidden
    assert question["right_percent_by_age"] == {"15-19": 50.0}
    few = summarise(rows[:3])
    assert few["q"]["participants"] is None  # type: ignore[index]
    assert few["q"]["questions"]["q01"]["right_percent"] is None  # type: ignore[index]


def test_stats_command_on_an_empty_database(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "quiz",
            "stats",
            "--json",
            "--db",
            str(tmp_path / "db.sqlite3"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(out.stdout) == {}

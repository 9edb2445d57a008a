"""`civicbot cso link-code` and `civicbot cso list`, then `/lier CODE` from a chat."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def civicbot(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args], cwd=ROOT, input=stdin, capture_output=True, text=True
    )


def test_link_code_then_lier_then_list(tmp_path: Path) -> None:
    db = str(tmp_path / "bot.sqlite3")
    made = civicbot("cso", "link-code", "exemple-mopti", "--db", db)
    assert made.returncode == 0
    code = re.search(r"Code de liaison pour .* : (\w{8})", made.stdout)
    assert code
    chat = civicbot(
        "chat",
        "--jsonl",
        "--db",
        db,
        stdin="\n".join(
            [
                json.dumps(
                    {
                        "from": "moussa",
                        "chat": "osc-mopti",
                        "chat_type": "group",
                        "text": f"/lier {code[1].lower()}",
                    }
                ),
                json.dumps(
                    {
                        "from": "moussa",
                        "chat": "osc-mopti",
                        "chat_type": "group",
                        "text": f"/lier {code[1]}",
                    }
                ),
            ]
        )
        + "\n",
    )
    first, second = (json.loads(line) for line in chat.stdout.splitlines())
    assert "Mopti" in first["replies"][0]["text"]
    assert "inconnu ou expiré" in second["replies"][0]["text"]  # one time only
    listed = json.loads(civicbot("cso", "list", "--json", "--db", db).stdout)
    mopti = next(p for p in listed if p["id"] == "exemple-mopti")
    assert mopti["chats"][0]["chat"] == "osc-mopti" and mopti["regions"] == ["ML05"]
    assert next(p for p in listed if p["desk"])["id"] == "bureau-programme"
    text = civicbot("cso", "list", "--db", db).stdout
    assert "exemple-mopti [exemple]" in text and "console:osc-mopti" in text
    assert "Mopti (ML05)" in text  # names next to codes


def test_unknown_cso(tmp_path: Path) -> None:
    made = civicbot("cso", "link-code", "nobody", "--db", str(tmp_path / "x.sqlite3"))
    assert made.returncode == 1 and "bureau-programme" in made.stderr


def test_a_cso_by_name_or_by_the_place_it_covers(tmp_path: Path) -> None:
    db = str(tmp_path / "n.sqlite3")
    by_place = civicbot("cso", "link-code", "Ségou", "--db", db)
    assert by_place.returncode == 0 and "région de Ségou" in by_place.stdout
    by_commune = civicbot("cso", "link-code", "Markala", "--db", db)
    assert by_commune.returncode == 0 and "région de Ségou" in by_commune.stdout
    # Bamako commune IV has two CSOs (health, and all of Bamako): both are listed.
    ambiguous = civicbot("cso", "link-code", "Bamako", "--db", db)
    assert ambiguous.returncode == 1 and "plusieurs associations" in ambiguous.stderr
    english = civicbot("--lang", "en", "cso", "link-code", "Markala", "--db", db)
    assert "Link code for" in english.stdout

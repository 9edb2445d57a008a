"""Places by name wherever a P-code is taken: chat and CLI commands, stats, campaign audiences."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from bot import cli
from content.pack import ContentPack
from content.places import PlaceError, resolver
from storage.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.test_campaigns import EXAMPLE, add_user
from tests.test_dialog_complaints import World, texts
from tests.test_dialog_complaints import world as world  # the fixture

SEGOU_COMMUNE = "ML040224"
OPEN = ["barometer", "open", "--commune"]


def test_names_accents_sms_spelling_and_codes(pack: ContentPack) -> None:
    places = resolver(pack.communes)
    assert places.resolve("Ségou", ("region",)).pcode == "ML04"
    assert places.resolve("segu", ("region",)).pcode == "ML04"  # Bambara / SMS spelling
    assert places.resolve("ml04", ("region",)).pcode == "ML04"
    assert places.resolve("Segou", ("commune",)).pcode == SEGOU_COMMUNE
    assert places.resolve("Jenne", ("commune",)).name == "Djenne Commune"
    assert places.resolve("Markalla", ("commune",)).name == "Markala"
    assert places.resolve("Baroueli", ("cercle",)).pcode == "ML0401"
    with pytest.raises(PlaceError) as ambiguous:
        places.resolve("Baye", ("commune",))
    assert ambiguous.value.ambiguous and {p.pcode for p in ambiguous.value.candidates} == {
        "ML010401",
        "ML050302",
    }
    with pytest.raises(PlaceError) as unknown:
        places.resolve("Sgou", ("region",))
    assert "Vouliez-vous dire" in str(unknown.value) and "Segou" in str(unknown.value)


async def test_barometre_ouvrir_by_name_in_a_cso_chat(world: World, clock: FakeClock) -> None:
    await world.link("exemple-segou", "cso-segou")
    today = clock().date()
    end = today + timedelta(days=8)

    async def cso(words: str) -> str:
        return texts(await world.say("moussa", words, chat="cso-segou"), "cso-segou")

    opened = await cso(f"/barometre ouvrir Segou {today} {end}")
    assert "Segou Commune" in opened and "ouvert" in opened
    assert "jusqu'au 6 décembre 2026" in opened  # the last day (28 Nov + 8), written out
    both = await cso(f"/barometre ouvrir Markala, ségou {today} {end}")
    assert "Markala, Segou Commune" in both
    ambiguous = await cso(f"/barometre ouvrir Baye {today} {end}")
    assert "plusieurs lieux" in ambiguous and "ML010401" in ambiguous and "ML050302" in ambiguous
    unknown = await cso(f"/barometre ouvrir Atlantide {today} {end}")
    assert "Lieu inconnu" in unknown and "Tour" not in unknown


def test_barometer_open_cli_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "b.sqlite3")
    code = cli.main([*OPEN, "Markala", "--from", "2030-01-01", "--to", "2030-01-10", "--db", db])
    assert code == 0 and "Markala" in capsys.readouterr().out
    code = cli.main([*OPEN, "Baye", "--from", "2030-01-01", "--to", "2030-01-10", "--db", db])
    assert code == 1 and "plusieurs lieux" in capsys.readouterr().err


async def users(db: Path, regions: list[str]) -> None:
    """People with a region in their profile."""
    store = await SqliteStore.open(db)
    clock = FakeClock()
    for n, region in enumerate(regions):
        await add_user(store, clock, "telegram", f"u{n}", region=region)
    await store.close()


def test_stats_region_by_name(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "s.sqlite3"
    asyncio.run(users(db, ["ML04"] * 6))
    assert cli.main(["stats", "--region", "Ségou", "--json", "--db", str(db)]) == 0
    figures = json.loads(capsys.readouterr().out)
    assert figures["region"] == "ML04"
    assert cli.main(["stats", "--region", "Sgou", "--db", str(db)]) == 1
    assert "Vouliez-vous dire" in capsys.readouterr().err


def test_campaign_audience_by_name_and_unknown_names_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "c.sqlite3"
    asyncio.run(users(db, ["ML04", "ML04", "ML04", "ML01"]))
    data = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    data["audience"] = {"regions": ["Segou"]}
    named = tmp_path / "segou.yaml"
    named.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert cli.main(["campaign", "plan", str(named), "--db", str(db), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 3
    data["audience"] = {"regions": ["Segouu", "Atlantide"]}
    named.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert cli.main(["campaign", "plan", str(named), "--db", str(db)]) == 1
    assert "Atlantide" in capsys.readouterr().err

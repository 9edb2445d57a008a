"""Open311 GeoReport v2 against the real aiohttp routes and a SQLite store in tmp_path."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from bot.open311.routes import add_open311_routes
from content.pack import ContentPack
from handlers.complaints.submit import Draft, submit_complaint
from storage.records import ComplaintRecord, UserRecord
from storage.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.fake_telegram import FakeTelegram
from tests.test_run_telegram import start, stop

KEY = "partner-key-123"
API = "/open311/v2"
# What identifies the citizen; none of it may ever leave through Open311.
SECRETS = ("secret-7731", "Awa Secret", "+22370007731")
PUBLIC_KEYS = {
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "requested_datetime",
    "updated_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
    "agency_responsible",
    "description",
    "service_notice",
    "expected_datetime",
}


async def complain(
    store: SqliteStore,
    pack: ContentPack,
    when: datetime,
    *,
    category: str = "eau",
    commune: str = "ML010101",
    description: str = "Le forage du quartier est en panne depuis un mois.",
    public: bool = False,
    status: str = "submitted",
) -> ComplaintRecord:
    """A complaint from a Telegram citizen who agreed to be contacted."""
    user = UserRecord(
        key="telegram:secret-7731",
        channel="telegram",
        external_id="secret-7731",
        created_at=when,
        last_seen_at=when,
    )
    draft = Draft(
        category=category,
        commune=commune,
        description=description,
        place="Près du marché",
        consent=True,
        contact="Awa Secret +22370007731",
    )
    async with store.transaction() as tx:
        tx.save_user(user)
        record, _ = await submit_complaint(
            tx,
            pack,
            when,
            random.Random(when.timestamp()),
            draft,
            user_key=user.key,
            channel="telegram",
            chat_id="chat-secret-7731",
            lang="fr",
        )
        if public or status != "submitted":
            record = replace(record, public=public, status=status)
            tx.save_complaint(record)
    return record


def build(
    store: SqliteStore, pack: ContentPack, clock: FakeClock, api_key: str | None
) -> web.Application:
    app = web.Application()
    add_open311_routes(app, store, lambda: pack, api_key, clock, random.Random(311))
    return app


@pytest.fixture
async def client(
    store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(build(store, pack, clock, KEY))) as test_client:
        yield test_client


Client = TestClient[web.Request, web.Application]


async def fetch(client: Client, path: str, expect: int, params: dict[str, str]) -> Any:
    resp = await client.get(API + path, params=params)
    text = await resp.text()
    assert resp.status == expect, text
    for secret in SECRETS:
        assert secret not in text
    return await resp.json()


async def get_json(client: Client, path: str, *, expect: int = 200, **params: str) -> Any:
    return await fetch(client, path, expect, params)


async def refs(client: Client, **params: str) -> list[str]:
    return [r["service_request_id"] for r in await fetch(client, "/requests.json", 200, params)]


async def test_services_are_the_categories(client: Client, pack: ContentPack) -> None:
    services = await get_json(client, "/services.json")
    assert [s["service_code"] for s in services] == [c.service_code for c in pack.categories]
    water = next(s for s in services if s["service_code"] == "WATER")
    assert water == {
        "service_code": "WATER",
        "service_name": "Eau potable",
        "description": "Forage ou borne-fontaine en panne, eau sale, prix de l'eau.",
        "metadata": True,
        "type": "realtime",
        "keywords": "",
        "group": "",
    }


async def test_unknown_formats_are_refused(client: Client) -> None:
    for path in ("/services.csv", "/requests.html", "/requests/K7M4-QXP9.yaml"):
        [err] = await get_json(client, path, expect=400)
        assert err["code"] == 400 and "json or xml" in err["description"]


async def test_default_window_is_90_days_newest_first(
    client: Client, store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    old = await complain(store, pack, clock.now - timedelta(days=91))
    mid = await complain(store, pack, clock.now - timedelta(days=30))
    new = await complain(store, pack, clock.now - timedelta(hours=1))
    assert await refs(client) == [new.reference, mid.reference]
    assert old.reference not in await refs(client)


async def test_status_filter(
    client: Client, store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    day = timedelta(days=1)
    submitted = await complain(store, pack, clock.now - 5 * day)
    progress = await complain(store, pack, clock.now - 4 * day, status="in_progress")
    reopened = await complain(store, pack, clock.now - 3 * day, status="reopened")
    resolved = await complain(store, pack, clock.now - 2 * day, status="resolved")
    not_ours = await complain(store, pack, clock.now - 1 * day, status="not_ours")
    assert await refs(client, status="open") == [
        reopened.reference,
        progress.reference,
        submitted.reference,
    ]
    assert await refs(client, status="closed") == [not_ours.reference, resolved.reference]
    assert len(await refs(client, status="open,closed")) == 5
    items = await get_json(client, "/requests.json")
    assert {i["service_request_id"]: i["status"] for i in items}[resolved.reference] == "closed"
    [err] = await get_json(client, "/requests.json", expect=400, status="pending")
    assert err["code"] == 400


async def test_service_code_filter(
    client: Client, store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    water = await complain(store, pack, clock.now - timedelta(days=2), category="eau")
    school = await complain(store, pack, clock.now - timedelta(days=1), category="ecole")
    assert await refs(client, service_code="WATER") == [water.reference]
    assert await refs(client, service_code="SCHOOL,WATER") == [school.reference, water.reference]
    assert await refs(client, service_code="NOPE") == []


async def test_date_filters(
    client: Client, store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    # clock.now is 2026-11-28 09:00 UTC
    january = await complain(store, pack, datetime.fromisoformat("2026-01-15T10:00:00+00:00"))
    february = await complain(store, pack, datetime.fromisoformat("2026-02-20T10:00:00+00:00"))
    assert await refs(client) == []  # both are older than the last 90 days
    assert await refs(client, start_date="2026-01-01T00:00:00Z") == [
        february.reference,
        january.reference,
    ]
    assert await refs(
        client, start_date="2026-01-01T00:00:00+00:00", end_date="2026-02-01T00:00:00+00:00"
    ) == [january.reference]
    # end_date alone: the 90 days before it.
    assert await refs(client, end_date="2026-02-01T00:00:00Z") == [january.reference]
    # An offset other than UTC is honoured: 11:00+01:00 is 10:00 UTC, the moment of January's.
    assert await refs(
        client, start_date="2026-01-15T11:00:00+01:00", end_date="2026-01-31T00:00:00Z"
    ) == [january.reference]
    assert (
        await refs(client, start_date="2026-01-15T11:00:01+01:00", end_date="2026-01-31T00:00:00Z")
        == []
    )
    [err] = await get_json(
        client,
        "/requests.json",
        expect=400,
        start_date="2026-01-01T00:00:00Z",
        end_date="2026-06-01",
    )
    assert "90 days" in err["description"]
    await get_json(client, "/requests.json", expect=400, start_date="last tuesday")
    await get_json(
        client, "/requests.json", expect=400, start_date="2026-02-01", end_date="2026-01-01"
    )


async def test_ids_override_other_filters(
    client: Client, store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    ancient = await complain(store, pack, clock.now - timedelta(days=400), status="resolved")
    recent = await complain(store, pack, clock.now - timedelta(days=1))
    await complain(store, pack, clock.now - timedelta(days=2))
    ids = f"{ancient.reference},{recent.reference.lower()},ZZZZ-ZZZZ"
    assert await refs(client, service_request_id=ids, status="open") == [
        recent.reference,
        ancient.reference,
    ]


async def test_only_public_fields_and_public_descriptions(
    client: Client, store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    private = await complain(
        store, pack, clock.now - timedelta(days=2), description="Texte privé du citoyen ici."
    )
    public = await complain(
        store, pack, clock.now - timedelta(days=1), public=True, description="Texte public ici."
    )
    resp = await client.get(f"{API}/requests.json")
    text = await resp.text()
    assert "Texte privé" not in text and "Près du marché" not in text
    by_ref = {item["service_request_id"]: item for item in await resp.json()}
    assert set(by_ref[private.reference]) == PUBLIC_KEYS
    assert set(by_ref[public.reference]) == PUBLIC_KEYS
    assert by_ref[private.reference]["description"] is None
    assert by_ref[public.reference]["description"] == "Texte public ici."
    item = by_ref[private.reference]
    assert item["address_id"] == "ML010101"
    assert item["address"] == "Bangassi, Kayes, Kayes"
    assert (item["lat"], item["long"]) == (14.69858, -11.51516)
    assert item["service_code"] == "WATER" and item["service_name"] == "Eau potable"
    # Rounded to the day: in a small commune the hour could point to who complained.
    assert item["requested_datetime"] == "2026-11-26T00:00:00+00:00"
    assert item["status"] == "open" and item["status_notes"] is None
    [single] = await get_json(client, f"/requests/{private.reference}.json")
    assert single == item


async def test_single_request_and_unknown(
    client: Client, store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    record = await complain(store, pack, clock.now - timedelta(days=200), public=True)
    found = await get_json(client, f"/requests/{record.reference}.json")
    assert [r["service_request_id"] for r in found] == [record.reference]
    assert found[0]["description"] == record.description
    [err] = await get_json(client, "/requests/ZZZZ-ZZZZ.json", expect=404)
    assert err["code"] == 404
    await get_json(client, "/requests/not-a-reference.json", expect=404)


async def post(client: Client, status: int, **form: str) -> Any:
    resp = await client.post(f"{API}/requests.json", data=form)
    body = await resp.json()
    assert resp.status == status, body
    return body


GOOD = {
    "api_key": KEY,
    "service_code": "WATER",
    "address_id": "ML010101",
    "description": "La borne-fontaine est cassée depuis deux semaines.",
    "email": "someone@example.org",
    "phone": "+22370009999",
}


async def test_post_creates_a_complaint(client: Client, store: SqliteStore) -> None:
    [created] = await post(client, 200, **GOOD)
    reference = created["service_request_id"]
    assert created["service_notice"]
    [item] = await get_json(client, f"/requests/{reference}.json")
    assert item["address_id"] == "ML010101" and item["service_code"] == "WATER"
    assert item["status"] == "open"
    assert reference in await refs(client)
    [(record, partners)] = await store.export_complaints()
    assert record.reference == reference
    assert record.category == "eau" and record.commune == "ML010101"
    assert record.description == GOOD["description"]
    assert (record.channel, record.user_key, record.chat_id, record.lang) == (
        "open311",
        None,
        None,
        "fr",
    )
    # The client's personal fields are not kept anywhere.
    assert record.contact is None and not record.contact_consent
    assert "exemple-kayes" in partners


async def test_post_refused_without_the_right_key(client: Client, store: SqliteStore) -> None:
    [err] = await post(client, 403, **(GOOD | {"api_key": "wrong"}))
    assert err["code"] == 403
    await post(client, 403, **{k: v for k, v in GOOD.items() if k != "api_key"})
    assert await store.export_complaints() == []


@pytest.mark.parametrize("configured", [None, ""])
async def test_post_disabled_without_a_configured_key(
    store: SqliteStore, pack: ContentPack, clock: FakeClock, configured: str | None
) -> None:
    async with TestClient(TestServer(build(store, pack, clock, configured))) as disabled:
        await post(disabled, 403, **(GOOD | {"api_key": ""}))
        await post(disabled, 403, **GOOD)
        # Reading stays open.
        await get_json(disabled, "/services.json")
    assert await store.export_complaints() == []


@pytest.mark.parametrize(
    "change",
    [
        {"service_code": "NOPE"},
        {"service_code": ""},
        {"description": ""},
        {"description": "court"},
        {"description": "x" * 501},
        {"address_id": "ML999999"},
        {"address_id": ""},
        {"address_id": "", "lat": "12.6", "long": "abc"},
        {"address_id": "", "lat": "0", "long": "0"},  # a client's default, not a place in Mali
        {"address_id": "", "lat": "nan", "long": "-8"},
        {"address_id": "", "lat": "12.6"},
    ],
)
async def test_post_bad_input(client: Client, store: SqliteStore, change: dict[str, str]) -> None:
    [err] = await post(client, 400, **(GOOD | change))
    assert err["code"] == 400 and err["description"]
    assert await store.export_complaints() == []


async def test_post_description_at_the_limit(client: Client, store: SqliteStore) -> None:
    await post(client, 200, **(GOOD | {"description": "x" * 500}))
    [(record, _)] = await store.export_complaints()
    assert len(record.description) == 500


async def test_post_by_position_picks_the_nearest_commune(
    client: Client, store: SqliteStore, pack: ContentPack
) -> None:
    # A little east of the centroid of Bamako's Commune IV.
    [created] = await post(
        client, 200, **(GOOD | {"address_id": "", "lat": "12.62", "long": "-8.04"})
    )
    [item] = await get_json(client, f"/requests/{created['service_request_id']}.json")
    assert item["address_id"] == "ML090104"
    assert item["address"] == "Commune IV, Bamako, Bamako"
    assert pack.communes.nearest(12.62, -8.04).pcode == "ML090104"
    # A given address_id wins over a position.
    [created] = await post(client, 200, **(GOOD | {"lat": "12.62", "long": "-8.04"}))
    [item] = await get_json(client, f"/requests/{created['service_request_id']}.json")
    assert item["address_id"] == "ML010101"


async def test_civicbot_run_serves_open311(tmp_path: Any) -> None:
    """The routes are on the web server of `civicbot run`, with the key from the settings."""
    fake = await FakeTelegram().start()
    try:
        proc, port = await start(fake, tmp_path, CIVICBOT_OPEN311_API_KEY="run-key-42")
        base = f"http://127.0.0.1:{port}{API}"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{base}/services.json") as resp:
                assert resp.status == 200
                assert any(s["service_code"] == "WATER" for s in await resp.json())
            form = GOOD | {"api_key": "run-key-42"}
            async with http.post(f"{base}/requests.json", data=form) as resp:
                assert resp.status == 200
                [created] = await resp.json()
            async with http.get(f"{base}/requests.json") as resp:
                listed = await resp.json()
                assert [r["service_request_id"] for r in listed] == [created["service_request_id"]]
        logs = await stop(proc)
        assert "run-key-42" not in logs and GOOD["description"] not in logs
    finally:
        await fake.stop()

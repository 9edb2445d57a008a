"""Open311 as partners' tools read it: a third-party client, XML, errors, CORS, privacy."""

from __future__ import annotations

import asyncio
import random
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from georeport import GeoReport

from bot.open311.routes import add_open311_routes
from content.pack import ContentPack
from storage.sqlite import SqliteStore
from tests.conftest import FakeClock
from tests.test_open311 import API, GOOD, KEY, complain

Client = TestClient[web.Request, web.Application]
JSON_TYPE = {"Content-Type": "application/json"}
PHONE_TEXT = "Forage en panne. Appelez Awa Traoré au +223 70 12 34 56 pour les détails."


@pytest.fixture
async def client(store: SqliteStore, pack: ContentPack, clock: FakeClock) -> AsyncIterator[Client]:
    app = web.Application()
    add_open311_routes(app, store, lambda: pack, KEY, clock, random.Random(19))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


def georeport(client: Client, fmt: str) -> GeoReport:
    """The PyPI client pointed at the test server, as a partner would configure it."""
    root = str(client.make_url(API))
    return GeoReport(root, jurisdiction="mali", output_format=fmt)


async def test_third_party_client_reads_json(
    client: Client, store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    old = await complain(store, pack, clock.now - timedelta(days=3), public=True)
    new = await complain(store, pack, clock.now - timedelta(days=1), category="ecole")
    reader = georeport(client, "json")
    services = await asyncio.to_thread(reader.get_service_list)
    assert [s["service_code"] for s in services] == [c.service_code for c in pack.categories]
    water = await asyncio.to_thread(reader.get_service_definition, "WATER")
    assert water["service_code"] == "WATER"
    assert [a["code"] for a in water["attributes"]] == ["place"]
    listed = await asyncio.to_thread(reader.get_service_requests)
    assert [r["service_request_id"] for r in listed] == [new.reference, old.reference]
    one = await asyncio.to_thread(reader.get_service_request, old.reference)
    assert one["description"] == old.description and one["service_code"] == "WATER"


async def test_third_party_client_reads_xml(
    client: Client, store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    old = await complain(store, pack, clock.now - timedelta(days=3), public=True)
    new = await complain(store, pack, clock.now - timedelta(days=1), category="ecole")
    reader = georeport(client, "xml")
    services = await asyncio.to_thread(reader.get_service_list)
    assert [s["service_code"] for s in services] == [c.service_code for c in pack.categories]
    water = next(s for s in services if s["service_code"] == "WATER")
    assert water["service_name"] == "Eau potable" and water["metadata"] == "true"
    definition = await asyncio.to_thread(reader.get_service_definition, "WATER")
    assert definition["service_code"] == "WATER"
    assert definition["attributes"]["attribute"]["code"] == "place"
    listed = await asyncio.to_thread(reader.get_service_requests, status="open")
    assert [r["service_request_id"] for r in listed] == [new.reference, old.reference]
    assert listed[1]["address_id"] == "ML010101"
    assert listed[1]["requested_datetime"].endswith("T00:00:00+00:00")
    one = await asyncio.to_thread(reader.get_service_request, new.reference)
    assert one["service_name"] == "École" and one["description"] is None


async def test_discovery(client: Client) -> None:
    resp = await client.get(f"{API}/discovery.json")
    body = await resp.json()
    [endpoint] = body["endpoints"]
    assert endpoint["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert endpoint["url"].endswith(API) and "text/xml" in endpoint["formats"]
    resp = await client.get(f"{API}/discovery.xml")
    root = ET.fromstring(await resp.read())
    assert root.tag == "discovery"
    assert [f.text for f in root.iterfind("endpoints/endpoint/formats/format")] == [
        "application/json",
        "text/xml",
    ]


async def created_reference(resp: Any) -> str:
    body = await resp.json()
    assert resp.status == 200, body
    return str(body[0]["service_request_id"])


async def test_post_form_with_the_key_in_the_query(client: Client, store: SqliteStore) -> None:
    form = {k: v for k, v in GOOD.items() if k != "api_key"}
    resp = await client.post(f"{API}/requests.json", params={"api_key": KEY}, data=form)
    reference = await created_reference(resp)
    [(record, _)] = await store.export_complaints()
    assert record.reference == reference and record.commune == "ML010101"


async def test_post_json_body(client: Client, store: SqliteStore) -> None:
    body = GOOD | {"lat": 12.62, "long": -8.04, "address_id": None}
    body["attribute"] = {"place": "devant le marché"}  # type: ignore[assignment]
    reference = await created_reference(await client.post(f"{API}/requests.json", json=body))
    [(record, _)] = await store.export_complaints()
    assert record.reference == reference
    assert record.commune == "ML090104" and record.place == "devant le marché"


async def test_post_xml_answers_in_xml(client: Client) -> None:
    resp = await client.post(f"{API}/requests.xml", data=GOOD)
    assert resp.status == 200 and resp.content_type == "text/xml"
    root = ET.fromstring(await resp.read())
    assert root.tag == "service_requests"
    assert root.findtext("request/service_request_id")
    assert root.findtext("request/service_notice")


async def test_post_located_by_address_string_only(
    client: Client, store: SqliteStore, pack: ContentPack
) -> None:
    form = {k: v for k, v in GOOD.items() if k != "address_id"}
    resp = await client.post(
        f"{API}/requests.json", data=form | {"address_string": "Quartier Plateau, Bangassi"}
    )
    await created_reference(resp)
    [(record, _)] = await store.export_complaints()
    assert record.commune == "ML010101" and record.place == "Quartier Plateau, Bangassi"
    # Benkadi is the name of three communes: the client is told which, and nothing is filed.
    resp = await client.post(f"{API}/requests.json", data=form | {"address_string": "Benkadi"})
    [err] = await resp.json()
    assert resp.status == 400 and err["code"] == 400
    assert {"ML020302", "ML020402", "ML030701"} <= set(err["description"].replace(";", " ").split())
    resp = await client.post(f"{API}/requests.json", data=form | {"address_string": "Paris"})
    assert resp.status == 400
    assert len(await store.export_complaints()) == 1


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/requests.json", {"params": {"start_date": "yesterday"}}, 400),
        ("GET", "/requests.json", {"params": {"end_date": "0001-01-01"}}, 400),
        ("GET", "/requests.json", {"params": {"start_date": "9999-12-31T23:59:59"}}, 400),
        ("GET", "/requests.json", {"params": {"page_size": "0"}}, 400),
        ("POST", "/requests.json", {"data": GOOD | {"api_key": "nope"}}, 403),
        ("POST", "/requests.json", {"data": "{not json", "headers": JSON_TYPE}, 400),
        ("GET", "/requests/ZZZZ-ZZZZ.json", {}, 404),
        ("GET", "/services/NOPE.json", {}, 404),
        ("GET", "/services.json", {"params": {"jurisdiction_id": "paris"}}, 404),
        ("GET", "/nowhere.json", {}, 404),
        ("DELETE", "/requests.json", {}, 405),
        ("POST", "/services.json", {}, 405),
    ],
)
async def test_error_bodies(
    client: Client, method: str, path: str, kwargs: dict[str, Any], status: int
) -> None:
    for fmt in ("json", "xml"):
        resp = await client.request(method, API + path.replace(".json", f".{fmt}"), **kwargs)
        assert resp.status == status
        if fmt == "json":
            [err] = await resp.json()
            assert err["code"] == status and err["description"]
        else:
            root = ET.fromstring(await resp.read())
            assert root.tag == "errors"
            assert root.findtext("error/code") == str(status)
            assert root.findtext("error/description")


async def test_cors_for_reads(client: Client) -> None:
    resp = await client.get(f"{API}/services.json", headers={"Origin": "https://carte.example"})
    assert resp.headers["Access-Control-Allow-Origin"] == "*"
    resp = await client.get(f"{API}/requests/ZZZZ-ZZZZ.json")
    assert resp.status == 404 and resp.headers["Access-Control-Allow-Origin"] == "*"
    preflight = await client.options(
        f"{API}/requests.json",
        headers={"Origin": "https://carte.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status == 204
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert "POST" not in preflight.headers["Access-Control-Allow-Methods"]


async def test_sensitive_categories_are_never_listed(
    client: Client, store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    bribe = await complain(store, pack, clock.now - timedelta(days=1), category="corruption")
    water = await complain(store, pack, clock.now - timedelta(days=1))
    listed = await (await client.get(f"{API}/requests.json")).json()
    assert [r["service_request_id"] for r in listed] == [water.reference]
    resp = await client.get(f"{API}/requests.json", params={"service_code": "BRIBERY"})
    assert await resp.json() == []
    resp = await client.get(f"{API}/requests/{bribe.reference}.json")
    assert resp.status == 404
    resp = await client.get(f"{API}/requests.json", params={"service_request_id": bribe.reference})
    assert await resp.json() == []


async def test_public_text_without_phone_number_and_cso_fields(
    client: Client, store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    record = await complain(
        store, pack, clock.now - timedelta(days=2), public=True, description=PHONE_TEXT
    )
    async with store.transaction() as tx:
        tx.save_complaint(replace(record, status="resolved", updated_at=clock.now))
        tx.add_event(
            record.id,
            "resolved",
            clock.now,
            partner_id="exemple-kayes",
            note="Forage réparé le 20/11. Contact mairie : 76 11 22 33.",
        )
    for path in ("/requests.json", "/requests.xml"):
        text = await (await client.get(API + path)).text()
        assert "Forage en panne" in text and "[numéro masqué]" in text
        assert "70 12 34 56" not in text and "76 11 22 33" not in text
    [item] = await (await client.get(f"{API}/requests.json")).json()
    assert item["status"] == "closed"
    assert item["status_notes"] == "Forage réparé le 20/11. Contact mairie : [numéro masqué]."
    assert item["agency_responsible"] == "OSC exemple, région de Kayes (EXEMPLE)"
    assert {"service_notice", "expected_datetime", "description"} <= set(item)


async def test_paging_in_sql(
    client: Client, store: SqliteStore, pack: ContentPack, clock: FakeClock
) -> None:
    made = [await complain(store, pack, clock.now - timedelta(hours=h)) for h in range(1, 6)]
    newest_first = [r.reference for r in made]

    async def page(number: int) -> list[str]:
        params = {"page": str(number), "page_size": "2"}
        return [
            r["service_request_id"]
            for r in await (await client.get(f"{API}/requests.json", params=params)).json()
        ]

    assert await page(1) == newest_first[:2]
    assert await page(2) == newest_first[2:4]
    assert await page(3) == newest_first[4:]
    assert await page(4) == []


async def test_jurisdiction_is_checked(client: Client) -> None:
    ok = await client.get(f"{API}/services.json", params={"jurisdiction_id": "mali"})
    assert ok.status == 200
    resp = await client.post(f"{API}/requests.json", data=GOOD | {"jurisdiction_id": "bamako"})
    assert resp.status == 404

"""Open311 GeoReport v2 (JSON only): the categories as services, public requests, partner posts."""

from __future__ import annotations

import hmac
import logging
import math
import random
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from complaints.lifecycle import OPEN
from complaints.reference import normalize_reference
from content.pack import ContentPack
from handlers.complaint import DESCRIPTION_LIMIT, DESCRIPTION_MIN
from handlers.complaint_submit import Draft, submit_complaint
from storage.records import ComplaintRecord
from storage.sqlite import SqliteStore

log = logging.getLogger(__name__)

PREFIX = "/open311/v2"
MAX_RESULTS = 1000  # the spec leaves it to the server and recommends 1000
WINDOW = timedelta(days=90)  # the default range, and the widest one the spec allows
# A lat/long this far (in degrees) outside the box of the pack's commune centroids is refused
# rather than filed in the "nearest" commune: clients send 0,0 by mistake. The margin is wide
# because the centroids of the vast northern communes lie hundreds of km from the border.
POSITION_MARGIN = 3.5
NOTICE = (
    "Signalement enregistré et transmis aux organisations de la société civile "
    "qui suivent cette commune."
)

Clock = Callable[[], datetime]


def add_open311_routes(
    app: web.Application,
    store: SqliteStore,
    packs: Callable[[], ContentPack],
    api_key: str | None,
    clock: Clock,
    rng: random.Random,
) -> None:
    """Serve GeoReport v2 under /open311/v2; POST only with `api_key` (None disables it)."""
    api = _Open311(store, packs, api_key, clock, rng)
    # One pattern per resource with the format as a variable, so `.xml` gets a clear 400.
    fmt = "{format:[^/.]+}"
    app.router.add_get(f"{PREFIX}/services.{fmt}", api.services)
    app.router.add_get(f"{PREFIX}/requests.{fmt}", api.list_requests)
    app.router.add_post(f"{PREFIX}/requests.{fmt}", api.create)
    app.router.add_get(f"{PREFIX}/requests/{{id:[^/.]+}}.{fmt}", api.one_request)


def error(status: int, description: str) -> web.Response:
    """The spec's error shape: a list of {code, description}."""
    return web.json_response([{"code": status, "description": description}], status=status)


class _BadRequest(Exception):
    """Input the client must fix; the message is shown to it."""


class _Open311:
    def __init__(
        self,
        store: SqliteStore,
        packs: Callable[[], ContentPack],
        api_key: str | None,
        clock: Clock,
        rng: random.Random,
    ) -> None:
        self.store = store
        self.packs = packs
        # An empty key would match a form without api_key: treat it as "disabled".
        self.api_key = api_key or None
        self.clock = clock
        self.rng = rng

    async def services(self, request: web.Request) -> web.Response:
        """One service per complaint category."""
        if request.match_info["format"] != "json":
            return _json_only()
        pack = self.packs()
        return web.json_response(
            [
                {
                    "service_code": category.service_code,
                    "service_name": pack.pick(category.label, "fr"),
                    "description": pack.pick(category.description, "fr"),
                    "metadata": False,
                    "type": "realtime",
                    "keywords": "",
                    "group": "",
                }
                for category in pack.categories
            ]
        )

    async def list_requests(self, request: web.Request) -> web.Response:
        """Requests by ids, or filtered by service, dates and status; newest first."""
        if request.match_info["format"] != "json":
            return _json_only()
        pack = self.packs()
        query = request.query
        try:
            if "service_request_id" in query:
                # As the spec says, ids override every other parameter.
                found = await self._by_references(_split(query["service_request_id"]))
            else:
                found = await self._search(pack, query)
        except _BadRequest as exc:
            return error(400, str(exc))
        found.sort(key=lambda r: r.created_at, reverse=True)
        return web.json_response([public_request(pack, r) for r in found[:MAX_RESULTS]])

    async def one_request(self, request: web.Request) -> web.Response:
        """One request by reference, as a list of one."""
        if request.match_info["format"] != "json":
            return _json_only()
        found = await self._by_references([request.match_info["id"]])
        if not found:
            return error(404, "no service request with this service_request_id")
        return web.json_response([public_request(self.packs(), found[0])])

    async def create(self, request: web.Request) -> web.Response:
        """A partner system files a complaint (form-encoded, with its api_key)."""
        if request.match_info["format"] != "json":
            return _json_only()
        if self.api_key is None:
            return error(403, "submitting service requests is disabled on this server")
        form = await request.post()
        given = form.get("api_key")
        if not isinstance(given, str) or not hmac.compare_digest(
            given.encode(), self.api_key.encode()
        ):
            return error(403, "invalid api_key")
        pack = self.packs()
        fields = {k: v for k, v in form.items() if isinstance(v, str)}
        try:
            draft = _draft(pack, fields)
        except _BadRequest as exc:
            return error(400, str(exc))
        # Personal fields of the spec (email, phone, names, device_id) are ignored on purpose:
        # nobody agreed, in the bot's own words, to hand them to a CSO.
        async with self.store.transaction() as tx:
            record, _ = await submit_complaint(
                tx,
                pack,
                self.clock(),
                self.rng,
                draft,
                user_key=None,
                channel="open311",
                chat_id=None,
                lang="fr",
            )
        log.info("open311: complaint %s submitted", record.reference)
        return web.json_response(
            [{"service_request_id": record.reference, "service_notice": NOTICE}]
        )

    async def _by_references(self, typed: list[str]) -> list[ComplaintRecord]:
        references = {ref for ref in map(normalize_reference, typed) if ref is not None}
        if len(references) > MAX_RESULTS:
            raise _BadRequest(f"at most {MAX_RESULTS} service_request_id at once")
        found = []
        async with self.store.transaction() as tx:  # reads only: nothing is committed
            for reference in sorted(references):
                record = await tx.complaint_by_reference(reference)
                if record is not None:
                    found.append(record)
        return found

    async def _search(self, pack: ContentPack, query: Mapping[str, str]) -> list[ComplaintRecord]:
        start, end = _window(query.get("start_date"), query.get("end_date"), self.clock())
        statuses = set(_split(query.get("status", "")))
        if not statuses <= {"open", "closed"}:
            raise _BadRequest("status must be open, closed or both (comma separated)")
        codes = set(_split(query.get("service_code", "")))
        categories = {c.id for c in pack.categories if c.service_code in codes}
        rows = await self.store.export_complaints(since=start)
        return [
            record
            for record, _ in rows
            if record.created_at <= end
            and (not statuses or _status(record) in statuses)
            and (not codes or record.category in categories)
        ]


def public_request(pack: ContentPack, record: ComplaintRecord) -> dict[str, Any]:
    """What anyone may read about a complaint: never who sent it, the description if public."""
    category = pack.category(record.category)
    commune = pack.communes.by_pcode.get(record.commune)
    item: dict[str, Any] = {
        "service_request_id": record.reference,
        "status": _status(record),
        "status_notes": None,
        "service_name": pack.pick(category.label, "fr") if category else record.category,
        "service_code": category.service_code if category else None,
        "requested_datetime": stamp(record.created_at),
        "updated_datetime": stamp(record.updated_at),
        "address": f"{commune.name}, {commune.cercle}, {commune.region}" if commune else None,
        "address_id": record.commune,
        "zipcode": None,
        "lat": commune.lat if commune else None,
        "long": commune.lon if commune else None,
        "media_url": None,
        "agency_responsible": None,
    }
    if record.public:
        item["description"] = record.description
    return item


def stamp(moment: datetime) -> str:
    """W3C datetime in UTC, to the second, as the spec's examples."""
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _status(record: ComplaintRecord) -> str:
    return "open" if record.status in OPEN else "closed"


def _json_only() -> web.Response:
    return error(400, "only the JSON format is served: use .json")


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def _moment(name: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        # An unencoded "+" in a query string arrives as a space: "...T10:00:00 00:00".
        try:
            moment = datetime.fromisoformat(text.replace(" ", "+"))
        except ValueError:
            raise _BadRequest(f"{name} must be an ISO 8601 datetime") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _window(
    start_text: str | None, end_text: str | None, now: datetime
) -> tuple[datetime, datetime]:
    start = _moment("start_date", start_text) if start_text else None
    end = _moment("end_date", end_text) if end_text else None
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - WINDOW
    if end is None:
        end = start + WINDOW
    if end < start:
        raise _BadRequest("end_date is before start_date")
    if end - start > WINDOW:
        raise _BadRequest("start_date and end_date may not span more than 90 days")
    return start, end


def _draft(pack: ContentPack, form: dict[str, str]) -> Draft:
    code = form.get("service_code", "").strip()
    category = next((c for c in pack.categories if c.service_code == code), None)
    if category is None:
        raise _BadRequest("unknown service_code: see services.json")
    description = form.get("description", "").strip()
    if not DESCRIPTION_MIN <= len(description) <= DESCRIPTION_LIMIT:
        raise _BadRequest(
            f"description is required, {DESCRIPTION_MIN} to {DESCRIPTION_LIMIT} characters"
        )
    return Draft(category=category.id, commune=_commune(pack, form), description=description)


def _commune(pack: ContentPack, form: dict[str, str]) -> str:
    address_id = form.get("address_id", "").strip()
    if address_id:
        if address_id not in pack.communes.by_pcode:
            raise _BadRequest("address_id must be a commune P-code (like ML010101)")
        return address_id
    if not form.get("lat") or not form.get("long"):
        raise _BadRequest("address_id (a commune P-code) or lat and long is required")
    try:
        lat, lon = float(form["lat"]), float(form["long"])
    except ValueError:
        raise _BadRequest("lat and long must be decimal degrees") from None
    if not _covered(pack, lat, lon):
        raise _BadRequest("lat and long are outside the communes this server covers")
    return pack.communes.nearest(lat, lon).pcode


def _covered(pack: ContentPack, lat: float, lon: float) -> bool:
    communes = pack.communes.communes
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return False
    south, north = min(c.lat for c in communes), max(c.lat for c in communes)
    west, east = min(c.lon for c in communes), max(c.lon for c in communes)
    margin = POSITION_MARGIN
    return south - margin <= lat <= north + margin and west - margin <= lon <= east + margin

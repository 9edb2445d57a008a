"""Reading Open311 input: date windows, paging, POST fields from query, form or JSON."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from aiohttp import web

from bot.open311.web import Open311Error
from content.pack import ContentPack
from handlers.complaints.intake import DESCRIPTION_LIMIT, DESCRIPTION_MIN, PLACE_LIMIT
from handlers.complaints.submit import Draft

WINDOW = timedelta(days=90)  # the default range, and the widest one the spec allows
PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000  # the spec leaves the limit to the server and recommends 1000
# A lat/long this far (in degrees) outside the box of the pack's commune centroids is refused
# rather than filed in the "nearest" commune: clients send 0,0 by mistake. The margin is wide
# because the centroids of the vast northern communes lie hundreds of km from the border.
POSITION_MARGIN = 3.5
# The earliest and latest moments a window may reach: 90 days inside datetime's range, so
# that no arithmetic on them overflows (year 1 or 9999 are a client's mistake anyway).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def bad(description: str) -> Open311Error:
    """A 400 the client must fix."""
    return Open311Error(400, description)


def split(text: str) -> list[str]:
    """The items of a comma-separated parameter."""
    return [part.strip() for part in text.split(",") if part.strip()]


def moment(name: str, text: str) -> datetime:
    """A W3C/ISO 8601 datetime between 1970 and 9000, UTC when no offset is given."""
    try:
        found = datetime.fromisoformat(text)
    except ValueError:
        # An unencoded "+" in a query string arrives as a space: "...T10:00:00 00:00".
        try:
            found = datetime.fromisoformat(text.replace(" ", "+"))
        except ValueError:
            raise bad(f"{name} must be an ISO 8601 datetime") from None
    try:
        found = found if found.tzinfo else found.replace(tzinfo=UTC)
        inside = EARLIEST <= found <= LATEST
    except OverflowError:  # an offset that pushes year 1 or 9999 out of range
        inside = False
    if not inside:
        raise bad(f"{name} must lie between 1970 and 9000")
    return found


def window(query: Mapping[str, str], now: datetime) -> tuple[datetime, datetime]:
    """start_date and end_date, defaulting to the last 90 days; at most 90 days apart."""
    start = moment("start_date", query["start_date"]) if query.get("start_date") else None
    end = moment("end_date", query["end_date"]) if query.get("end_date") else None
    if start is None and end is None:
        end = now
    if start is None:
        assert end is not None
        start = end - WINDOW
    if end is None:
        end = start + WINDOW
    if end < start:
        raise bad("end_date is before start_date")
    if end - start > WINDOW:
        raise bad("start_date and end_date may not span more than 90 days")
    return start, end


def paging(query: Mapping[str, str]) -> tuple[int, int]:
    """(limit, offset) from page (from 1) and page_size (1 to 1000)."""
    page = _whole(query, "page", 1, 1, 1_000_000)
    size = _whole(query, "page_size", PAGE_SIZE, 1, MAX_PAGE_SIZE)
    return size, (page - 1) * size


def _whole(query: Mapping[str, str], name: str, default: int, low: int, high: int) -> int:
    text = query.get(name, "").strip()
    if not text:
        return default
    if not text.isascii() or not text.isdigit() or len(text) > 9 or not low <= int(text) <= high:
        raise bad(f"{name} must be a whole number from {low} to {high}")
    return int(text)


async def post_fields(request: web.Request) -> dict[str, str]:
    """The fields of a POST: the query string, then the form or JSON body (the body wins)."""
    fields = {k: v for k, v in request.query.items()}
    if request.content_type == "application/json":
        try:
            body = json.loads(await request.text())
        except (ValueError, RecursionError):
            raise bad("the body is not valid JSON") from None
        if not isinstance(body, dict):
            raise bad("the JSON body must be an object")
        for key, value in body.items():
            if key == "attribute" and isinstance(value, dict):
                fields.update({f"attribute[{k}]": _text(v) for k, v in value.items()})
            else:
                fields[key] = _text(value)
    else:
        form = await request.post()
        fields.update({k: v for k, v in form.items() if isinstance(v, str)})
    return fields


def _text(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    raise bad("fields must be strings or numbers")


def draft(pack: ContentPack, fields: Mapping[str, str]) -> Draft:
    """The complaint a POST describes; personal fields of the spec are ignored."""
    code = fields.get("service_code", "").strip()
    category = next((c for c in pack.categories if c.service_code == code), None)
    if category is None:
        raise bad("unknown service_code: see services.json")
    description = fields.get("description", "").strip()
    if not DESCRIPTION_MIN <= len(description) <= DESCRIPTION_LIMIT:
        raise bad(f"description is required, {DESCRIPTION_MIN} to {DESCRIPTION_LIMIT} characters")
    place = (fields.get("attribute[place]") or fields.get("address_string") or "").strip()
    if len(place) > PLACE_LIMIT:
        raise bad(f"attribute[place] and address_string take at most {PLACE_LIMIT} characters")
    return Draft(
        category=category.id,
        commune=commune(pack, fields),
        description=description,
        place=place or None,
    )


def commune(pack: ContentPack, fields: Mapping[str, str]) -> str:
    """The commune of a POST: address_id, else lat/long, else address_string."""
    address_id = fields.get("address_id", "").strip()
    if address_id:
        if address_id not in pack.communes.by_pcode:
            raise bad("address_id must be a commune P-code (like ML010101)")
        return address_id
    if fields.get("lat") or fields.get("long"):
        return _by_position(pack, fields.get("lat", ""), fields.get("long", ""))
    if fields.get("address_string", "").strip():
        return by_name(pack, fields["address_string"])
    raise bad("address_id (a commune P-code), lat and long, or address_string is required")


def _by_position(pack: ContentPack, lat_text: str, lon_text: str) -> str:
    if not lat_text or not lon_text:
        raise bad("lat and long go together")
    try:
        lat, lon = float(lat_text), float(lon_text)
    except ValueError:
        raise bad("lat and long must be decimal degrees") from None
    if not _covered(pack, lat, lon):
        raise bad("lat and long are outside the communes this server covers")
    return pack.communes.nearest(lat, lon).pcode


def by_name(pack: ContentPack, address: str) -> str:
    """The one commune an address names (whole, or one of its comma-separated parts)."""
    parts = [address, *reversed(split(address))]  # "quartier, commune, cercle": end first
    for part in parts:
        found = pack.communes.match(part[:100], limit=5)
        exact = [c for c, score in found if score >= 100]
        candidates = exact or [c for c, score in found if score >= 90]
        if len(candidates) == 1:
            return candidates[0].pcode
        if candidates:
            listed = "; ".join(f"{c.name} ({c.cercle}, {c.region}): {c.pcode}" for c in candidates)
            raise bad(f"address_string matches several communes, give address_id: {listed}")
    raise bad("address_string names no commune this server knows: give address_id or lat/long")


def _covered(pack: ContentPack, lat: float, lon: float) -> bool:
    communes = pack.communes.communes
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return False
    south, north = min(c.lat for c in communes), max(c.lat for c in communes)
    west, east = min(c.lon for c in communes), max(c.lon for c in communes)
    margin = POSITION_MARGIN
    return south - margin <= lat <= north + margin and west - margin <= lon <= east + margin

"""What Open311 publishes: services, service definitions, public requests, discovery."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from complaints.lifecycle import OPEN
from complaints.scrub import scrub_contacts
from content.pack import ContentPack
from content.schema import ComplaintCategory
from handlers.complaints.intake import PLACE_LIMIT
from storage.open311_records import PublicRow

SPECIFICATION = "http://wiki.open311.org/GeoReport_v2"
CHANGESET = "2026-12-01T00:00:00Z"  # when the routes or fields below last changed
NOTICE = (
    "Signalement enregistré et transmis aux organisations de la société civile "
    "qui suivent cette commune."
)


def service(pack: ContentPack, category: ComplaintCategory) -> dict[str, Any]:
    """One complaint category as a GeoReport service."""
    return {
        "service_code": category.service_code,
        "service_name": pack.pick(category.label, "fr"),
        "description": pack.pick(category.description, "fr"),
        "metadata": True,  # every service has the `place` attribute
        "type": "realtime",
        "keywords": "",
        "group": "",
    }


def definition(category: ComplaintCategory) -> dict[str, Any]:
    """The service definition: the questions a client may ask beyond the standard fields."""
    return {
        "service_code": category.service_code,
        "attributes": [
            {
                "variable": True,
                "code": "place",
                "datatype": "string",
                "required": False,
                "datatype_description": f"Texte libre, {PLACE_LIMIT} caractères au plus.",
                "order": 1,
                "description": "Où exactement ? (quartier, rue, repère)",
                "values": [],
            }
        ],
    }


def public_request(pack: ContentPack, row: PublicRow) -> dict[str, Any]:
    """What anyone may read about a complaint: never who sent it, the description if public."""
    record = row.record
    category = pack.category(record.category)
    commune = pack.communes.by_pcode.get(record.commune)
    names = [p.name for p in (pack.partner(pid) for pid in row.partners) if p is not None]
    return {
        "service_request_id": record.reference,
        "status": "open" if record.status in OPEN else "closed",
        "status_notes": scrub_contacts(row.note) if row.note else None,
        "service_name": pack.pick(category.label, "fr") if category else record.category,
        "service_code": category.service_code if category else None,
        # Published only when the citizen agreed, and even then without phone or e-mail.
        "description": scrub_contacts(record.description) if record.public else None,
        "agency_responsible": ", ".join(names) or None,
        "service_notice": None,
        "requested_datetime": day(record.created_at),
        "updated_datetime": day(record.updated_at),
        "expected_datetime": None,
        "address": f"{commune.name}, {commune.cercle}, {commune.region}" if commune else None,
        "address_id": record.commune,
        "zipcode": None,
        "lat": commune.lat if commune else None,
        "long": commune.lon if commune else None,
        "media_url": None,
    }


def day(moment: datetime) -> str:
    """The day only (W3C datetime at midnight UTC): the hour could point to who complained."""
    start = moment.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return start.isoformat(timespec="seconds")


def discovery(base_url: str, pack: ContentPack, key_service: str) -> dict[str, Any]:
    """The discovery document: where the endpoint is and what it speaks."""
    return {
        "changeset": CHANGESET,
        "contact": pack.manifest.name,
        "key_service": key_service,
        "endpoints": [
            {
                "specification": SPECIFICATION,
                "url": base_url,
                "changeset": CHANGESET,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }

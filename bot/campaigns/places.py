"""A campaign's audience by place names: 'regions: [Segou]' means the region of Ségou."""

from __future__ import annotations

from bot.campaigns.model import Campaign
from content.communes import CommuneIndex
from content.places import Kind, PlaceError, resolver


def resolve_places(campaign: Campaign, communes: CommuneIndex) -> tuple[Campaign, list[str]]:
    """The campaign with P-codes in its audience, and a problem for each unknown name."""
    places = resolver(communes)
    problems: list[str] = []
    audience = campaign.audience
    resolved: dict[str, list[str]] = {}
    fields: tuple[tuple[str, Kind], ...] = (("regions", "region"), ("communes", "commune"))
    for field, kind in fields:
        codes: list[str] = []
        for typed in getattr(audience, field):
            try:
                codes.append(places.resolve(typed, (kind,)).pcode)
            except PlaceError as exc:
                # An unknown place would silently reach nobody: it is an error.
                problems.append(f"audience.{field}: {exc}")
        resolved[field] = list(dict.fromkeys(codes))
    updated = audience.model_copy(update=resolved)
    return campaign.model_copy(update={"audience": updated}), problems

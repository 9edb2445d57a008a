"""A CSO as staff name it: its id, its name, or a place it covers ('Segou')."""

from __future__ import annotations

from bot.staff import say
from content.pack import ContentPack
from content.places import PlaceError, resolver
from content.schema import Partner
from content.text import fold


def find_partner(pack: ContentPack, typed: str) -> tuple[Partner | None, str]:
    """The one CSO meant, or None and a message listing the candidates."""
    exact = pack.partner(typed.strip())
    if exact is not None:
        return exact, ""
    folded = fold(typed)
    named = [p for p in pack.partners if folded and folded in fold(p.name)]
    if not named:
        try:
            place = resolver(pack.communes).resolve(typed)
        except PlaceError:
            place = None
        if place is not None:
            commune = pack.communes.by_pcode.get(place.pcode)
            codes = {place.pcode}
            if commune is not None:
                codes |= {commune.cercle_pcode, commune.region_pcode}
            elif place.kind == "cercle":
                codes.add(place.pcode[:4])
            named = [
                p
                for p in pack.partners
                if not p.desk and codes & {*p.area.regions, *p.area.cercles, *p.area.communes}
            ]
    if len(named) == 1:
        return named[0], ""
    if named:
        names = "; ".join(f"{p.name} ({p.id})" for p in named)
        return None, say("cso_ambiguous", typed=typed, names=names)
    known = ", ".join(p.id for p in pack.partners)
    return None, say("cso_unknown", typed=typed, known=known)

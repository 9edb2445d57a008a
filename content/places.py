"""Places by name or P-code: communes, cercles and regions as staff type them."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal
from weakref import WeakKeyDictionary

from rapidfuzz import fuzz, process

from content.communes import CommuneIndex
from content.text import fold

Kind = Literal["region", "cercle", "commune"]
ALL_KINDS: tuple[Kind, ...] = ("commune", "cercle", "region")
# A misspelling is taken only when it is this close and clearly closer than anything else.
_ACCEPT = 90.0
_MARGIN = 6.0
_SUGGEST = 70.0
# How French spellings are typed by SMS or in Bambara: Ségou/Segu, Djenné/Jenne, Kati/Qati.
_SOUNDS = (
    ("dj", "j"),
    ("ou", "u"),
    ("w", "u"),
    ("ch", "sh"),
    ("qu", "k"),
    ("c", "k"),
    ("gn", "ny"),
)


@dataclass(frozen=True, slots=True)
class Place:
    """A region, cercle or commune, with what tells it apart from its namesakes."""

    kind: Kind
    pcode: str
    name: str
    within: str = ""  # 'cercle de Ségou, région de Ségou' for a commune

    def describe(self) -> str:
        """'Markala (commune, cercle de Segou, région de Segou) ML040406'."""
        label = {"region": "région", "cercle": "cercle", "commune": "commune"}[self.kind]
        where = f", {self.within}" if self.within else ""
        return f"{self.name} ({label}{where}) {self.pcode}"


class PlaceError(ValueError):
    """A name that matches no place, or several: the message lists what it could be."""

    def __init__(self, typed: str, candidates: Sequence[Place], ambiguous: bool) -> None:
        self.typed, self.candidates, self.ambiguous = typed, tuple(candidates), ambiguous
        listed = "; ".join(p.describe() for p in self.candidates)
        if ambiguous:
            message = (
                f"« {typed} » peut désigner plusieurs lieux : {listed}. Précisez avec le code."
            )
        elif listed:
            message = f"Lieu inconnu : « {typed} ». Vouliez-vous dire : {listed} ?"
        else:
            message = f"Lieu inconnu : « {typed} » (ni nom ni code de communes.csv)."
        super().__init__(message)


def _places(index: CommuneIndex) -> list[Place]:
    seen: dict[str, Place] = {}
    for c in index.communes:
        seen.setdefault(c.region_pcode, Place("region", c.region_pcode, c.region))
        seen.setdefault(
            c.cercle_pcode, Place("cercle", c.cercle_pcode, c.cercle, f"région de {c.region}")
        )
        seen[c.pcode] = Place(
            "commune", c.pcode, c.name, f"cercle de {c.cercle}, région de {c.region}"
        )
    return list(seen.values())


def sms_key(text: str) -> str:
    """A spelling-free key: 'Ségou', 'SEGOU', 'segu' and 'Djenné'/'Jenne' share one."""
    key = fold(text).replace(" ", "")
    for written, said in _SOUNDS:
        key = key.replace(written, said)
    key = key.replace("h", "") if "sh" not in key else key
    squeezed = "".join(ch for i, ch in enumerate(key) if i == 0 or ch != key[i - 1])
    return squeezed


def _keys(place: Place) -> set[str]:
    """The folded names a place answers to ('Kayes Commune' is also just 'Kayes')."""
    names = {fold(place.name)}
    if place.kind == "commune":
        names.add(fold(place.name.removesuffix(" Commune")))
    return names


def resolver(index: CommuneIndex) -> PlaceResolver:
    """The resolver of a pack's communes, built once per loaded pack."""
    found = _RESOLVERS.get(index)
    if found is None:
        found = _RESOLVERS[index] = PlaceResolver(index)
    return found


class PlaceResolver:
    """Names (accents, case, SMS spelling folded) and P-codes to places."""

    def __init__(self, index: CommuneIndex) -> None:
        self.index = index
        self.places = _places(index)
        self.by_pcode = {p.pcode: p for p in self.places}

    def resolve(self, typed: str, kinds: Iterable[Kind] = ALL_KINDS) -> Place:
        """The one place meant; PlaceError when none or several fit."""
        wanted = tuple(kinds)
        text = typed.strip()
        coded = self.by_pcode.get(text.upper())
        if coded is not None and coded.kind in wanted:
            return coded
        pool = [p for p in self.places if p.kind in wanted]
        query = fold(text)
        if not query:
            raise PlaceError(typed, [], ambiguous=False)
        exact = [p for p in pool if query in _keys(p)]
        if len(exact) > 1 and len(wanted) > 1:
            # 'Segou' is a region, a cercle and a commune: the kind asked for first wins.
            for kind in wanted:
                of_kind = [p for p in exact if p.kind == kind]
                if of_kind:
                    exact = of_kind
                    break
        if not exact:
            typed_key = sms_key(text)
            exact = [p for p in pool if typed_key in {sms_key(k) for k in _keys(p)}]
        if len(exact) == 1:
            return exact[0]
        if exact:
            raise PlaceError(typed, exact, ambiguous=True)
        choices = {i: " ".join(sorted(_keys(p))) for i, p in enumerate(pool)}
        found = process.extract(query, choices, scorer=fuzz.WRatio, limit=5)
        scored = [(pool[i], float(score)) for _, score, i in found]
        if scored and scored[0][1] >= _ACCEPT:
            second = scored[1][1] if len(scored) > 1 else 0.0
            if scored[0][1] - second >= _MARGIN:
                return scored[0][0]
        raise PlaceError(typed, [p for p, s in scored[:3] if s >= _SUGGEST], ambiguous=False)

    def resolve_all(self, typed: Iterable[str], kinds: Iterable[Kind] = ALL_KINDS) -> list[Place]:
        """Several places (a comma-separated list, or repeated options), each resolved."""
        wanted = tuple(kinds)
        names = [part.strip() for item in typed for part in item.split(",") if part.strip()]
        return list({p.pcode: p for p in (self.resolve(n, wanted) for n in names)}.values())

    def communes_in(self, place: Place) -> list[str]:
        """The commune P-codes a place covers."""
        if place.kind == "commune":
            return [place.pcode]
        key = "region_pcode" if place.kind == "region" else "cercle_pcode"
        return [c.pcode for c in self.index.communes if getattr(c, key) == place.pcode]

    def name(self, pcode: str) -> str:
        """The name of a P-code, or the code itself when it is not a place."""
        place = self.by_pcode.get(pcode)
        return place.name if place else pcode


_RESOLVERS: WeakKeyDictionary[CommuneIndex, PlaceResolver] = WeakKeyDictionary()


def communes_named(index: CommuneIndex, typed: str) -> list[str]:
    """Commune P-codes for 'Markala, Segou' (a cercle or region brings all its communes)."""
    places = resolver(index)
    found = places.resolve_all([typed])
    return list(dict.fromkeys(code for p in found for code in places.communes_in(p)))

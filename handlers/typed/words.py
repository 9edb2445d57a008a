"""Typed words bound to the screen the person sees: labels, words of labels, synonyms.

People on WhatsApp type `suite`, `eau`, `ségou`, `oui`, `ɔwɔ` or `1.` rather than tap. This
module decides, without I/O, which of the choices on screen such a text names, if any; the
engine then acts as if the choice had been tapped. Nothing here matches when in doubt (two
choices equally named): the text then goes on to the safety check, keywords and search.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from content.search import STOPWORDS
from content.text import fold, rememberable
from handlers.messages import Choice

# SMS spellings and short forms, folded, to the words labels use.
SMS = {
    "pb": "probleme",
    "pbm": "probleme",
    "prob": "probleme",
    "problem": "probleme",
    "sinaler": "signaler",
    "signale": "signaler",
    "signaller": "signaler",
    "suivt": "suivant",
    "suiv": "suivant",
    "kestion": "question",
    "qestion": "question",
    "repondr": "repondre",
    "repond": "repondre",
    "continu": "continuer",
    "kontinuer": "continuer",
    "anuler": "annuler",
    "annule": "annuler",
    "anule": "annuler",
    "envoye": "envoyer",
    "envoi": "envoyer",
    "mn": "mon",
    "ms": "mes",
    "ma": "ma",
    "ouii": "oui",
    "wi": "oui",
    "ouai": "oui",
    "ouais": "oui",
    "nn": "non",
    "nan": "non",
}
# Politeness around a choice ("suite svp", "oui merci") does not change which one it is.
FILLERS = frozenset({"svp", "stp", "sil", "vous", "plait", "merci", "please", "je", "veux"})

# Words that name the role of a choice rather than its label, French and Bambara, folded.
ROLES: dict[str, frozenset[str]] = {
    "yes": frozenset({"oui", "yes", "d accord", "daccord", "dacord", "owo", "awo"}),
    "no": frozenset({"non", "no", "ayi", "ayi de", "ayi n t a fe"}),
    "next": frozenset(
        {"suite", "la suite", "suivant", "suivante", "prochain", "next", "to", "a to", "a to ye"}
    ),
    "back": frozenset({"retour", "revenir", "precedent", "back", "retourner", "segin", "ka segin"}),
    "continue": frozenset({"continuer", "continue", "on continue", "taa a fe", "a taa a fe"}),
    "send": frozenset({"envoyer", "valider", "confirmer", "confirme", "a ci", "a bila sira"}),
    "cancel": frozenset({"annuler", "abandonner", "laisser tomber", "a dabila", "dabila"}),
    "skip": frozenset({"passer", "sauter", "skip", "a teme", "a bila"}),
}
# Roles a choice has by its id, whatever its label's language.
_ID_ROLES: tuple[tuple[str, str], ...] = (
    (":cancel", "cancel"),
    (":yes", "yes"),
    ("_yes", "yes"),
    (":no", "no"),
    ("_no", "no"),
    ("skip", "skip"),
    ("nocomment", "skip"),
    ("media_done", "continue"),
    ("media_done", "next"),
    (":confirm", "send"),
    ("learn:page:", "next"),
    ("back_summary", "back"),
    ("learn:themes", "back"),
    ("menu:main", "back"),
)
# "2", "n°2", "choix 2", and as people answer a quiz: "la 2", "c la 2", "c'est la 2", "reponse 2".
_NUMBERED = re.compile(
    r"^(?:(?:c|c est|cest|ces|ce)\s+)?(?:(?:la|le)\s+)?"
    r"(?:(?:n|no|numero|num|choix|option|reponse|rep)\s*)?(\d{1,2})$"
)


def words_of(text: str) -> list[str]:
    """Folded words with SMS spellings normalised and politeness left out."""
    return list(_words(text))


def _words(text: str) -> tuple[str, ...]:
    # Labels and the short words people type repeat; anything longer is not kept (privacy).
    return _words_remembered(text) if rememberable(text) else _words_of(text)


@lru_cache(maxsize=8192)
def _words_remembered(text: str) -> tuple[str, ...]:
    return _words_of(text)


def _words_of(text: str) -> tuple[str, ...]:
    out = []
    for word in fold(text).split():
        word = SMS.get(word, word)
        if word not in FILLERS:
            out.append(word)
    return tuple(out)


@lru_cache(maxsize=4096)
def _roles(choice_id: str, label: str) -> frozenset[str]:
    found = {role for marker, role in _ID_ROLES if marker in choice_id}
    words = _words(label)
    phrase = " ".join(words)
    for role, synonyms in ROLES.items():
        if phrase in synonyms or any(word in synonyms for word in words):
            found.add(role)
    return frozenset(found)


def roles(choice: Choice) -> frozenset[str]:
    """What a choice does (yes, next, cancel...), from its id and the words of its label."""
    return _roles(choice.id, choice.label)


@dataclass(frozen=True, slots=True)
class _Index:
    """What a screen answers to, worked out once per screen (screens repeat a lot)."""

    exact: dict[str, tuple[int, ...]]
    by_role: dict[str, tuple[int, ...]]
    words: tuple[tuple[str, ...], ...]


@lru_cache(maxsize=2048)
def _index(screen: tuple[tuple[str, str, str], ...]) -> _Index:
    exact: dict[str, list[int]] = {}
    by_role: dict[str, list[int]] = {}
    words: list[tuple[str, ...]] = []
    for n, (choice_id, label, short) in enumerate(screen):
        for name in {label, short} - {""}:
            exact.setdefault(" ".join(_words(name)), []).append(n)
        for role in _roles(choice_id, label):
            by_role.setdefault(role, []).append(n)
        words.append(_words(label) + (_words(short) if short else ()))
    return _Index(
        {k: tuple(v) for k, v in exact.items()},
        {k: tuple(v) for k, v in by_role.items()},
        tuple(words),
    )


def _near(typed: str, word: str) -> bool:
    """Same word up to an ending (`signalement`/`signalements`) or one typo in a long word."""
    if typed == word:
        return True
    if len(typed) >= 4 and word.startswith(typed):
        return True
    if len(word) >= 5 and typed.startswith(word):
        return True
    if len(typed) >= 5 and len(word) >= 5 and abs(len(typed) - len(word)) <= 1:
        return _one_edit(typed, word)
    return False


def _one_edit(a: str, b: str) -> bool:
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) == len(b):
        return a[i + 1 :] == b[i + 1 :]
    return a[i:] == b[i + 1 :]


def number_of(text: str) -> int | None:
    """The number in `1.`, `n°2`, `choix 3`; None for anything else."""
    found = _NUMBERED.match(" ".join(_words(text)))
    return int(found.group(1)) if found else None


def pick(screen: Sequence[Choice], text: str, *, free_text_step: bool = False) -> Choice | None:
    """The choice on screen that `text` names, or None.

    At a step that takes free text (a description, a commune) only a whole label or a role
    word counts, so that an answer that merely contains a label's word stays an answer.
    """
    labelled = [c for c in screen if c.label]
    words = _words(text)
    if not labelled or not words:
        return None
    key = tuple((c.id, c.label, c.short_label or "") for c in labelled)
    # Remembered for the short words people type on the same screens (menu, oui, suite):
    # the near-word search runs over every label. Other texts are not kept (privacy).
    find = _pick_remembered if rememberable(text) else _pick
    found = find(key, words, free_text_step)
    return labelled[found] if found is not None else None


def _pick(
    screen: tuple[tuple[str, str, str], ...], words: tuple[str, ...], free: bool
) -> int | None:
    """The position of the choice `pick` finds."""
    index = _index(screen)
    phrase = " ".join(words)
    found = index.exact.get(phrase, ())
    if len(set(found)) == 1:
        return found[0]
    for role, synonyms in ROLES.items():
        hits = index.by_role.get(role, ()) if phrase in synonyms else ()
        if len(hits) == 1:
            return hits[0]
    if free or len(words) > 4:
        return None
    content = [w for w in words if w not in STOPWORDS and len(w) >= 2]
    if not content:
        return None
    named = [
        n
        for n, label_words in enumerate(index.words)
        if all(any(_near(w, lw) for lw in label_words) for w in content)
    ]
    return named[0] if len(named) == 1 else None


_pick_remembered = lru_cache(maxsize=8192)(_pick)


def back_choice(screen: Sequence[Choice]) -> Choice | None:
    """The choice that goes back one level (`0` in a list); the menu only when it is the one."""
    backs = [c for c in screen if "back" in roles(c)]
    closer = [c for c in backs if c.id != "menu:main"]
    candidates = closer or backs
    return candidates[0] if candidates else None

"""Recognise a message from someone who may be in danger, in French, SMS French and Bambara.

Pure and small on purpose: folded text against patterns that need a person in them ("me",
"m'a", "ma fille", "n") or an unmistakable phrase, so that a civic question or a service
complaint ("forage en panne", "le maire a violé la loi") is left to search. Nothing is kept:
the caller gets a kind, never a copy of the text.
"""

from __future__ import annotations

import re
from typing import Literal

from content.text import fold

Kind = Literal["self_harm", "sexual", "marriage", "threat", "violence"]

# Someone the message is about: me, us, my child... (folded: "m'a" is "m a", SMS "ma").
_ME = r"(?:me|m|ma|nous|mw|moi)"
_KIN = r"(?:fille|fils|enfant|enfants|soeur|femme|mere|niece|cousine|petite|bebe|eleve)"
_HIT = (
    r"(?:frap\w*|bat|bats|batt(?:u|ue|us|ues|ent|ait|aient|re)|tap(?:e|es|ent|er)|tabass\w*"
    r"|maltrait\w*|bless\w*|brul\w*"
    r"|etrangl\w*|gifl\w*|cogn\w*|tortur\w*|agress\w*|poignard\w*)"
)
_ACTOR = (
    r"(?:polic\w*|polis\w*|flic\w*|gendarm\w*|jandarm\w*|militaire\w*|soldat\w*|armee|douanier\w*"
    r"|garde\w*|djihad\w*|jihad\w*|terroris\w*|hommes? arme\w*|gens armes?|bandits?|rebelle\w*"
    r"|milice\w*|dozos?|maire|prefet|chef de village|commandant|agent\w*|sorodasi\w*|marifatigi\w*)"
)

_PATTERNS: tuple[tuple[Kind, str], ...] = (
    # Self-harm first: "je veux me tuer" is not a threat by someone else.
    (
        "self_harm",
        r"\bsuicid\w*|\b(?:je|j)\s*(?:veux|vais|voudrais|ve|vai|pense a)\s+me\s+tuer\b"
        r"|\bme\s+(?:suicider|foutre en l air|faire du mal)\b|\ben finir avec (?:la vie|tout)\b"
        r"|\b(?:envie|veux|voudrais|ve) (?:de )?mourir\b|\bplus envie de vivre\b"
        r"|\bmettre fin a mes jours\b|\bn yere faga\b|\bne yere faga\b|\bn b a fe ka sa\b",
    ),
    (
        "sexual",
        r"\b(?:on|il|ils|un homme|quelqu un)?\s*(?:m|ma|me)\s+(?:a\s+|ont\s+)?viol\w*"
        r"|\b(?:j ai|g|jai) (?:ete|ete) viol\w*|\bje suis violee?\b|\bme fait violer\b"
        r"|\b(?:veut|veulent|essaye|essaie|a essaye) de me violer\b"
        rf"|\b{_KIN}\s+(?:a ete|est|s est fait|a ete)\s+viol\w*"
        r"|\b(?:victime d un|subi un|subi des) viols?\b|\babus(?:e|es)? sexuel\w*"
        r"|\babuse de moi\b|\bagression sexuelle\b|\bharcel\w* sexuel\w*|\battouchement\w*"
        r"|\bforcee? a coucher\b|\bcoucher avec (?:moi|lui|elle) de force\b|\bmine fanga la\b",
    ),
    (
        "marriage",
        r"\bmari\w*\s+de\s+force\b|\bmariage\s+(?:force\w*|precoce|de force|d enfants?)\b"
        r"|\b(?:veut|veulent|vont|va|v|ve|obligent|oblige|forcent|force)\s+(?:a\s+)?"
        r"(?:me|m|ma fille|mon enfant|ma soeur|ma petite soeur)\s+(?:a\s+)?mari\w*"
        r"|\b(?:mari|marie|mariee|marier|mariage)\b.*\b(?:[1-9]|1[0-7])\s*ans?\b"
        r"|\b(?:[1-9]|1[0-7])\s*ans?\b.*\b(?:mari|marie|mariee|marier|mariage)\b"
        # "on m'a forcée à me marier", "obligée de me marier", "forcée au mariage".
        r"|\b(?:force\w*|oblig\w*|contrain\w*)\s+(?:a|de)\s+(?:me|m|nous)\s+mari\w*"
        r"|\b(?:force\w*|oblig\w*|contrain\w*)\s+(?:au|a un)\s+mariage\b"
        r"|\bfuru fanga la\b|\bka n furu\b|\bdenmisen furu\b",
    ),
    (
        "threat",
        rf"\b{_ME}\s+(?:a\s+|ont\s+)?(?:menac\w*|enlev\w*|kidnap\w*|sequestr\w*)"
        rf"|\bmenac\w*\s+de\s+mort\b|\b(?:veut|veulent|vont|va|v)\s+{_ME}\s+tuer\b"
        # "il menace de me tuer", "il a dit qu'il allait me tuer".
        rf"|\bmenac\w*\s+de\s+{_ME}\s+(?:tuer|frapp\w*|bruler|enlever|battre)\b"
        rf"|\b(?:allait|allaient|voulait|voulaient|promet|promis)\s+(?:de\s+)?{_ME}\s+tuer\b"
        rf"|\b{_ACTOR}\b.*\b(?:{_HIT}|tire\w*|tuer|tue|tues|enlev\w*|kidnap\w*|gosi|bugo|faga)\b"
        rf"|\b{_ACTOR}\b.*\b{_ME}\s+(?:a\s+|ont\s+)?menac\w*"
        # SMS word order: "policier menace moi", "gendarme menace nous", "il a menacé moi".
        rf"|\b(?:{_ACTOR}|il|ils|elle|on|mari|patron|voisin\w*)\b.*"
        r"\bmenac\w*\s+(?:moi|mw|nous|ma famille|mes enfants|mon enfant|mon fils|ma fille)\b"
        r"|\bhommes? armes?\b|\bgens armes?\b|\bn faga\b|\bfarati la\b",
    ),
    (
        "violence",
        rf"\b{_ME}\s+(?:a\s+|ont\s+|an\s+)?{_HIT}\b"
        r"|\bje suis (?:frappee?|battue?|tabassee?|maltraitee?|agressee?)\b"
        r"|\b(?:j ai|g|jai) ete (?:frappee?|battue?|tabassee?|agressee?|brulee?)\b"
        rf"|\b{_HIT}\s+(?:les|mes|ma|mon|nos)\s+{_KIN}\b"
        r"|\bviolences? (?:conjugale|domestique|a la maison)s?\b"
        r"|\b(?:b|be|ye|y)\s*n\s+(?:gosi|bugo)\b|\bn gosi\b",
    ),
)
_RULES = tuple((kind, re.compile(pattern)) for kind, pattern in _PATTERNS)
# Every rule needs one of these stems: one quick search spares most messages the rules.
_STEMS = re.compile(
    r"frap|bat|tap|tabass|maltrait|bless|brul|etrangl|gifl|cogn|tortur|agress|poignard|viol"
    r"|abus|harcel|attouch|coucher|fanga|mari|furu|menac|enlev|kidnap|sequestr|tue|tir|arme"
    r"|farati|faga|suicid|mourir|vivre|mal\b|jours|gosi|bugo|violence|finir|mort|ka sa\b"
)


def detect(text: str) -> Kind | None:
    """The kind of danger a message speaks of, or None for everything else."""
    folded = fold(text)
    if not folded or folded.isdigit():
        return None
    padded = " ".join(folded.split())
    if not _STEMS.search(padded):
        return None
    for kind, pattern in _RULES:
        if pattern.search(padded):
            return kind
    return None

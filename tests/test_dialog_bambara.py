"""A person who chooses Bamanankan meets no French where a Bambara text exists."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable

from content.pack import ContentPack
from content.units import Unit, pack_units
from tests.conftest import Chat

_PLACEHOLDER = re.compile(r"\{\w+\}|\n")
# Fragments shorter than this are names, numbers or words both languages share.
_SHORTEST = 16


def french_fragments(units: Iterable[Unit]) -> dict[str, str]:
    """Fragment of a French text that has a Bambara translation -> where it comes from."""
    found: dict[str, str] = {}
    for unit in units:
        if not unit.text or unit.text == unit.french:
            continue
        for piece in _PLACEHOLDER.split(unit.french):
            piece = piece.strip(" :•«»")
            if len(piece) >= _SHORTEST and piece not in unit.text:
                found.setdefault(piece, unit.context)
    return found


class Walk:
    """Records every French fragment met on the screens of a Bambara conversation."""

    def __init__(self, chat: Chat, pack: ContentPack) -> None:
        self.chat = chat
        units = pack_units(pack.path, "bm")
        self.fragments = french_fragments(units)
        # French is the right thing to show where no Bambara exists (a body not translated
        # yet, the official titles of laws): those are cut out before looking.
        fallback = {line for u in units if u.text is None for line in u.french.splitlines()}
        fallback |= {s.title for a in pack.articles.values() for s in a.sources}
        self.fallback = sorted((f for f in fallback if f.strip()), key=len, reverse=True)
        self.met: list[str] = []
        self.screens = 0

    def look(self, step: str) -> None:
        self.screens += 1
        shown = (
            self.chat.text + "\n" + "\n".join(c.label for r in self.chat.last for c in r.choices)
        )
        for text in self.fallback:
            shown = shown.replace(text, " ")
        for fragment, where in self.fragments.items():
            if fragment in shown:
                self.met.append(f"after {step!r}: « {fragment} » ({where})")

    async def say(self, text: str) -> str:
        await self.chat.say(text)
        self.look(text)
        return self.chat.text

    async def tap(self, choice: str) -> str:
        await self.chat.tap(choice)
        self.look(choice)
        return self.chat.text


async def test_bambara_dialog_from_first_message_to_forgetting(
    chat: Chat, pack: ContentPack
) -> None:
    walk = Walk(chat, pack)
    await chat.say("i ni ce")  # the very first screen asks the language in both
    assert "I bisimila" in await walk.say("2")  # Bamanankan
    # Learning: a theme, an article, its next page and its sources.
    await walk.say("1")
    assert chat.choices and all(
        c.startswith("learn:") or c.startswith("menu") for c in chat.choices
    )
    await walk.tap("learn:theme:droits")
    article = next(c for c in chat.choices if c.startswith("learn:article:"))
    await walk.tap(article)
    for choice in [c for c in chat.choices if c.startswith(("learn:next", "learn:sources"))]:
        await walk.tap(choice)
    # A quiz, every question answered.
    await walk.say("kizi")
    quiz = next(c for c in chat.choices if c.startswith("quiz:start:"))
    await walk.tap(quiz)
    for _ in range(20):
        answers = [c for c in chat.choices if c.startswith("quiz:answer:")]
        if answers:
            await walk.tap(answers[0])
            continue
        following = [c for c in chat.choices if c.startswith("quiz:next")]
        if not following:
            break
        await walk.tap(following[0])
    assert "/" in chat.text  # the score
    # A complaint, typed.
    await walk.say("sɔsɔli")
    await walk.tap("complaint:new")
    await walk.tap("complaint:cat:eau")
    await walk.say("kayes")
    await walk.say("Plateau kin, kɔlɔn min bɛ sugu kɛrɛfɛ")
    await walk.say("Kɔlɔn tiɲɛna kabini dɔgɔkun fila. Ji tɛ sɔrɔ.")
    for choice in ("complaint:media_done", "complaint:consent:no", "complaint:confirm"):
        if choice in chat.choices:
            await walk.tap(choice)
    assert re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}", chat.text), chat.text
    # Forgetting, in Bambara.
    confirm = await walk.say("ɲinɛ")
    assert "jɔsi" in confirm
    yes = next(c for c in chat.choices if "yes" in c)
    assert "A kɛra" in await walk.tap(yes)
    assert walk.met == [], "\n".join(walk.met)


async def test_every_screen_reached_in_bambara_is_in_bambara(chat: Chat, pack: ContentPack) -> None:
    """Tap every choice the screens offer, menu after menu, and list the French met."""
    walk = Walk(chat, pack)
    await chat.say("i ni ce")
    await walk.say("2")
    tapped: set[str] = set()
    skip = ("lang:", "privacy:forget", "profile:forget")
    rng = random.Random(17)
    for step in range(300):
        offered = [c for c in chat.choices if not c.startswith(skip)]
        fresh = [c for c in offered if c not in tapped]
        if step % 25 == 24 or not offered:
            await walk.say("daminɛ")  # back to the menu now and then, and from dead ends
            continue
        choice = fresh[0] if fresh else rng.choice(offered)
        tapped.add(choice)
        await walk.tap(choice)
        if not chat.choices:  # a question typed in: the complaint's place, description...
            await walk.say("Kɔlɔn tiɲɛna kabini dɔgɔkun fila, ji tɛ sɔrɔ Plateau kin na.")
    reached = {c.split(":")[0] for c in tapped}
    assert {"learn", "quiz", "complaint", "profile"} <= reached, reached
    assert walk.screens > 200 and len(tapped) > 80, (walk.screens, len(tapped))
    assert walk.met == [], "\n".join(walk.met)


def safety_texts(pack: ContentPack) -> list[tuple[str, str]]:
    """(French, Bambara) of every safety text the help can show."""
    safety = pack.safety
    assert safety is not None
    texts = [*safety.opening.values(), safety.now, safety.verify, safety.more]
    texts += [line.label for line in safety.shown_lines()]
    texts += [s.text for s in safety.services if s.confidence != "C"]
    return [(t["fr"], t.get("bm", "")) for t in texts]


async def test_a_danger_typed_in_bambara_gets_the_help_in_bambara(
    chat: Chat, pack: ContentPack
) -> None:
    walk = Walk(chat, pack)
    pairs = safety_texts(pack)
    assert all(bm for _, bm in pairs), "a safety text has no Bambara"
    await chat.say("i ni ce")
    await walk.say("2")  # Bamanankan
    help_text = await walk.say("n cɛ bɛ n gosi")
    assert "i jalaki tɛ" in help_text and "80 333" in help_text, help_text
    assert "80 00 11 32" not in help_text  # marked C in the facts: never shown
    more = await walk.tap("safety:more")
    assert "One Stop Centre (dɛmɛyɔrɔ kelen" in more and "Sɔrɔyɔrɔw" in more, more
    for shown in (help_text, more):
        for french, _ in pairs:
            for piece in _PLACEHOLDER.split(french):
                piece = piece.strip(" :•«»")
                assert len(piece) < _SHORTEST or piece not in shown, piece
    assert walk.met == [], "\n".join(walk.met)

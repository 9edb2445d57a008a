"""Choosing the language: on first contact and with the keyword `langue`."""

from __future__ import annotations

from functools import lru_cache

from content.pack import ContentPack
from content.text import fold
from handlers.audio.play import say_with_voice
from handlers.flow import Flow, Router
from handlers.messages import Choice
from handlers.search import chatter_kind
from handlers.turn import Turn


class LanguageFlow(Flow):
    """Ask for a language among the pack's; French first."""

    name = "lang"
    stateless_choices = True

    async def show(self, turn: Turn, router: Router) -> None:
        """Offer every language of the pack, each named in itself."""
        await self.ask(turn, None)

    async def ask(self, turn: Turn, pending: str | None) -> None:
        """Offer the languages, keeping a first message to answer once one is chosen."""
        turn.goto("lang", "choose", {"first": pending} if pending else None)
        choices = [Choice(f"lang:{lang.code}", lang.name) for lang in turn.pack.manifest.languages]
        if turn.user.language:
            turn.say(turn.t("lang.choose"), choices)
        else:
            # Someone who cannot read the greeting can hear it (recorded in both languages).
            await say_with_voice(
                turn, "ui:lang.first_contact", turn.t("lang.first_contact"), choices
            )

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        """Keep the language and go on to the menu."""
        code = choice.removeprefix("lang:")
        if code not in turn.pack.languages:
            return False
        first = turn.user.language is None
        pending = turn.data.get("first") if turn.flow == "lang" else None
        turn.update_user(language=code)
        if first:
            await say_with_voice(turn, "ui:lang.welcome", turn.t("lang.welcome"))
        else:
            turn.say(turn.t("lang.changed"))
        if first and pending:
            # The engine answers the first message now; the menu would only be in the way.
            turn.goto("menu", "main")
            return True
        await router.show_menu(turn)
        return True


# What people type to name a language besides its own name and code, folded.
ALIASES = {
    "fr": ("francais", "french", "france", "faransi", "faransikan", "tubabukan"),
    "bm": ("bambara", "bamanankan", "bamana", "bamanan", "bamankan"),
}


def language_named(pack: ContentPack, text: str) -> str | None:
    """The pack language a whole message names (`francais`, `bambara`, `bm`), if any."""
    typed = fold(text) if len(text) <= 20 else ""
    if not typed:
        return None
    return _names(tuple((lang.code, lang.name) for lang in pack.manifest.languages)).get(typed)


@lru_cache(maxsize=8)
def _names(languages: tuple[tuple[str, str], ...]) -> dict[str, str]:
    names: dict[str, str] = {}
    for code, name in languages:
        for word in (code, fold(name), *ALIASES.get(code, ())):
            names.setdefault(word, code)
    return names


def first_message(turn: Turn, text: str, choice: str | None) -> str | None:
    """A newcomer's message worth answering after the language prompt (a question, a code)."""
    kept = turn.data.get("first") if turn.flow == "lang" else None
    if kept is not None and (choice or "").startswith("lang:"):
        return str(kept)
    if choice is None and chatter_kind(turn, text) is not None:
        # "ok", "g pa compri" after a question: the question is still the one to answer.
        return str(kept) if kept is not None else None
    if choice is not None or not fold(text) or text.isdigit():
        return None
    entry = turn.inbound.entry
    if entry and fold(entry) == fold(text):
        # A campaign code is counted as where the person came from; it asks nothing.
        return None
    table = turn.pack.smalltalk
    folded = fold(text)
    if folded in table or turn.pack.texts.command_for(text) is not None:
        return None
    if all(word in table for word in folded.split()):
        return str(kept) if kept is not None else None
    return text[:500]

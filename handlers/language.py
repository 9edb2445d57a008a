"""Choosing the language: on first contact and with the keyword `langue`."""

from __future__ import annotations

from handlers.flow import Flow, Router
from handlers.messages import Choice
from handlers.turn import Turn


class LanguageFlow(Flow):
    """Ask for a language among the pack's; French first."""

    name = "lang"
    stateless_choices = True

    async def show(self, turn: Turn, router: Router) -> None:
        """Offer every language of the pack, each named in itself."""
        turn.goto("lang", "choose")
        key = "lang.choose" if turn.user.language else "lang.first_contact"
        turn.say(
            turn.t(key),
            [Choice(f"lang:{lang.code}", lang.name) for lang in turn.pack.manifest.languages],
        )

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        """Keep the language and go on to the menu."""
        code = choice.removeprefix("lang:")
        if code not in turn.pack.languages:
            return False
        first = turn.user.language is None
        turn.update_user(language=code)
        turn.say(turn.t("lang.welcome" if first else "lang.changed"))
        await router.show_menu(turn)
        return True

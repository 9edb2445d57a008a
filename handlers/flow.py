"""The shape of a conversation flow, and the router that finds a flow by name."""

from __future__ import annotations

from collections.abc import Iterable

from handlers.messages import Location, Media
from handlers.turn import Turn


class Flow:
    """A conversation flow: it draws its current step and reacts to what the user sends."""

    name: str = ""
    # Choices of a stateless flow (menu, language, articles) stay valid in any state, so an old
    # button in the chat history still works; other flows accept only the choices just offered.
    stateless_choices: bool = False

    async def start(self, turn: Turn, router: Router) -> None:
        """Enter the flow from the menu."""
        await self.show(turn, router)

    async def show(self, turn: Turn, router: Router) -> None:
        """Draw the current step again (after an interruption or an unexpected input)."""
        raise NotImplementedError

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        """Handle a choice id of this flow; False if it is not one."""
        return False

    async def on_text(self, turn: Turn, router: Router, text: str) -> bool:
        """Handle typed text in this flow's current step; False to let free text go on."""
        return False

    async def on_location(self, turn: Turn, router: Router, location: Location) -> bool:
        """Handle a shared location; False if this step does not expect one."""
        return False

    async def on_media(self, turn: Turn, router: Router, media: Media) -> bool:
        """Handle a photo, voice note or document; False if this step does not expect one."""
        return False

    async def on_free_text(self, turn: Turn, router: Router, text: str) -> bool:
        """Claim free text before search does (a complaint reference, say); False to pass."""
        return False

    async def on_any_text(self, turn: Turn, router: Router, text: str) -> bool:
        """Claim text before everything else, in any chat, groups too (CSO commands)."""
        return False

    async def on_any_media(self, turn: Turn, router: Router, media: Media) -> bool:
        """Claim media before everything else, in any chat (a CSO member's recording)."""
        return False

    # Whether this flow's buttons are pressed in groups (a CSO's chat).
    works_in_groups: bool = False


class Router:
    """The flows by name, with the fallback for free text."""

    def __init__(self, flows: Iterable[Flow], free_text: str | None = None) -> None:
        self.flows = {flow.name: flow for flow in flows}
        # The flow that answers free text when the current step does not want it (search).
        self.free_text = free_text
        self._claimers: tuple[dict[str, Flow], list[Flow], list[Flow]] | None = None

    def claimers(self) -> tuple[list[Flow], list[Flow]]:
        """The flows that may claim any text, and any media, before the rest (in order).

        Worked out once: every message asked each flow, most of which never claim anything.
        """
        if self._claimers is None or self._claimers[0] is not self.flows:
            flows = list(self.flows.values())
            text = [f for f in flows if type(f).on_any_text is not Flow.on_any_text]
            media = [f for f in flows if type(f).on_any_media is not Flow.on_any_media]
            self._claimers = (self.flows, text, media)
        return self._claimers[1], self._claimers[2]

    def get(self, name: str) -> Flow | None:
        """A flow by name."""
        return self.flows.get(name)

    def owner(self, choice: str) -> Flow | None:
        """The flow a choice id belongs to (`flow:rest`)."""
        return self.flows.get(choice.split(":", 1)[0])

    async def start(self, turn: Turn, name: str) -> None:
        """Enter a flow, or say politely that it is not available yet."""
        flow = self.flows.get(name)
        if flow is None:
            turn.say(turn.t("menu.coming_soon"))
            await self.show_menu(turn)
            return
        await flow.start(turn, self)

    async def show(self, turn: Turn) -> None:
        """Draw the step the conversation is at."""
        flow = self.flows.get(turn.flow) or self.flows["menu"]
        await flow.show(turn, self)

    async def show_menu(self, turn: Turn) -> None:
        """Go back to the main menu."""
        turn.goto("menu", "main")
        await self.flows["menu"].show(turn, self)

"""The main menu and help."""

from __future__ import annotations

from handlers.audio.play import say_with_voice
from handlers.flow import Flow, Router
from handlers.messages import Choice
from handlers.turn import Turn

# Menu entries in order: choice id -> (label key, flow it starts).
ENTRIES = (
    ("menu:learn", "menu.learn", "learn"),
    ("menu:quiz", "menu.quiz", "quiz"),
    ("menu:complaint", "menu.complaint", "complaint"),
    ("menu:barometer", "menu.barometer", "barometer"),
    ("menu:profile", "menu.profile", "profile"),
    ("menu:help", "menu.help", "help"),
)


def back_to_menu(turn: Turn) -> Choice:
    """The choice that returns to the main menu."""
    return Choice("menu:main", turn.t("menu.back"))


def help_text(turn: Turn) -> str:
    """What the bot does and the words that work everywhere."""
    return turn.t("help.text")


class MenuFlow(Flow):
    """The main menu: learn, quizzes, report a problem, profile, help."""

    name = "menu"
    stateless_choices = True

    async def show(self, turn: Turn, router: Router) -> None:
        """Draw the main menu."""
        await say_with_voice(
            turn,
            "ui:menu.title",
            turn.t("menu.title"),
            [Choice(choice_id, turn.t(label)) for choice_id, label, _ in ENTRIES],
        )

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        """Open the entry that was chosen."""
        if choice == "menu:main":
            await router.show_menu(turn)
            return True
        for choice_id, _, flow in ENTRIES:
            if choice == choice_id:
                if flow == "help":
                    turn.goto("menu", "main")
                    await say_with_voice(
                        turn, "ui:help.text", help_text(turn), [back_to_menu(turn)]
                    )
                else:
                    await router.start(turn, flow)
                return True
        return False

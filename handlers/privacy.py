"""`stop`, `reprendre` and `oublier`: the user's control over messages and data."""

from __future__ import annotations

from handlers.flow import Flow, Router
from handlers.menu import back_to_menu
from handlers.messages import Choice
from handlers.turn import Turn


class PrivacyFlow(Flow):
    """Stop unsolicited messages, resume them, or delete one's personal data."""

    name = "privacy"

    async def show(self, turn: Turn, router: Router) -> None:
        """Ask to confirm the deletion."""
        turn.goto("privacy", "confirm_forget")
        turn.say(
            turn.t("privacy.forget_confirm"),
            [
                Choice("privacy:forget_yes", turn.t("privacy.forget_yes")),
                Choice("privacy:forget_no", turn.t("privacy.forget_no")),
            ],
        )

    async def stop(self, turn: Turn) -> None:
        """No more messages the user did not ask for."""
        turn.update_user(stopped=True)
        turn.say(turn.t("privacy.stopped"), [back_to_menu(turn)])

    async def resume(self, turn: Turn) -> None:
        """Messages the user did not ask for may come again."""
        turn.update_user(stopped=False)
        turn.say(turn.t("privacy.resumed"), [back_to_menu(turn)])

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        """Confirm or cancel the deletion."""
        if choice == "privacy:forget":
            await self.show(turn, router)
        elif choice == "privacy:forget_yes" and turn.step == "confirm_forget":
            turn.tx.delete_user(turn.user.key)
            turn.forgotten = True
            turn.say(turn.t("privacy.forgotten"))
        elif choice == "privacy:forget_no":
            turn.say(turn.t("privacy.forget_cancelled"))
            await router.show_menu(turn)
        else:
            return False
        return True

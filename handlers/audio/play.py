"""Voice notes played to citizens: first for those who prefer listening, on request for others."""

from __future__ import annotations

from dataclasses import replace

from handlers.flow import Flow, Router
from handlers.messages import Choice, Reply
from handlers.turn import Turn

PLAY = "audio:play:"


def voice(turn: Turn, key: str) -> str | None:
    """The pack path of the voice note for `key` in the person's language, if one is served.

    Someone who has not chosen a language yet hears a recording in any language of the pack:
    the first-contact prompt is bilingual, and she cannot read which one to pick.
    """
    index = turn.pack.audio
    if index is None:
        return None
    languages = [turn.lang]
    if turn.user.language is None:
        languages += [code for code in turn.pack.languages if code != turn.lang]
    for lang in languages:
        served = index.serve(key, lang)
        if served is not None:
            return served.path
    return None


async def say_with_voice(
    turn: Turn,
    key: str,
    text: str,
    choices: list[Choice] | tuple[Choice, ...] = (),
    *,
    listen_last: bool = True,
    offer: bool = True,
) -> bool:
    """Say `text`; with its voice note first for listeners, else with an "Écouter" choice.

    `offer=False` leaves the choice out (a one-line message right above a screen that offers
    its own). True when a voice note exists (the caller may then keep the recording's answer
    order).
    """
    path = voice(turn, key)
    if path is None:
        turn.say(text, choices)
        return False
    if await turn.tx.prefers_audio(turn.user.key):
        turn.say(text, choices)
        turn.replies[-1] = replace(turn.replies[-1], audio=path)
        return True
    if not offer:
        turn.say(text, choices)
        return True
    listen = Choice(f"{PLAY}{key}", turn.t("audio.listen"))
    # Last, so that the numbers of answers keep meaning what the recording says.
    turn.say(text, [*choices, listen] if listen_last else [listen, *choices])
    return True


class AudioFlow(Flow):
    """The "Écouter" button: plays a voice note without leaving the current screen."""

    name = "audio"
    stateless_choices = True

    async def show(self, turn: Turn, router: Router) -> None:
        """Nothing of its own to draw: the current screen stays."""
        await router.show(turn)

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        """Play the voice note a screen offered; the screen's choices stay as they were."""
        if not choice.startswith(PLAY):
            return False
        path = voice(turn, choice.removeprefix(PLAY))
        if path is None:
            turn.say(turn.t("audio.gone"))
            return True
        turn.replies.append(Reply(text="", audio=path))
        return True

"""Help at once for someone who writes about danger: numbers, what to do now, where to go."""

from __future__ import annotations

from content.pack import SAFETY_MORE
from handlers.audio.play import PLAY, voice
from handlers.flow import Flow, Router
from handlers.menu import back_to_menu
from handlers.messages import Choice, Reply
from handlers.safety.detect import Kind
from handlers.turn import Turn


def help_text(turn: Turn, kind: Kind) -> str:
    """The first answer: a word without blame, what to do now, the numbers that are sure."""
    safety = turn.pack.safety
    if safety is None:
        return turn.t("safety.fallback")
    pick, lang = turn.pack.pick, turn.lang
    lines = [pick(safety.opening[kind], lang), "", pick(safety.now, lang)]
    lines += [f"• {pick(line.label, lang)} : {line.number}" for line in safety.shown_lines()]
    lines += ["", pick(safety.verify, lang)]
    return "\n".join(lines)


def more_text(turn: Turn) -> str:
    """'Read more': the services that help, with their sources named."""
    safety = turn.pack.safety
    if safety is None:
        return turn.t("safety.fallback")
    pick, lang = turn.pack.pick, turn.lang
    lines = [pick(safety.more, lang)]
    lines += [f"• {pick(s.text, lang)}" for s in safety.services if s.confidence != "C"]
    used = {s for item in safety.services for s in item.sources}
    titles = [source.title for source in safety.sources if source.id in used]
    lines += ["", turn.t("safety.sources", sources=" ; ".join(titles))]
    return "\n".join(lines)


async def say_safety(turn: Turn, key: str, text: str, choices: list[Choice]) -> None:
    """Say a safety text at once; its voice note follows it for listeners, else is offered.

    Unlike other screens, the text always comes first, even for someone who prefers to
    listen: the numbers must not wait behind a voice note's upload or download.
    """
    path = voice(turn, key)
    if path is None:
        turn.say(text, choices)
    elif await turn.tx.prefers_audio(turn.user.key):
        turn.say(text, choices)
        turn.replies.append(Reply(text="", audio=path))
    else:
        # Last, as on every other screen: the other choices keep their numbers.
        turn.say(text, [*choices, Choice(f"{PLAY}{key}", turn.t("audio.listen"))])


async def offer_help(turn: Turn, kind: Kind) -> None:
    """Answer a message about danger; nothing of the message itself is kept."""
    choices = [Choice("safety:more", turn.t("safety.more"))]
    safety = turn.pack.safety
    article = turn.pack.articles.get(safety.articles.get(kind, "")) if safety else None
    if article is not None:
        # The longer article on this danger, for whoever wants to read on.
        title = article.short_title or article.title
        choices.append(Choice(f"learn:article:{article.id}", turn.pack.pick(title, turn.lang)))
    await say_safety(turn, f"safety:{kind}", help_text(turn, kind), [*choices, back_to_menu(turn)])


class SafetyFlow(Flow):
    """The 'read more' button of the help message; it works from any state."""

    name = "safety"
    stateless_choices = True

    async def show(self, turn: Turn, router: Router) -> None:
        """Nothing to redraw: the help is one message; go to the menu."""
        await router.show_menu(turn)

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        """Show where to find help, then lead back to what the person was doing."""
        if choice != "safety:more":
            return False
        await say_safety(turn, f"safety:{SAFETY_MORE}", more_text(turn), [back_to_menu(turn)])
        return True

"""Free text: greetings get a greeting, questions get the article that answers them."""

from __future__ import annotations

from content.search import STOPWORDS, decide
from content.text import fold
from handlers.flow import Flow, Router
from handlers.learn import LearnFlow, article_choice
from handlers.menu import back_to_menu
from handlers.messages import Choice
from handlers.turn import Turn
from storage.records import SearchRecord

# Kept queries are cut to this: enough to see what people ask, too short for a life story.
QUERY_LIMIT = 120


def smalltalk_kind(turn: Turn, text: str) -> str | None:
    """'greeting', 'thanks' or 'insult' when that is all the message is; None otherwise."""
    table = turn.pack.smalltalk
    folded = fold(text)
    if folded in table:
        return table[folded]
    words = folded.split()
    kinds = sorted({table[word] for word in words if word in table})
    if "insult" in kinds:
        return "insult"
    # "merci beaucoup", "bonjour a vous": small talk once the function words are set aside.
    subject = [word for word in words if word not in table and word not in STOPWORDS]
    return kinds[0] if kinds and not subject else None


class SearchFlow(Flow):
    """Answers free text typed anywhere the bot is not waiting for a specific answer."""

    name = "search"

    async def show(self, turn: Turn, router: Router) -> None:
        """Nothing to redraw: search has no steps; go to the menu."""
        await router.show_menu(turn)

    async def on_text(self, turn: Turn, router: Router, text: str) -> bool:
        """Search the articles, or answer small talk."""
        for flow in router.flows.values():
            if flow is not self and await flow.on_free_text(turn, router, text):
                return True
        kind = smalltalk_kind(turn, text)
        if kind is not None:
            turn.say(turn.t(f"smalltalk.{kind}"))
            await router.show_menu(turn)
            return True
        pack = turn.pack
        hits = pack.search.search(text, limit=3)
        outcome = decide(hits)
        turn.tx.record_search(
            SearchRecord(
                query=fold(text)[:QUERY_LIMIT],
                lang=turn.lang,
                outcome=outcome,
                score=hits[0].score if hits else 0.0,
                asked_at=turn.now,
                article_id=hits[0].article_id if hits else None,
            )
        )
        learn = router.get("learn")
        if outcome == "confident" and isinstance(learn, LearnFlow):
            await learn.open(turn, router, pack.articles[hits[0].article_id])
        elif outcome != "none":
            turn.goto("menu", "main")
            turn.say(
                turn.t("search.uncertain"),
                [article_choice(turn, pack.articles[hit.article_id]) for hit in hits]
                + [back_to_menu(turn)],
            )
        elif hits:
            # No article answers it: say so, and offer the themes of the nearest ones.
            turn.goto("menu", "main")
            themes = dict.fromkeys(pack.articles[hit.article_id].theme for hit in hits)
            turn.say(
                turn.t("search.no_article"),
                [
                    Choice(
                        f"learn:theme:{theme.id}",
                        pack.pick(theme.title, turn.lang),
                        pack.pick(theme.short_title, turn.lang) or None,
                    )
                    for theme in pack.themes
                    if theme.id in themes
                ]
                + [back_to_menu(turn)],
            )
        else:
            turn.goto("menu", "main")
            turn.say(turn.t("search.nothing", query=text[:60]))
            await router.show_menu(turn)
        return True


# Whole messages that only acknowledge, or say the person is lost (folded, SMS spellings too).
ACKNOWLEDGE = frozenset(
    {"ok", "okay", "oki", "okk", "okey", "k", "bon", "ah ok", "ok ok", "dac", "dacc", "entendu"}
    | {"ca marche", "cool", "o ka nyi", "a ka nyi", "a ye"}
    # A yes or a no that nothing on the screen asked for: the screen again, not a search.
    | {"oui", "ouais", "ouai", "ouii", "wi", "non", "nan", "nn", "owo", "awo", "ayi"}
)
CONFUSED = frozenset(
    {"quoi", "hein", "comment", "je suis perdu", "je suis perdue", "perdu", "perdue"}
    | {"c quoi ca", "c est quoi ca", "je sais pas quoi faire", "je ne sais pas quoi faire"}
    | {"n ma a faamu", "n t a faamu", "n ma faamu", "n te a faamu", "n m a faamu"}
)
_NOT = frozenset({"pas", "pa", "pat", "rien", "ne", "n"})


def chatter_kind(turn: Turn, text: str) -> str | None:
    """'ok', 'confused' or 'thanks' when that is all a message says; None otherwise."""
    folded = fold(text)
    if folded in ACKNOWLEDGE:
        return "ok"
    words = folded.split()
    understood = any(w.startswith(("compri", "comprend", "capt")) for w in words)
    if folded in CONFUSED or (understood and _NOT & set(words) and len(words) <= 6):
        return "confused"
    return "thanks" if smalltalk_kind(turn, text) == "thanks" else None


async def answer_chatter(turn: Turn, router: Router, kind: str) -> None:
    """A short kind answer, then the step the person was at, drawn again."""
    turn.say(turn.t("smalltalk.thanks" if kind == "thanks" else f"chatter.{kind}"))
    await router.show(turn)

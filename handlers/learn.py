"""Learning: themes, articles read page by page, related articles, sources and actions."""

from __future__ import annotations

from content.pages import group_lines
from content.schema import Article
from handlers.audio.play import say_with_voice
from handlers.flow import Flow, Router
from handlers.menu import back_to_menu
from handlers.messages import Choice, Media, Reply
from handlers.turn import Turn


def article_choice(turn: Turn, article: Article, read: set[str] | None = None) -> Choice:
    """A button that opens an article; ✓ marks the ones already read."""
    pack = turn.pack
    title = pack.pick(article.title, turn.lang)
    short = pack.pick(article.short_title, turn.lang) or None
    if read is not None and article.id in read:
        title = f"✓ {title}"
    return Choice(f"learn:article:{article.id}", title, short)


class LearnFlow(Flow):
    """Themes -> articles -> pages; every button works again later from the chat history."""

    name = "learn"
    stateless_choices = True

    async def start(self, turn: Turn, router: Router) -> None:
        """Show the themes."""
        await self._themes(turn)

    async def show(self, turn: Turn, router: Router) -> None:
        """Draw again the page or theme the person was reading ("ok", "g pa compri", "99")."""
        data = turn.data
        article = turn.pack.articles.get(str(data.get("article", "")))
        if turn.step == "article" and article is not None:
            page = data.get("page")
            page = page if isinstance(page, int) else 1
            await self.open(turn, router, article, page, again=True)
        elif turn.step == "theme" and turn.pack.theme(str(data.get("theme", ""))):
            await self._theme(turn, str(data["theme"]))
        else:
            await self._themes(turn)

    async def _themes(self, turn: Turn) -> None:
        """The list of themes."""
        turn.goto("learn", "themes")
        pack = turn.pack
        turn.say(
            turn.t("learn.choose_theme"),
            [
                Choice(
                    f"learn:theme:{theme.id}",
                    pack.pick(theme.title, turn.lang),
                    pack.pick(theme.short_title, turn.lang) or None,
                )
                for theme in pack.themes
            ]
            + [back_to_menu(turn)],
        )

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        """Themes, articles, pages, related articles and sources."""
        parts = choice.split(":")
        kind = parts[1] if len(parts) > 1 else ""
        if kind == "themes":
            await self._themes(turn)
            return True
        target = parts[2] if len(parts) > 2 else ""
        if kind == "theme" and turn.pack.theme(target):
            await self._theme(turn, target)
            return True
        article = turn.pack.articles.get(target)
        if article is None:
            return False
        if kind == "article":
            await self.open(turn, router, article)
        elif kind == "page" and len(parts) == 4 and parts[3].isdigit():
            await self.open(turn, router, article, int(parts[3]))
        elif kind == "related":
            self._related(turn, article)
        elif kind == "sources":
            page = int(parts[3]) if len(parts) == 4 and parts[3].isdigit() else 1
            self._sources(turn, article, page)
        else:
            return False
        return True

    async def _theme(self, turn: Turn, theme_id: str) -> None:
        pack = turn.pack
        theme = pack.theme(theme_id)
        assert theme is not None
        read = await turn.tx.articles_read(turn.user.key)
        articles = pack.in_theme(theme_id)
        done = sum(article.id in read for article in articles)
        turn.goto("learn", "theme", {"theme": theme_id})
        turn.say(
            turn.t(
                "learn.theme_articles",
                theme=pack.pick(theme.title, turn.lang),
                read=done,
                total=len(articles),
            ),
            [article_choice(turn, article, read) for article in articles]
            + [Choice("learn:themes", turn.t("learn.themes")), back_to_menu(turn)],
        )

    async def open(
        self, turn: Turn, router: Router, article: Article, page: int = 1, again: bool = False
    ) -> None:
        """Show one page of an article with what can follow it (`again`: drawn once more)."""
        pack = turn.pack
        pages = pack.pages(article, turn.lang)
        page = min(max(page, 1), len(pages))
        turn.goto("learn", "article", {"article": article.id, "page": page})
        if page == 1 and not again:
            turn.tx.record_read(turn.user.key, article.id, turn.now)
        title = pack.pick(article.title, turn.lang)
        text = f"{title}\n\n{pages[page - 1]}" if page == 1 else pages[page - 1]
        if len(pages) > 1:
            text += "\n\n" + turn.t("learn.page", page=page, total=len(pages))
        choices: list[Choice] = []
        if page < len(pages):
            choices.append(Choice(f"learn:page:{article.id}:{page + 1}", turn.t("learn.next")))
        if router.get("complaint") is not None:
            for action in article.actions:
                category = pack.category(action.complaint)
                if category is not None:
                    label = pack.pick(category.short_label or category.label, turn.lang)
                    choices.append(
                        Choice(
                            f"complaint:new:{category.id}",
                            turn.t("learn.report", category=label),
                            turn.t("learn.report_short"),
                        )
                    )
        if article.related:
            choices.append(Choice(f"learn:related:{article.id}", turn.t("learn.related")))
        choices.append(Choice(f"learn:sources:{article.id}", turn.t("learn.sources")))
        choices.append(Choice(f"learn:theme:{article.theme}", turn.t("learn.back_theme")))
        choices.append(back_to_menu(turn))
        # A recording for people who read little, sent with the first page.
        audio = pack.pick(article.audio, turn.lang) if page == 1 and not again else ""
        if audio:
            turn.replies.append(Reply(text="", media=Media("audio", audio)))
        await say_with_voice(turn, f"article:{article.id}:{page}", text, choices)

    def _related(self, turn: Turn, article: Article) -> None:
        pack = turn.pack
        related = [pack.articles[aid] for aid in article.related if aid in pack.articles]
        turn.say(
            turn.t("learn.related_intro", title=pack.pick(article.title, turn.lang)),
            [article_choice(turn, other) for other in related]
            + [
                Choice(f"learn:article:{article.id}", turn.t("learn.back_article")),
                back_to_menu(turn),
            ],
        )

    def _sources(self, turn: Turn, article: Article, page: int = 1) -> None:
        """The article's sources, in pages no heavier than an article's page."""
        lines = [turn.t("learn.sources_intro")]
        for source in article.sources:
            line = f"• {source.title}"
            if source.articles:
                line += f", {source.articles}"
            if source.kind == "press":
                line += f" ({turn.t('learn.kind_press')})"
            if source.url:
                line += f"\n  {source.url}"
            lines.append(line)
        # Say what the review checked against: the text of a law, a public body, or press only.
        kinds = [
            k for k in ("law", "official", "press") if any(s.kind == k for s in article.sources)
        ]
        basis = ", ".join(turn.t(f"learn.basis_{k}") for k in kinds) or turn.t("learn.basis_none")
        date = article.reviewed_on.strftime("%d/%m/%Y")
        footer = [turn.t("learn.reviewed_on", basis=basis, date=date)]
        if kinds == ["press"]:
            footer.append(turn.t("learn.press_only"))
        # The intro stays with the first source and the review note with the last one.
        lines[-1] = "\n".join([lines[-1], *footer])
        lines[:2] = ["\n".join(lines[:2])]
        pages = group_lines(lines)
        page = min(max(page, 1), len(pages))
        text = pages[page - 1]
        choices: list[Choice] = []
        if len(pages) > 1:
            text += "\n\n" + turn.t("learn.page", page=page, total=len(pages))
        if page < len(pages):
            next_page = f"learn:sources:{article.id}:{page + 1}"
            choices.append(Choice(next_page, turn.t("learn.next")))
        choices.append(Choice(f"learn:article:{article.id}", turn.t("learn.back_article")))
        choices.append(back_to_menu(turn))
        turn.say(text, choices)

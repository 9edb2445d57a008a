"""Recording from the chat: a CSO member records an article page; the desk approves or refuses.

`/enregistrer ARTICLE [PAGE] [LANGUE]` (or buttons: theme, article, page, language) in a linked
CSO chat or the desk's, then a voice note. The bot downloads it through the channel's media
fetcher, stores it in the pack as a draft, plays it back, and sends it to the desk's chat.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from datetime import timedelta

from content.audio import AUDIO_DIR, MAX_BYTES, MAX_SECONDS, AudioError, State
from content.pack import key_exists
from handlers.complaints.notices import desk_ids
from handlers.engine_support import pseudonym_key
from handlers.flow import Flow, Router
from handlers.messages import Choice, Media, Reply
from handlers.turn import Turn
from storage.records import NewOutboxMessage

log = logging.getLogger(__name__)

# Downloads a platform's media by its id: bytes, at most `limit` of them.
MediaFetcher = Callable[[str, int], Awaitable[bytes]]

_FETCHERS: dict[str, MediaFetcher] = {}
_RECORD = re.compile(
    r"^/?enregistrer(?:@\w+)?(?:\s+([a-z0-9-]+)(?:\s+(\d{1,3}))?(?:\s+([a-z]{2,3}))?)?\s*$",
    re.IGNORECASE,
)
_REVIEW = re.compile(r"^/?audio(?:@\w+)?\s+(approuver|refuser)\s+(\S+)\s+([a-z]{2,3})\s*$", re.I)
PENDING_FOR = timedelta(minutes=30)


class FetchError(Exception):
    """The platform would not give the file (gone, too large, unreachable)."""


class MediaTooLarge(FetchError):
    """The file is larger than the caller's limit or the platform lets a bot download."""


class MediaGone(FetchError):
    """The platform no longer has the file (its id is invalid or expired): no retry helps."""


def register_fetcher(channel: str, fetcher: MediaFetcher) -> None:
    """Let media sent on `channel` be downloaded (the channel calls this when it starts)."""
    _FETCHERS[channel] = fetcher


def fetcher_for(channel: str) -> MediaFetcher | None:
    """The download of `channel`'s media, if that channel runs in this process."""
    return _FETCHERS.get(channel)


class RecordFlow(Flow):
    """CSO members record voice notes; the desk reviews them."""

    name = "rec"
    stateless_choices = True
    works_in_groups = True

    async def show(self, turn: Turn, router: Router) -> None:
        """Nothing to draw outside the commands."""
        await router.show(turn)

    # --- commands ---------------------------------------------------------------------------

    async def on_any_text(self, turn: Turn, router: Router, text: str) -> bool:
        """`/enregistrer ...` and the desk's `/audio approuver|refuser KEY LANG`."""
        review = _REVIEW.match(text)
        if review:
            verb, key, lang = review[1].lower(), review[2], review[3].lower()
            await self._review(turn, key, lang, approve=verb == "approuver")
            return True
        match = _RECORD.match(text)
        if not match:
            return False
        partner = await self._partner(turn)
        if partner is None:
            return True
        article_id, page, lang = match[1], match[2], match[3]
        if article_id is None:
            self._themes(turn)
        elif page is None:
            self._pages(turn, article_id.lower())
        else:
            await self._await(turn, partner, article_id.lower(), int(page), lang or turn.lang)
        return True

    async def _partner(self, turn: Turn, desk: bool = False) -> str | None:
        inbound = turn.inbound
        partner_id = await turn.tx.partner_of_chat(inbound.channel, inbound.chat_id)
        partner = turn.pack.partner(partner_id) if partner_id else None
        if partner is None or (desk and not partner.desk):
            turn.say(turn.t("audio.desk_only" if desk else "audio.cso_only"))
            return None
        return partner.id

    def _themes(self, turn: Turn) -> None:
        pack = turn.pack
        turn.say(
            turn.t("audio.pick_theme"),
            [Choice(f"rec:theme:{t.id}", pack.pick(t.title, turn.lang)) for t in pack.themes],
        )

    def _articles(self, turn: Turn, theme_id: str) -> None:
        pack = turn.pack
        turn.say(
            turn.t("audio.pick_article"),
            [
                Choice(f"rec:art:{a.id}", pack.pick(a.title, turn.lang))
                for a in pack.in_theme(theme_id)
            ],
        )

    def _pages(self, turn: Turn, article_id: str) -> None:
        article = turn.pack.articles.get(article_id)
        if article is None:
            turn.say(turn.t("audio.no_article", article=article_id[:40]))
            return
        count = len(turn.pack.pages(article, turn.pack.languages[0]))
        turn.say(
            turn.t("audio.pick_page", title=turn.pack.pick(article.title, turn.lang)),
            [
                Choice(f"rec:page:{article.id}:{n}", turn.t("audio.page", n=n))
                for n in range(1, count + 1)
            ],
        )

    def _languages(self, turn: Turn, article_id: str, page: int) -> None:
        turn.say(
            turn.t("audio.pick_language"),
            [
                Choice(f"rec:go:{article_id}:{page}:{code}", language.name)
                for code, language in zip(
                    turn.pack.languages, turn.pack.manifest.languages, strict=True
                )
            ],
        )

    async def _await(self, turn: Turn, partner: str, article_id: str, page: int, lang: str) -> None:
        """Ask for the voice note, with the text to read aloud."""
        pack = turn.pack
        article = pack.articles.get(article_id)
        key = f"article:{article_id}:{page}"
        if article is None:
            turn.say(turn.t("audio.no_article", article=article_id[:40]))
            return
        if lang not in pack.languages or not key_exists(pack, key, lang):
            count = len(pack.pages(article, lang if lang in pack.languages else "fr"))
            turn.say(turn.t("audio.no_page", page=page, count=count))
            return
        inbound = turn.inbound
        turn.tx.set_audio_pending(
            turn.user.key, inbound.channel, inbound.chat_id, (key, lang, partner), turn.now
        )
        text = pack.pages(article, lang)[page - 1]
        turn.say(
            turn.t(
                "audio.send_now",
                title=pack.pick(article.title, lang),
                page=page,
                language=lang,
                minutes=int(MAX_SECONDS // 60),
            )
            + f"\n\n{text}"
        )

    # --- buttons ----------------------------------------------------------------------------

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        """The recording buttons, and the desk's approve and refuse buttons."""
        parts = choice.split(":")
        kind = parts[1] if len(parts) > 1 else ""
        if kind in ("ok", "no") and len(parts) >= 4:
            key, lang = ":".join(parts[2:-1]), parts[-1]
            await self._review(turn, key, lang, approve=kind == "ok")
            return True
        partner = await self._partner(turn)
        if partner is None:
            return True
        if kind == "theme" and len(parts) == 3 and turn.pack.theme(parts[2]):
            self._articles(turn, parts[2])
        elif kind == "art" and len(parts) == 3:
            self._pages(turn, parts[2])
        elif kind == "page" and len(parts) == 4 and parts[3].isdigit():
            self._languages(turn, parts[2], int(parts[3]))
        elif kind == "go" and len(parts) == 5 and parts[3].isdigit():
            await self._await(turn, partner, parts[2], int(parts[3]), parts[4])
        elif kind == "keep":
            turn.say(turn.t("audio.kept"))
        else:
            return False
        return True

    # --- the voice note ---------------------------------------------------------------------

    async def on_any_media(self, turn: Turn, router: Router, media: Media) -> bool:
        """The recording a member announced: downloaded, checked, kept as a draft."""
        inbound = turn.inbound
        pending = await turn.tx.audio_pending(turn.user.key, inbound.channel, inbound.chat_id)
        if pending is None or turn.now - pending[3] > PENDING_FOR:
            return False
        key, lang, partner, _ = pending
        index = turn.pack.audio
        if media.kind not in ("voice", "audio") or index is None:
            turn.say(turn.t("audio.not_voice"))
            return True
        fetcher = fetcher_for(inbound.channel)
        try:
            if fetcher is None:
                raise FetchError(f"no media download on {inbound.channel}")
            data = await fetcher(media.ref, MAX_BYTES)
            rec = index.save_draft(
                key,
                lang,
                data,
                recorded_by=partner,
                recorder=pseudonym_key(turn.user.key),
                now=turn.now,
            )
        except AudioError as exc:
            turn.say(turn.t(f"audio.bad_{exc.code}", minutes=int(MAX_SECONDS // 60)))
            return True
        except FetchError as exc:
            log.warning("could not download a recording: %s", exc)
            turn.say(turn.t("audio.download_failed"))
            return True
        turn.tx.set_audio_pending(turn.user.key, inbound.channel, inbound.chat_id, None, turn.now)
        path = f"{AUDIO_DIR}/{rec.file}"
        _, article_id, page = key.split(":")
        again = Choice(f"rec:go:{article_id}:{page}:{lang}", turn.t("audio.again"))
        turn.replies.append(
            Reply(
                text=turn.t("audio.saved", seconds=round(rec.seconds or 0)),
                choices=(Choice("rec:keep", turn.t("audio.keep")), again),
                audio=path,
            )
        )
        turn.offered = ("rec:keep", again.id)
        await self._tell_desk(turn, key, lang, path, partner)
        return True

    async def _tell_desk(self, turn: Turn, key: str, lang: str, path: str, partner: str) -> None:
        """The desk hears the draft in its chat, with buttons to approve or refuse it."""
        pack = turn.pack
        who = pack.partner(partner)
        for desk in desk_ids(pack):
            if desk == partner:
                continue
            for channel, chat in await turn.tx.partner_chats(desk):
                reply = Reply(
                    text=pack.texts.get(
                        pack.languages[0],
                        "audio.to_review",
                        what=key,
                        language=lang,
                        partner=who.name if who else partner,
                    ),
                    choices=(
                        Choice(f"rec:ok:{key}:{lang}", pack.texts.get(None, "audio.approve")),
                        Choice(f"rec:no:{key}:{lang}", pack.texts.get(None, "audio.reject")),
                    ),
                    audio=path,
                )
                turn.send_later(NewOutboxMessage(channel, chat, "audio", reply.to_dict(chat)))

    async def _review(self, turn: Turn, key: str, lang: str, *, approve: bool) -> None:
        if await self._partner(turn, desk=True) is None:
            return
        index = turn.pack.audio
        state: State = "approved" if approve else "rejected"
        if index is None or not index.set_state(key, lang, state):
            turn.say(turn.t("audio.no_recording", what=key[:60], language=lang))
            return
        turn.say(turn.t(f"audio.{state}", what=key, language=lang))

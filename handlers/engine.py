"""The engine: one inbound in, replies out, state saved in one transaction."""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from content.pack import ContentPack
from content.text import clean_input, fold
from handlers.audio.play import PLAY, AudioFlow, say_with_voice
from handlers.audio.record import RecordFlow
from handlers.barometer.cso import BarometerCsoFlow
from handlers.barometer.flow import BarometerFlow
from handlers.complaints.cso import CsoFlow
from handlers.complaints.inbox import CsoInboxFlow
from handlers.complaints.intake import ComplaintFlow
from handlers.engine_support import pseudonym_key
from handlers.flow import Flow, Router
from handlers.language import LanguageFlow, first_message, language_named
from handlers.learn import LearnFlow
from handlers.locks import KeyedLocks
from handlers.menu import MenuFlow, back_to_menu, help_text
from handlers.messages import Inbound, Reply
from handlers.privacy import PrivacyFlow
from handlers.profile import ProfileFlow
from handlers.quizzes.circle import CircleFlow
from handlers.quizzes.group import GroupQuizFlow
from handlers.quizzes.solo import QuizFlow
from handlers.safety.detect import detect
from handlers.safety.help import SafetyFlow, offer_help
from handlers.search import SearchFlow, answer_chatter, chatter_kind
from handlers.turn import Turn
from handlers.typed.drafts import draft, keep_drafts
from handlers.typed.screen import takes_free_text, typed_choice, zero_choice
from handlers.typed.words import ROLES, words_of
from storage.ports import DuplicateInbound, Session, StaleRecord, Store, Transaction
from storage.records import ConversationRecord, UserRecord

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# A turn whose shared record changed under it runs again on fresh data; with many members
# pressing buttons on one complaint, a second change during the retry happens now and then.
TURN_ATTEMPTS = 3
# Called with a turn's transaction and its replies just before the commit (the durable inbox
# writes the replies as outbox rows there, so the turn and its replies commit together).
BeforeCommit = Callable[[Transaction, list[Reply]], None]


def utc_now() -> datetime:
    """The real clock."""
    return datetime.now(UTC)


def pseudonym(user_key: str) -> str:
    """A short stable hash of a user key, for logs that must not name anyone."""
    return pseudonym_key(user_key)


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Tunable behaviour of the engine."""

    conversation_ttl: timedelta = timedelta(hours=24)
    max_text_length: int = 4000
    complaint_daily_limit: int = 5


def default_flows() -> list[Flow]:
    """The flows every deployment has."""
    return [
        MenuFlow(),
        LanguageFlow(),
        ProfileFlow(),
        PrivacyFlow(),
        LearnFlow(),
        SearchFlow(),
        ComplaintFlow(),
        CsoFlow(),
        CsoInboxFlow(),
        QuizFlow(),
        CircleFlow(),
        GroupQuizFlow(),
        BarometerFlow(),
        BarometerCsoFlow(),
        SafetyFlow(),
        AudioFlow(),
        RecordFlow(),
    ]


class Engine:
    """Channel-neutral conversation engine."""

    def __init__(
        self,
        store: Store,
        pack: Callable[[], ContentPack],
        *,
        flows: Iterable[Flow] | None = None,
        free_text: str | None = "search",
        settings: EngineSettings | None = None,
        clock: Clock = utc_now,
        rng: random.Random | None = None,
    ) -> None:
        self._store = store
        # A callable, so that a reloaded pack (SIGHUP) is picked up by the next message.
        self._pack = pack
        self._router = Router(flows if flows is not None else default_flows(), free_text)
        self._settings = settings or EngineSettings()
        self._clock = clock
        # References must not be guessable: the system's generator unless a test passes one.
        self._rng = rng or random.SystemRandom()
        self._locks = KeyedLocks()

    def content(self) -> ContentPack:
        """The content pack in use now (channels read voice notes from its folder)."""
        return self._pack()

    @property
    def locks_in_use(self) -> int:
        """How many user locks exist right now (for tests and metrics)."""
        return len(self._locks)

    async def handle(
        self, inbound: Inbound, *, before_commit: BeforeCommit | None = None
    ) -> list[Reply]:
        """Process one inbound message and return the replies for its chat."""
        pack = self._pack()
        lang = inbound.lang_hint if inbound.lang_hint in pack.languages else None
        try:
            async with self._locks.hold(inbound.user_key):
                for attempt in range(TURN_ATTEMPTS):
                    try:
                        turn = await self._attempt(
                            inbound, pack, retried=attempt > 0, before_commit=before_commit
                        )
                        break
                    except StaleRecord:
                        # A shared record (a complaint, a group quiz) changed since this turn
                        # read it: its writes were rolled back. Again, on fresh data.
                        if attempt + 1 == TURN_ATTEMPTS:
                            raise
                        log.info("turn of %s retried on fresh data", pseudonym(inbound.user_key))
        except StaleRecord:
            # Changed under every try (many people pressing on one record at once): nothing was
            # written, and the person is told so rather than shown an error.
            log.info(
                "turn of %s gave up after %d tries", pseudonym(inbound.user_key), TURN_ATTEMPTS
            )
            return [Reply(text=pack.texts.get(lang, "error.changed_meanwhile"))]
        except DuplicateInbound:
            # Another process handled the same message meanwhile; its turn won.
            log.info("duplicate inbound from %s rolled back", pseudonym(inbound.user_key))
            return []
        except Exception:
            # The transaction rolled back: state is as before this message, and the user is
            # told in their language instead of seeing nothing or a traceback.
            log.exception("failed to handle inbound from %s", pseudonym(inbound.user_key))
            return [Reply(text=pack.texts.get(lang, "error.generic"))]
        if turn is None:
            return []
        if log.isEnabledFor(logging.INFO):  # the pseudonym is a keyed hash: not for nothing
            log.info(
                "handled %s from %s in %s/%s",
                inbound.kind,
                pseudonym(inbound.user_key),
                turn.flow,
                turn.step,
            )
        return self._finish(turn)

    async def _attempt(
        self,
        inbound: Inbound,
        pack: ContentPack,
        retried: bool = False,
        before_commit: BeforeCommit | None = None,
    ) -> Turn | None:
        """One try at a turn in one transaction; None for a message already handled."""
        now = self._clock()
        async with self._store.transaction() as tx:
            session = await tx.load_session(inbound.user_key, inbound.channel, inbound.message_id)
            if session.seen:
                log.info("duplicate inbound from %s ignored", pseudonym(inbound.user_key))
                return None
            if inbound.message_id is not None:
                tx.claim_inbound(inbound.channel, inbound.message_id, now)
            turn = self._turn(tx, inbound, pack, now, session)
            turn.retried = retried
            if session.user is None:
                # First: a flow may write rows that refer to this person (a CSO member's note).
                tx.insert_user(turn.user)
            await self._dispatch(turn)
            keep_drafts(turn)
            if not turn.forgotten:
                tx.update_user(
                    turn.user.key,
                    last_seen_at=now,
                    last_inbound_at=now,
                    **turn.user_changes,
                )
                # A turn in a group never moves the member's private conversation.
                if inbound.chat_type != "group":
                    tx.save_conversation(turn.conversation)
            if before_commit is not None:
                # The replies commit with the turn (the durable inbox makes them outbox rows).
                replies = self._finish(turn)
                before_commit(tx, replies)
                turn.replies, turn.notice = replies, None
        return turn

    def _turn(
        self,
        tx: Transaction,
        inbound: Inbound,
        pack: ContentPack,
        now: datetime,
        session: Session,
    ) -> Turn:
        key = inbound.user_key
        user = session.user or UserRecord(
            key=key,
            channel=inbound.channel,
            external_id=inbound.user_id,
            created_at=now,
            last_seen_at=now,
        )
        conversation = session.conversation or ConversationRecord(
            user_key=key, flow="menu", step="main", updated_at=now
        )
        user = replace(user, last_seen_at=now, last_inbound_at=now)
        return Turn(
            inbound,
            now,
            tx,
            pack,
            user,
            conversation,
            rng=self._rng,
            complaint_daily_limit=self._settings.complaint_daily_limit,
        )

    def _expired(self, turn: Turn) -> bool:
        idle = turn.now - turn.loaded.updated_at
        return turn.loaded.flow != "menu" and idle > self._settings.conversation_ttl

    async def _dispatch(self, turn: Turn) -> None:
        inbound = turn.inbound
        if inbound.entry and not turn.user.entry_source:
            turn.update_user(entry_source=inbound.entry[:64])
        if inbound.event is not None:
            self._event(turn, inbound.event)
            return
        text = clean_input(inbound.text, self._settings.max_text_length) if inbound.text else ""
        claim_text, claim_media = self._router.claimers()
        if text:
            for flow in claim_text:
                if await flow.on_any_text(turn, self._router, text):
                    return
        if inbound.media is not None:
            for flow in claim_media:
                if await flow.on_any_media(turn, self._router, inbound.media):
                    return
        command = turn.pack.texts.command_for(text) if text else None
        if inbound.chat_type == "group":
            # Groups get only what was asked of the bot; everything personal is in private.
            owner = self._router.owner(inbound.choice) if inbound.choice else None
            if owner is not None and owner.works_in_groups:
                await self._choice(turn, inbound.choice or "")
            elif command in ("menu", "help"):
                turn.replies.append(
                    Reply(
                        text=turn.t("group.private_only"),
                        open_private="group",
                        open_private_label=turn.t("group.open"),
                    )
                )
            return
        # `start` is also a first word on Telegram: before a language is chosen it onboards.
        if command in ("stop", "forget") or (
            command == "resume" and turn.user.language and turn.user.stopped
        ):
            await self._command(turn, command)
            return
        staff = self._router.owner(inbound.choice) if inbound.choice else None
        # Safety first: someone in danger gets help at once, whatever the state.
        danger = detect(text) if text and inbound.choice is None else None
        if turn.user.language is None and not (staff is not None and staff.works_in_groups):
            # A CSO member's buttons work before they ever chose a language (issue 16).
            if danger is not None:
                await offer_help(turn, danger)
                text = ""
            await self._first_contact(turn, text)
            return
        if danger is not None and self._expired(turn):
            turn.goto("menu", "main")
            turn.drafts.clear()
            await offer_help(turn, danger)
            return
        if self._expired(turn):
            turn.notice = turn.t("conversation.expired")
            turn.goto("menu", "main")
            turn.drafts.clear()
            # Only what makes sense without the old context goes on: commands, buttons that
            # work anywhere, and free text. Old step choices and numbers land on the menu.
            owner = self._router.owner(inbound.choice) if inbound.choice else None
            if command is not None:
                await self._command(turn, command)
            elif inbound.choice is not None and owner is not None and owner.stateless_choices:
                await self._choice(turn, inbound.choice)
            elif inbound.choice is None and fold(text) and not text.isdigit():
                await self._free_text(turn, text)
            else:
                await self._router.show_menu(turn)
            return
        if inbound.choice is None and text and await self._typed(turn, text):
            return
        if danger is not None:
            await offer_help(turn, danger)
            # At a step that takes free text (a description), the step carries on with it.
            if takes_free_text(turn):
                await self._current(turn).on_text(turn, self._router, text)
            return
        chatter = chatter_kind(turn, text) if inbound.choice is None else None
        # At a step that waits for text, "oui", "non" or "ok" may be the answer (to a CSO).
        if chatter is not None and (chatter == "confused" or not takes_free_text(turn)):
            await answer_chatter(turn, self._router, chatter)
            return
        complaints = self._router.get("complaint")
        if (
            inbound.choice is None
            and isinstance(complaints, ComplaintFlow)
            and " ".join(words_of(text)) in ROLES["cancel"]
            and complaints.cancel_kept(turn)
        ):
            return
        # "continuer" typed after a detour goes back to the kept draft, as "reprendre" does.
        if (
            inbound.choice is None
            and " ".join(words_of(text)) in ROLES["continue"]
            and not takes_free_text(turn)
            and await self._resume_draft(turn)
        ):
            return
        # "suite" or "continuer" where nothing follows: say so and draw the screen again; a
        # search for the word found unrelated articles.
        if (
            inbound.choice is None
            and " ".join(words_of(text)) in ROLES["next"] | ROLES["continue"]
            and not takes_free_text(turn)
        ):
            turn.say(turn.t("chatter.no_next"))
            await self._router.show(turn)
            return
        if inbound.choice is None and (code := language_named(turn.pack, text)):
            await self._router.flows["lang"].on_choice(turn, self._router, f"lang:{code}")
            return
        if command is not None:
            await self._command(turn, command)
        elif inbound.choice is not None:
            await self._choice(turn, inbound.choice)
        elif text.isdigit():
            await self._number(turn, text)
        elif inbound.location is not None:
            flow = self._current(turn)
            if not await flow.on_location(turn, self._router, inbound.location):
                turn.say(turn.t("input.unexpected_location"))
                await flow.show(turn, self._router)
        elif inbound.media is not None:
            flow = self._current(turn)
            if not await flow.on_media(turn, self._router, inbound.media):
                turn.say(turn.t("input.unexpected_media"))
                await flow.show(turn, self._router)
        elif not fold(text):
            # Empty, blank, or only emoji and punctuation: nothing to act on.
            if text:
                await self._not_understood(turn)
            else:
                turn.say(turn.t("input.empty"))
            await self._router.show(turn)
        else:
            flow = self._current(turn)
            if not await flow.on_text(turn, self._router, text):
                await self._free_text(turn, text)

    def _event(self, turn: Turn, event: str) -> None:
        if event == "blocked":
            # Nothing more may be sent to someone who blocked the bot, campaigns least of all.
            turn.update_user(stopped=True)
        elif event == "added":
            turn.say(turn.t("group.intro"))

    def _current(self, turn: Turn) -> Flow:
        return self._router.get(turn.flow) or self._router.flows["menu"]

    async def _first_contact(self, turn: Turn, text: str) -> None:
        choice = turn.inbound.choice
        if text.isdigit() and turn.offered:
            index = int(text) - 1
            if 0 <= index < len(turn.offered):
                choice = turn.offered[index]
        elif text and choice is None:
            code = language_named(turn.pack, text)
            choice = f"lang:{code}" if code else typed_choice(turn, text)
        language = self._router.flows["lang"]
        # The first message counts: a question or a code sent before the language is chosen
        # is kept (until the next message only) and answered once the language is known.
        pending = first_message(turn, text, choice)
        if choice is not None and choice.startswith(PLAY):
            # "Écouter" on the language prompt plays it; the prompt stays the current screen.
            audio = self._router.flows["audio"]
            if await audio.on_choice(turn, self._router, choice):
                return
        if choice is None or not choice.startswith("lang:"):
            if isinstance(language, LanguageFlow):
                await language.ask(turn, pending)
            else:
                await language.show(turn, self._router)
            return
        if not await language.on_choice(turn, self._router, choice):
            await language.show(turn, self._router)
        elif pending:
            await self._free_text(turn, pending)

    async def _command(self, turn: Turn, command: str) -> None:
        privacy = self._router.flows["privacy"]
        if command == "menu":
            await self._router.show_menu(turn)
        elif command == "help":
            turn.goto("menu", "main")
            await say_with_voice(turn, "ui:help.text", help_text(turn), [back_to_menu(turn)])
        elif command == "language":
            await self._router.flows["lang"].show(turn, self._router)
        elif command == "stop" and isinstance(privacy, PrivacyFlow):
            await privacy.stop(turn)
        elif command == "resume" and isinstance(privacy, PrivacyFlow):
            if turn.user.stopped:
                await privacy.resume(turn)
            elif not await self._resume_draft(turn):
                await self._router.show_menu(turn)
        elif command == "forget":
            await privacy.show(turn, self._router)
        elif command in ("complaint", "quiz", "circle", "barometer", "profile"):
            await self._router.start(turn, command)
        elif command == "mine":
            await self._choice(turn, "complaint:mine")

    async def _resume_draft(self, turn: Turn) -> bool:
        """`reprendre` or `continuer` after a detour: back to the complaint draft, if kept."""
        kept = draft(turn, "complaint")
        flow = self._router.get("complaint")
        if kept is None or flow is None:
            return False
        turn.goto("complaint", kept[0], kept[1])
        await flow.show(turn, self._router)
        return True

    async def _typed(self, turn: Turn, text: str) -> bool:
        """Typed words that name a choice on the current screen act as that choice."""
        choice = typed_choice(turn, text) if not text.isdigit() else None
        if choice is None:
            return False
        await self._choice(turn, choice)
        return True

    async def _number(self, turn: Turn, text: str) -> None:
        offered = turn.offered
        index = int(text) - 1
        back = zero_choice(turn) if index == -1 else None
        if back is not None:
            await self._choice(turn, back)
        elif 0 <= index < len(offered):
            await self._choice(turn, offered[index])
        elif await self._current(turn).on_text(turn, self._router, text):
            pass  # a step that awaits free text takes numbers too ("14" as an answer)
        else:
            turn.say(turn.t("input.bad_number", number=text[:6]))
            await self._router.show(turn)

    async def _choice(self, turn: Turn, choice: str) -> None:
        flow = self._router.owner(choice)
        valid = flow is not None and (flow.stateless_choices or choice in turn.offered)
        if flow is None or not valid or not await flow.on_choice(turn, self._router, choice):
            turn.say(turn.t("input.stale_choice"))
            await self._router.show_menu(turn)

    async def _free_text(self, turn: Turn, text: str) -> None:
        name = self._router.free_text
        flow = self._router.get(name) if name else None
        if flow is None or not await flow.on_text(turn, self._router, text):
            await self._not_understood(turn)
            await self._router.show_menu(turn)

    async def _not_understood(self, turn: Turn) -> None:
        # Heard by listeners only: the screen just below offers its own "Écouter".
        text = turn.t("input.not_understood")
        await say_with_voice(turn, "ui:input.not_understood", text, offer=False)

    def _finish(self, turn: Turn) -> list[Reply]:
        replies = turn.replies
        if turn.notice:
            if replies:
                first = replies[0]
                replies[0] = replace(first, text=f"{turn.notice}\n\n{first.text}")
            else:
                replies.append(Reply(text=turn.notice))
        return replies

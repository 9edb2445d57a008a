"""Reporting a problem with a public service, step by step, and following it up."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from complaints.duplicates import find_similar
from complaints.lifecycle import allows
from complaints.reference import normalize_reference
from handlers.audio.play import say_with_voice
from handlers.complaints.contact import contact_line
from handlers.complaints.notices import (
    forward,
    notify,
    place_text,
    short,
)
from handlers.complaints.submit import Draft, submit_complaint
from handlers.flow import Flow, Router
from handlers.menu import back_to_menu
from handlers.messages import Choice, Location, Media
from handlers.turn import Turn
from handlers.typed.drafts import draft, drop_draft
from storage.records import ComplaintRecord, NewOutboxMessage

# Mali's bounding box, with a margin: a shared position elsewhere is not a Malian commune.
MALI_LAT = (10.0, 25.5)
MALI_LON = (-12.5, 4.5)
PLACE_LIMIT = 120
DESCRIPTION_MIN = 10
DESCRIPTION_LIMIT = 500
ANSWER_LIMIT = 500
MEDIA_LIMIT = 3
DUPLICATE_WINDOW = timedelta(days=30)
# Choices that work at any time (buttons in notices and articles); the others only when offered.
ANYTIME = (
    "complaint:new",
    "complaint:mine",
    "complaint:show:",
    "complaint:answer:",
    "complaint:solved:",
    "complaint:unsolved:",
    "complaint:start",
)
EDITABLE = ("category", "commune", "place", "description", "media", "consent")


def describe_contact(turn: Turn) -> str:
    """Exactly what a CSO gets when the citizen agrees to be contacted."""
    inbound = turn.inbound
    name = inbound.name or "?"
    return turn.t("complaint.contact_value", name=name, channel=inbound.channel, id=inbound.user_id)


class ComplaintFlow(Flow):
    """Category, commune, place, description, media, consent, summary; then follow-up."""

    name = "complaint"
    stateless_choices = True

    async def start(self, turn: Turn, router: Router) -> None:
        """The home of complaints: resume the draft, report a new problem, or see mine."""
        turn.goto("complaint", "home")
        kept = draft(turn, "complaint")
        resume = [self._resume_choice(turn, kept[1])] if kept else []
        await say_with_voice(
            turn,
            "ui:complaint.home",
            turn.t("complaint.home"),
            [
                *resume,
                Choice("complaint:new", turn.t("complaint.new")),
                Choice("complaint:mine", turn.t("complaint.mine")),
                back_to_menu(turn),
            ],
        )

    def _resume_choice(self, turn: Turn, data: dict[str, Any]) -> Choice:
        """'Reprendre mon signalement (Eau potable, Kayes)': what the draft is about."""
        pack = turn.pack
        category = pack.category(data.get("category", ""))
        about: list[str] = []
        if category is not None:
            lang = turn.lang
            about.append(pack.pick(category.short_label, lang) or pack.pick(category.label, lang))
        commune = pack.communes.by_pcode.get(data.get("commune", ""))
        if commune is not None:
            about.append(commune.name)
        label = turn.t("draft.resume", about=", ".join(about) or "…")
        return Choice("complaint:resume", label, turn.t("draft.resume_short"))

    def cancel_kept(self, turn: Turn) -> bool:
        """`annuler` typed after a detour: ask whether to drop the kept draft, if there is one."""
        kept = draft(turn, "complaint")
        if kept is None:
            return False
        turn.goto("complaint", kept[0], kept[1])
        self._confirm_cancel(turn)
        return True

    def _confirm_cancel(self, turn: Turn) -> None:
        turn.say(
            turn.t("draft.cancel_confirm"),
            [
                Choice("complaint:cancel_yes", turn.t("draft.cancel_yes")),
                Choice("complaint:cancel_no", turn.t("draft.cancel_no")),
            ],
        )

    # --- drawing each step -------------------------------------------------------------------

    async def show(self, turn: Turn, router: Router) -> None:
        """Draw the current step again."""
        step, data, pack = turn.step, turn.data, turn.pack
        lang = turn.lang
        cancel = Choice("complaint:cancel", turn.t("complaint.cancel"))
        if step == "category":
            await say_with_voice(
                turn,
                "ui:complaint.ask_category",
                turn.t("complaint.ask_category"),
                [
                    Choice(
                        f"complaint:cat:{c.id}",
                        pack.pick(c.label, lang),
                        pack.pick(c.short_label, lang) or None,
                    )
                    for c in pack.categories
                ]
                + [cancel],
            )
        elif step == "commune":
            offered: list[Choice] = []
            own = turn.user.commune
            if own and own in pack.communes.by_pcode:
                offered.append(Choice(f"complaint:commune:{own}", pack.communes.by_pcode[own].name))
            await say_with_voice(
                turn,
                "ui:complaint.ask_commune",
                turn.t("complaint.ask_commune"),
                [*offered, cancel],
            )
        elif step == "place":
            await say_with_voice(
                turn,
                "ui:complaint.ask_place",
                turn.t("complaint.ask_place"),
                [Choice("complaint:skip_place", turn.t("complaint.skip")), cancel],
            )
        elif step == "description":
            # Issue 18: a voice note may describe it; the person hears first what that risks.
            ask = turn.t("complaint.ask_description", limit=DESCRIPTION_LIMIT)
            text = f"{ask}\n\n{turn.t('audio.complaint_voice')}"
            await say_with_voice(turn, "ui:complaint.ask_description", text, [cancel])
        elif step == "media":
            await say_with_voice(
                turn,
                "ui:complaint.ask_media",
                turn.t("complaint.ask_media", count=len(data.get("media", []))),
                [Choice("complaint:media_done", turn.t("complaint.continue")), cancel],
            )
        elif step == "consent":
            await say_with_voice(
                turn,
                "ui:complaint.ask_consent",
                turn.t("complaint.ask_consent", contact=describe_contact(turn)),
                [
                    Choice("complaint:consent:no", turn.t("complaint.consent_no")),
                    Choice("complaint:consent:yes", turn.t("complaint.consent_yes")),
                ],
            )
        elif step == "summary":
            turn.say(
                self._summary(turn, data),
                [
                    Choice("complaint:confirm", turn.t("complaint.confirm")),
                    Choice("complaint:change", turn.t("complaint.change")),
                    cancel,
                ],
            )
        elif step == "change":
            turn.say(
                turn.t("complaint.what_to_change"),
                [Choice(f"complaint:edit:{f}", turn.t(f"complaint.field.{f}")) for f in EDITABLE]
                + [Choice("complaint:back_summary", turn.t("complaint.back_summary"))],
            )
        elif step == "answer":
            # No buttons: any typed text, numbers too, is the answer.
            turn.say(turn.t("complaint.ask_answer"))
        else:
            await self.start(turn, router)

    def _summary(self, turn: Turn, data: dict[str, Any]) -> str:
        pack, lang = turn.pack, turn.lang
        category = pack.category(data.get("category", ""))
        lines = [
            turn.t("complaint.summary_title"),
            turn.t(
                "complaint.summary_category",
                category=pack.pick(category.label, lang) if category else "?",
            ),
            turn.t(
                "complaint.summary_commune", commune=place_text(pack, data.get("commune", ""), lang)
            ),
            turn.t("complaint.summary_place", place=data.get("place") or "—"),
            turn.t("complaint.summary_description", text=data.get("description", "")),
            turn.t("complaint.summary_media", count=len(data.get("media", []))),
            turn.t(
                "complaint.summary_contact_yes"
                if data.get("consent")
                else "complaint.summary_contact_no",
                contact=describe_contact(turn),
            ),
        ]
        return "\n".join(lines)

    async def _next(self, turn: Turn, router: Router, data: dict[str, Any], step: str) -> None:
        """Go to `step`, or back to the summary when the user was changing one answer."""
        if data.pop("editing", False):
            step = "summary"
        if step == "duplicate_check":
            await self._duplicates(turn, router, data)
            return
        turn.goto("complaint", step, data)
        await self.show(turn, router)

    # --- choices ------------------------------------------------------------------------------

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        """Every button of the flow."""
        if not choice.startswith(ANYTIME) and choice not in turn.offered:
            return False
        parts = choice.split(":")
        action = parts[1] if len(parts) > 1 else ""
        value = ":".join(parts[2:])
        data = turn.data
        if action in ("new", "start"):
            drop_draft(turn, "complaint")
            fresh: dict[str, Any] = {"media": []}
            if value and turn.pack.category(value):
                fresh["category"] = value
                turn.goto("complaint", "commune", fresh)
            else:
                turn.goto("complaint", "category", fresh)
            await self.show(turn, router)
        elif action == "mine":
            await self._mine(turn)
        elif action == "show":
            await self._show_one(turn, value)
        elif action == "resume":
            kept = draft(turn, "complaint")
            if kept is None:
                await self.start(turn, router)
            else:
                turn.goto("complaint", kept[0], kept[1])
                await self.show(turn, router)
        elif action == "cancel" and data.get("category") and turn.step != "home":
            # A draft with content is not thrown away on one tap or a stray "1".
            self._confirm_cancel(turn)
        elif action == "cancel_no":
            await self.show(turn, router)
        elif action in ("cancel", "cancel_yes"):
            drop_draft(turn, "complaint")
            turn.say(turn.t("complaint.cancelled"))
            await router.show_menu(turn)
        elif action == "cat" and turn.pack.category(value):
            data["category"] = value
            await self._next(turn, router, data, "commune")
        elif action == "commune" and value in turn.pack.communes.by_pcode:
            data["commune"] = value
            await self._next(turn, router, data, "place")
        elif action == "retype":
            turn.goto("complaint", "commune", data)
            await self.show(turn, router)
        elif action == "skip_place":
            data["place"] = None
            await self._next(turn, router, data, "description")
        elif action == "media_done":
            await self._next(turn, router, data, "consent")
        elif action == "consent":
            data["consent"] = value == "yes"
            await self._next(turn, router, data, "duplicate_check")
        elif action == "dup_no":
            turn.goto("complaint", "summary", data)
            await self.show(turn, router)
        elif action == "voice":
            await self._add_voice(turn, router, value)
        elif action == "confirm":
            await self._confirm(turn, router, data)
        elif action == "change":
            turn.goto("complaint", "change", data)
            await self.show(turn, router)
        elif action == "back_summary":
            turn.goto("complaint", "summary", data)
            await self.show(turn, router)
        elif action == "edit" and value in EDITABLE:
            data["editing"] = True
            turn.goto("complaint", value, data)
            await self.show(turn, router)
        elif action == "answer":
            await self._start_answer(turn, value)
        elif action in ("solved", "unsolved"):
            await self._followup_answer(turn, router, value, solved=action == "solved")
        else:
            return False
        return True

    # --- typed text, places, media ------------------------------------------------------------

    async def on_text(self, turn: Turn, router: Router, text: str) -> bool:
        """Answers typed at the steps that expect text."""
        step, data = turn.step, turn.data
        if step == "commune":
            await self._commune_typed(turn, router, text, data)
        elif step == "place":
            if len(text) > PLACE_LIMIT:
                turn.say(turn.t("complaint.too_long", length=len(text), limit=PLACE_LIMIT))
                await self.show(turn, router)
            else:
                data["place"] = text
                await self._next(turn, router, data, "description")
        elif step == "description":
            if len(text) > DESCRIPTION_LIMIT:
                # Kept, cut at the limit and shown back: never retyped in full.
                kept = text[:DESCRIPTION_LIMIT].rstrip()
                data["description"] = kept
                turn.say(
                    turn.t(
                        "draft.description_cut",
                        length=len(text),
                        limit=DESCRIPTION_LIMIT,
                        text=kept,
                    )
                )
                await self._next(turn, router, data, "media")
            elif len(text) < DESCRIPTION_MIN:
                turn.say(turn.t("complaint.too_short"))
                await self.show(turn, router)
            else:
                data["description"] = text
                await self._next(turn, router, data, "media")
        elif step == "media" and data.get("description"):
            # More words after the description ("les femmes marchent 5 km"): they belong to it.
            added = f"{data['description']}\n{text}"[:DESCRIPTION_LIMIT].rstrip()
            data["description"] = added
            turn.say(turn.t("draft.description_added", text=added))
            turn.goto("complaint", "media", data)
            await self.show(turn, router)
        elif step == "answer":
            await self._answer(turn, router, data, text)
        else:
            return False
        return True

    async def on_location(self, turn: Turn, router: Router, location: Location) -> bool:
        """A shared position proposes the nearest commune."""
        if turn.step != "commune":
            return False
        inside = MALI_LAT[0] <= location.lat <= MALI_LAT[1]
        if not (inside and MALI_LON[0] <= location.lon <= MALI_LON[1]):
            turn.say(turn.t("complaint.outside_mali"))
            await self.show(turn, router)
            return True
        commune = turn.pack.communes.nearest(location.lat, location.lon)
        turn.say(
            turn.t(
                "complaint.confirm_commune", commune=place_text(turn.pack, commune.pcode, turn.lang)
            ),
            [
                Choice(f"complaint:commune:{commune.pcode}", turn.t("complaint.yes_commune")),
                Choice("complaint:retype", turn.t("complaint.no_commune")),
            ],
        )
        return True

    async def on_media(self, turn: Turn, router: Router, media: Media) -> bool:
        """Photos and voice notes are kept with the complaint and forwarded as they are."""
        if turn.step not in ("media", "description"):
            return False
        data = turn.data
        files = data.setdefault("media", [])
        if turn.step == "description" and media.kind in ("voice", "audio"):
            # A voice note is the description itself; the CSO hears it with the forward.
            files.append([media.kind, media.ref])
            data["description"] = turn.t("audio.voice_description")
            turn.say(turn.t("audio.complaint_voice_kept"))
            await self._next(turn, router, data, "media")
            return True
        if len(files) >= MEDIA_LIMIT:
            turn.say(turn.t("complaint.media_full", limit=MEDIA_LIMIT))
        else:
            files.append([media.kind, media.ref])
            turn.say(turn.t("complaint.media_added", count=len(files)))
        turn.goto("complaint", turn.step, data)
        await self.show(turn, router)
        return True

    async def on_free_text(self, turn: Turn, router: Router, text: str) -> bool:
        """A reference typed anywhere shows that complaint, if it is the user's."""
        record = await self._own(turn, text)
        if record is None:
            # Words like "urgences" look like references: unless it is one of the user's own
            # complaints, search answers (which also reveals nothing about other people's).
            return False
        self._describe(turn, record)
        return True

    async def _commune_typed(
        self, turn: Turn, router: Router, text: str, data: dict[str, Any]
    ) -> None:
        found = turn.pack.communes.match(text, limit=5)
        exact = [c for c, score in found if score >= 100]
        if len(exact) == 1 or (found and found[0][1] >= 95 and len(found) == 1):
            data["commune"] = (exact or [found[0][0]])[0].pcode
            await self._next(turn, router, data, "place")
            return
        if not found:
            turn.say(turn.t("complaint.commune_not_found", typed=text[:40]))
            await self.show(turn, router)
            return
        # Same name in several cercles, or a typo: the user picks, seeing cercle and region.
        candidates = exact or [c for c, _ in found]
        turn.say(
            turn.t("complaint.pick_commune"),
            [
                Choice(
                    f"complaint:commune:{c.pcode}",
                    f"{c.name} ({c.cercle}, {c.region})",
                    c.name[:20],
                )
                for c in candidates
            ]
            + [Choice("complaint:retype", turn.t("complaint.none_of_these"))],
        )

    # --- duplicates, confirmation -------------------------------------------------------------

    async def _duplicates(self, turn: Turn, router: Router, data: dict[str, Any]) -> None:
        others = await turn.tx.open_complaints_at(
            data["commune"], data["category"], turn.now - DUPLICATE_WINDOW
        )
        mine = {c.id for c in await turn.tx.complaints_of(turn.user.key)}
        others = [c for c in others if c.user_key != turn.user.key and c.id not in mine]
        similar = find_similar(data.get("description", ""), [(c.id, c.description) for c in others])
        if not similar:
            turn.goto("complaint", "summary", data)
            await self.show(turn, router)
            return
        match = next(c for c in others if c.id == similar[0])
        turn.goto("complaint", "duplicate", data)
        # Only what is public about it: no description, nothing about who reported it.
        turn.say(
            turn.t(
                "complaint.duplicate",
                date=match.created_at.strftime("%d/%m/%Y"),
                status=turn.t(f"complaint.status.{match.status}"),
                voices=match.voices,
            ),
            [
                Choice(f"complaint:voice:{short(match.reference)}", turn.t("complaint.add_voice")),
                Choice("complaint:dup_no", turn.t("complaint.not_same")),
            ],
        )

    async def _add_voice(self, turn: Turn, router: Router, ref: str) -> None:
        reference = normalize_reference(ref)
        existing = await turn.tx.complaint_by_reference(reference) if reference else None
        if existing is None:
            turn.say(turn.t("input.stale_choice"))
            await router.show_menu(turn)
            return
        followed = any(c.id == existing.id for c in await turn.tx.complaints_of(turn.user.key))
        if not followed:
            turn.tx.add_voice(existing.id, turn.user.key, turn.now)
            turn.tx.add_event(existing.id, "voice", turn.now)
        turn.goto("menu", "main")
        turn.say(
            turn.t(
                "complaint.voice_added",
                reference=existing.reference,
                voices=existing.voices + (0 if followed else 1),
            ),
            [back_to_menu(turn)],
        )

    async def _confirm(self, turn: Turn, router: Router, data: dict[str, Any]) -> None:
        limit = turn.complaint_daily_limit
        if (
            await turn.tx.count_complaints_since(turn.user.key, turn.now - timedelta(days=1))
            >= limit
        ):
            turn.say(turn.t("complaint.limit", limit=limit))
            await router.show_menu(turn)
            return
        draft = Draft(
            category=data["category"],
            commune=data["commune"],
            description=data["description"],
            place=data.get("place"),
            media=tuple((kind, ref) for kind, ref in data.get("media", [])),
            consent=bool(data.get("consent")),
            contact=contact_line(turn.inbound.name, turn.inbound.channel, turn.inbound.user_id),
        )
        record, partners = await submit_complaint(
            turn.tx,
            turn.pack,
            turn.now,
            turn.rng,
            draft,
            user_key=turn.user.key,
            channel=turn.inbound.channel,
            chat_id=turn.inbound.chat_id,
            lang=turn.lang,
        )
        names = ", ".join(p.name for p in turn.pack.partners if p.id in partners)
        drop_draft(turn, "complaint")
        turn.goto("menu", "main")
        turn.say(
            turn.t("complaint.submitted", reference=record.reference, partners=names),
            [Choice("complaint:mine", turn.t("complaint.mine")), back_to_menu(turn)],
        )

    # --- following up -------------------------------------------------------------------------

    async def _mine(self, turn: Turn) -> None:
        mine = await turn.tx.complaints_of(turn.user.key)
        turn.goto("complaint", "mine")
        if not mine:
            turn.say(
                turn.t("complaint.none_yet"),
                [Choice("complaint:new", turn.t("complaint.new")), back_to_menu(turn)],
            )
            return
        turn.say(
            turn.t("complaint.mine_intro"),
            [
                Choice(
                    f"complaint:show:{short(c.reference)}",
                    f"{c.reference} · {turn.t(f'complaint.status.{c.status}')}",
                )
                for c in mine[:9]
            ]
            + [back_to_menu(turn)],
        )

    async def _own(self, turn: Turn, typed: str) -> ComplaintRecord | None:
        """The user's own complaint (or one they follow) with this reference, else None."""
        reference = normalize_reference(typed)
        record = await turn.tx.complaint_by_reference(reference) if reference else None
        if record is None:
            return None
        mine = await turn.tx.complaints_of(turn.user.key)
        return record if any(c.id == record.id for c in mine) else None

    async def _show_one(self, turn: Turn, ref: str) -> None:
        record = await self._own(turn, ref)
        if record is None:
            # Someone else's reference reveals nothing, not even that it exists.
            turn.say(turn.t("complaint.not_yours"), [back_to_menu(turn)])
            return
        self._describe(turn, record)

    def _describe(self, turn: Turn, record: ComplaintRecord) -> None:
        pack = turn.pack
        category = pack.category(record.category)
        turn.say(
            turn.t(
                "complaint.details",
                reference=record.reference,
                status=turn.t(f"complaint.status.{record.status}"),
                category=pack.pick(category.label, turn.lang) if category else record.category,
                commune=place_text(pack, record.commune, turn.lang),
                date=record.created_at.strftime("%d/%m/%Y"),
                voices=record.voices,
            ),
            [Choice("complaint:mine", turn.t("complaint.mine")), back_to_menu(turn)],
        )

    async def _start_answer(self, turn: Turn, question_id: str) -> None:
        question = await turn.tx.question(question_id)
        record = await turn.tx.complaint_by_id(question.complaint_id) if question else None
        if question is None or record is None or record.user_key != turn.user.key:
            turn.say(turn.t("input.stale_choice"), [back_to_menu(turn)])
            return
        turn.goto("complaint", "answer", {"question": question_id})
        turn.say(turn.t("complaint.ask_answer"))

    async def _answer(self, turn: Turn, router: Router, data: dict[str, Any], text: str) -> None:
        question = await turn.tx.question(str(data.get("question")))
        if question is None:
            await router.show_menu(turn)
            return
        answer = text[:ANSWER_LIMIT]
        turn.tx.save_question(replace(question, answer=answer, answered_at=turn.now))
        record = await turn.tx.complaint_by_id(question.complaint_id)
        reference = record.reference if record else "?"
        lang = turn.pack.languages[0]
        # The CSO reads the answer without learning who wrote it.
        relay = turn.pack.texts.get(lang, "cso.answer_relayed", reference=reference, text=answer)
        turn.send_later(
            NewOutboxMessage(
                question.channel, question.chat_id, "relay", {"text": relay, "choices": []}
            )
        )
        if record:
            turn.tx.add_event(record.id, "answered", turn.now, partner_id=question.partner_id)
        turn.goto("menu", "main")
        turn.say(turn.t("complaint.answer_sent"), [back_to_menu(turn)])

    async def _followup_answer(self, turn: Turn, router: Router, ref: str, solved: bool) -> None:
        reference = normalize_reference(ref)
        record = await turn.tx.complaint_by_reference(reference) if reference else None
        if (
            record is None
            or record.user_key != turn.user.key
            or not allows(record.status, "reopen")
        ):
            turn.say(turn.t("input.stale_choice"), [back_to_menu(turn)])
            return
        turn.tx.add_event(
            record.id, "confirmed" if solved else "reopened", turn.now, actor=turn.user.key
        )
        if solved:
            # Confirmed as the complaint stood: not if a CSO reopened it meanwhile.
            turn.tx.expect_complaint_status(record.id, record.status)
            turn.say(turn.t("complaint.thanks_solved"), [back_to_menu(turn)])
            return
        due = turn.now + timedelta(days=3)
        status = turn.tx.transition_complaint(
            record.id, record.status, "reopen", turn.now, ack_due_at=due
        )
        assert status is not None  # allowed, checked above
        reopened = replace(
            record,
            status=status,
            updated_at=turn.now,
            reminded=False,
            escalated=False,
            ack_due_at=due,
        )
        partners = await turn.tx.routes_of(record.id)
        await forward(turn.tx, turn.pack, turn.now, reopened, partners, "cso.forward.reopened")
        await notify(
            turn.tx, turn.pack, turn.now, reopened, "complaint.notice.reopened", skip=turn.user.key
        )
        turn.say(turn.t("complaint.reopened", reference=record.reference), [back_to_menu(turn)])

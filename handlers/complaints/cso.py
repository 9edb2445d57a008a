"""CSOs at work in their own chat: linking the chat, acting on complaints, asking citizens."""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from datetime import timedelta

from complaints.lifecycle import Action, allows
from complaints.reference import normalize_reference
from content.text import fold
from handlers.complaints.attempts import AttemptLimiter
from handlers.complaints.inbox import send_backlog
from handlers.complaints.notices import desk_ids, forward, notify, short
from handlers.flow import Flow, Router
from handlers.messages import Choice, Reply
from handlers.turn import Turn
from handlers.typed.words import pick
from storage.records import ComplaintRecord, NewOutboxMessage, QuestionRecord

_LINK = re.compile(r"^/?lier\s+([A-Za-z0-9-]{4,16})$", re.IGNORECASE)
NOTE_LIMIT = 500
LINK_TRIES_PER_CHAT = 5
LINK_TRIES_TOTAL = 60
LINK_TRIES_WINDOW = timedelta(minutes=10)
# Buttons that change the status at once, and those that need a text first.
_AT_ONCE: dict[str, Action] = {"ack": "ack", "progress": "progress"}
_ASKS = {"done": "note", "notours": "reason", "ask": "question"}
_ASK_ACTIONS: dict[str, Action] = {"done": "resolved", "notours": "reroute"}


def refuse(turn: Turn, record: ComplaintRecord) -> None:
    """An action the complaint's status does not allow: nothing changes, and the member is told."""
    status = turn.t(f"complaint.status.{record.status}")
    if not turn.retried:
        turn.say(turn.t("cso.not_now", reference=record.reference, status=status))
    elif record.status == "resolved":
        turn.say(turn.t("cso.changed_meanwhile_resolved", reference=record.reference))
    else:
        turn.say(turn.t("cso.changed_meanwhile", reference=record.reference, status=status))


# Typed at a step that waits for a question or a reason, these say nothing to pass on.
_NOTHING = frozenset({"ok", "okay", "oki", "k", "oui", "non", "d accord", "daccord", "dac"})


def _says_nothing(text: str) -> bool:
    folded = fold(text)
    return not folded or folded in _NOTHING


def _names_no_note(turn: Turn, text: str) -> bool:
    """`1` or `sans message` typed under the note prompt, whose one button is Sans message."""
    if text.strip() in ("1", "1."):
        return True
    return pick((Choice("cso:nonote", turn.t("cso.no_note")),), text) is not None


class CsoFlow(Flow):
    """The buttons under a forwarded complaint, usable only from the CSO's linked chat."""

    name = "cso"
    stateless_choices = True
    works_in_groups = True

    def __init__(self) -> None:
        # Link codes are short: guessing them is slowed per chat and for everyone together.
        self._link_attempts = AttemptLimiter(
            LINK_TRIES_PER_CHAT, LINK_TRIES_TOTAL, LINK_TRIES_WINDOW
        )

    async def show(self, turn: Turn, router: Router) -> None:
        """Repeat what is awaited from the CSO member."""
        turn.say(turn.t(f"cso.ask_{turn.step}"))

    async def on_any_text(self, turn: Turn, router: Router, text: str) -> bool:
        """`/lier CODE` from any chat, and the note, reason or question a member was asked."""
        linked = _LINK.match(text)
        if linked:
            await self._link(turn, linked[1].upper())
            return True
        inbound = turn.inbound
        if inbound.chat_type == "group":
            # In a group the member's pending step is kept apart from their private chat.
            pending = await turn.tx.cso_pending(turn.user.key, inbound.channel, inbound.chat_id)
            if pending is None:
                return False
            step, reference, partner = pending
            turn.tx.set_cso_pending(turn.user.key, inbound.channel, inbound.chat_id, None)
        else:
            if turn.flow != "cso":  # before `turn.data`, a deep copy, for every text typed
                return False
            data = turn.data
            if data.get("chat") != inbound.chat_id:
                return False
            step, reference = turn.step, str(data.get("reference"))
            partner = str(data.get("partner"))
        if step not in ("note", "reason", "question"):
            return False
        record = await turn.tx.complaint_by_reference(reference)
        if record is None:
            return False
        if step == "note" and _names_no_note(turn, text):
            text = ""  # "1" or "sans message": the one button under the prompt, typed
        elif step in ("question", "reason") and _says_nothing(text):
            # "ok" is no question to send a citizen, nor a reason for the desk: ask again.
            if inbound.chat_type == "group":
                _await_in_group(turn, step, reference, partner)
            turn.say(turn.t(f"cso.ask_{step}", reference=record.reference))
            return True
        await self._with_text(turn, record, partner, step, text[:NOTE_LIMIT])
        return True

    async def _link(self, turn: Turn, code: str) -> None:
        inbound = turn.inbound
        chat = f"{inbound.channel}:{inbound.chat_id}"
        # A throttled try gets the same answer as a wrong code: no hint for a guesser.
        allowed = self._link_attempts.allow(chat, turn.now)
        partner_id = await turn.tx.consume_link_code(code, turn.now) if allowed else None
        partner = turn.pack.partner(partner_id) if partner_id else None
        if partner is None:
            turn.say(turn.t("cso.link_bad"))
            return
        # A CSO without a chat until now never received its complaints: they come now.
        first_chat = not await turn.tx.partner_chats(partner.id)
        turn.tx.link_chat(turn.inbound.channel, turn.inbound.chat_id, partner.id, code, turn.now)
        turn.say(turn.t("cso.link_done", name=partner.name))
        if first_chat:
            await send_backlog(turn, partner.id)

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        """Act on a complaint; anyone else than its CSO is told the button is not theirs."""
        parts = choice.split(":")
        if len(parts) != 3:
            return False
        action, reference = parts[1], normalize_reference(parts[2])
        record = await turn.tx.complaint_by_reference(reference) if reference else None
        partner_id = await turn.tx.partner_of_chat(turn.inbound.channel, turn.inbound.chat_id)
        routes = await turn.tx.routes_of(record.id) if record else []
        if (
            record is None
            or partner_id is None
            or (partner_id not in routes and partner_id not in desk_ids(turn.pack))
        ):
            turn.say(turn.t("cso.not_yours"))
            return True
        if action in _AT_ONCE:
            await self._change(turn, record, partner_id, _AT_ONCE[action])
        elif action == "nonote":
            if turn.inbound.chat_type == "group":
                turn.tx.set_cso_pending(
                    turn.user.key, turn.inbound.channel, turn.inbound.chat_id, None
                )
            await self._with_text(turn, record, partner_id, "note", "")
        elif action in _ASKS:
            step = _ASKS[action]
            if action in _ASK_ACTIONS and not allows(record.status, _ASK_ACTIONS[action]):
                # An old button on a complaint that moved on: say so before asking for a text.
                refuse(turn, record)
                return True
            inbound = turn.inbound
            if inbound.chat_type == "group":
                _await_in_group(turn, step, record.reference, partner_id)
            else:
                turn.goto(
                    "cso",
                    step,
                    {"reference": record.reference, "chat": inbound.chat_id, "partner": partner_id},
                )
            choices = (
                [Choice(f"cso:nonote:{short(record.reference)}", turn.t("cso.no_note"))]
                if step == "note"
                else []
            )
            turn.say(turn.t(f"cso.ask_{step}", reference=record.reference), choices)
        else:
            return False
        return True

    async def _change(
        self,
        turn: Turn,
        record: ComplaintRecord,
        partner_id: str,
        action: Action,
        note: str | None = None,
    ) -> ComplaintRecord | None:
        status = turn.tx.transition_complaint(record.id, record.status, action, turn.now)
        if status is None:
            refuse(turn, record)
            return None
        updated = replace(record, status=status, updated_at=turn.now)
        turn.tx.add_event(
            record.id, action, turn.now, partner_id=partner_id, actor=turn.user.key, note=note
        )
        await notify(
            turn.tx,
            turn.pack,
            turn.now,
            updated,
            f"complaint.notice.{status}",
            note=self._note(turn, note),
        )
        turn.say(
            turn.t(
                "cso.done",
                reference=record.reference,
                status=turn.t(f"complaint.status.{status}"),
                who=turn.inbound.name or "?",
            )
        )
        return updated

    def _note(self, turn: Turn, note: str | None) -> str:
        return turn.t("complaint.notice.note", note=note) if note else ""

    async def _with_text(
        self, turn: Turn, record: ComplaintRecord, partner_id: str, step: str, text: str
    ) -> None:
        turn.goto("menu", "main")
        if step == "note":
            await self._change(turn, record, partner_id, "resolved", text or None)
        elif step == "reason":
            await self._reroute(turn, record, partner_id, text)
        elif step == "question":
            await self._ask_citizen(turn, record, partner_id, text)

    async def _reroute(
        self, turn: Turn, record: ComplaintRecord, partner_id: str, reason: str
    ) -> None:
        pack = turn.pack
        desks = desk_ids(pack)
        days = min((p.ack_days for p in pack.partners if p.desk), default=3)
        # Back to the desk, which routes it again: the clock of acknowledgement restarts.
        due = turn.now + timedelta(days=days)
        status = turn.tx.transition_complaint(
            record.id, record.status, "reroute", turn.now, ack_due_at=due
        )
        if status is None:
            refuse(turn, record)
            return
        turn.tx.drop_route(record.id, partner_id)
        turn.tx.add_event(
            record.id, "not_ours", turn.now, partner_id=partner_id, actor=turn.user.key, note=reason
        )
        updated = replace(
            record,
            status=status,
            updated_at=turn.now,
            reminded=False,
            escalated=False,
            ack_due_at=due,
        )
        if partner_id not in desks:
            for desk in desks:
                turn.tx.add_route(record.id, desk, turn.now)
            partner = pack.partner(partner_id)
            await forward(
                turn.tx,
                pack,
                turn.now,
                updated,
                desks,
                "cso.forward.rerouted",
                partner=partner.name if partner else partner_id,
                reason=reason,
            )
        await notify(turn.tx, pack, turn.now, updated, "complaint.notice.rerouted")
        turn.say(turn.t("cso.rerouted", reference=record.reference))

    async def _ask_citizen(
        self, turn: Turn, record: ComplaintRecord, partner_id: str, question: str
    ) -> None:
        if not record.chat_id or not question:
            turn.say(turn.t("cso.citizen_unreachable", reference=record.reference))
            return
        # The question goes with the complaint as read: if it changed meanwhile (the citizen
        # forgot herself, another member closed it), the turn runs again on fresh data.
        turn.tx.expect_complaint_status(record.id, record.status)
        qid = uuid.UUID(int=turn.rng.getrandbits(128)).hex[:16]
        turn.tx.save_question(
            QuestionRecord(
                qid,
                record.id,
                partner_id,
                turn.inbound.channel,
                turn.inbound.chat_id,
                question,
                turn.now,
            )
        )
        turn.tx.add_event(
            record.id,
            "question",
            turn.now,
            partner_id=partner_id,
            actor=turn.user.key,
            note=question,
        )
        lang = record.lang
        texts = turn.pack.texts
        # Neither side learns who the other is: the bot relays, names stay out.
        reply = Reply(
            text=texts.get(
                lang, "complaint.question", reference=record.reference, question=question
            ),
            choices=(Choice(f"complaint:answer:{qid}", texts.get(lang, "complaint.answer")),),
        )
        turn.send_later(
            NewOutboxMessage(
                record.channel,
                record.chat_id,
                "question",
                reply.to_dict(record.chat_id),
                user_key=record.user_key,
            )
        )
        turn.say(turn.t("cso.question_sent", reference=record.reference))


def _await_in_group(turn: Turn, step: str, reference: str, partner: str) -> None:
    """Wait for this member's text in this group (kept apart from their private chat)."""
    inbound = turn.inbound
    turn.tx.set_cso_pending(
        turn.user.key, inbound.channel, inbound.chat_id, step, reference, partner, turn.now
    )

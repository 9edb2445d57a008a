"""A CSO's inbox in its own chat: the backlog on linking, `/plaintes`, `/plainte REF`, a digest."""

from __future__ import annotations

import re
from datetime import datetime

from complaints.reference import normalize_reference
from content.pack import ContentPack
from handlers.complaints.notices import cso_buttons, desk_ids, forward_text, short
from handlers.flow import Flow, Router
from handlers.messages import Choice, Reply
from handlers.turn import Turn
from handlers.typed.words import pick
from storage.ports import Store
from storage.records import ComplaintRecord, NewOutboxMessage

# Six complaints and two page buttons: within Telegram's 8 buttons and WhatsApp's 10 list rows.
PAGE_SIZE = 6
# Up to this many backlog complaints arrive one by one with their buttons; more get a summary.
BACKLOG_ONE_BY_ONE = 5
_STATUS_ORDER = {"submitted": 0, "reopened": 1, "acknowledged": 2, "in_progress": 3}
_LIST = re.compile(r"^/?plaintes(?:@\w+)?(?:\s+(\d{1,3}))?$", re.IGNORECASE)
_ONE = re.compile(r"^/plainte(?:@\w+)?(?:\s+(.*))?$", re.IGNORECASE | re.DOTALL)
_BAROMETER_ALONE = re.compile(r"^/barometre(?:@\w+)?$", re.IGNORECASE)
_MONTHS = {
    "fr": [
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ],
}


def long_date(moment: datetime, lang: str = "fr") -> str:
    """'2 décembre 2026' (Mali keeps UTC all year, so the UTC date is the local one)."""
    months = _MONTHS.get(lang, _MONTHS["fr"])
    return f"{moment.day} {months[moment.month - 1]} {moment.year}"


def age_days(record: ComplaintRecord, now: datetime) -> int:
    """Whole days since the complaint was filed."""
    return max(0, (now - record.created_at).days)


def sort_inbox(records: list[ComplaintRecord]) -> list[ComplaintRecord]:
    """By status (those waiting for an acknowledgement first), then oldest first."""
    return sorted(records, key=lambda r: (_STATUS_ORDER.get(r.status, 9), r.created_at))


def _header(pack: ContentPack, lang: str, record: ComplaintRecord, now: datetime) -> str:
    late = record.status in ("submitted", "reopened") and record.ack_due_at < now
    return pack.texts.get(
        lang,
        "inbox.late_header" if late else "inbox.header",
        status=pack.texts.get(lang, f"complaint.status.{record.status}"),
        date=long_date(record.created_at, lang),
    )


def forward_reply(pack: ContentPack, record: ComplaintRecord, now: datetime) -> Reply:
    """A complaint as a CSO reads it, with its buttons."""
    lang = pack.languages[0]
    text = forward_text(pack, record, _header(pack, lang, record, now))
    return Reply(text=text, choices=cso_buttons(pack, record))


def inbox_page(
    pack: ContentPack, records: list[ComplaintRecord], page: int, now: datetime, key: str
) -> Reply:
    """One screen of open complaints grouped by status, with buttons to open each and to page."""
    lang = pack.languages[0]
    texts = pack.texts
    ordered = sort_inbox(records)
    if not ordered:
        return Reply(text=texts.get(lang, "inbox.empty"))
    pages = (len(ordered) + PAGE_SIZE - 1) // PAGE_SIZE
    page = min(max(page, 0), pages - 1)
    shown = ordered[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    lines = [texts.get(lang, key, count=len(ordered), page=page + 1, pages=pages)]
    status = None
    for record in shown:
        if record.status != status:
            status = record.status
            lines.append("")
            lines.append(texts.get(lang, f"complaint.status.{status}").capitalize() + " :")
        category = pack.category(record.category)
        commune = pack.communes.by_pcode.get(record.commune)
        late = record.status in ("submitted", "reopened") and record.ack_due_at < now
        lines.append(
            texts.get(
                lang,
                "inbox.line_late" if late else "inbox.line",
                reference=record.reference,
                category=pack.pick(category.label, lang) if category else record.category,
                commune=commune.name if commune else record.commune,
                days=age_days(record, now),
            )
        )
    choices = [
        Choice(
            f"inbox:show:{short(r.reference)}",
            texts.get(lang, "inbox.open", reference=r.reference, days=age_days(r, now)),
        )
        for r in shown
    ]
    if page > 0:
        choices.append(Choice(f"inbox:list:{page - 1}", texts.get(lang, "inbox.previous")))
    if page + 1 < pages:
        choices.append(Choice(f"inbox:list:{page + 1}", texts.get(lang, "inbox.next")))
    return Reply(text="\n".join(lines), choices=tuple(choices))


def history_lines(
    pack: ContentPack, lang: str, events: list[tuple[datetime, str, str | None]]
) -> list[str]:
    """'2 décembre 2026 : accusé de réception' for each event."""
    lines = [pack.texts.get(lang, "inbox.history")]
    for at, action, note in events:
        label = pack.texts.get(lang, f"inbox.event.{action}")
        if label == f"inbox.event.{action}":  # an action without a wording of its own
            label = action
        line = f"• {long_date(at, lang)} : {label}"
        lines.append(f"{line} « {note} »" if note else line)
    return lines


def _say(turn: Turn, reply: Reply) -> None:
    """Say a reply in this chat; its buttons become what typed numbers refer to."""
    turn.say(reply.text, reply.choices)


async def send_backlog(turn: Turn, partner_id: str) -> None:
    """Right after `/lier`: the CSO's open complaints that never reached a chat."""
    records = await turn.tx.partner_open_complaints(partner_id)
    if not records:
        return
    if len(records) <= BACKLOG_ONE_BY_ONE:
        turn.say(turn.t("inbox.backlog_intro", count=len(records)))
        for record in records:  # oldest first, as they were filed
            _say(turn, forward_reply(turn.pack, record, turn.now))
        return
    _say(turn, inbox_page(turn.pack, records, 0, turn.now, "inbox.backlog_summary"))


def _action_screen(turn: Turn) -> tuple[Choice, ...]:
    """The buttons under a forward, to recognise their names when typed."""
    return tuple(
        Choice(f"cso:{action}", turn.t(f"cso.action.{action}"))
        for action in ("ack", "progress", "done", "notours", "ask")
    )


class CsoInboxFlow(Flow):
    """`/plaintes`, `/plainte REF` and the inbox buttons, in a CSO's linked chat."""

    name = "inbox"
    stateless_choices = True
    works_in_groups = True

    async def show(self, turn: Turn, router: Router) -> None:
        """Nothing to redraw: the inbox has no steps."""
        await router.show_menu(turn)

    async def on_any_text(self, turn: Turn, router: Router, text: str) -> bool:
        """Claim the inbox commands in a CSO's chat; in a group, never leave them unanswered."""
        text = text.strip()
        listing, one = _LIST.match(text), _ONE.match(text)
        alone_barometer = _BAROMETER_ALONE.match(text) is not None
        if listing is None and one is None and not alone_barometer:
            return await self._staff_words(turn, text)
        inbound = turn.inbound
        group = inbound.chat_type == "group"
        partner = await turn.tx.partner_of_chat(inbound.channel, inbound.chat_id)
        if partner is None:
            if not group:
                return False  # a citizen's own chat: `/plainte` starts a complaint there
            turn.say(turn.t("barometer.cso_only"))
            return True
        if alone_barometer:
            if not group:
                return False
            turn.say(turn.t("inbox.barometer_usage"))
            return True
        if listing is not None:
            page = int(listing[1]) - 1 if listing[1] else 0
            await self._list(turn, partner, page)
            return True
        typed = (one[1] or "").strip() if one else ""
        if not typed:
            if not group:
                return False
            turn.say(turn.t("inbox.plainte_usage"), [Choice("inbox:list:0", turn.t("inbox.all"))])
            return True
        await self._show(turn, partner, typed)
        return True

    async def _staff_words(self, turn: Turn, text: str) -> bool:
        """`aide`, or a button's name typed in a CSO's group ("résolu", "1"): say how to act.

        The bot cannot tell which complaint a typed action is about (several may be open), so
        it changes nothing; other talk among members stays unanswered.
        """
        inbound = turn.inbound
        if inbound.chat_type != "group":
            return False
        help_asked = turn.pack.texts.command_for(text) == "help"
        action = text.isdigit() or pick(_action_screen(turn), text) is not None
        if not (help_asked or action):
            return False
        if await turn.tx.partner_of_chat(inbound.channel, inbound.chat_id) is None:
            return False
        key = "inbox.staff_help" if help_asked else "inbox.typed_action"
        turn.say(turn.t(key), [Choice("inbox:list:0", turn.t("inbox.all"))])
        return True

    async def on_choice(self, turn: Turn, router: Router, choice: str) -> bool:
        """`inbox:list:PAGE` and `inbox:show:REF`, from the CSO's chat only."""
        parts = choice.split(":")
        if len(parts) != 3 or parts[1] not in ("list", "show"):
            return False
        inbound = turn.inbound
        partner = await turn.tx.partner_of_chat(inbound.channel, inbound.chat_id)
        if partner is None:
            turn.say(turn.t("cso.not_yours"))
            return True
        if parts[1] == "list":
            await self._list(turn, partner, int(parts[2]) if parts[2].isdigit() else 0)
        else:
            await self._show(turn, partner, parts[2])
        return True

    async def _list(self, turn: Turn, partner: str, page: int) -> None:
        records = await turn.tx.partner_open_complaints(partner)
        _say(turn, inbox_page(turn.pack, records, page, turn.now, "inbox.title"))

    async def _show(self, turn: Turn, partner: str, typed: str) -> None:
        reference = normalize_reference(typed)
        record = await turn.tx.complaint_by_reference(reference) if reference else None
        if record is None:
            turn.say(turn.t("inbox.unknown", reference=typed[:20]))
            return
        routes = await turn.tx.routes_of(record.id)
        if partner not in routes and partner not in desk_ids(turn.pack):
            # Another CSO's complaint is not shown: its content stays with those it went to.
            turn.say(turn.t("inbox.unknown", reference=record.reference))
            return
        reply = forward_reply(turn.pack, record, turn.now)
        events = await turn.tx.complaint_history(record.id)
        text = "\n".join([reply.text, "", *history_lines(turn.pack, turn.lang, events)])
        turn.say(text, reply.choices)


async def send_digest(store: Store, pack: ContentPack, now: datetime) -> int:
    """The daily digest: each CSO chat hears what waits past its deadline; return the count."""
    sent = 0
    async with store.transaction() as tx:
        partners = {p.id for p in pack.partners}
        for partner in sorted(partners):
            chats = await tx.partner_chats(partner)
            if not chats:
                continue
            late = [
                r
                for r in await tx.partner_open_complaints(partner)
                if r.status in ("submitted", "reopened") and r.ack_due_at < now
            ]
            if not late:
                continue
            reply = inbox_page(pack, late, 0, now, "inbox.digest")
            for channel, chat in chats:
                # Once a day per chat, however often it is called (restarts included).
                key = f"digest:{channel}:{chat}:{now.date().isoformat()}"
                message = NewOutboxMessage(channel, chat, "digest", reply.to_dict(chat), None, key)
                tx.enqueue(message, now)
                sent += 1
    return sent

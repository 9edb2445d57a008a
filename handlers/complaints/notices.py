"""What complaints send to other chats: forwards to CSOs and notices to citizens."""

from __future__ import annotations

from datetime import datetime

from complaints.routing import Coverage, Place, route
from complaints.scrub import scrub_contacts
from content.pack import ContentPack
from handlers.complaints.contact import readable
from handlers.messages import Choice, Media, Reply
from storage.ports import Transaction
from storage.records import ComplaintRecord, NewOutboxMessage

CSO_ACTIONS = ("ack", "progress", "done", "notours", "ask")


def short(reference: str) -> str:
    """The reference without its dash, as carried in button ids."""
    return reference.replace("-", "")


def coverages(pack: ContentPack) -> list[Coverage]:
    """The CSO directory as routing sees it."""
    return [
        Coverage(
            partner_id=p.id,
            regions=frozenset(p.area.regions),
            cercles=frozenset(p.area.cercles),
            communes=frozenset(p.area.communes),
            categories=frozenset(p.categories),
            desk=p.desk,
        )
        for p in pack.partners
    ]


def route_complaint(pack: ContentPack, complaint: ComplaintRecord) -> list[str]:
    """The CSOs a complaint goes to (the desk when nobody covers it)."""
    commune = pack.communes.by_pcode.get(complaint.commune)
    if commune is None:
        return [p.id for p in pack.partners if p.desk]
    place = Place(commune.pcode, commune.cercle_pcode, commune.region_pcode)
    return route(place, complaint.category, coverages(pack))


def desk_ids(pack: ContentPack) -> list[str]:
    """The programme desk(s)."""
    return [p.id for p in pack.partners if p.desk]


def place_text(pack: ContentPack, commune_pcode: str, lang: str) -> str:
    """'Kayes Commune (cercle de Kayes, Kayes)' and, for Bamako, the 2023 note."""
    commune = pack.communes.by_pcode.get(commune_pcode)
    if commune is None:
        return commune_pcode
    return pack.texts.get(
        lang,
        "complaint.commune_line",
        commune=commune.name,
        cercle=commune.cercle,
        region=commune.region,
    )


def forward_text(pack: ContentPack, complaint: ComplaintRecord, header: str) -> str:
    """The message a CSO reads: everything but the citizen's identity, unless they agreed."""
    lang = pack.languages[0]
    category = pack.category(complaint.category)
    lines = [
        header,
        pack.texts.get(lang, "cso.forward.reference", reference=complaint.reference),
        pack.texts.get(
            lang,
            "cso.forward.category",
            category=pack.pick(category.label, lang) if category else complaint.category,
        ),
        pack.texts.get(
            lang, "cso.forward.commune", commune=place_text(pack, complaint.commune, lang)
        ),
    ]
    contact = complaint.contact if complaint.contact_consent and complaint.contact else None

    # Without consent, a number or address the citizen typed in her text does not go either.
    def free(text: str) -> str:
        return text if contact else scrub_contacts(text)

    if complaint.place:
        lines.append(pack.texts.get(lang, "cso.forward.place", place=free(complaint.place)))
    lines.append(pack.texts.get(lang, "cso.forward.description", text=free(complaint.description)))
    if complaint.voices > 1:
        lines.append(pack.texts.get(lang, "cso.forward.voices", count=complaint.voices))
    lines.append(
        pack.texts.get(lang, "cso.forward.contact", contact=readable(contact))
        if contact
        else pack.texts.get(lang, "cso.forward.anonymous")
    )
    return "\n".join(lines)


def cso_buttons(pack: ContentPack, complaint: ComplaintRecord) -> tuple[Choice, ...]:
    """What a CSO can do with a complaint, from its own chat."""
    lang = pack.languages[0]
    ref = short(complaint.reference)
    actions = tuple(
        Choice(f"cso:{action}:{ref}", pack.texts.get(lang, f"cso.action.{action}"))
        for action in CSO_ACTIONS
    )
    # Every forward leads to the whole inbox (issue 16).
    return (*actions, Choice("inbox:list:0", pack.texts.get(lang, "inbox.all")))


async def forward(
    tx: Transaction,
    pack: ContentPack,
    now: datetime,
    complaint: ComplaintRecord,
    partners: list[str],
    header_key: str,
    **params: str,
) -> list[str]:
    """Send a complaint to the chats of these CSOs; a CSO without a chat falls back to the desk.

    Returns the CSOs it reached (or will reach: the outbox retries until it arrives).
    """
    lang = pack.languages[0]
    reached: list[str] = []
    pending = list(partners)
    tried: set[str] = set()
    while pending:
        partner_id = pending.pop(0)
        if partner_id in tried:
            continue
        tried.add(partner_id)
        chats = await tx.partner_chats(partner_id)
        if not chats:
            pending.extend(d for d in desk_ids(pack) if d not in tried)
            continue
        reached.append(partner_id)
        text = forward_text(pack, complaint, pack.texts.get(lang, header_key, **params))
        for channel, chat in chats:
            # The complaint and CSO travel with the row: if it can never be delivered, the
            # delivery worker hands it to the desk instead (see reroute_undelivered).
            reply = Reply(
                text=text,
                choices=cso_buttons(pack, complaint),
                complaint=complaint.id,
                partner=partner_id,
            )
            tx.enqueue(NewOutboxMessage(channel, chat, "forward", reply.to_dict(chat)), now)
            for kind, ref in complaint.media:
                media = media_forward(pack, complaint, channel, kind, ref)
                if media is not None:
                    tx.enqueue(NewOutboxMessage(channel, chat, "forward", media.to_dict(chat)), now)
    return reached


def media_forward(
    pack: ContentPack, complaint: ComplaintRecord, channel: str, kind: str, ref: str
) -> Reply | None:
    """A file of the complaint for a CSO chat on `channel`, or None when it cannot go there.

    A file id only means something on the platform it came from: on the same platform it is
    sent again by id; a voice note goes to the other platform as bytes (the CSO's channel
    downloads and uploads it when it delivers the row), with a note to read instead if that
    platform cannot take it or the citizen's platform no longer has it. Photos and documents
    stay on their own platform.
    """
    if channel == complaint.channel:
        return Reply(text="", media=Media(kind, ref))  # type: ignore[arg-type]
    if kind not in ("voice", "audio"):
        return None
    lang = pack.languages[0]
    fallback = pack.texts.get(
        lang,
        "cso.forward.voice_not_carried",
        reference=complaint.reference,
        ask=pack.texts.get(lang, "cso.action.ask"),
    )
    gone = pack.texts.get(
        lang,
        "cso.forward.voice_gone",
        reference=complaint.reference,
        ask=pack.texts.get(lang, "cso.action.ask"),
    )
    return Reply(
        text="",
        media=Media(kind, ref),  # type: ignore[arg-type]
        media_from=complaint.channel,
        media_fallback=fallback,
        media_gone=gone,
    )


async def notify(
    tx: Transaction,
    pack: ContentPack,
    now: datetime,
    complaint: ComplaintRecord,
    key: str,
    skip: str | None = None,
    **params: str,
) -> None:
    """Tell the citizen and the followers (in their language) what happened."""
    for user_key, channel, chat, lang in await tx.recipients(complaint.id):
        if user_key == skip:
            continue
        text = pack.texts.get(lang, key, reference=complaint.reference, **params)
        reply = Reply(
            text=text,
            choices=(Choice("complaint:mine", pack.texts.get(lang, "complaint.mine")),),
        )
        tx.enqueue(
            NewOutboxMessage(
                channel=channel,
                chat_id=chat,
                kind="notice",
                payload=reply.to_dict(chat),
                user_key=user_key,
            ),
            now,
        )

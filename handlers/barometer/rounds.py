"""Barometer rounds over time: open and invite, close and publish results, announce actions."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta

from barometer.scoring import MIN_RESPONDENTS, Response, previous_results, score_round
from content.pack import ContentPack
from handlers.complaints.notices import desk_ids
from handlers.messages import Choice, Reply
from storage.barometer_records import BarometerRound
from storage.ports import StaleRecord, Store, Transaction
from storage.records import NewOutboxMessage

log = logging.getLogger(__name__)

KIND = "barometer"


def last_day(record: BarometerRound) -> str:
    """The last day answers are taken, as people read dates (a round closes at midnight UTC)."""
    return (record.closes_at - timedelta(seconds=1)).strftime("%d/%m/%Y")


def commune_name(pack: ContentPack, pcode: str) -> str:
    """A commune's name, or its P-code if the pack does not know it."""
    commune = pack.communes.by_pcode.get(pcode)
    return commune.name if commune else pcode


def results_text(pack: ContentPack, record: BarometerRound, lang: str) -> str:
    """The results of a closed round, commune by commune, criterion by criterion."""
    texts, barometer = pack.texts, pack.barometer
    titles = {c.id: pack.pick(c.title, lang) for c in barometer.criteria} if barometer else {}
    lines = [texts.get(lang, "barometer.results_title")]
    for pcode, result in (record.results or {}).items():
        lines.append("")
        lines.append(
            texts.get(
                lang,
                "barometer.results_commune",
                commune=commune_name(pack, pcode),
                # A commune of 1 to 4 respondents: their number is a small cell too.
                respondents=result["respondents"]
                if result["respondents"] >= MIN_RESPONDENTS
                else f"< {MIN_RESPONDENTS}",
            )
        )
        for cid, figure in result["criteria"].items():
            name = titles.get(cid, cid)
            if figure["average"] is None:
                lines.append(
                    texts.get(lang, "barometer.results_hidden", criterion=name, min=MIN_RESPONDENTS)
                )
                continue
            line = texts.get(
                lang,
                "barometer.results_line",
                criterion=name,
                average=f"{figure['average']:.1f}".replace(".", ","),
            )
            if figure["change"] is not None:
                line += texts.get(
                    lang,
                    "barometer.results_change",
                    change=f"{figure['change']:+.1f}".replace(".", ","),
                )
            lines.append(line)
    lines += ["", texts.get(lang, "barometer.results_end")]
    return "\n".join(lines)


async def cso_chats(
    tx: Transaction, pack: ContentPack, partner_id: str | None
) -> list[tuple[str, str]]:
    """The chats of the CSO that opened a round; the desk's when it has none."""
    chats = await tx.partner_chats(partner_id) if partner_id else []
    if not chats:
        for desk in desk_ids(pack):
            chats += await tx.partner_chats(desk)
    return chats


def _send(
    tx: Transaction,
    now: datetime,
    channel: str,
    chat: str,
    reply: Reply,
    user_key: str | None = None,
    dedupe: str | None = None,
) -> None:
    tx.enqueue(NewOutboxMessage(channel, chat, KIND, reply.to_dict(chat), user_key, dedupe), now)


async def open_round(
    tx: Transaction, pack: ContentPack, record: BarometerRound, now: datetime
) -> int:
    """Open a round and invite the people whose profile is in its communes; return how many."""
    tx.open_barometer_round(record.id)
    invited = 0
    for user_key, channel, chat, language, commune in await tx.barometer_invitees(record.communes):
        lang = language or pack.languages[0]
        reply = Reply(
            text=pack.texts.get(
                lang,
                "barometer.invite",
                commune=commune_name(pack, commune),
                closes=last_day(record),
            ),
            choices=(
                Choice(f"barometer:round:{record.id}", pack.texts.get(lang, "barometer.take_part")),
            ),
        )
        # The dedupe key keeps a second opening (a retried tick) from inviting twice.
        _send(tx, now, channel, chat, reply, user_key, f"barometer:{record.id}:{user_key}")
        invited += 1
    return invited


async def close_round(
    tx: Transaction, pack: ContentPack, record: BarometerRound, now: datetime
) -> BarometerRound:
    """Score a round, compare it with the previous one, tell participants and the CSO."""
    barometer = pack.barometer
    criteria = (
        [(c.id, [q.id for q in c.questions]) for c in barometer.criteria] if barometer else []
    )
    answers = await tx.barometer_responses(record.id)
    earlier = [
        (r.communes, r.results)
        for r in await tx.closed_barometer_rounds(record.opens_at)
        if r.id != record.id
    ]
    results = score_round(
        [Response(a.commune, a.answers) for a in answers],
        criteria,
        previous_results(earlier, record.communes),
    )
    closed = replace(record, status="closed", results=results)
    tx.close_barometer_round(record.id, results)
    for user_key, channel, chat, language in await tx.barometer_participants(record.id):
        text = results_text(pack, closed, language or pack.languages[0])
        _send(
            tx,
            now,
            channel,
            chat,
            Reply(text=text),
            user_key,
            f"barometer-results:{record.id}:{user_key}",
        )
    lang = pack.languages[0]
    for channel, chat in await cso_chats(tx, pack, record.partner_id):
        _send(tx, now, channel, chat, Reply(text=results_text(pack, closed, lang)))
    return closed


async def tick_barometer(store: Store, pack: ContentPack, now: datetime) -> int:
    """Open the rounds whose day has come and close those whose last day has passed."""
    done = 0
    for record in await store.barometer_rounds_due(now):
        try:
            async with store.transaction() as tx:
                if record.status == "scheduled":
                    invited = await open_round(tx, pack, record, now)
                    log.info("barometer round %s opened, %d invited", record.id, invited)
                else:
                    await close_round(tx, pack, record, now)
                    log.info("barometer round %s closed", record.id)
        except StaleRecord:
            # Opened or closed meanwhile (another tick, a CSO's command): nothing more to do.
            continue
        done += 1
    return done


async def announce_actions(
    store: Store, pack: ContentPack, round_id: str, text: str, now: datetime
) -> int:
    """Attach the actions agreed with the commune to a round; tell participants and the CSO.

    Returns how many participants were told; raises LookupError for an unknown round.
    """
    async with store.transaction() as tx:
        return await announce_actions_in(tx, pack, round_id, text, now)


async def announce_actions_in(
    tx: Transaction, pack: ContentPack, round_id: str, text: str, now: datetime
) -> int:
    """`announce_actions` within a unit of work (a CSO's chat command uses it)."""
    record = await tx.barometer_round(round_id)
    if record is None:
        raise LookupError(round_id)
    tx.set_barometer_actions(record.id, text, now)
    participants = await tx.barometer_participants(round_id)
    communes = ", ".join(commune_name(pack, c) for c in record.communes)
    for user_key, channel, chat, language in participants:
        lang = language or pack.languages[0]
        reply = Reply(text=pack.texts.get(lang, "barometer.actions", communes=communes, text=text))
        _send(tx, now, channel, chat, reply, user_key)
    lang = pack.languages[0]
    for channel, chat in await cso_chats(tx, pack, record.partner_id):
        reply = Reply(text=pack.texts.get(lang, "barometer.actions", communes=communes, text=text))
        _send(tx, now, channel, chat, reply)
    return len(participants)

"""Barometer rounds run from a CSO's own chat: open a round, announce the agreed actions."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

from complaints.reference import ALPHABET
from content.places import PlaceError, communes_named
from handlers.barometer.rounds import announce_actions_in, open_round
from handlers.complaints.inbox import long_date
from handlers.flow import Flow, Router
from handlers.turn import Turn
from storage.barometer_records import BarometerRound

_COMMAND = re.compile(
    r"^/?barometre(?:@\w+)?\s+(ouvrir|actions)\s+(.+)$", re.IGNORECASE | re.DOTALL
)
_OPEN = re.compile(r"^(.+?)\s+(\d{4}-\d{2}-\d{2})\s+(\d{4}-\d{2}-\d{2})$")


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=UTC)


class BarometerCsoFlow(Flow):
    """`/barometre ouvrir P-CODES DEBUT FIN`, `/barometre actions ROUND texte`: CSO chats."""

    name = "bbgcso"
    works_in_groups = True

    async def show(self, turn: Turn, router: Router) -> None:
        """Nothing to redraw."""
        await router.show_menu(turn)

    async def on_any_text(self, turn: Turn, router: Router, text: str) -> bool:
        """Claim the two commands; anyone outside a CSO's linked chat is told it is theirs."""
        command = _COMMAND.match(text.strip())
        if command is None:
            return False
        inbound = turn.inbound
        partner = await turn.tx.partner_of_chat(inbound.channel, inbound.chat_id)
        if partner is None:
            turn.say(turn.t("barometer.cso_only"))
            return True
        if command[1].lower() == "ouvrir":
            await self._open(turn, partner, command[2].strip())
        else:
            await self._actions(turn, command[2].strip())
        return True

    async def _open(self, turn: Turn, partner: str, arguments: str) -> None:
        parsed = _OPEN.match(arguments)
        try:
            # Names or P-codes of communes; a cercle or region stands for all its communes.
            communes = communes_named(turn.pack.communes, parsed[1]) if parsed else []
        except PlaceError as exc:
            turn.say(f"{exc}\n{turn.t('barometer.cso_open_usage')}")
            return
        try:
            start = date.fromisoformat(parsed[2]) if parsed else None
            end = date.fromisoformat(parsed[3]) if parsed else None
        except ValueError:
            start = end = None
        known = turn.pack.communes.by_pcode
        closes = _midnight(end + timedelta(days=1)) if end else None
        if (
            start is None
            or end is None
            or closes is None
            or not communes
            or any(c not in known for c in communes)
            or end < start
            or closes <= turn.now
        ):
            turn.say(turn.t("barometer.cso_open_usage"))
            return
        record = BarometerRound(
            id="bbg-" + "".join(turn.rng.choice(ALPHABET) for _ in range(6)).lower(),
            communes=tuple(dict.fromkeys(communes)),
            opens_at=_midnight(start),
            closes_at=closes,
            status="scheduled",
            created_at=turn.now,
            partner_id=partner,
        )
        turn.tx.create_barometer_round(record)
        names = ", ".join(known[c].name for c in record.communes)
        if record.opens_at <= turn.now:
            invited = await open_round(turn.tx, turn.pack, record, turn.now)
            turn.say(
                turn.t(
                    "barometer.cso_opened_now",
                    id=record.id,
                    communes=names,
                    invited=invited,
                    end=long_date(_midnight(end)),
                )
            )
        else:
            turn.say(
                turn.t(
                    "barometer.cso_scheduled",
                    id=record.id,
                    communes=names,
                    start=long_date(_midnight(start)),
                    end=long_date(_midnight(end)),
                )
            )

    async def _actions(self, turn: Turn, arguments: str) -> None:
        round_id, _, text = arguments.partition(" ")
        if not text.strip():
            turn.say(turn.t("barometer.cso_actions_usage"))
            return
        try:
            told = await announce_actions_in(
                turn.tx, turn.pack, round_id.lower(), text.strip(), turn.now
            )
        except LookupError:
            turn.say(turn.t("barometer.cso_no_round", id=round_id))
            return
        turn.say(turn.t("barometer.cso_actions_sent", id=round_id.lower(), told=told))

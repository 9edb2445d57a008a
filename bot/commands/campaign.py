"""`civicbot campaign plan|send|status|cancel|report`: public information campaigns.

`send` only writes the outbox: one row per recipient (kind "campaign", dedupe key
`campaign:NAME:USER_KEY`), each due at its own moment, paced just under the platform's rate and
outside quiet hours. The running bot's delivery worker sends them through the same senders,
flood control and WhatsApp window as everything else. Sending from this process instead would
need a second set of platform clients whose flood control knows nothing of the bot's replies,
and the two would together exceed the platforms' limits.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import IO, Any

from bot.campaigns.model import (
    KIND,
    Campaign,
    CampaignError,
    check_targets,
    load_campaign,
)
from bot.campaigns.places import resolve_places
from bot.campaigns.schedule import LEAD, QuietHours, duration, slots
from bot.channels.whatsapp.window import is_open
from bot.settings import Settings
from bot.staff import lang
from bot.store import open_store
from handlers.engine import utc_now
from handlers.messages import Choice, Media, Reply
from reports.cells import MIN_CELL, small, suppress
from reports.labels import Labels
from storage.ids import new_outbox_id
from storage.ports import Store
from storage.sqlite_campaigns import AudienceMember, NewCampaignRow

log = logging.getLogger(__name__)

BATCH = 500
CHANNELS = ("telegram", "whatsapp")


@dataclass(frozen=True, slots=True)
class Rates:
    """Messages per second per channel, and the quiet hours."""

    per_channel: Mapping[str, float]
    quiet: QuietHours | None

    @classmethod
    def from_settings(cls, settings: Settings) -> Rates:
        """The rates and quiet hours a deployment is configured with."""
        return cls(
            {"telegram": settings.telegram_rate_global, "whatsapp": settings.whatsapp_rate},
            QuietHours.parse(settings.quiet_hours),
        )


@dataclass
class Plan:
    """What a send would do now."""

    name: str
    recipients: dict[str, Counter[str]] = field(default_factory=dict)
    outside_window: int = 0
    template: str | None = None
    excluded_stopped: int = 0
    already_queued: int = 0
    duration: timedelta = timedelta(0)
    links: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        """Everyone who gets the message."""
        return sum(sum(c.values()) for c in self.recipients.values())

    def as_dict(self) -> dict[str, Any]:
        """For `--json`."""
        return {
            "name": self.name,
            "recipients": {ch: dict(c) for ch, c in self.recipients.items()},
            "total": self.total,
            "whatsapp_outside_window": self.outside_window,
            "whatsapp_template": self.template,
            "excluded_stopped": self.excluded_stopped,
            "already_queued": self.already_queued,
            "estimated_seconds": int(self.duration.total_seconds()),
            "links": self.links,
            "warnings": self.warnings,
        }


async def audience(store: Store, campaign: Campaign) -> list[AudienceMember]:
    """Everyone the campaign's filters select, stopped users included (flagged)."""
    a = campaign.audience
    return await store.campaign_audience(
        channels=a.channels or CHANNELS,
        regions=a.regions,
        communes=a.communes,
        languages=a.languages,
        genders=a.gender,
        age_groups=a.age_groups,
        entry_sources=a.entry_sources,
        read_article=a.read_article,
    )


async def make_plan(
    store: Store,
    campaign: Campaign,
    rates: Rates,
    templates: Mapping[str, str],
    now: datetime,
    *,
    bot_username: str = "BOT",
    whatsapp_number: str = "NUMBER",
) -> Plan:
    """Count recipients per channel and language, the WhatsApp window, exclusions, duration."""
    plan = Plan(campaign.name)
    queued = await store.campaign_recipients(campaign.dedupe_prefix())
    plan.already_queued = len(queued)
    left: Counter[str] = Counter()
    for member in await audience(store, campaign):
        if member.stopped:
            plan.excluded_stopped += 1
            continue
        lang = member.language or "fr"
        plan.recipients.setdefault(member.channel, Counter())[lang] += 1
        if member.key not in queued:
            left[member.channel] += 1
        if member.channel == "whatsapp" and not is_open(member.last_inbound_at, None, now):
            plan.outside_window += 1
    # The file's own template wins; else the one the settings give campaigns.
    plan.template = campaign.whatsapp_template or templates.get(KIND)
    if plan.outside_window and plan.template is None:
        plan.warnings.append(
            f"no whatsapp_template in the file nor for the kind '{KIND}' in "
            f"CIVICBOT_WHATSAPP_TEMPLATES: {plan.outside_window} WhatsApp user(s) will get it "
            "only after they write again"
        )
    plan.duration = duration((n, rates.per_channel.get(ch, 1.0)) for ch, n in left.items())
    plan.links = {
        "telegram": f"https://t.me/{bot_username.lstrip('@')}?start={campaign.code}",
        "whatsapp": f"https://wa.me/{whatsapp_number.lstrip('+')}?text={campaign.code}",
    }
    return plan


def _no_campaign(name: str) -> str:
    return f"Aucune campagne « {name} »" if lang() == "fr" else f"no campaign '{name}'"


def format_plan(plan: Plan, rates: Rates) -> str:
    """The plan as a person reads it (in French unless --lang en)."""
    fr = lang() == "fr"
    none = "aucun" if fr else "none"
    lines = [
        f"Campagne {plan.name} : {plan.total} destinataire(s)"
        if fr
        else f"Campaign {plan.name}: {plan.total} recipient(s)"
    ]
    for channel in CHANNELS:
        counts = plan.recipients.get(channel, Counter())
        langs = ", ".join(f"{code} {n}" for code, n in sorted(counts.items())) or none
        lines.append(f"  {channel}{' :' if fr else ':'} {sum(counts.values())} ({langs})")
    template = plan.template or ("aucun configuré" if fr else "none configured")
    lines.append(
        f"  WhatsApp hors de la fenêtre de 24 heures : {plan.outside_window} (modèle : {template})"
        if fr
        else f"  whatsapp outside the 24-hour window: {plan.outside_window} (template: {template})"
    )
    lines.append(
        f"  exclus : {plan.excluded_stopped} (STOP)"
        if fr
        else f"  excluded: {plan.excluded_stopped} stopped"
    )
    if plan.already_queued:
        lines.append(
            f"  déjà en file par un envoi précédent : {plan.already_queued}"
            if fr
            else f"  already queued by an earlier send: {plan.already_queued}"
        )
    speeds = ", ".join(f"{ch} {rate:g}/s" for ch, rate in rates.per_channel.items())
    if rates.quiet:
        start, end = f"{rates.quiet.start:%H:%M}", f"{rates.quiet.end:%H:%M}"
        quiet = f", pause de {start} à {end}" if fr else f", paused {start}-{end}"
    else:
        quiet = ""
    lines.append(
        f"  durée estimée : {plan.duration} à {speeds}{quiet}"
        if fr
        else f"  estimated duration: {plan.duration} at {speeds}{quiet}"
    )
    lines.append(
        "  liens (les personnes qui arrivent par eux sont comptées) :"
        if fr
        else "  deep links (people who come through them are counted):"
    )
    lines += [f"    {ch}: {link}" for ch, link in plan.links.items()]
    lines += [f"  {'attention' if fr else 'warning'}: {w}" for w in plan.warnings]
    return "\n".join(lines)


def payload(campaign: Campaign, member: AudienceMember) -> dict[str, Any]:
    """The message for one person, in their language."""
    lang = member.language
    choices: tuple[Choice, ...] = ()
    if campaign.button is not None:
        choices = (Choice(campaign.button.open, campaign.button.label.pick(lang)),)
    media = campaign.media
    template = campaign.whatsapp_template
    reply = Reply(
        text=campaign.text.pick(lang),
        choices=choices,
        media=Media(media.kind, media.ref) if media else None,
        # Outside WhatsApp's 24-hour window this campaign goes as its own approved template.
        extra={"whatsapp_template": template} if template and member.channel == "whatsapp" else {},
    )
    return reply.to_dict(member.chat_id)


Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a send did."""

    queued_now: int
    queued_before: int
    excluded_stopped: int
    last_due: datetime | None


async def send(
    store: Store,
    campaign: Campaign,
    rates: Rates,
    clock: Callable[[], datetime] = utc_now,
    progress: Progress | None = None,
    batch: int = BATCH,
) -> SendResult:
    """Queue one outbox row per recipient not queued yet; safe to run again after a kill."""
    now = clock()
    record = await store.begin_campaign(
        campaign.name, campaign.digest(), campaign.model_dump_json(), now
    )
    if record.status == "cancelled":
        raise CampaignError([f"campaign '{campaign.name}' was cancelled"])
    if record.digest != campaign.digest():
        raise CampaignError(
            [
                f"campaign '{campaign.name}' was started with another message; "
                "give the new one another name"
            ]
        )
    prefix = campaign.dedupe_prefix()
    queued = await store.campaign_recipients(prefix)
    members = await audience(store, campaign)
    todo = [m for m in members if not m.stopped and m.key not in queued]
    stopped = sum(m.stopped for m in members)
    # Each channel gets its own paced timetable, continuing after rows an earlier run queued.
    due: dict[str, datetime] = {}
    for channel in {m.channel for m in todo}:
        start = now + LEAD
        last = await store.campaign_last_due(prefix, channel)
        if last is not None and last > start:
            start = last
        count = sum(m.channel == channel for m in todo)
        times = list(slots(count, start, rates.per_channel.get(channel, 1.0), rates.quiet))
        for member, moment in zip((m for m in todo if m.channel == channel), times, strict=True):
            due[member.key] = moment
    total = len(queued) + len(todo)
    await store.update_campaign(
        campaign.name, audience=total, excluded=stopped, enqueued=len(queued)
    )
    done = len(queued)
    if progress:
        progress(done, total)
    for offset in range(0, len(todo), batch):
        chunk = todo[offset : offset + batch]
        rows = [
            NewCampaignRow(
                outbox_id=new_outbox_id(),
                channel=m.channel,
                chat_id=m.chat_id,
                user_key=m.key,
                payload=json.dumps(payload(campaign, m), ensure_ascii=False),
                due=due[m.key],
                dedupe_key=prefix + m.key,
            )
            for m in chunk
        ]
        # One transaction per batch: a kill leaves whole batches, and the dedupe keys make
        # the next run skip them.
        await store.enqueue_campaign_rows(rows, clock())
        done += len(chunk)
        await store.update_campaign(campaign.name, enqueued=done)
        if progress:
            progress(done, total)
    await store.update_campaign(campaign.name, enqueued_at=clock())
    return SendResult(len(todo), len(queued), stopped, max(due.values(), default=None))


async def status(store: Store, name: str) -> dict[str, Any] | None:
    """The campaign's rows by state; it is done once nothing is left to send."""
    record = await store.get_campaign(name)
    if record is None:
        return None
    counts = await store.campaign_counts(f"{KIND}:{name}:")
    state = record.status
    if state == "sending" and record.enqueued_at and not counts["pending"] + counts["failed"]:
        await store.update_campaign(name, status="done", finished_at=utc_now())
        state = "done"
    return {
        "name": name,
        "status": state,
        "recipients": record.audience,
        "queued": record.enqueued,
        "excluded_stopped": record.excluded,
        **{k: counts[k] for k in ("pending", "failed", "sent", "dead", "stopped", "cancelled")},
        # Sent again after a try whose outcome was unknown (a timeout, a crash mid-send).
        "possible_duplicates": await store.possible_duplicates(prefix=f"{KIND}:{name}:"),
    }


async def report(store: Store, campaign_name: str) -> dict[str, Any] | None:
    """Reach of a campaign: delivery figures, then what people did."""
    found = await status(store, campaign_name)
    if found is None:
        return None
    prefix = f"{KIND}:{campaign_name}:"
    counts = await store.campaign_counts(prefix)
    definition = await store.campaign_definition(campaign_name)
    if definition is None:
        return None
    campaign = Campaign.model_validate_json(definition)
    article = campaign.button.article if campaign.button else None
    outcomes = await store.campaign_outcomes(prefix, campaign.code, article)
    # What people did is a count of people: under the threshold it could name them (a
    # campaign sent to one village), so it is hidden like every other small cell.
    newcomers = suppress(
        {
            "telegram": outcomes.get("new_users_telegram", 0),
            "whatsapp": outcomes.get("new_users_whatsapp", 0),
        }
    )
    return {
        "name": campaign_name,
        "status": found["status"],
        "sent": counts["sent"],
        "delivered": counts["delivered"],
        "read": counts["read"],
        "failed": counts["failed"] + counts["dead"],
        "not_sent_stopped": counts["stopped"],
        "cancelled": counts["cancelled"],
        "pending": counts["pending"],
        "possible_duplicates": found["possible_duplicates"],
        "linked_article": article,
        "opened_article": _people(outcomes["opened_article"]),
        "new_users_telegram": newcomers["telegram"],
        "new_users_whatsapp": newcomers["whatsapp"],
        "stopped_after": _people(outcomes["stopped_after"]),
    }


def _people(count: int) -> int | None:
    """A count of people, or None (shown as hidden) when it is too small to show."""
    return None if small(count) else count


class Bar:
    """Progress on stderr: a live bar with time left on a terminal, log lines otherwise."""

    def __init__(self, stream: IO[str], tty: bool | None = None) -> None:
        self._stream = stream
        self._tty = stream.isatty() if tty is None else tty
        self._started = time.monotonic()
        self._first: int | None = None
        self._logged = -1

    def __call__(self, done: int, total: int) -> None:
        if self._first is None:
            self._first = done
        share = done / total if total else 1.0
        elapsed = time.monotonic() - self._started
        fresh = done - self._first
        left = (total - done) * elapsed / fresh if fresh else 0.0
        if self._tty:
            filled = int(share * 30)
            self._stream.write(
                f"\r[{'#' * filled}{'.' * (30 - filled)}] {done}/{total} queued, {left:4.0f}s left"
            )
            if done >= total:
                self._stream.write("\n")
        elif int(share * 10) != self._logged or done >= total:
            # One line per tenth: a log file gets a trace, not a flood.
            self._logged = int(share * 10)
            self._stream.write(f"campaign: {done}/{total} queued ({share:.0%})\n")
        self._stream.flush()


def run(args: argparse.Namespace, settings: Settings) -> int:
    """Dispatch a campaign command."""
    try:
        return asyncio.run(_run(args, settings))
    except CampaignError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        return 1


async def _run(args: argparse.Namespace, settings: Settings) -> int:
    rates = Rates.from_settings(settings)
    campaign: Campaign | None = None
    if args.action in ("plan", "send"):
        campaign = load_campaign(args.file)
        from content.pack import PackError, load_pack

        try:
            pack = load_pack(settings.content)
        except PackError as exc:
            raise CampaignError(exc.problems) from None
        problems = check_targets(campaign, set(pack.articles), set(pack.quizzes))
        campaign, unknown_places = resolve_places(campaign, pack.communes)
        problems += unknown_places
        if problems:
            raise CampaignError([f"{args.file}: {p}" for p in problems])
    store = await open_store(settings.db)
    try:
        if campaign is not None and args.action == "plan":
            plan = await make_plan(
                store,
                campaign,
                rates,
                settings.whatsapp_templates,
                utc_now(),
                bot_username=args.bot_username,
                whatsapp_number=args.whatsapp_number,
            )
            print(json.dumps(plan.as_dict()) if args.json else format_plan(plan, rates))
            return 0
        if campaign is not None:
            result = await send(store, campaign, rates, progress=Bar(sys.stderr))
            if lang() == "fr":
                last = (
                    f" ; le dernier part le {Labels('fr').moment(result.last_due.isoformat())}"
                    if result.last_due
                    else ""
                )
                print(
                    f"{result.queued_now} message(s) mis en file maintenant, "
                    f"{result.queued_before} avant, {result.excluded_stopped} exclus (STOP){last}."
                    " Le bot en marche les envoie (`civicbot run`)."
                )
            else:
                last = (
                    f"; the last is due {result.last_due:%Y-%m-%d %H:%M} UTC"
                    if result.last_due
                    else ""
                )
                print(
                    f"{result.queued_now} message(s) queued now, {result.queued_before} before, "
                    f"{result.excluded_stopped} stopped excluded{last}. "
                    "The running bot sends them (`civicbot run`)."
                )
            return 0
        if args.action == "cancel":
            if await store.get_campaign(args.name) is None:
                raise CampaignError(
                    [
                        f"Aucune campagne « {args.name} »"
                        if lang() == "fr"
                        else f"no campaign '{args.name}'"
                    ]
                )
            dropped = await store.cancel_campaign(args.name, f"{KIND}:{args.name}:", utc_now())
            print(
                f"Campagne {args.name} annulée : {dropped} message(s) non envoyé(s) retiré(s)"
                if lang() == "fr"
                else f"campaign {args.name} cancelled: {dropped} unsent message(s) dropped"
            )
            return 0
        figures = await (status if args.action == "status" else report)(store, args.name)
        if figures is None:
            raise CampaignError(
                [
                    f"Aucune campagne « {args.name} »"
                    if lang() == "fr"
                    else f"no campaign '{args.name}'"
                ]
            )
        if args.json:
            print(json.dumps(figures))
        else:
            hidden = f"< {MIN_CELL}"
            print(
                "\n".join(
                    f"{key}: {hidden if value is None else value}" for key, value in figures.items()
                )
            )
        return 0
    finally:
        await store.close()

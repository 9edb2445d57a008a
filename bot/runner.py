"""`civicbot run`: every configured channel in one process, with the delivery worker."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import random
import signal
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot import heap
from bot.app import App
from bot.campaigns.schedule import QuietHours
from bot.channels.rate import SharedRate
from bot.delivery import DeliveryWorker, RetryPolicy, Sender
from bot.leader import Leadership, Work
from bot.open311.routes import add_open311_routes
from bot.ops import add_ops_routes
from bot.store import postgres_url
from handlers.complaints.deadlines import reroute_undelivered
from handlers.engine import utc_now
from storage.ports_deploy import DeploymentStore

log = logging.getLogger(__name__)

Cleanup = Callable[[], Awaitable[None]]


def webhook_secret(token: str, configured: str | None) -> str:
    """The configured secret, or one derived from the token: stable across restarts."""
    if configured:
        return configured
    return hmac.new(token.encode(), b"civicbot-telegram-webhook", hashlib.sha256).hexdigest()[:48]


def shared_budget(app: App) -> DeploymentStore | None:
    """The store whose rate buckets several processes share, or None for one process."""
    if postgres_url(app.settings.db) is None:
        return None  # one writer per SQLite file: the in-process buckets are the deployment's
    return app.store


async def _telegram(
    app: App, web_app: web.Application, leader_work: list[tuple[str, Work]], cleanups: list[Cleanup]
) -> Sender:
    # aiogram takes seconds to import: only here, when Telegram is configured.
    from bot.channels.telegram.channel import TelegramChannel, make_bot
    from bot.channels.telegram.flood import FloodControl

    settings = app.settings
    assert settings.telegram_token is not None
    token = settings.telegram_token.get_secret_value()
    budget = shared_budget(app)
    flood = FloodControl(
        settings.telegram_rate_global,
        settings.telegram_rate_chat,
        settings.telegram_rate_group_per_minute,
        # The bot's id (the token's public half) names its budget; never the secret half.
        shared=SharedRate(budget, f"telegram:{token.split(':')[0]}", settings.telegram_rate_global)
        if budget is not None
        else None,
    )
    channel = TelegramChannel(
        make_bot(token, settings.telegram_api_url), app.engine, app.store, flood
    )
    channel.lease_for(settings.delivery_lease_seconds)
    cleanups.append(channel.close)
    await channel.start()
    if settings.telegram_webhook_url:
        configured = settings.telegram_webhook_secret
        secret = webhook_secret(token, configured.get_secret_value() if configured else None)
        web_app.router.add_post("/telegram/webhook", channel.webhook_handler(secret))
        await channel.set_webhook(settings.telegram_webhook_url, secret)
        log.info("telegram: webhook registered")
    else:
        # Telegram serves one poller per bot: only the leader polls (webhooks run everywhere).
        leader_work.append(("telegram polling", channel.run_polling))
        log.info("telegram: long polling (in the leading process)")
    return channel.sender


async def _whatsapp(app: App, web_app: web.Application, cleanups: list[Cleanup]) -> Sender:
    # Only here, when WhatsApp is configured: `civicbot ask` never loads the channel.
    from bot.channels.whatsapp.channel import from_settings

    channel = from_settings(
        app.settings,
        app.engine,
        app.store,
        on_dead=lambda row: reroute_undelivered(app.store, app.packs.get(), utc_now(), row),
    )
    budget = shared_budget(app)
    if budget is not None:
        scope = f"whatsapp:{app.settings.whatsapp_phone_id}"  # Meta's limit is the number's
        channel.sender.share_rate(SharedRate(budget, scope, app.settings.whatsapp_rate))
    channel.lease_for(app.settings.delivery_lease_seconds)
    cleanups.append(channel.close)
    await channel.start()
    channel.add_routes(web_app)
    log.info("whatsapp: webhook at /whatsapp/webhook")
    return channel.sender


async def _deadlines(app: App, stop: asyncio.Event, every: float = 1.0) -> None:
    """Check complaint deadlines and quiz clocks every second (group questions last seconds)."""
    from handlers.clocks import run_clocks

    while not stop.is_set():
        try:
            now = utc_now()
            await run_clocks(app.store, app.packs.get(), now)
            if app.settings.cso_digest_hour == now.hour and now.minute == 0:
                from handlers.complaints.inbox import send_digest

                await send_digest(app.store, app.packs.get(), now)
        except Exception:
            log.exception("deadline check failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)


def _reload(app: App) -> None:
    """SIGHUP: load the content pack again; the old one may then be collected."""
    if app.packs.reload():
        heap.settle()


async def run_channels(app: App) -> int:
    """Run until SIGINT or SIGTERM; SIGHUP reloads the content pack."""
    settings = app.settings
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    loop.add_signal_handler(signal.SIGHUP, lambda: _reload(app))
    web_app = web.Application()
    add_ops_routes(web_app, app.store, app.engine.metrics)
    open311_key = settings.open311_api_key
    add_open311_routes(
        web_app,
        app.store,
        app.packs.get,
        open311_key.get_secret_value() if open311_key else None,
        utc_now,
        random.SystemRandom(),
        settings.open311_jurisdiction,
    )
    # Rows leased by a process that died are free again now (on SQLite, whose writer lock
    # this process holds, all of them; on PostgreSQL those whose lease lapsed), counted as
    # possible duplicates if they were in flight.
    released = await app.store.recover_outbox(utc_now())
    if released:
        log.warning("%d outbox message(s) left in flight by a previous run are due again", released)
    # What runs once per deployment, in whichever process leads: the clocks, and polling.
    leader_work: list[tuple[str, Work]] = [("timers", lambda until: _deadlines(app, until))]
    tasks: list[asyncio.Task[Any]] = []
    cleanups: list[Cleanup] = []
    senders: dict[str, Sender] = {}
    runner: web.AppRunner | None = None
    try:
        if "telegram" in settings.channels:
            senders["telegram"] = await _telegram(app, web_app, leader_work, cleanups)
        if "whatsapp" in settings.channels:
            senders["whatsapp"] = await _whatsapp(app, web_app, cleanups)
        worker = DeliveryWorker(
            app.store,
            senders,
            policy=RetryPolicy(settings.delivery_max_attempts, settings.delivery_backoff_seconds),
            clock=utc_now,
            lease_seconds=settings.delivery_lease_seconds,
            on_dead=lambda row: reroute_undelivered(app.store, app.packs.get(), utc_now(), row),
            quiet_hours=QuietHours.parse(settings.quiet_hours),
            # Platforms redeliver within hours: older processed ids are pruned as the bot runs.
            inbound_retention=timedelta(days=settings.inbound_retention_days),
        )
        tasks.append(
            asyncio.create_task(
                worker.run_forever(settings.delivery_interval_seconds, stop), name="delivery"
            )
        )
        leadership = Leadership(app.store.leader_lock("civicbot-leader"), leader_work)
        tasks.append(asyncio.create_task(leadership.run(stop), name="leadership"))
        runner = web.AppRunner(web_app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, settings.http_host, settings.http_port).start()
        log.info("http server on port %d", settings.http_port)
        heap.settle()  # everything loaded so far lives as long as the process
        await stop.wait()
    finally:
        stop.set()
        if runner is not None:
            await runner.cleanup()  # no new webhook requests
        for cleanup in cleanups:
            await cleanup()  # channels stop polling and finish the updates in progress
        # The delivery loop and the leadership end on `stop`: the leader gives its lock back
        # (a cancelled hand-back would leave its connection out of the pool at close).
        if tasks:
            await asyncio.wait(tasks, timeout=15)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    return 0

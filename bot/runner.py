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
from bot.delivery import DeliveryWorker, RetryPolicy, Sender
from bot.open311.routes import add_open311_routes
from bot.ops import add_ops_routes
from handlers.complaints.deadlines import reroute_undelivered
from handlers.engine import utc_now

log = logging.getLogger(__name__)

Cleanup = Callable[[], Awaitable[None]]


def webhook_secret(token: str, configured: str | None) -> str:
    """The configured secret, or one derived from the token: stable across restarts."""
    if configured:
        return configured
    return hmac.new(token.encode(), b"civicbot-telegram-webhook", hashlib.sha256).hexdigest()[:48]


async def _telegram(
    app: App, web_app: web.Application, tasks: list[asyncio.Task[Any]], cleanups: list[Cleanup]
) -> Sender:
    # aiogram takes seconds to import: only here, when Telegram is configured.
    from bot.channels.telegram.channel import TelegramChannel, make_bot
    from bot.channels.telegram.flood import FloodControl

    settings = app.settings
    assert settings.telegram_token is not None
    token = settings.telegram_token.get_secret_value()
    flood = FloodControl(
        settings.telegram_rate_global,
        settings.telegram_rate_chat,
        settings.telegram_rate_group_per_minute,
    )
    channel = TelegramChannel(
        make_bot(token, settings.telegram_api_url), app.engine, app.store, flood
    )
    cleanups.append(channel.close)
    await channel.start()
    if settings.telegram_webhook_url:
        configured = settings.telegram_webhook_secret
        secret = webhook_secret(token, configured.get_secret_value() if configured else None)
        web_app.router.add_post("/telegram/webhook", channel.webhook_handler(secret))
        await channel.set_webhook(settings.telegram_webhook_url, secret)
        log.info("telegram: webhook registered")
    else:
        tasks.append(asyncio.create_task(channel.run_polling(), name="telegram-polling"))
        log.info("telegram: long polling")
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
    # This process holds the file's writer lock: rows leased by a process that died are
    # free again now, counted as possible duplicates if they were in flight.
    released = await app.store.recover_outbox(utc_now())
    if released:
        log.warning("%d outbox message(s) left in flight by a previous run are due again", released)
    tasks: list[asyncio.Task[Any]] = []
    cleanups: list[Cleanup] = []
    senders: dict[str, Sender] = {}
    runner: web.AppRunner | None = None
    try:
        if "telegram" in settings.channels:
            senders["telegram"] = await _telegram(app, web_app, tasks, cleanups)
        if "whatsapp" in settings.channels:
            senders["whatsapp"] = await _whatsapp(app, web_app, cleanups)
        worker = DeliveryWorker(
            app.store,
            senders,
            policy=RetryPolicy(settings.delivery_max_attempts, settings.delivery_backoff_seconds),
            clock=utc_now,
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
        tasks.append(asyncio.create_task(_deadlines(app, stop), name="deadlines"))
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
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    return 0

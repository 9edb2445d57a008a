"""What operators need from a running bot: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from handlers.engine import BeforeCommit, Engine
from handlers.messages import Inbound, Reply
from storage.ports_ops import OpsStore

log = logging.getLogger(__name__)


class Metrics:
    """The bot's Prometheus metrics, in a registry of their own (no process-global state)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.inbound = Counter(
            "civicbot_inbound", "Messages received, by channel", ["channel"], registry=self.registry
        )
        self.replies = Counter(
            "civicbot_replies", "Replies returned by turns, by channel", ["channel"],
            registry=self.registry,
        )  # fmt: skip
        self.turn_seconds = Histogram(
            "civicbot_turn_seconds",
            "Time to handle one inbound message, from engine entry to replies",
            ["channel"],
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
            registry=self.registry,
        )
        self.outbox = Gauge(
            "civicbot_outbox_rows",
            "Outbox rows by kind and state",
            ["kind", "state"],
            registry=self.registry,
        )
        self.failures = Gauge(
            "civicbot_delivery_failures",
            "Outbox rows whose last send failed (failed or dead), by reason",
            ["reason"],
            registry=self.registry,
        )
        self.campaign = Gauge(
            "civicbot_campaign_messages",
            "Campaign messages by campaign and state",
            ["campaign", "state"],
            registry=self.registry,
        )

    async def refresh(self, store: OpsStore) -> None:
        """Read the database-backed gauges: what every process of a deployment would report."""
        self.outbox.clear()
        for kind, state, count in await store.outbox_depth():
            self.outbox.labels(kind=kind, state=state).set(count)
        self.failures.clear()
        for error, count in await store.delivery_failures():
            self.failures.labels(reason=failure_reason(error)).inc(count)
        self.campaign.clear()
        for name, state, count in await store.campaign_states():
            self.campaign.labels(campaign=name, state=state).set(count)


def failure_reason(error: str) -> str:
    """A short, bounded label for a delivery error (no ids or text from the platform)."""
    # Errors are stored as 'reason: details'; the details may hold ids, never a label.
    head = error.split(":", 1)[0].strip().lower()
    word = "".join(ch if ch.isalnum() or ch in "_-" else "_" for ch in head)[:40]
    return word or "unknown"


class MeteredEngine(Engine):
    """The engine, counting what goes through it; a turn itself is unchanged."""

    def __init__(self, *args: Any, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.metrics = metrics

    async def handle(
        self, inbound: Inbound, *, before_commit: BeforeCommit | None = None
    ) -> list[Reply]:
        """Handle one inbound and record its count, latency and replies."""
        started = time.perf_counter()
        replies = await super().handle(inbound, before_commit=before_commit)
        channel = inbound.channel
        self.metrics.inbound.labels(channel=channel).inc()
        self.metrics.turn_seconds.labels(channel=channel).observe(time.perf_counter() - started)
        self.metrics.replies.labels(channel=channel).inc(len(replies))
        return replies


async def schema_state(store: OpsStore) -> tuple[int, int]:
    """The highest migration applied to the database and the highest this code ships."""
    return await store.schema_versions()


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def ops_routes(store: OpsStore, metrics: Metrics) -> list[tuple[str, Handler]]:
    """The GET routes of /healthz, /readyz and /metrics."""

    async def healthz(_: web.Request) -> web.Response:
        # Liveness only: the event loop answers. A database outage must not get us restarted.
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        try:
            applied, shipped = await schema_state(store)
        except Exception as exc:
            log.warning("readiness: database unreachable (%s)", type(exc).__name__)
            down = {"status": "unavailable", "database": "unreachable"}
            return web.json_response(down, status=503)
        body = {"database": "ok", "schema": applied, "expected_schema": shipped}
        if applied != shipped:
            return web.json_response(body | {"status": "migrations pending"}, status=503)
        return web.json_response(body | {"status": "ready"})

    async def metrics_page(_: web.Request) -> web.Response:
        try:
            await metrics.refresh(store)
        except Exception as exc:
            # The process counters are still worth serving when the database is away.
            log.warning("metrics: database gauges not refreshed (%s)", type(exc).__name__)
        response = web.Response(body=generate_latest(metrics.registry))
        response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
        response.charset = "utf-8"
        return response

    return [("/healthz", healthz), ("/readyz", readyz), ("/metrics", metrics_page)]


def add_ops_routes(app: web.Application, store: OpsStore, metrics: Metrics) -> None:
    """Serve the operator endpoints on the bot's web server."""
    for path, handler in ops_routes(store, metrics):
        app.router.add_get(path, handler)

"""Open311 GeoReport v2 (JSON and XML): categories as services, public requests, partner posts."""

from __future__ import annotations

import hmac
import logging
import random
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import get_args

from aiohttp import web

from bot.open311.input import (
    EARLIEST,
    LATEST,
    MAX_PAGE_SIZE,
    bad,
    draft,
    paging,
    post_fields,
    split,
    window,
)
from bot.open311.render import NOTICE, definition, discovery, public_request, service
from bot.open311.web import FORMATS, PREFIX, Open311Error, answer, open311_middleware
from complaints.lifecycle import OPEN, Status
from complaints.reference import normalize_reference
from content.pack import ContentPack
from handlers.complaints.submit import submit_complaint
from storage.open311_records import PublicQuery
from storage.ports import Store

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
_OPEN = tuple(sorted(OPEN))
_CLOSED = tuple(sorted(set(get_args(Status)) - OPEN))


def add_open311_routes(
    app: web.Application,
    store: Store,
    packs: Callable[[], ContentPack],
    api_key: str | None,
    clock: Clock,
    rng: random.Random,
    jurisdiction: str | None = None,
) -> None:
    """Serve GeoReport v2 under /open311/v2; POST only with `api_key` (None disables it).

    `jurisdiction` is the only jurisdiction_id accepted (the pack's id when None).
    """
    api = _Open311(store, packs, api_key, clock, rng, jurisdiction)
    app.middlewares.append(open311_middleware)
    fmt = "{format:[^/.]+}"
    app.router.add_get(f"{PREFIX}/discovery.{fmt}", api.discovery)
    app.router.add_get(f"{PREFIX}/services.{fmt}", api.services)
    app.router.add_get(f"{PREFIX}/services/{{code:[^/]+}}.{fmt}", api.definition)
    app.router.add_get(f"{PREFIX}/requests.{fmt}", api.list_requests)
    app.router.add_post(f"{PREFIX}/requests.{fmt}", api.create)
    app.router.add_get(f"{PREFIX}/requests/{{id:[^/.]+}}.{fmt}", api.one_request)


class _Open311:
    def __init__(
        self,
        store: Store,
        packs: Callable[[], ContentPack],
        api_key: str | None,
        clock: Clock,
        rng: random.Random,
        jurisdiction: str | None,
    ) -> None:
        self.store = store
        self.packs = packs
        # An empty key would match a form without api_key: treat it as "disabled".
        self.api_key = api_key or None
        self.clock = clock
        self.rng = rng
        self.jurisdiction = jurisdiction or None

    def _start(self, request: web.Request, fields: Mapping[str, str] | None = None) -> str:
        """The format asked for, once the format and jurisdiction_id are known to be served."""
        fmt = request.match_info["format"]
        if fmt not in FORMATS:
            raise bad("format must be json or xml")
        given = (fields if fields is not None else request.query).get("jurisdiction_id", "")
        ours = self.jurisdiction or self.packs().manifest.id
        if given.strip() and given.strip() != ours:
            raise Open311Error(404, f"unknown jurisdiction_id: this server serves {ours}")
        return fmt

    async def discovery(self, request: web.Request) -> web.Response:
        """Where the endpoint is and which formats it speaks."""
        fmt = self._start(request)
        base = str(request.url.origin()) + PREFIX
        key = "Clé fournie par l'équipe du programme aux systèmes partenaires."
        return answer(discovery(base, self.packs(), key), fmt, "discovery")

    async def services(self, request: web.Request) -> web.Response:
        """One service per complaint category."""
        fmt = self._start(request)
        pack = self.packs()
        return answer([service(pack, c) for c in pack.categories], fmt, "services")

    async def definition(self, request: web.Request) -> web.Response:
        """The attributes a client may send with a service."""
        fmt = self._start(request)
        code = request.match_info["code"]
        category = next((c for c in self.packs().categories if c.service_code == code), None)
        if category is None:
            raise Open311Error(404, "unknown service_code: see services.json")
        return answer(definition(category), fmt, "service_definition")

    async def list_requests(self, request: web.Request) -> web.Response:
        """Requests by ids, or filtered by service, dates and status; newest first, paged."""
        fmt = self._start(request)
        pack = self.packs()
        query = request.query
        limit, offset = paging(query)
        hidden = tuple(c.id for c in pack.categories if c.sensitive)
        if "service_request_id" in query:
            # As the spec says, ids override every other parameter.
            wanted = {normalize_reference(r) for r in split(query["service_request_id"])}
            references = tuple(sorted(r for r in wanted if r is not None))
            if len(references) > MAX_PAGE_SIZE:
                raise bad(f"at most {MAX_PAGE_SIZE} service_request_id at once")
            asked = PublicQuery(
                EARLIEST, LATEST, limit, offset, references=references, hidden_categories=hidden
            )
        else:
            start, end = window(query, self.clock())
            statuses = set(split(query.get("status", "")))
            if not statuses <= {"open", "closed"}:
                raise bad("status must be open, closed or both (comma separated)")
            codes = set(split(query.get("service_code", "")))
            asked = PublicQuery(
                start,
                end,
                limit,
                offset,
                statuses=(_OPEN if "open" in statuses else ())
                + (_CLOSED if "closed" in statuses else ())
                if statuses
                else None,
                categories=tuple(c.id for c in pack.categories if c.service_code in codes)
                if codes
                else None,
                hidden_categories=hidden,
            )
        rows = await self.store.public_requests(asked)
        return answer([public_request(pack, r) for r in rows], fmt, "service_requests")

    async def one_request(self, request: web.Request) -> web.Response:
        """One request by reference, as a list of one."""
        fmt = self._start(request)
        pack = self.packs()
        reference = normalize_reference(request.match_info["id"])
        hidden = tuple(c.id for c in pack.categories if c.sensitive)
        rows = (
            await self.store.public_requests(
                PublicQuery(EARLIEST, LATEST, 1, references=(reference,), hidden_categories=hidden)
            )
            if reference
            else []
        )
        if not rows:
            raise Open311Error(404, "no service request with this service_request_id")
        return answer([public_request(pack, rows[0])], fmt, "service_requests")

    async def create(self, request: web.Request) -> web.Response:
        """A partner system files a complaint: form or JSON, api_key in the query or the body."""
        fields = await post_fields(request)
        fmt = self._start(request, fields)
        if self.api_key is None:
            raise Open311Error(403, "submitting service requests is disabled on this server")
        given = fields.get("api_key", "")
        if not given:
            raise Open311Error(403, "api_key is required (query string, form or JSON body)")
        if not hmac.compare_digest(given.encode(), self.api_key.encode()):
            raise Open311Error(403, "invalid api_key")
        pack = self.packs()
        complaint = draft(pack, fields)
        # Personal fields of the spec (email, phone, names, device_id) are ignored on purpose:
        # nobody agreed, in the bot's own words, to hand them to a CSO.
        async with self.store.transaction() as tx:
            record, _ = await submit_complaint(
                tx,
                pack,
                self.clock(),
                self.rng,
                complaint,
                user_key=None,
                channel="open311",
                chat_id=None,
                lang="fr",
            )
        log.info("open311: complaint %s submitted", record.reference)
        created = {"service_request_id": record.reference, "service_notice": NOTICE}
        return answer([created | {"account_id": None}], fmt, "service_requests")

"""A fake WhatsApp Cloud API (Graph API) server, and webhook payloads shaped like Meta's own."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

VERSION = "v21.0"
PHONE_ID = "106540352242922"
TOKEN = "EAAG-test-access-token"
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
WABA_ID = "102290129340398"

# Meta's own wording for the errors tests ask for.
ERRORS: dict[str, tuple[int, int, str]] = {
    "131047": (400, 131047, "Re-engagement message"),
    "130429": (400, 130429, "Rate limit hit"),
    "131056": (400, 131056, "(Business Account, Consumer Account) pair rate limit hit"),
    "131026": (400, 131026, "Message Undeliverable"),
    "132001": (404, 132001, "Template name does not exist in the translation"),
    "131009": (400, 131009, "Parameter value is not valid"),
    "500": (500, 131000, "Something went wrong"),
    "131053": (400, 131053, "Media upload error"),
}


@dataclass
class Sent:
    """One message the bot posted."""

    to: str
    payload: dict[str, Any]
    at: float
    id: str

    @property
    def type(self) -> str:
        return str(self.payload.get("type"))

    @property
    def text(self) -> str:
        """What the user reads first: the text, the interactive body, a caption."""
        kind = self.type
        if kind == "text":
            return str(self.payload["text"]["body"])
        if kind == "interactive":
            return str(self.payload["interactive"]["body"]["text"])
        if kind == "template":
            params = self.payload["template"]["components"][0]["parameters"]
            return " ".join(str(p["text"]) for p in params)
        return str(self.payload.get(kind, {}).get("caption", ""))

    @property
    def interactive(self) -> str | None:
        """'button' or 'list' for interactive messages."""
        if self.type != "interactive":
            return None
        return str(self.payload["interactive"]["type"])

    @property
    def buttons(self) -> list[dict[str, str]]:
        """Reply buttons as {id, title}."""
        if self.interactive != "button":
            return []
        action = self.payload["interactive"]["action"]
        return [b["reply"] for b in action["buttons"]]

    @property
    def rows(self) -> list[dict[str, str]]:
        """List rows as {id, title, description?}."""
        if self.interactive != "list":
            return []
        sections = self.payload["interactive"]["action"]["sections"]
        return [row for section in sections for row in section["rows"]]

    @property
    def ids(self) -> list[str]:
        """The choice ids offered, buttons or rows."""
        return [b["id"] for b in self.buttons] or [r["id"] for r in self.rows]


@dataclass
class FakeGraph:
    """The server's state: recorded sends and planned failures."""

    token: str = TOKEN
    phone_id: str = PHONE_ID
    calls: list[Sent] = field(default_factory=list)
    refused: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    failures: list[tuple[str, float]] = field(default_factory=list)
    url: str = ""
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    # Media (issue 18): files by media id, the uploads received, and ids that have expired.
    media: dict[str, bytes] = field(default_factory=dict)
    uploads: list[bytes] = field(default_factory=list)
    expired: set[str] = field(default_factory=set)
    downloads: list[str] = field(default_factory=list)
    failed_downloads: int = 0
    # Media whose id is still listed but whose file is gone from the download URL (404).
    lost: set[str] = field(default_factory=set)
    # While closed, sends wait unanswered; one whose sender died meanwhile is not delivered.
    gate: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: int = 0
    _runner: web.AppRunner | None = None

    def __post_init__(self) -> None:
        self.gate.set()

    async def start(self) -> FakeGraph:
        app = web.Application()
        app.router.add_post("/{version}/{phone}/messages", self._messages)
        app.router.add_post("/{version}/{phone}/media", self._upload)
        app.router.add_get("/{version}/{media_id}", self._media_url)
        app.router.add_get("/download/{media_id}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/{VERSION}"
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    # --- what tests do -----------------------------------------------------------------------

    def fail(self, kind: str, times: int = 1, delay: float = 0.0) -> None:
        """Answer the next `times` sends with an error from ERRORS, or 'slow' (no error)."""
        self.failures.extend((kind, delay) for _ in range(times))

    def sent(self, to: str | None = None) -> list[Sent]:
        return [c for c in self.calls if to is None or c.to == to]

    async def wait_sent(self, count: int, to: str | None = None, timeout: float = 10) -> list[Sent]:
        deadline = time.monotonic() + timeout
        while len(self.sent(to)) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        return self.sent(to)

    # --- the Graph API -----------------------------------------------------------------------

    async def _messages(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return _error(401, 190, "Invalid OAuth access token")
        if request.match_info["phone"] != self.phone_id or request.match_info["version"] != VERSION:
            return _error(400, 100, "Unsupported post request")
        body = await request.json()
        to = str(body.get("to") or body.get("recipient") or "")
        if body.get("messaging_product") != "whatsapp" or not to:
            return _error(400, 100, "Invalid parameter")
        if self.failures:
            kind, delay = self.failures.pop(0)
            if delay:
                await asyncio.sleep(delay)
            if kind != "slow":
                self.refused.append((kind, body))
                status, code, title = ERRORS[kind]
                return _error(status, code, title)
        if not self.gate.is_set():
            await self.gate.wait()
            if request.transport is None or request.transport.is_closing():
                # The sending process died before Meta answered: nothing reached the user.
                self.dropped += 1
                return web.Response(status=499)
        audio_id = (body.get("audio") or {}).get("id")
        if body.get("type") == "audio" and audio_id in self.expired:
            self.refused.append(("131053", body))
            status, code, title = ERRORS["131053"]
            return _error(status, code, title)
        wamid = f"wamid.FAKE{next(self._ids):06d}"
        payload = {k: v for k, v in body.items() if k not in ("messaging_product", "to")}
        self.calls.append(Sent(to, payload, time.monotonic(), wamid))
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": to, "wa_id": to}],
                "messages": [{"id": wamid}],
            }
        )

    # --- media (issue 18) --------------------------------------------------------------------

    def add_media(self, media_id: str, data: bytes) -> None:
        """A file a user sent (a voice note, a document), downloadable by its media id."""
        self.media[media_id] = data

    def expire_media(self) -> None:
        """Every media id known so far stops working, as Meta's do after 30 days."""
        self.expired |= set(self.media)

    def forget_media(self, media_id: str) -> None:
        """Meta no longer knows the id: its URL lookup answers 400, code 100, as Meta does."""
        self.media.pop(media_id, None)

    def lose_download(self, media_id: str) -> None:
        """The id still gives a URL, but the file behind it answers 404."""
        self.lost.add(media_id)

    def _authorised(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {self.token}"

    async def _upload(self, request: web.Request) -> web.Response:
        if not self._authorised(request):
            return _error(401, 190, "Invalid OAuth access token")
        form = await request.post()
        upload = form.get("file")
        if form.get("messaging_product") != "whatsapp" or not isinstance(upload, web.FileField):
            return _error(400, 100, "Invalid parameter")
        data = upload.file.read()
        self.uploads.append(data)
        media_id = f"{len(self.uploads)}{next(self._ids):09d}"
        self.media[media_id] = data
        return web.json_response({"id": media_id})

    async def _media_url(self, request: web.Request) -> web.Response:
        media_id = request.match_info["media_id"]
        if not self._authorised(request):
            return _error(401, 190, "Invalid OAuth access token")
        if media_id not in self.media:
            return _error(400, 100, "Unsupported get request")
        base = self.url.rsplit("/", 1)[0]
        return web.json_response(
            {
                "messaging_product": "whatsapp",
                "url": f"{base}/download/{media_id}",
                "mime_type": "audio/ogg",
                "sha256": "c2hh",
                "file_size": len(self.media[media_id]),
                "id": media_id,
            }
        )

    def fail_downloads(self, times: int = 1) -> None:
        """The next `times` media downloads answer 500, as Meta's CDN sometimes does."""
        self.failed_downloads += times

    async def _download(self, request: web.Request) -> web.Response:
        # Meta's download URLs want the access token too.
        if not self._authorised(request):
            return web.Response(status=401)
        if self.failed_downloads:
            self.failed_downloads -= 1
            return web.Response(status=500)
        self.downloads.append(request.match_info["media_id"])
        if request.match_info["media_id"] in self.lost:
            return web.Response(status=404)
        data = self.media.get(request.match_info["media_id"])
        return web.Response(status=404) if data is None else web.Response(body=data)


def _error(status: int, code: int, title: str) -> web.Response:
    return web.json_response(
        {
            "error": {
                "message": f"(#{code}) {title}",
                "type": "OAuthException",
                "code": code,
                "error_data": {"messaging_product": "whatsapp", "details": title},
                "fbtrace_id": "AbCdEf123",
            }
        },
        status=status,
    )


# --- webhook payloads, as Meta posts them -----------------------------------------------------

_wamids = itertools.count(1)


def wamid() -> str:
    """A fresh inbound message id."""
    return f"wamid.HBgLMjIzNzAwMDAwMDEVAgASGBQz{next(_wamids):08d}"


def envelope(
    *,
    messages: list[dict[str, Any]] | None = None,
    statuses: list[dict[str, Any]] | None = None,
    contact: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The whole webhook body around messages or statuses."""
    value: dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_ID},
    }
    if contact is not None:
        value["contacts"] = [{"profile": {"name": contact[1]}, "wa_id": contact[0]}]
    if messages is not None:
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}],
    }


def message(
    wa_id: str, kind: str, content: dict[str, Any], mid: str | None = None
) -> dict[str, Any]:
    return {
        "from": wa_id,
        "id": mid or wamid(),
        "timestamp": str(int(time.time())),
        "type": kind,
        kind: content,
    }


def incoming(
    wa_id: str, kind: str, content: dict[str, Any], mid: str | None = None
) -> dict[str, Any]:
    """One message from a user, with the contact Meta sends along."""
    return envelope(
        messages=[message(wa_id, kind, content, mid)], contact=(wa_id, f"U{wa_id[-3:]}")
    )


def text(wa_id: str, body: str, mid: str | None = None) -> dict[str, Any]:
    return incoming(wa_id, "text", {"body": body}, mid)


def button_reply(wa_id: str, choice: str, mid: str | None = None) -> dict[str, Any]:
    return incoming(
        wa_id,
        "interactive",
        {"type": "button_reply", "button_reply": {"id": choice, "title": "…"}},
        mid,
    )


def list_reply(wa_id: str, choice: str, mid: str | None = None) -> dict[str, Any]:
    return incoming(
        wa_id,
        "interactive",
        {"type": "list_reply", "list_reply": {"id": choice, "title": "…", "description": ""}},
        mid,
    )


def location(wa_id: str, lat: float, lon: float) -> dict[str, Any]:
    return incoming(wa_id, "location", {"latitude": lat, "longitude": lon, "name": "Marché"})


def image(wa_id: str, media_id: str) -> dict[str, Any]:
    return incoming(
        wa_id,
        "image",
        {"id": media_id, "mime_type": "image/jpeg", "sha256": "c29tZQ==", "caption": "la pompe"},
    )


def voice(wa_id: str, media_id: str) -> dict[str, Any]:
    return incoming(
        wa_id,
        "audio",
        {
            "id": media_id,
            "mime_type": "audio/ogg; codecs=opus",
            "sha256": "dm9pY2U=",
            "voice": True,
        },
    )


def document(wa_id: str, media_id: str) -> dict[str, Any]:
    return incoming(
        wa_id,
        "document",
        {"id": media_id, "mime_type": "application/pdf", "filename": "recu.pdf", "sha256": "ZA=="},
    )


def reaction(wa_id: str, to_message: str, emoji: str = "👍") -> dict[str, Any]:
    return incoming(wa_id, "reaction", {"message_id": to_message, "emoji": emoji})


def unsupported(wa_id: str) -> dict[str, Any]:
    body = incoming(wa_id, "unsupported", {})
    msg = body["entry"][0]["changes"][0]["value"]["messages"][0]
    del msg["unsupported"]
    msg["errors"] = [
        {
            "code": 131051,
            "title": "Message type unknown",
            "message": "Message type unknown",
            "error_data": {"details": "Message type is currently not supported."},
        }
    ]
    return body


def status(message_id: str, state: str, recipient: str, code: int | None = None) -> dict[str, Any]:
    """A delivery status of a message the bot sent."""
    item: dict[str, Any] = {
        "id": message_id,
        "status": state,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient,
    }
    if state != "failed":
        item["conversation"] = {"id": "c0ffee", "origin": {"type": "service"}}
        item["pricing"] = {"billable": True, "pricing_model": "PMP", "category": "service"}
    if code is not None:
        item["errors"] = [
            {
                "code": code,
                "title": dict((c, t) for _, c, t in ERRORS.values()).get(code, "Error"),
                "error_data": {"details": "…"},
            }
        ]
    return envelope(statuses=[item])


def dumps(body: dict[str, Any]) -> bytes:
    """The raw bytes Meta would post (signed as they are)."""
    return json.dumps(body, ensure_ascii=False).encode()


def sign(raw: bytes, secret: str = APP_SECRET) -> str:
    """The X-Hub-Signature-256 header value."""
    return "sha256=" + hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()


async def _serve(port: int) -> None:
    """Run the fake alone and print what the bot sends (see the README, 'test locally')."""
    graph = FakeGraph()
    app = web.Application()
    app.router.add_post("/{version}/{phone}/messages", graph._messages)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print(f"fake Graph API: CIVICBOT_WHATSAPP_API_URL=http://127.0.0.1:{port}/{VERSION}")
    print(f"  CIVICBOT_WHATSAPP_TOKEN={TOKEN} CIVICBOT_WHATSAPP_PHONE_ID={PHONE_ID}")
    shown = 0
    while True:
        await asyncio.sleep(0.2)
        for sent in graph.calls[shown:]:
            choices = " | ".join(sent.ids)
            print(f"-> {sent.to} [{sent.interactive or sent.type}] {sent.text}")
            if choices:
                print(f"   choices: {choices}")
        shown = len(graph.calls)


if __name__ == "__main__":
    import sys

    asyncio.run(_serve(int(sys.argv[1]) if len(sys.argv) > 1 else 8090))

"""A fake Telegram Bot API server that tests drive: real aiogram clients talk to it over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Civic", "username": "civic_test_bot"}


@dataclass
class Call:
    """One request the bot made."""

    method: str
    params: dict[str, Any]
    at: float

    @property
    def chat(self) -> str:
        return str(self.params.get("chat_id"))

    @property
    def text(self) -> str:
        return str(self.params.get("text") or self.params.get("caption") or "")

    @property
    def buttons(self) -> list[dict[str, Any]]:
        markup = self.params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]


# The Bot API lets bots download files of at most 20 MB.
DOWNLOAD_LIMIT = 20 * 1024 * 1024


@dataclass
class Failure:
    """A planned error answer: 429, 500, 403 blocked, 400 chat not found, or a slow answer."""

    kind: str
    retry_after: int = 1
    delay: float = 0.0


@dataclass
class FakeTelegram:
    """The server's state: queued updates, recorded calls, planned failures."""

    token: str = "123456:TEST-token"
    calls: list[Call] = field(default_factory=list)
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    _updates: list[dict[str, Any]] = field(default_factory=list)
    _new: asyncio.Event = field(default_factory=asyncio.Event)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _messages: itertools.count[int] = field(default_factory=lambda: itertools.count(100))
    url: str = ""
    admins: set[int] = field(default_factory=set)
    # Voice notes (issue 18): files by id, the uploads received, and ids that stopped working.
    files: dict[str, bytes] = field(default_factory=dict)
    uploads: list[bytes] = field(default_factory=list)
    forgotten_files: set[str] = field(default_factory=set)
    # getUpdates calls refused because another was still open (two pollers for one bot).
    conflicts: int = 0
    _polling: int = 0
    downloads: list[str] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    async def start(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_post("/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/voice/{name}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    # --- what tests do -----------------------------------------------------------------------

    def fail(self, method: str, kind: str, times: int = 1, **kw: Any) -> None:
        self.failures.setdefault(method, []).extend(Failure(kind, **kw) for _ in range(times))

    def push(self, update: dict[str, Any]) -> int:
        update_id = update.get("update_id") or next(self._ids)
        update["update_id"] = update_id
        self._updates.append(update)
        self._new.set()
        return int(update_id)

    def sent(self, chat: str | int | None = None) -> list[Call]:
        return [
            c
            for c in self.calls
            if c.method.startswith("send") and (chat is None or c.chat == str(chat))
        ]

    async def wait_sent(
        self, count: int, chat: str | int | None = None, timeout: float = 10
    ) -> list[Call]:
        deadline = time.monotonic() + timeout
        while len(self.sent(chat)) < count and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        return self.sent(chat)

    # --- the Bot API ---------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        method = request.match_info["method"]
        params: dict[str, Any] = {}
        # The Bot API takes JSON bodies as well as forms (the channel sends messages as JSON).
        form = {} if request.content_type == "application/json" else await request.post()
        if request.content_type == "application/json":
            params = dict(await request.json())
        for key, value in form.items():
            if isinstance(value, web.FileField):  # an upload (sendVoice with a new file)
                params[key] = self._store_upload(value.file.read())
                continue
            text = str(value)
            try:
                params[key] = json.loads(text) if text[:1] in "[{" else text
            except json.JSONDecodeError:
                params[key] = text
        planned = self.failures.get(method)
        if planned:
            failure = planned.pop(0)
            if failure.delay:
                await asyncio.sleep(failure.delay)
            if failure.kind != "slow":
                self.calls.append(Call(f"!{method}", params, time.monotonic()))
                return self._error(failure)
        if method != "getUpdates":
            self.calls.append(Call(method, params, time.monotonic()))
            return web.json_response({"ok": True, "result": await self._result(method, params)})
        if self._polling:
            # As Telegram does: one poller per bot; a second one is refused.
            self.conflicts += 1
            description = "Conflict: terminated by other getUpdates request"
            body = {"ok": False, "error_code": 409, "description": description}
            return web.json_response(body, status=409)
        self._polling += 1
        try:
            result = await self._result(method, params)
        finally:
            self._polling -= 1
        return web.json_response({"ok": True, "result": result})

    def _error(self, failure: Failure) -> web.Response:
        table = {
            "429": (429, f"Too Many Requests: retry after {failure.retry_after}"),
            "500": (500, "Internal Server Error"),
            "blocked": (403, "Forbidden: bot was blocked by the user"),
            "not_found": (400, "Bad Request: chat not found"),
        }
        code, description = table[failure.kind]
        body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
        if code == 429:
            body["parameters"] = {"retry_after": failure.retry_after}
        return web.json_response(body, status=code)

    async def _result(self, method: str, params: dict[str, Any]) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            # As Telegram does, an offset confirms (and forgets) every update before it.
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
            timeout = min(float(params.get("timeout") or 0), 1.0)
            pending = [u for u in self._updates if u["update_id"] >= offset]
            if not pending and timeout:
                self._new.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new.wait(), timeout)
                pending = [u for u in self._updates if u["update_id"] >= offset]
            return pending[:100]
        if method.startswith("send"):
            chat_id = int(params["chat_id"])
            message: dict[str, Any] = {
                "message_id": next(self._messages),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup"},
                "from": BOT_USER,
            }
            if "text" in params:
                message["text"] = params["text"]
            if method == "sendVoice":
                voice = str(params["voice"])
                # An upload travels as a form field named by "attach://<field>".
                voice = str(params.get(voice.removeprefix("attach://"), voice))
                message["voice"] = self._voice_of(voice)
            return message
        if method == "getFile":
            file_id = str(params["file_id"])
            if len(self.files.get(file_id, b"")) > DOWNLOAD_LIMIT:
                raise web.HTTPBadRequest(
                    text=json.dumps(
                        {
                            "ok": False,
                            "error_code": 400,
                            "description": "Bad Request: file is too big",
                        }
                    ),
                    content_type="application/json",
                )
            if file_id not in self.files:
                raise web.HTTPBadRequest(
                    text=json.dumps(
                        {
                            "ok": False,
                            "error_code": 400,
                            "description": "Bad Request: invalid file_id",
                        }
                    ),
                    content_type="application/json",
                )
            return {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_size": len(self.files[file_id]),
                "file_path": f"voice/{file_id}.oga",
            }
        if method in ("editMessageText", "editMessageReplyMarkup"):
            return True
        if method == "getChatMember":
            uid = int(params["user_id"])
            status = "administrator" if uid in self.admins else "member"
            member: dict[str, Any] = {"status": status, "user": user(uid)}
            if status == "administrator":
                member |= {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": False,
                    "can_edit_stories": False,
                    "can_delete_stories": False,
                    "can_send_welcome_messages": False,
                }
            return member
        return True

    # --- voice notes (issue 18) --------------------------------------------------------------

    def _store_upload(self, data: bytes) -> str:
        self.uploads.append(data)
        file_id = f"VOICE-{len(self.uploads)}"
        self.files[file_id] = data
        return file_id

    def _voice_of(self, file_id: str) -> dict[str, Any]:
        # Ids of files users sent are accepted as they are; forgotten ones are refused.
        if file_id in self.forgotten_files:
            raise web.HTTPBadRequest(
                text=json.dumps(
                    {
                        "ok": False,
                        "error_code": 400,
                        "description": "Bad Request: wrong file identifier/HTTP URL specified",
                    }
                ),
                content_type="application/json",
            )
        return {
            "file_id": file_id,
            "file_unique_id": f"u-{file_id}",
            "duration": 3,
            "mime_type": "audio/ogg",
            "file_size": len(self.files.get(file_id, b"")),
        }

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        self.downloads.append(request.match_info["name"])
        file_id = request.match_info["name"].removesuffix(".oga")
        if file_id not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[file_id], content_type="audio/ogg")

    def add_file(self, file_id: str, data: bytes) -> None:
        """A file a user sent (a voice note, a document), downloadable with getFile."""
        self.files[file_id] = data

    def forget_file(self, file_id: str) -> None:
        """Telegram no longer has the file: getFile answers 400 "invalid file_id"."""
        self.files.pop(file_id, None)


def _replying(cid: int | None, kind: str) -> dict[str, Any]:
    if kind == "private" or cid is None:
        return {}
    bot_message = {"message_id": 100, "date": int(time.time()), "chat": chat(cid, kind)}
    return {"reply_to_message": bot_message | {"from": BOT_USER, "text": "…"}}


def voice_update(
    uid: int, file_id: str, cid: int | None = None, kind: str = "private", duration: int = 3
) -> dict[str, Any]:
    """A voice note from a user; in a group, a reply to the bot (privacy mode shows only those)."""
    return {
        "message": _replying(cid, kind)
        | {
            "message_id": int(time.time() * 1000) % 10_000_000 + 1,
            "date": int(time.time()),
            "chat": chat(cid if cid is not None else uid, kind),
            "from": user(uid),
            "voice": {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "duration": duration,
                "mime_type": "audio/ogg",
            },
        }
    }


def document_update(
    uid: int, file_id: str, cid: int | None = None, kind: str = "private"
) -> dict[str, Any]:
    """A file sent as a document (a PDF, a photo sent as a file), replying to the bot in groups."""
    return {
        "message": _replying(cid, kind)
        | {
            "message_id": int(time.time() * 1000) % 10_000_000 + 2,
            "date": int(time.time()),
            "chat": chat(cid if cid is not None else uid, kind),
            "from": user(uid),
            "document": {
                "file_id": file_id,
                "file_unique_id": f"u-{file_id}",
                "file_name": "recu.pdf",
            },
        }
    }


# --- updates shaped as the current Bot API sends them ----------------------------------------


def user(uid: int, lang: str = "fr") -> dict[str, Any]:
    return {"id": uid, "is_bot": False, "first_name": f"U{uid}", "language_code": lang}


def chat(cid: int, kind: str = "private") -> dict[str, Any]:
    base: dict[str, Any] = {"id": cid, "type": kind}
    if kind == "private":
        base["first_name"] = f"U{cid}"
    else:
        base["title"] = "Groupe des femmes"
    return base


def text_update(
    uid: int, text: str, cid: int | None = None, kind: str = "private"
) -> dict[str, Any]:
    message: dict[str, Any] = {
        "message_id": int(time.time() * 1000) % 10_000_000,
        "date": int(time.time()),
        "chat": chat(cid if cid is not None else uid, kind),
        "from": user(uid),
        "text": text,
    }
    if text.startswith("/"):
        message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
    return {"message": message}


def location_update(uid: int, lat: float, lon: float) -> dict[str, Any]:
    return {
        "message": {
            "message_id": 7,
            "date": int(time.time()),
            "chat": chat(uid),
            "from": user(uid),
            "location": {"latitude": lat, "longitude": lon},
        }
    }


def photo_update(uid: int, file_id: str) -> dict[str, Any]:
    sizes = [
        {"file_id": f"{file_id}-small", "file_unique_id": "s", "width": 90, "height": 90},
        {"file_id": file_id, "file_unique_id": "b", "width": 800, "height": 800},
    ]
    return {
        "message": {
            "message_id": 8,
            "date": int(time.time()),
            "chat": chat(uid),
            "from": user(uid),
            "photo": sizes,
        }
    }


def tap_update(
    uid: int, data: str, cid: int | None = None, kind: str = "private"
) -> dict[str, Any]:
    return {
        "callback_query": {
            "id": f"cb{time.monotonic_ns()}",
            "from": user(uid),
            "chat_instance": "ci-1",
            "data": data,
            "message": {
                "message_id": 100,
                "date": int(time.time()),
                "chat": chat(cid or uid, kind),
                "from": BOT_USER,
                "text": "…",
            },
        }
    }


def member_update(
    uid: int, cid: int, old: str, new: str, kind: str = "supergroup"
) -> dict[str, Any]:
    return {
        "my_chat_member": {
            "chat": chat(cid, kind),
            "from": user(uid),
            "date": int(time.time()),
            "old_chat_member": {"status": old, "user": BOT_USER},
            "new_chat_member": {"status": new, "user": BOT_USER}
            | ({"until_date": 0} if new == "kicked" else {}),
        }
    }

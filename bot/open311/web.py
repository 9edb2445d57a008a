"""Open311 answers in JSON or XML, spec-shaped errors for every status, and CORS for reads."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from aiohttp import web

from bot.open311.xml import to_xml

log = logging.getLogger(__name__)

PREFIX = "/open311/v2"
FORMATS = ("json", "xml")
XML_TYPE = "text/xml"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class Open311Error(Exception):
    """An answer other than 200, shown to the client in the spec's error shape."""

    def __init__(self, status: int, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.description = description


def path_format(path: str) -> str:
    """The format a path asks for (`.xml` or else JSON), also for errors."""
    return "xml" if path.rstrip("/").endswith(".xml") else "json"


def answer(data: Sequence[Any] | Mapping[str, Any], fmt: str, root: str) -> web.Response:
    """A 200 answer in the format asked for; `root` names the XML document element."""
    if fmt == "xml":
        return web.Response(body=to_xml(root, data), content_type=XML_TYPE, charset="utf-8")
    return web.json_response(data, dumps=_dumps)


def error(status: int, description: str, fmt: str = "json") -> web.Response:
    """The spec's error shape: a list of {code, description} (XML: <errors><error>)."""
    data = [{"code": status, "description": description}]
    if fmt == "xml":
        return web.Response(
            body=to_xml("errors", data), status=status, content_type=XML_TYPE, charset="utf-8"
        )
    return web.json_response(data, status=status, dumps=_dumps)


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False)


def _cors(response: web.StreamResponse) -> None:
    # Reads are public: a map widget on any site may fetch them. Writes need the partner's key
    # and are not for browsers, so POST is not opened to other origins.
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Allow-Methods"] = "GET, OPTIONS"
    response.headers["Access-Control-Allow-Headers"] = "Content-Type, Accept"
    response.headers["Access-Control-Max-Age"] = "86400"


@web.middleware
async def open311_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Under the prefix: errors of any origin in the spec's shape, CORS on GET and preflight."""
    if not request.path.startswith(PREFIX + "/") and request.path != PREFIX:
        return await handler(request)
    fmt = path_format(request.path)
    if request.method == "OPTIONS":
        preflight = web.Response(status=204)
        _cors(preflight)
        return preflight
    try:
        response = await handler(request)
    except Open311Error as exc:
        response = error(exc.status, exc.description, fmt)
    except web.HTTPException as exc:  # aiohttp's own 404, 405, 413...
        if exc.status < 400:
            raise
        response = error(exc.status, _describe(exc), fmt)
        if exc.status == 405:
            response.headers["Allow"] = exc.headers.get("Allow", "")
    except Exception:
        log.exception("open311: unexpected error")
        response = error(500, "internal error", fmt)
    if request.method in ("GET", "HEAD"):
        _cors(response)
    return response


def _describe(exc: web.HTTPException) -> str:
    if exc.status == 404:
        return "no such resource: see discovery.json for the routes of this server"
    if exc.status == 405:
        return f"method not allowed here; allowed: {exc.headers.get('Allow', 'none')}"
    return exc.reason

"""A guard in front of Solara's server, so the app can be served to a classroom network.

``Gate`` wraps Solara's ASGI app and, before a request reaches it:

- refuses a websocket whose ``Origin`` is not the page's own host (another site's page, or
  a script with no origin, cannot drive a session);
- drops forwarded and script-name headers (``X-Forwarded-*``, ``Forwarded``,
  ``X-Script-Name``, ``Script-Name``) unless the server runs behind a trusted proxy: Solara
  would otherwise take the first visitor's ``X-Script-Name`` as every later page's base URL;
- answers a ``/_solara/cdn/`` request only from files already in the local cache, else 404
  (Solara would download the file from a public CDN, and deletes a folder asked for as a file);
- answers 404 on the diagnostic routes (``/resourcez``, ``/readyz``, ``/debugz``) unless
  ``debug``; ``/debugz`` is this app's own: what the process holds (``diagnose.snapshot``),
  or with ``?players`` the frames sent to each page playing now.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

CDN_PREFIX = "/_solara/cdn/"
DEBUG_PATH = "/debugz"
DIAGNOSTIC_PATHS = frozenset({"/resourcez", "/readyz", DEBUG_PATH})
PROXY_HEADERS = frozenset({b"forwarded", b"script-name", b"x-script-name"})
POLICY_VIOLATION = 1008  # websocket close code


class Gate:
    """ASGI middleware: the checks above, then the wrapped app."""

    def __init__(self, app, cdn_dir: Path, behind_proxy: bool = False, debug: bool = False):
        self.app = app
        self.cdn_dir = Path(cdn_dir).resolve()
        self.behind_proxy = behind_proxy
        self.debug = debug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check one connection, then pass it on (or answer it here)."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        if not self.behind_proxy:
            scope = dict(scope, headers=without_proxy_headers(scope["headers"]))
        if scope["type"] == "websocket":
            if not same_origin(scope["headers"], self.behind_proxy):
                log.warning("websocket refused: origin %r", _header(scope["headers"], b"origin"))
                await receive()  # websocket.connect
                await send({"type": "websocket.close", "code": POLICY_VIOLATION})
                return
        elif self._refused(scope["path"]):
            await _not_found(send)
            return
        elif scope["path"] == DEBUG_PATH:
            await _debug_snapshot(scope, send)
            return
        await self.app(scope, receive, send)

    def _refused(self, path: str) -> bool:
        if path in DIAGNOSTIC_PATHS:
            return not self.debug
        if path.startswith(CDN_PREFIX):
            return self.cached_file(path.removeprefix(CDN_PREFIX)) is None
        return False

    def cached_file(self, relative: str) -> Path | None:
        """The cached file for a CDN path (as Solara stores it), or None if not there."""
        relative = unquote(relative).replace("\\", "/")
        if "/" not in relative:
            relative += "/__main.js"  # Solara's name for a package's main file
        path = (self.cdn_dir / relative).resolve()
        if not path.is_relative_to(self.cdn_dir) or not path.is_file():
            return None
        return path


def without_proxy_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The headers minus those a proxy sets (forwarded-for/host/proto, script name)."""
    return [
        (k, v) for k, v in headers if k not in PROXY_HEADERS and not k.startswith(b"x-forwarded-")
    ]


def same_origin(headers: list[tuple[bytes, bytes]], behind_proxy: bool = False) -> bool:
    """True when the ``Origin`` header names the host the request was sent to."""
    origin = _header(headers, b"origin")
    host = _header(headers, b"host")
    if behind_proxy:
        host = _header(headers, b"x-forwarded-host") or host
    if not origin or not host:
        return False
    netloc = urlsplit(origin).netloc
    return bool(netloc) and netloc.lower() == host.split(",")[0].strip().lower()


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


async def _debug_snapshot(scope: Scope, send: Send) -> None:
    from sim.viz.diagnose import holders, snapshot
    from sim.viz.player import playing_figures

    query = parse_qs(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    if "players" in query:  # cheap (no garbage collection): polled by the sessions bench
        found: dict = {"players": playing_figures()}
        return await _send_json(found, send)
    found = snapshot()
    if "holders" in query:
        found["holders"] = holders(query["holders"][0])
    await _send_json(found, send)


async def _send_json(found: dict, send: Send) -> None:
    body = json.dumps(found).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _not_found(send: Send) -> None:
    body = b"Not Found"
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"9")],
        }
    )
    await send({"type": "http.response.body", "body": body})

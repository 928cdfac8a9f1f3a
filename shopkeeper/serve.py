"""The till in a browser: textual-serve runs ``shopkeeper`` once per browser connection, behind our own guard.

textual-serve (an aiohttp app) starts the command for every websocket that connects: each browser tab is an app
process of its own, and so a till of its own (``services.till_claim``). It checks nobody; ``ServeGuard`` does, as
aiohttp middleware in front of every route:

* **Login** (required when listening beyond localhost, see ``needs_login``): a token made at start. The address
  printed at start carries it (``/?token=...``); the first request with it gets a cookie and is sent on without it,
  so the token leaves the address bar and the history. Without the cookie or the token: a page asking for it.
  Tokens are compared with ``hmac.compare_digest``.
* **Host** (without login): the ``Host`` header must name this machine (``localhost``, ``127.0.0.1``, ``[::1]``) or
  the public address: a web page elsewhere that points its own name at 127.0.0.1 (DNS rebinding) is refused.
* **Origin** (always): the websocket that drives the app must come from our own page, never from another site's
  script running in the same browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
import secrets
import signal
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp_jinja2
from aiohttp import WSCloseCode, web
from textual_serve.app_service import AppService
from textual_serve.server import Server, to_int

log = logging.getLogger(__name__)

COOKIE = "shopkeeper_login"
LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def is_loopback(host: str) -> bool:
    """Whether ``host`` (a name or address, IPv6 with or without brackets) is this machine only."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def needs_login(host: str) -> bool:
    """A till reachable from other machines asks who is there; one on localhost is reached only from here (an SSH
    tunnel, a reverse proxy on this machine)."""
    return not is_loopback(host)


def new_token() -> str:
    return secrets.token_urlsafe(18)


def _host_name(netloc: str) -> str:
    """The host part of a ``Host`` header or an origin's netloc (``[::1]:8000`` → ``::1``)."""
    return (urlsplit(f"//{netloc}").hostname or "").lower()


LOGIN_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>shopkeeper: login</title></head>
<body style="font-family: sans-serif; max-width: 30em; margin: 3em auto">
<h1>shopkeeper</h1>
<p>{message}</p>
<form method="get" action="/"><label>Token <input name="token" type="password" autocomplete="off" autofocus>
</label> <button type="submit">Open the till</button></form>
</body></html>
"""


class ServeGuard:
    """The checks in front of every request (see the module docstring)."""

    def __init__(self, *, token: str | None, port: int, public_url: str | None = None) -> None:
        self.token = token
        self.public = urlsplit(public_url) if public_url else None
        self.cookie = f"{COOKIE}_{port}"  # cookies ignore ports: two servers on one host keep their own

    def _token_ok(self, given: str | None) -> bool:
        return bool(self.token) and given is not None and hmac.compare_digest(given.encode(), self.token.encode())

    def _host_ok(self, request: web.Request) -> bool:
        host = _host_name(request.host)
        return is_loopback(host) or (self.public is not None and host == (self.public.hostname or "").lower())

    def _origin_ok(self, request: web.Request) -> bool:
        origin = request.headers.get("Origin")
        if origin is None:
            return True  # not a browser; a browser always sends it with a websocket
        netloc = urlsplit(origin).netloc.lower()
        return netloc == request.host.lower() or (self.public is not None and netloc == self.public.netloc.lower())

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.token is None and not self._host_ok(request):
            raise web.HTTPForbidden(text=f"this till answers only on localhost, not as {request.host}; reach it "
                                    "through an SSH tunnel, or start shopkeeper serve with --public-url")
        if request.path == "/ws" and not self._origin_ok(request):
            raise web.HTTPForbidden(text="the till is driven only from its own page")
        if self.token is None or self._token_ok(request.cookies.get(self.cookie)):
            return await handler(request)
        given = request.query.get("token")
        if given is not None and self._token_ok(given):
            # Into a cookie and out of the address: a bookmark, the history or a screenshot never shows it.
            query = {k: v for k, v in request.query.items() if k != "token"}
            raise web.HTTPSeeOther(request.rel_url.with_query(query), headers={"Set-Cookie": self._cookie(request)})
        message = ("That token is not the one this till printed when it started." if given is not None else
                   "This till asks for the token that <code>shopkeeper serve</code> printed when it started.")
        return web.Response(status=401, text=LOGIN_PAGE.format(message=message), content_type="text/html")

    def _cookie(self, request: web.Request) -> str:
        secure = (self.public is not None and self.public.scheme == "https") or request.secure
        assert self.token is not None
        return f"{self.cookie}={self.token}; Path=/; HttpOnly; SameSite=Strict" + ("; Secure" if secure else "")


class _ClosingAppService(AppService):
    """An app process that ends closes its browser session: one that could not start (its till is in use, the
    database is unreachable) leaves the page saying "Session ended", not waiting forever."""

    async def run(self) -> None:
        await super().run()
        await self.remote_close()


class ShopServer(Server):
    """textual-serve's server with ``ServeGuard`` in front, page addresses taken from each request (so an SSH
    tunnel on any local port works) unless a public URL is given, and our own start-up lines."""

    def __init__(self, command: str, *, host: str, port: int, guard: ServeGuard, public_url: str | None,
                 banner: Callable[[], None]) -> None:
        super().__init__(command, host=host, port=port, title="shopkeeper", public_url=public_url or "http://-")
        self.guard = guard
        self.fixed_public_url = public_url
        self.banner = banner
        self.sessions: set[web.WebSocketResponse] = set()

    def serve(self, debug: bool = False) -> None:
        """textual-serve's ``serve``, but the banner comes once the port is bound (a port in use is an error, not
        a greeting), and no access log: it would write every address, a login token among them."""
        logging.basicConfig(level=logging.INFO, format="%(message)s")
        loop = asyncio.new_event_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, self.request_exit)
        web.run_app(self._make_app(), host=self.host, port=self.port, handle_signals=False, loop=loop,
                    access_log=None, print=lambda *_: self.banner())

    async def _make_app(self) -> web.Application:
        app = await super()._make_app()
        app.middlewares.append(self.guard.middleware)
        return app

    async def on_startup(self, app: web.Application) -> None:
        """(textual-serve prints its logo here.)"""

    async def on_shutdown(self, app: web.Application) -> None:
        """Ctrl+C or SIGTERM: close every browser session, so that each app quits as it would on Ctrl+Q (its open
        sale saved, its till given up) instead of the server waiting for the browsers to go."""
        for websocket in list(self.sessions):
            await websocket.close(code=WSCloseCode.GOING_AWAY, message=b"shopkeeper serve stopped")

    @aiohttp_jinja2.template("app_index.html")
    async def handle_index(self, request: web.Request) -> dict[str, Any]:
        base = self.fixed_public_url or f"{request.scheme}://{request.host}"
        secure = base.startswith("https")
        ws_base = ("wss:" if secure else "ws:") + base.split(":", 1)[1]
        return {
            "font_size": to_int(request.query.get("fontsize", "16"), 16),
            "app_websocket_url": f"{ws_base}{request.app.router['websocket'].url_for()}",
            "config": {"static": {"url": f"{base}{request.app.router['static'].url_for(filename='/')}"
                                  .rstrip("/") + "/"}},
            "application": {"name": self.title},
        }

    async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
        """textual-serve's own, with an app service that closes the session when its app ends."""
        websocket = web.WebSocketResponse(heartbeat=15)
        width = to_int(request.query.get("width", "80"), 80)
        height = to_int(request.query.get("height", "24"), 24)
        service: AppService | None = None
        try:
            await websocket.prepare(request)
            self.sessions.add(websocket)
            service = _ClosingAppService(self.command, write_bytes=websocket.send_bytes,
                                         write_str=websocket.send_str, close=websocket.close,
                                         download_manager=self.download_manager, debug=self.debug)
            await service.start(width, height)
            await self._process_messages(websocket, service)
        except asyncio.CancelledError:
            await websocket.close()
        except Exception:
            log.exception("browser session failed")
        finally:
            self.sessions.discard(websocket)
            if service is not None:
                await service.stop()
        return websocket

"""The public board over HTTP: aiohttp on the bot's own event loop.

This module sets the site up (settings, middlewares, listening, the readers' base URL). The
routes are in cogs.web.routes, HTTP caching and headers in cogs.web.caching, the client
address and the rate limit in cogs.web.clients, the pages in cogs.web.pages.

Every answer carries the security headers (a strict Content-Security-Policy: no script at all,
styles only from our own sheet); unknown and private slugs get one and the same 404; each
client address has a token bucket.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import hdrs, web

from cogs.web.caching import CSP, secure
from cogs.web.clients import ClientAddress, RateLimiter, parse_networks
from cogs.web.routes import BoardRoutes
from tracker.board import BoardService

__all__ = ["CSP", "BoardSite", "WebSettings"]

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class WebSettings:
    """How the board is served. *public_url* is the address readers use (for links in feeds
    and Open Graph tags); by default the bound address. *trusted_proxies* are the addresses
    or networks of reverse proxies whose X-Forwarded-For is believed (none by default)."""

    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    rate_per_minute: float = 120.0
    burst: int = 60
    cache_entries: int = 256
    trusted_proxies: tuple[str, ...] = ()


class BoardSite:
    """The web board: an aiohttp application over a :class:`BoardService`."""

    def __init__(self, service: BoardService, settings: WebSettings | None = None) -> None:
        self.service = service
        self.settings = settings or WebSettings()
        self.routes = BoardRoutes(service, lambda: self.base_url, self.settings.cache_entries)
        self.limiter = RateLimiter(self.settings.rate_per_minute, self.settings.burst)
        self.client_of = ClientAddress(parse_networks(self.settings.trusted_proxies))
        self._runner: web.AppRunner | None = None
        self._port = self.settings.port

    def app(self) -> web.Application:
        """The aiohttp application (routes and middlewares)."""
        app = web.Application(middlewares=[self._headers, self._rate_limit])
        self.routes.add_to(app.router)
        return app

    async def start(self) -> str:
        """Listen on the configured address; returns the board's base URL."""
        runner = web.AppRunner(self.app(), access_log=None, handle_signals=False)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.host, self.settings.port)
        await site.start()
        self._runner = runner
        addresses = runner.addresses  # port 0 asks the system for a free port: read which one
        if addresses:
            self._port = int(addresses[0][1])
        log.info("public boards served on %s:%s", self.settings.host, self._port)
        return self.base_url

    @property
    def base_url(self) -> str:
        """The readers' base URL (no trailing slash): the public URL, else the bound address.
        Never the request's Host header: rendered pages are cached and shared between
        readers, so a forged Host must not end up in anyone's links."""
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        return self.bound_url

    @property
    def bound_url(self) -> str:
        """The address the site listens on, as a URL (no trailing slash)."""
        host = self.settings.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self._port}"

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def client(self, request: web.Request) -> str:
        """The client's address: the TCP peer, or behind a trusted proxy the address that
        proxy saw (X-Forwarded-For)."""
        return self.client_of(request.remote, request.headers.getall(hdrs.X_FORWARDED_FOR, ()))

    @web.middleware
    async def _headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            response = self.routes.not_found()
        except web.HTTPException as exc:
            secure(exc)
            raise
        secure(response)
        return response

    @web.middleware
    async def _rate_limit(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        wait = self.limiter.take(self.client(request))
        if wait > 0:
            return web.Response(
                status=429,
                text="Too many requests; please slow down.\n",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        return await handler(request)

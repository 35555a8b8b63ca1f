"""The public board over HTTP: aiohttp on the bot's own event loop, Jinja2 templates.

Routes (``<slug>`` is a board published with /alerts public):

    /b/<slug>                 score, timeline, watchlist (?vendor=&state=&sort=&order=)
    /b/<slug>/<launch id>     one launch: lineage, countdown or days late, its chart row
    /b/<slug>/feed.atom       slips, ships, cancellations and re-datings
    /b/<slug>/deadlines.ics   every open deadline as an all-day event
    /b/<slug>/launches.json   the same data for scripts

HTTP behaviour: a weak ETag derived from what the content depends on (so a revalidation costs
one small query and no rendering), Last-Modified, 304s, Cache-Control, gzip, a strict
Content-Security-Policy (no script at all, styles only from our own sheet) and other security
headers on every answer, one 404 for unknown and private slugs alike, and a token bucket per
client address. Rendered answers are kept in a small LRU keyed by that same version, and
concurrent requests for the same missing page render it once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import gzip
import hashlib
import json
import logging
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlencode

import jinja2
from aiohttp import web

from cogs.web import formats
from cogs.web.timeline import OUTCOME_LABELS, build_timeline
from tracker import board as boards
from tracker.board import BoardQuery, BoardService, CalendarEvent, Published
from tracker.errors import NotFound
from tracker.models import Launch, LaunchEvent, LaunchState
from tracker.stats import RULES as score_rules

log = logging.getLogger(__name__)

EventMap = dict[int, list[LaunchEvent]]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Bump when a template or a format changes what the same data renders to.
RENDER_VERSION = "1"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
PAGE_CACHE = "public, max-age=60"
FEED_CACHE = "public, max-age=300"
GZIP_MIN = 512
MAX_QUERY = 512


@dataclass(frozen=True, slots=True)
class WebSettings:
    """How the board is served. *public_url* is the address readers use (for links in feeds
    and Open Graph tags); by default the bound address."""

    host: str = "127.0.0.1"
    port: int = 8080
    public_url: str | None = None
    rate_per_minute: float = 120.0
    burst: int = 60
    cache_entries: int = 256


@dataclass(frozen=True, slots=True)
class Rendered:
    """A finished answer body, kept in the cache."""

    body: bytes
    gzipped: bytes | None
    content_type: str


class RateLimiter:
    """A token bucket per client address: *burst* requests at once, then *rate* per second."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, client: str) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        now = self.clock()
        tokens, last = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[client] = (tokens - 1.0, now)
            if len(self._buckets) > 10_000:
                self._forget_full(now)
            return 0.0
        self._buckets[client] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        # Clients whose bucket has refilled are indistinguishable from new ones: drop them.
        full = [c for c, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= 1]
        for client in full:
            del self._buckets[client]


def _template_env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("cogs.web", "templates"),
        autoescape=jinja2.select_autoescape(("html", "svg"), default=True),
        trim_blocks=False,
        lstrip_blocks=False,
        undefined=jinja2.StrictUndefined,
    )


def _css() -> tuple[str, bytes]:
    data = (resources.files("cogs.web") / "static" / "board.css").read_bytes()
    return f"board.{hashlib.sha256(data).hexdigest()[:12]}.css", data


class BoardSite:
    """The web board: an aiohttp application over a :class:`BoardService`."""

    def __init__(self, service: BoardService, settings: WebSettings | None = None) -> None:
        self.service = service
        self.settings = settings or WebSettings()
        self.env = _template_env()
        self.css_name, self.css = _css()
        self.icon = (resources.files("cogs.web") / "static" / "favicon.svg").read_bytes()
        self.limiter = RateLimiter(self.settings.rate_per_minute, self.settings.burst)
        self._cache: OrderedDict[str, Rendered] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[Rendered]] = {}
        self._records_cache: OrderedDict[str, tuple[list[Launch], EventMap]] = OrderedDict()
        self._vevents: OrderedDict[CalendarEvent, bytes] = OrderedDict()
        self._runner: web.AppRunner | None = None
        self._port = self.settings.port
        notfound = self.env.get_template("notfound.html").render(css=self.css_path)
        self._notfound = notfound.encode()

    @property
    def css_path(self) -> str:
        """The stylesheet's address (content-hashed, so it can be cached for a year)."""
        return f"/static/{self.css_name}"

    # ------------------------------------------------------------------ lifecycle

    def app(self) -> web.Application:
        """The aiohttp application (routes and middlewares)."""
        app = web.Application(middlewares=[self._headers, self._rate_limit])
        app.router.add_get("/", self.index)
        app.router.add_get("/static/{name}", self.static)
        app.router.add_get("/favicon.ico", self.favicon)
        app.router.add_get("/b/{slug}", self.board)
        app.router.add_get("/b/{slug}/", self.board_slash)
        app.router.add_get("/b/{slug}/feed.atom", self.feed)
        app.router.add_get("/b/{slug}/deadlines.ics", self.calendar)
        app.router.add_get("/b/{slug}/launches.json", self.launches_json)
        app.router.add_get(r"/b/{slug}/{launch:\d{1,18}}", self.launch)
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
        """The readers' base URL (no trailing slash): the public URL, else the bound address."""
        if self.settings.public_url:
            return self.settings.public_url.rstrip("/")
        host = self.settings.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self._port}"

    async def stop(self) -> None:
        """Stop listening and close open connections."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    # ------------------------------------------------------------------ middlewares

    @web.middleware
    async def _headers(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            response = await handler(request)
        except web.HTTPNotFound:
            response = self._not_found()
        except web.HTTPException as exc:
            for name, value in SECURITY_HEADERS.items():
                exc.headers.setdefault(name, value)
            raise
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    @web.middleware
    async def _rate_limit(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        wait = self.limiter.take(request.remote or "?")
        if wait > 0:
            return web.Response(
                status=429,
                text="Too many requests; please slow down.\n",
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        return await handler(request)

    def _not_found(self) -> web.Response:
        # One answer for an unknown slug, a private one and an unknown launch: a reader cannot
        # tell which servers exist.
        return web.Response(
            status=404,
            body=self._notfound,
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": "public, max-age=60"},
        )

    # ------------------------------------------------------------------ plumbing

    async def _published(self, request: web.Request) -> Published:
        slug = request.match_info["slug"]
        found = await self.service.find(slug) if len(slug) <= boards.SLUG_MAX else None
        if found is None:
            raise web.HTTPNotFound()
        return found

    async def _answer(
        self,
        request: web.Request,
        published: Published,
        variant: str,
        cache_control: str,
        render: Callable[[], Awaitable[Rendered]],
        *,
        dated: bool = True,
    ) -> web.StreamResponse:
        """Answer with a 304 when the reader's copy is current, else the (cached) rendering.
        A *dated* view (running figures, countdowns) also changes with the calendar day."""
        key = f"{RENDER_VERSION}|{published.version(dated=dated)}|{variant}"
        etag = 'W/"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'
        modified = published.last_modified(dated=dated).replace(microsecond=0)
        headers = {
            "ETag": etag,
            "Last-Modified": email.utils.format_datetime(modified, usegmt=True),
            "Cache-Control": cache_control,
            "Vary": "Accept-Encoding",
        }
        if _not_modified(request, etag, modified):
            return web.Response(status=304, headers=headers)
        rendered = await self._rendered(key, render)
        body = rendered.body
        if rendered.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
            body = rendered.gzipped
            headers["Content-Encoding"] = "gzip"
        headers["Content-Type"] = rendered.content_type
        return web.Response(body=body, headers=headers)

    async def _rendered(self, key: str, render: Callable[[], Awaitable[Rendered]]) -> Rendered:
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[Rendered] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await render()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else should log it
            raise
        else:
            future.set_result(result)
        finally:
            del self._inflight[key]
        self._cache[key] = result
        while len(self._cache) > self.settings.cache_entries:
            self._cache.popitem(last=False)
        return result

    async def _records(self, published: Published) -> tuple[list[Launch], EventMap]:
        """The board's launches and the history rows it shows, loaded once per data version
        (a new calendar day re-renders from the same records)."""
        key = published.data_version
        cached = self._records_cache.get(key)
        if cached is None:
            launches = await self.service.launches(published.guild_id)
            events = await self.service.events(published.guild_id)
            cached = (launches, events)
            self._records_cache[key] = cached
            while len(self._records_cache) > 8:
                self._records_cache.popitem(last=False)
        return cached

    def _html(self, template: str, **context: Any) -> Rendered:
        text = self.env.get_template(template).render(css=self.css_path, **context)
        return _finish(text.encode(), "text/html; charset=utf-8")

    def _base(self, published: Published) -> str:
        return f"/b/{published.slug}"

    def _description(self, stats: Any) -> str:
        figures = {f.key: f for f in boards.score_figures(stats)}
        parts = [
            f"On time: {figures['on_time_rate'].value}",
            f"shipped late: {figures['shipped_late'].value}",
            f"overdue: {figures['overdue_open'].value}",
            f"cancelled: {figures['cancelled'].value}",
        ]
        if stats.worst is not None:
            parts.append(f"worst slip: {figures['worst'].value}")
        return "; ".join(parts) + "."

    # ------------------------------------------------------------------ handlers

    async def index(self, request: web.Request) -> web.StreamResponse:
        """A plain page that says what this is (and lists no servers)."""
        text = self.env.get_template("index.html").render(css=self.css_path)
        return web.Response(
            text=text,
            content_type="text/html",
            headers={"Cache-Control": PAGE_CACHE},
        )

    async def favicon(self, request: web.Request) -> web.StreamResponse:
        """The icon, for browsers that ask for it by its old name."""
        return web.Response(
            body=self.icon,
            content_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    async def static(self, request: web.Request) -> web.StreamResponse:
        """The stylesheet and the icon."""
        if request.match_info["name"] == "favicon.svg":
            return await self.favicon(request)
        if request.match_info["name"] != self.css_name:
            raise web.HTTPNotFound()
        return web.Response(
            body=self.css,
            content_type="text/css",
            headers={"Cache-Control": "public, max-age=31536000, immutable"},
        )

    async def board_slash(self, request: web.Request) -> web.StreamResponse:
        """/b/<slug>/ -> /b/<slug> (one address per page)."""
        published = await self._published(request)
        raise web.HTTPPermanentRedirect(self._base(published))

    async def board(self, request: web.Request) -> web.StreamResponse:
        """The board page."""
        published = await self._published(request)
        if len(request.query_string) > MAX_QUERY:
            raise web.HTTPBadRequest(text="That query string is too long.\n")
        query = BoardQuery.parse(request.query)
        variant = "board?" + "&".join(f"{k}={v}" for k, v in sorted(query.params().items()))

        async def render() -> Rendered:
            launches, events = await self._records(published)
            board = boards.build_board(published.slug, launches, events, published.today, query)
            base = self._base(published)
            timeline = build_timeline(board.rows, published.today)
            sort_links = {}
            for key in boards.SORT_KEYS:
                order = "desc" if key == query.sort and query.order == "asc" else "asc"
                params = query.params(
                    sort=None if key == "deadline" else key, order=None, page=None
                )
                if order == "desc":
                    params["order"] = "desc"
                sort_links[key] = base + _qs(params)
            page_links = {
                "prev": base + _qs(query.params(page=str(board.page - 1))),
                "next": base + _qs(query.params(page=str(board.page + 1))),
            }
            return self._html(
                "board.html",
                board=board,
                page_links=page_links,
                base=base,
                figures=boards.score_figures(board.stats),
                rules=score_rules,
                timeline=timeline,
                t=timeline,
                outcomes=list(OUTCOME_LABELS.items()),
                states=[s.value for s in LaunchState],
                columns=list(boards.SORT_KEYS.items()),
                sort_label=boards.SORT_KEYS[query.sort].lower(),
                sort_links=sort_links,
                today=published.today,
                description=self._description(board.stats),
                og_title=f"slipwatch board: {published.slug}",
                canonical=self.base_url + base,
            )

        return await self._answer(request, published, variant, PAGE_CACHE, render)

    async def launch(self, request: web.Request) -> web.StreamResponse:
        """One launch's page."""
        published = await self._published(request)
        launch_id = int(request.match_info["launch"])
        try:
            launch, events = await self.service.launch(published.guild_id, launch_id)
        except NotFound:
            raise web.HTTPNotFound() from None

        async def render() -> Rendered:
            page = boards.launch_page(published.slug, launch, events, published.today)
            row = page.row
            return self._html(
                "launch.html",
                page=page,
                base=self._base(published),
                t=build_timeline([row], published.today),
                today=published.today,
                description=f"{row.product} ({row.vendor}): {page.headline}. First promise "
                f'"{row.first_phrase}" (by {row.first_end}); {row.slips} slips.',
                og_title=f"{row.product} ({row.vendor}): {page.headline}",
                canonical=f"{self.base_url}{self._base(published)}/{launch_id}",
            )

        return await self._answer(request, published, f"launch/{launch_id}", PAGE_CACHE, render)

    async def feed(self, request: web.Request) -> web.StreamResponse:
        """The Atom feed."""
        published = await self._published(request)

        async def render() -> Rendered:
            launches, _ = await self._records(published)
            recent = await self.service.recent(published.guild_id)
            entries = boards.feed_entries(published.guild_id, {x.id: x for x in launches}, recent)
            body = formats.atom(published, entries, self.base_url + self._base(published))
            return _finish(body, "application/atom+xml; charset=utf-8")

        return await self._answer(request, published, "feed", FEED_CACHE, render, dated=False)

    async def calendar(self, request: web.Request) -> web.StreamResponse:
        """The calendar of open deadlines."""
        published = await self._published(request)

        async def render() -> Rendered:
            launches = await self.service.launches(published.guild_id)
            events = await self.service.events(published.guild_id)
            items = boards.calendar_events(published.guild_id, launches, events)
            body = formats.icalendar_file(published, items, self.base_url + self._base(published))
            return _finish(body, "text/calendar; charset=utf-8")

        return await self._answer(request, published, "ics", FEED_CACHE, render, dated=False)

    async def launches_json(self, request: web.Request) -> web.StreamResponse:
        """launches.json: the score and every launch."""
        published = await self._published(request)

        async def render() -> Rendered:
            launches, events = await self._records(published)
            board = boards.build_board(
                published.slug, launches, events, published.today, BoardQuery(sort="deadline")
            )
            # The score's own keys (as `python bot.py stats --json`), every launch in full.
            data = {
                "board": published.slug,
                **boards.score_json(board.stats, launches),
                "launches": [boards.row_json(row) for row in board.rows],
            }
            body = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
            return _finish(body, "application/json")

        return await self._answer(request, published, "json", FEED_CACHE, render)


def _qs(params: dict[str, str]) -> str:
    return "?" + urlencode(params) if params else ""


def _finish(body: bytes, content_type: str) -> Rendered:
    # mtime=0: the same content always compresses to the same bytes.
    packed = gzip.compress(body, compresslevel=6, mtime=0) if len(body) >= GZIP_MIN else None
    return Rendered(body=body, gzipped=packed, content_type=content_type)


def _not_modified(request: web.Request, etag: str, modified: dt.datetime) -> bool:
    match = request.headers.get("If-None-Match")
    if match is not None:
        tags = {t.strip() for t in match.split(",")}
        # Weak comparison (RFC 9110 13.1.2): W/"x" matches "x" and W/"x".
        bare = etag.removeprefix("W/")
        return "*" in tags or etag in tags or bare in tags
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        when = email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        return False
    return modified <= when

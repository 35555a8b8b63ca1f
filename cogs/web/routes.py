"""The board's routes (``<slug>`` is a board published with /alerts public):

    /b/<slug>                       score, timeline, watchlist (?vendor=&state=&sort=&order=)
    /b/<slug>/<launch id>           one launch: lineage, countdown or days late, its chart row
    /b/<slug>/feed.atom             slips, ships, cancellations and re-datings
    /b/<slug>/deadlines.ics         every open deadline as an all-day event
    /b/<slug>/launches.json         the same data for scripts
    /b/<slug>/card.png              the link preview card with the score (Open Graph image)
    /b/<slug>/<launch id>/card.png  one launch's card

Every view is cached by what it depends on (see cogs.web.caching); the records behind them are
loaded once per data version and shared by every view of that version. An unknown slug, a
private one and a launch of another server all raise the same 404.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import ParamSpec

from aiohttp import web

from cogs.web import card, formats
from cogs.web.caching import (
    FEED_CACHE,
    IMAGE_CACHE,
    PAGE_CACHE,
    RENDER_VERSION,
    Rendered,
    SharedLRU,
    conditional,
    finish,
)
from cogs.web.pages import Links, Pages
from tracker import board as boards
from tracker.board import Board, BoardQuery, BoardService, CalendarEvent, Published
from tracker.errors import NotFound
from tracker.models import Launch, LaunchEvent

log = logging.getLogger(__name__)

EventMap = dict[int, list[LaunchEvent]]
P = ParamSpec("P")
MAX_QUERY = 512
RECORD_VERSIONS = 8  # data versions whose records are kept (as before the split: a few boards)
VEVENTS = 4096  # serialised calendar events kept (one per open deadline)


class BoardRoutes:
    """The request handlers over a :class:`BoardService`; *base_url* gives the readers'
    origin (for absolute links in feeds, calendars and Open Graph tags)."""

    def __init__(
        self, service: BoardService, base_url: Callable[[], str], cache_entries: int = 256
    ) -> None:
        self.service = service
        self.base_url = base_url
        self.pages = Pages()
        self.cache: SharedLRU[Rendered] = SharedLRU(cache_entries)
        self._lookups: SharedLRU[Published | None] = SharedLRU(0)  # shared while in flight only
        self._drawing = asyncio.Lock()
        self._launches: SharedLRU[list[Launch]] = SharedLRU(RECORD_VERSIONS)
        self._events: SharedLRU[EventMap] = SharedLRU(RECORD_VERSIONS)
        # Serialised calendar events by the calendar's address (an event names its page).
        self._vevents: OrderedDict[str, OrderedDict[CalendarEvent, bytes]] = OrderedDict()

    def add_to(self, router: web.UrlDispatcher) -> None:
        """Route every address of the board to its handler."""
        router.add_get("/", self.index)
        router.add_get("/static/{name}", self.static)
        router.add_get("/favicon.ico", self.favicon)
        router.add_get("/b/{slug}", self.board)
        router.add_get("/b/{slug}/", self.board_slash)
        router.add_get("/b/{slug}/feed.atom", self.feed)
        router.add_get("/b/{slug}/deadlines.ics", self.calendar)
        router.add_get("/b/{slug}/launches.json", self.launches_json)
        router.add_get("/b/{slug}/card.png", self.board_card)
        router.add_get(r"/b/{slug}/{launch:\d{1,18}}", self.launch)
        router.add_get(r"/b/{slug}/{launch:\d{1,18}}/card.png", self.launch_card)

    # ------------------------------------------------------------------ plumbing

    async def _published(self, request: web.Request) -> Published:
        slug = request.match_info["slug"]
        found = await self.find(slug) if len(slug) <= boards.SLUG_MAX else None
        if found is None:
            raise web.HTTPNotFound()
        return found

    async def find(self, slug: str) -> Published | None:
        """The published board *slug* as of now. Readers asking for the same board at the same
        moment share one lookup (a link posted in a busy channel); nothing is kept after it."""
        return await self._lookups.get(slug, lambda: self.service.find(slug))

    async def _answer(
        self,
        request: web.Request,
        published: Published,
        variant: str,
        cache_control: str,
        render: Callable[[], Awaitable[Rendered]],
        *,
        dated: bool = True,
    ) -> web.Response:
        """The view *variant* of *published*: a 304 when the reader's copy is current, else
        the (cached) rendering. A *dated* view (running figures, countdowns) also changes
        with the calendar day."""
        key = f"{RENDER_VERSION}|{published.version(dated=dated)}|{variant}"
        modified = published.last_modified(dated=dated)
        return await conditional(request, self.cache, key, modified, cache_control, render)

    async def _launches_of(self, published: Published) -> list[Launch]:
        """The board's launches, loaded once per data version (a new calendar day re-renders
        from the same records)."""
        return await self._launches.get(
            published.data_version, lambda: self.service.launches(published.guild_id)
        )

    async def _events_of(self, published: Published) -> EventMap:
        """The history rows the board and the calendar show, once per data version."""
        return await self._events.get(
            published.data_version, lambda: self.service.events(published.guild_id)
        )

    async def _board(self, published: Published, query: BoardQuery) -> Board:
        launches = await self._launches_of(published)
        events = await self._events_of(published)
        return boards.build_board(published.slug, launches, events, published.today, query)

    def _links(self, published: Published, launch_id: int | None = None) -> Links:
        path = f"/b/{published.slug}" + ("" if launch_id is None else f"/{launch_id}")
        return Links(self.base_url(), path)

    def _vevents_of(self, base: str) -> OrderedDict[CalendarEvent, bytes]:
        kept = self._vevents.pop(base, None)
        if kept is None:
            kept = OrderedDict()
        self._vevents[base] = kept  # the most recently used calendar last
        total = sum(len(v) for v in self._vevents.values())
        while total > VEVENTS and len(self._vevents) > 1:
            total -= len(self._vevents.popitem(last=False)[1])
        while len(kept) > VEVENTS:
            kept.popitem(last=False)
        return kept

    # ------------------------------------------------------------------ site

    async def index(self, request: web.Request) -> web.StreamResponse:
        """A plain page that says what this is (and lists no servers)."""
        return web.Response(
            text=self.pages.index, content_type="text/html", headers={"Cache-Control": PAGE_CACHE}
        )

    async def favicon(self, request: web.Request) -> web.StreamResponse:
        """The icon, for browsers that ask for it by its old name."""
        return web.Response(
            body=self.pages.icon,
            content_type="image/svg+xml",
            headers={"Cache-Control": "public, max-age=86400"},
        )

    async def static(self, request: web.Request) -> web.StreamResponse:
        """The stylesheet and the icon."""
        if request.match_info["name"] == "favicon.svg":
            return await self.favicon(request)
        if request.match_info["name"] != self.pages.css_name:
            raise web.HTTPNotFound()
        return web.Response(
            body=self.pages.css,
            content_type="text/css",
            headers={"Cache-Control": "public, max-age=31536000, immutable"},
        )

    def not_found(self) -> web.Response:
        """One answer for an unknown slug, a private one and an unknown launch: a reader
        cannot tell which servers exist."""
        return web.Response(
            status=404,
            body=self.pages.not_found,
            content_type="text/html",
            charset="utf-8",
            headers={"Cache-Control": PAGE_CACHE},
        )

    # ------------------------------------------------------------------ pages

    async def board_slash(self, request: web.Request) -> web.StreamResponse:
        """/b/<slug>/ -> /b/<slug> (one address per page)."""
        published = await self._published(request)
        raise web.HTTPPermanentRedirect(f"/b/{published.slug}")

    async def board(self, request: web.Request) -> web.StreamResponse:
        """The board page."""
        published = await self._published(request)
        if len(request.query_string) > MAX_QUERY:
            raise web.HTTPBadRequest(text="That query string is too long.\n")
        query = BoardQuery.parse(request.query)
        variant = "board?" + "&".join(f"{k}={v}" for k, v in sorted(query.params().items()))

        async def render() -> Rendered:
            board = await self._board(published, query)
            return self.pages.board(published, board, self._links(published))

        return await self._answer(request, published, variant, PAGE_CACHE, render)

    async def launch(self, request: web.Request) -> web.StreamResponse:
        """One launch's page."""
        published = await self._published(request)
        launch_id = int(request.match_info["launch"])
        page = await self._launch_page(published, launch_id)

        async def render() -> Rendered:
            return self.pages.launch(published, page, self._links(published, launch_id))

        return await self._answer(request, published, f"launch/{launch_id}", PAGE_CACHE, render)

    async def _launch_page(self, published: Published, launch_id: int) -> boards.LaunchPage:
        try:
            launch, events = await self.service.launch(published.guild_id, launch_id)
        except NotFound:
            raise web.HTTPNotFound() from None
        return boards.launch_page(published.slug, launch, events, published.today)

    # ------------------------------------------------------------------ cards

    async def _draw(self, draw: Callable[P, bytes], *args: P.args, **kwargs: P.kwargs) -> bytes:
        # A card is ~100 ms of CPU, mostly under the GIL: one at a time, in a worker thread,
        # so that a crawler asking for many cards cannot starve the event loop.
        async with self._drawing:
            return await asyncio.to_thread(draw, *args, **kwargs)

    async def board_card(self, request: web.Request) -> web.StreamResponse:
        """The board's link preview card (PNG), drawn off the event loop."""
        published = await self._published(request)

        async def render() -> Rendered:
            board = await self._board(published, BoardQuery())
            figures = boards.score_figures(board.stats)
            png = await self._draw(
                card.board_card, published.slug, figures, board.total, published.today
            )
            return finish(png, "image/png", compress=False)

        return await self._answer(request, published, "card", IMAGE_CACHE, render)

    async def launch_card(self, request: web.Request) -> web.StreamResponse:
        """One launch's link preview card (PNG)."""
        published = await self._published(request)
        launch_id = int(request.match_info["launch"])
        page = await self._launch_page(published, launch_id)

        async def render() -> Rendered:
            png = await self._draw(
                card.launch_card, published.slug, page.row, page.headline, published.today
            )
            return finish(png, "image/png", compress=False)

        variant = f"card/{launch_id}"
        return await self._answer(request, published, variant, IMAGE_CACHE, render)

    # ------------------------------------------------------------------ files

    async def feed(self, request: web.Request) -> web.StreamResponse:
        """The Atom feed."""
        published = await self._published(request)

        async def render() -> Rendered:
            # The launches only (their names): the feed's rows come from one small query.
            launches = await self._launches_of(published)
            recent = await self.service.recent(published.guild_id)
            entries = boards.feed_entries(published.guild_id, {x.id: x for x in launches}, recent)
            body = formats.atom(published, entries, self._links(published).canonical)
            return finish(body, "application/atom+xml; charset=utf-8")

        return await self._answer(request, published, "feed", FEED_CACHE, render, dated=False)

    async def calendar(self, request: web.Request) -> web.StreamResponse:
        """The calendar of open deadlines."""
        published = await self._published(request)

        async def render() -> Rendered:
            launches = await self._launches_of(published)
            events = await self._events_of(published)
            items = boards.calendar_events(published.guild_id, launches, events)
            base = self._links(published).canonical
            body = formats.icalendar_file(published, items, base, self._vevents_of(base))
            return finish(body, "text/calendar; charset=utf-8")

        return await self._answer(request, published, "ics", FEED_CACHE, render, dated=False)

    async def launches_json(self, request: web.Request) -> web.StreamResponse:
        """launches.json: the score and every launch."""
        published = await self._published(request)

        async def render() -> Rendered:
            launches = await self._launches_of(published)
            board = await self._board(published, BoardQuery(sort="deadline"))
            # The score's own keys (as `python bot.py stats --json`), every launch in full.
            data = {
                "board": published.slug,
                **boards.score_json(board.stats, launches),
                "launches": [boards.row_json(row) for row in board.rows],
            }
            body = json.dumps(data, ensure_ascii=False, sort_keys=True).encode()
            return finish(body, "application/json")

        return await self._answer(request, published, "json", FEED_CACHE, render)

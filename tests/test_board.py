"""The public board over real HTTP on loopback: pages, filters, lineage, feed, calendar, JSON,
caching headers, 404s, the rate limit, and nothing personal anywhere."""

from __future__ import annotations

import asyncio
import datetime as dt
import gzip
import io
import json
import re
import signal
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import feedparser
import icalendar
import pytest
from multidict import CIMultiDict
from PIL import Image

from cogs.web.clients import ClientAddress, parse_networks
from cogs.web.routes import BoardRoutes
from cogs.web.server import CSP, BoardSite, WebSettings
from storage.db import SqliteDatabase
from storage.session import SqlStore
from tests.board_seed import EVIL, SLUG, START, TODAY, Seeded, seed_board
from tests.harness import GUILD, Harness, harness
from tracker.board import BoardQuery, BoardService, normalize_slug, slug_from_name
from tracker.clock import SimClock
from tracker.errors import Conflict, InvalidInput
from tracker.models import LaunchState, SubscriptionScope
from tracker.settings import Settings, SettingsError

UTC = dt.UTC
OTHER_GUILD = 777
ROOT = Path(__file__).resolve().parents[1]


@dataclass
class Served:
    h: Harness
    ids: Seeded
    site: BoardSite
    http: aiohttp.ClientSession

    @property
    def board(self) -> str:
        return f"{self.site.base_url}/b/{SLUG}"

    async def get(self, path: str, **headers: str) -> tuple[int, CIMultiDict[str], str]:
        async with self.http.get(self.site.bound_url + path, headers=headers) as resp:
            return resp.status, CIMultiDict(resp.headers), await resp.text()

    async def get_bytes(self, path: str, **headers: str) -> tuple[int, CIMultiDict[str], bytes]:
        async with self.http.get(self.site.bound_url + path, headers=headers) as resp:
            return resp.status, CIMultiDict(resp.headers), await resp.read()


@asynccontextmanager
async def served(tmp_path: Path, **settings: Any) -> AsyncIterator[Served]:
    async with harness(tmp_path / "board.db", start=START) as h:
        ids = await seed_board(h)
        site = BoardSite(BoardService(SqlStore(h.db), h.clock), WebSettings(port=0, **settings))
        await site.start()
        try:
            async with aiohttp.ClientSession(auto_decompress=True) as http:
                yield Served(h, ids, site, http)
        finally:
            await site.stop()


def rows_of(html: str) -> list[str]:
    """The launch names in the table, top to bottom."""
    return re.findall(r'<th scope="row" data-label="Launch"><a href="[^"]+">([^<]+)</a>', html)


# --------------------------------------------------------------------------- pure parts


def test_slugs_are_checked_and_made_from_server_names() -> None:
    assert normalize_slug("  AI-Watch ") == "ai-watch"
    for bad in ("ab", "a" * 41, "ai--watch", "-ai", "ai_watch", "ai watch", "static"):
        with pytest.raises(InvalidInput):
            normalize_slug(bad)
    assert slug_from_name("AI Watch! (2025)") == "ai-watch-2025"
    assert slug_from_name("¡¡") is None


def test_query_strings_fall_back_to_defaults() -> None:
    query = BoardQuery.parse({"vendor": "  xAI ", "state": "bogus", "sort": "x", "order": "up"})
    assert query == BoardQuery(vendor="xAI", state=None, sort="deadline", order="asc")
    shipped = BoardQuery.parse({"state": "shipped", "sort": "late", "order": "desc"})
    assert shipped.state is LaunchState.SHIPPED
    assert shipped.params() == {"state": "shipped", "sort": "late", "order": "desc"}
    assert shipped.params(sort=None, state=None) == {"order": "desc"}


# --------------------------------------------------------------------------- pages


async def test_board_page_shows_the_bots_score_the_chart_and_every_launch(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        status, headers, html = await s.get(f"/b/{SLUG}")
        assert status == 200
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        assert "<h1>Launch board: ai-watch</h1>" in html
        # The figures are tracker.stats' own: 4 scored (Grok 48 days late, GPT-4.5 32 days
        # early, Claude cancelled, Gemini 100 days past its first promise and still out); the
        # evil one is not due yet.
        score = dict(
            re.findall(
                r'<div class="figure" id="fig-(\w+)"><dt>[^<]+</dt><dd class="value">([^<]+)<', html
            )
        )
        assert score == {
            "on_time_rate": "25% (1 of 4)",
            "shipped_late": "1",
            "overdue_open": "1",
            "cancelled": "1",
            "median_days_late": "74 days",
            "worst": "Gemini 2 Ultra (Google), 100 days late (still out)",
            "time_multiplier": "×1.26",
        }
        assert "Shipped no later than the first promise, over scored launches" in html
        assert "Lateness counts from the first promise (re-dating never resets it)" in html
        # Deadline order (the default), the user-typed name escaped everywhere.
        assert rows_of(html) == [
            "Claude 3.5 Opus",
            "Grok 3",
            "Gemini 2 Ultra",
            "GPT-4.5",
            "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; Model",
        ]
        assert EVIL not in html and "<script" not in html
        # The chart: one linked row per launch, coloured by outcome, with a text alternative.
        assert html.count('<a href="/b/ai-watch/') >= 10
        assert f'<a href="/b/ai-watch/{s.ids.gemini}" class="row o-overdue">' in html
        assert f'<a href="/b/ai-watch/{s.ids.grok}" class="row o-late">' in html
        assert '<desc id="tl-desc">Promised against delivered for 5 launches' in html
        assert '<td data-label="Days late" class="num">100 days late</td>' in html
        # Open Graph: a card with the score.
        assert '<meta property="og:title" content="slipwatch board: ai-watch">' in html
        assert (
            '<meta property="og:description" content="On time: 25% (1 of 4); shipped late: 1; '
            "overdue: 1; cancelled: 1; worst slip: Gemini 2 Ultra (Google), 100 days late "
            '(still out).">'
        ) in html
        assert f'<meta property="og:url" content="{s.board}">' in html


async def test_sorting_and_filters_work_through_plain_links(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        _, _, late = await s.get(f"/b/{SLUG}?sort=late&order=desc")
        # Most late first; launches without a figure yet (upcoming, cancelled) last.
        assert rows_of(late)[:3] == ["Gemini 2 Ultra", "Grok 3", "GPT-4.5"]
        assert '<th scope="col" aria-sort="descending"><a href="/b/ai-watch?sort=late">' in late
        _, _, by_name = await s.get(f"/b/{SLUG}?sort=product")
        assert rows_of(by_name)[0].startswith("&lt;script")
        assert rows_of(by_name)[1:] == ["Claude 3.5 Opus", "Gemini 2 Ultra", "GPT-4.5", "Grok 3"]
        _, _, xai = await s.get(f"/b/{SLUG}?vendor=XAI")
        assert rows_of(xai) == ["Grok 3"]
        assert '<option value="xAI" selected>xAI</option>' in xai
        assert "Showing 1 of 5." in xai
        # The score stays the whole board's: filters narrow the table only.
        assert "25% (1 of 4)" in xai
        _, _, shipped = await s.get(f"/b/{SLUG}?state=shipped&sort=slips")
        assert rows_of(shipped) == ["Grok 3", "GPT-4.5"]
        assert '<input type="hidden" name="sort" value="slips">' in shipped
        _, _, none = await s.get(f"/b/{SLUG}?vendor=Nobody")
        assert "No launch matches these filters." in none
        status, _, _ = await s.get(f"/b/{SLUG}?vendor=" + "x" * 600)
        assert status == 400


async def test_launch_page_tells_the_lineage_and_the_days_late(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        status, _, html = await s.get(f"/b/{SLUG}/{s.ids.gemini}")
        assert status == 200
        assert '<strong id="headline">100 days late</strong>' in html
        steps = re.findall(
            r'<time datetime="[^"]+">([^<]+)</time> <span class="what">([^<]+)', html
        )
        assert steps == [
            ("2024-07-01", "Promised &#34;end of 2024&#34; (by 2024-12-31)."),
            (
                "2024-12-20",
                "Re-dated: &#34;Q1 2025&#34; (by 2025-03-31). It was &#34;end of 2024&#34; before.",
            ),
            ("2025-04-01", "Missed its deadline."),
        ]
        assert "<q>Coming early next year.</q>" in html
        assert (
            '<a href="https://blog.google/technology/" rel="nofollow noopener noreferrer">' in html
        )
        assert f'<a href="/b/ai-watch/{s.ids.gemini}" class="row o-overdue">' in html
        _, _, grok = await s.get(f"/b/{SLUG}/{s.ids.grok}")
        assert '<strong id="headline">shipped 48 days late</strong>' in grok
        _, _, evil = await s.get(f"/b/{SLUG}/{s.ids.evil}")
        assert '<strong id="headline">265 days left</strong>' in evil
        assert "<script" not in evil


async def test_unknown_private_and_foreign_addresses_get_the_same_404(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        other = await s.h.add("Llama 4", "Meta", "Q2 2025", guild_id=OTHER_GUILD)
        status, headers, unknown = await s.get("/b/no-such-board")
        assert status == 404 and "There is no public board at this address." in unknown
        assert headers["Content-Security-Policy"] == CSP
        assert (await s.get(f"/b/{SLUG}/{other}"))[::2] == (404, unknown)
        assert (await s.get(f"/b/{SLUG}/999999"))[::2] == (404, unknown)
        assert (await s.get("/b/x/feed.atom"))[::2] == (404, unknown)
        assert await BoardService(SqlStore(s.h.db), s.h.clock).unpublish(GUILD)
        for path in ("", "/feed.atom", "/deadlines.ics", "/launches.json", f"/{s.ids.grok}"):
            assert (await s.get(f"/b/{SLUG}{path}"))[::2] == (404, unknown), path


async def test_revalidation_answers_304_until_something_changes(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        status, headers, _ = await s.get(f"/b/{SLUG}", **{"Accept-Encoding": "gzip"})
        assert status == 200
        assert headers["Content-Encoding"] == "gzip"
        assert headers["Cache-Control"] == "public, max-age=60"
        assert headers["Vary"] == "Accept-Encoding"
        assert headers["Last-Modified"] == "Thu, 10 Apr 2025 12:00:00 GMT"  # published then
        for name in ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy"):
            assert name in headers
        assert "script-src" not in headers["Content-Security-Policy"]
        assert headers["Content-Security-Policy"].startswith("default-src 'none'")
        etag = headers["ETag"]
        again, again_headers, body = await s.get(f"/b/{SLUG}", **{"If-None-Match": etag})
        assert (again, body) == (304, "")
        assert again_headers["ETag"] == etag
        since = await s.get(f"/b/{SLUG}", **{"If-Modified-Since": headers["Last-Modified"]})
        assert since[0] == 304
        # Another view of the same board has its own tag.
        _, filtered, _ = await s.get(f"/b/{SLUG}?vendor=xAI")
        assert filtered["ETag"] != etag
        # A change to the watchlist changes the tag, and the page.
        s.h.clock.advance(dt.timedelta(minutes=5))
        await s.h.tracker.reannounce(GUILD, s.ids.evil, "tester", window_phrase="H1 2026")
        changed, changed_headers, html = await s.get(f"/b/{SLUG}", **{"If-None-Match": etag})
        assert changed == 200 and changed_headers["ETag"] != etag
        assert "H1 2026" in html
        # The raw bytes are real gzip.
        async with s.http.get(
            s.board, headers={"Accept-Encoding": "gzip"}, auto_decompress=False
        ) as resp:
            raw = await resp.read()
        assert gzip.decompress(raw).decode() == html


async def test_feed_has_one_entry_per_event_with_ids_stable_across_restarts(
    tmp_path: Path,
) -> None:
    async with served(tmp_path) as s:
        status, headers, text = await s.get(f"/b/{SLUG}/feed.atom")
        assert status == 200
        assert headers["Content-Type"] == "application/atom+xml; charset=utf-8"
        feed = feedparser.parse(text)
        assert feed.bozo == 0, feed.get("bozo_exception")
        assert feed.version == "atom10"
        assert feed.feed.title == "slipwatch board: ai-watch"
        titles = [e.title for e in feed.entries]
        assert titles == [
            "Gemini 2 Ultra (Google) missed its deadline",
            "GPT-4.5 (OpenAI) shipped 32 days early",
            "Grok 3 (xAI) shipped 48 days late",
            "Claude 3.5 Opus (Anthropic) was cancelled",
            "Grok 3 (xAI) missed its deadline",
            "Claude 3.5 Opus (Anthropic) missed its deadline",
            "Gemini 2 Ultra (Google) re-dated: Q1 2025",
        ]
        ids = [e.id for e in feed.entries]
        assert len(set(ids)) == 7 and all(i.startswith("urn:uuid:") for i in ids)
        assert feed.entries[2].link == f"{s.board}/{s.ids.grok}"
        assert "Source: https://x.ai/news/grok-3" in feed.entries[2].summary
        for entry in feed.entries:
            assert entry.updated_parsed is not None and entry.id and entry.title
        path = s.h.path
        first_site = s.site.base_url
    # A restart: a new process opens the same file.
    async with SqliteDatabase.open(path) as db:
        clock = SimClock(TODAY + dt.timedelta(hours=1))
        site = BoardSite(BoardService(SqlStore(db), clock), WebSettings(port=0))
        await site.start()
        try:
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"{site.base_url}/b/{SLUG}/feed.atom") as resp,
            ):
                again = feedparser.parse(await resp.text())
        finally:
            await site.stop()
    assert [e.id for e in again.entries] == ids
    assert first_site != "" and again.feed.id == feed.feed.id


async def test_calendar_moves_a_redated_deadline_under_the_same_uid(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        status, headers, text = await s.get(f"/b/{SLUG}/deadlines.ics")
        assert status == 200
        assert headers["Content-Type"] == "text/calendar; charset=utf-8"
        cal = icalendar.Calendar.from_ical(text)
        assert str(cal["VERSION"]) == "2.0" and str(cal["PRODID"])
        events = cal.walk("VEVENT")
        assert [str(e["SUMMARY"]) for e in events] == [
            "Gemini 2 Ultra (Google) due",
            f"{EVIL} (Evil & Co) due",
        ]
        for event in events:
            for prop in ("UID", "DTSTAMP", "DTSTART", "DTEND", "SEQUENCE"):
                assert prop in event, prop
            assert event.decoded("DTEND") - event.decoded("DTSTART") == dt.timedelta(days=1)
        evil = events[1]
        assert (evil.decoded("DTSTART"), evil.decoded("SEQUENCE")) == (dt.date(2025, 12, 31), 0)
        assert events[0].decoded("SEQUENCE") == 1  # Gemini was re-dated once
        again = icalendar.Calendar.from_ical((await s.get(f"/b/{SLUG}/deadlines.ics"))[2])
        assert [str(e["UID"]) for e in again.walk("VEVENT")] == [str(e["UID"]) for e in events]
        s.h.clock.advance(dt.timedelta(hours=1))
        await s.h.tracker.reannounce(GUILD, s.ids.evil, "tester", window_phrase="H1 2026")
        moved = icalendar.Calendar.from_ical((await s.get(f"/b/{SLUG}/deadlines.ics"))[2])
        after = {str(e["UID"]): e for e in moved.walk("VEVENT")}
        redated = after[str(evil["UID"])]
        assert redated.decoded("DTSTART") == dt.date(2026, 6, 30)
        assert redated.decoded("SEQUENCE") == 1
        # A shipped launch leaves the calendar.
        await s.h.tracker.shipped(GUILD, s.ids.evil, "tester", on=TODAY.date())
        final = icalendar.Calendar.from_ical((await s.get(f"/b/{SLUG}/deadlines.ics"))[2])
        assert str(evil["UID"]) not in {str(e["UID"]) for e in final.walk("VEVENT")}


async def test_launches_json_carries_the_score_and_every_launch(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        status, headers, text = await s.get(f"/b/{SLUG}/launches.json")
        assert status == 200 and headers["Content-Type"] == "application/json"
        data = json.loads(text)
        assert data["board"] == SLUG and data["today"] == "2025-04-10"
        stats = await s.h.db.read.execute_fetchall("SELECT COUNT(*) FROM launches")
        assert len(data["launches"]) == next(iter(stats))[0] == 5
        assert data["on_time_rate"] == pytest.approx(1 / 4)
        assert (data["scored"], data["on_time"], data["overdue_open"]) == (4, 1, 1)
        assert data["worst"] == {
            "product": "Gemini 2 Ultra",
            "vendor": "Google",
            "days_late": 100,
            "still_out": True,
        }
        gemini = next(x for x in data["launches"] if x["id"] == s.ids.gemini)
        assert (gemini["first_window"], gemini["first_window_end"]) == ("end of 2024", "2024-12-31")
        assert (gemini["latest_window"], gemini["latest_window_end"]) == ("Q1 2025", "2025-03-31")
        assert (gemini["state"], gemini["days_late"], gemini["slips"]) == ("slipped", 100, 1)
        assert gemini["evidence"] == "official"


async def test_each_client_address_is_rate_limited(tmp_path: Path) -> None:
    async with served(tmp_path, rate_per_minute=6.0, burst=3) as s:
        statuses = [(await s.get(f"/b/{SLUG}"))[0] for _ in range(3)]
        assert statuses == [200, 200, 200]
        status, headers, text = await s.get(f"/b/{SLUG}")
        assert status == 429
        assert headers["Retry-After"] == "10"
        assert text == "Too many requests; please slow down.\n"


async def test_behind_a_trusted_proxy_each_forwarded_client_has_its_own_bucket(
    tmp_path: Path,
) -> None:
    proxies = ("127.0.0.1", "10.0.0.0/8")
    async with served(tmp_path, rate_per_minute=6.0, burst=3, trusted_proxies=proxies) as s:
        alice = {"X-Forwarded-For": "203.0.113.7"}
        assert [(await s.get(f"/b/{SLUG}", **alice))[0] for _ in range(3)] == [200, 200, 200]
        assert (await s.get(f"/b/{SLUG}", **alice))[0] == 429
        # Another reader behind the same proxy is not held back by the first one.
        assert (await s.get(f"/b/{SLUG}", **{"X-Forwarded-For": "198.51.100.2"}))[0] == 200
        # What the client wrote itself (left of what the proxies appended) is not believed;
        # hops through further trusted proxies (10.x) are skipped.
        for chain in ("198.51.100.99, 203.0.113.7", "1.2.3.4, 203.0.113.7, 10.1.2.3"):
            assert (await s.get(f"/b/{SLUG}", **{"X-Forwarded-For": chain}))[0] == 429, chain
        # Without the header the proxy itself is the client (its own bucket).
        assert (await s.get(f"/b/{SLUG}"))[0] == 200


async def test_forwarded_for_from_an_untrusted_peer_is_ignored(tmp_path: Path) -> None:
    # Only 10.0.0.0/8 is a trusted proxy: this test's requests come from 127.0.0.1.
    async with served(tmp_path, rate_per_minute=6.0, burst=3, trusted_proxies=("10.0.0.0/8",)) as s:
        spoofed = [f"198.51.100.{n}" for n in range(4)]
        statuses = [(await s.get(f"/b/{SLUG}", **{"X-Forwarded-For": a}))[0] for a in spoofed]
        assert statuses == [200, 200, 200, 429]


def test_the_client_address_is_the_right_most_untrusted_hop() -> None:
    client = ClientAddress(parse_networks(["127.0.0.1", "10.0.0.0/8", "fd00::/8"]))
    assert client("127.0.0.1", ["203.0.113.7"]) == "203.0.113.7"
    assert client("127.0.0.1", ["6.6.6.6, 203.0.113.7", "10.0.0.2"]) == "203.0.113.7"
    assert client("::ffff:127.0.0.1", ["203.0.113.7:5123"]) == "203.0.113.7"
    assert client("fd00::1", ["[2001:db8::5]:443"]) == "2001:db8::5"
    # Every hop trusted: the left-most one. Garbage ends the walk at the last good hop.
    assert client("127.0.0.1", ["10.0.0.9, 10.0.0.8"]) == "10.0.0.9"
    assert client("127.0.0.1", ["203.0.113.7, not-an-ip"]) == "127.0.0.1"
    assert client("127.0.0.1", []) == "127.0.0.1"
    # From an untrusted peer, or with no trusted proxy at all, the peer is the client.
    assert client("198.51.100.1", ["203.0.113.7"]) == "198.51.100.1"
    assert ClientAddress()("127.0.0.1", ["203.0.113.7"]) == "127.0.0.1"
    assert client(None, ["203.0.113.7"]) == "?"


def test_trusted_proxies_are_an_operator_setting() -> None:
    assert Settings.from_env({}).web_trusted_proxies == ()
    settings = Settings.from_env({"SLIPWATCH_WEB_TRUSTED_PROXIES": " 127.0.0.1, 10.1.0.0/16,::1"})
    assert settings.web_trusted_proxies == ("127.0.0.1/32", "10.1.0.0/16", "::1/128")
    with pytest.raises(SettingsError) as bad:
        Settings.from_env({"SLIPWATCH_WEB_TRUSTED_PROXIES": "127.0.0.1, proxy.local"})
    assert str(bad.value) == (
        "SLIPWATCH_WEB_TRUSTED_PROXIES lists addresses or networks, like 127.0.0.1, "
        "10.0.0.0/8 or ::1, not 'proxy.local'."
    )


async def test_link_previews_get_a_card_image_with_the_score(tmp_path: Path) -> None:
    public = "https://boards.example.org"
    async with served(tmp_path, public_url=public) as s:
        for path, title in (
            (f"/b/{SLUG}", "slipwatch board: ai-watch"),
            (f"/b/{SLUG}/{s.ids.gemini}", "Gemini 2 Ultra (Google): 100 days late"),
        ):
            _, _, html = await s.get(path)
            card = f"{public}{path}/card.png"
            assert f'<meta property="og:title" content="{title}">' in html
            assert f'<meta property="og:image" content="{card}">' in html
            assert '<meta property="og:image:width" content="1200">' in html
            assert '<meta name="twitter:card" content="summary_large_image">' in html
            assert f'<meta name="twitter:image" content="{card}">' in html
            assert f'<meta property="og:url" content="{public}{path}">' in html
            status, headers, png = await s.get_bytes(f"{path}/card.png")
            assert status == 200, path
            assert headers["Content-Type"] == "image/png"
            assert png.startswith(b"\x89PNG\r\n\x1a\n")
            assert Image.open(io.BytesIO(png)).size == (1200, 630)
            assert headers["Cache-Control"] == "public, max-age=600"
            assert "Content-Encoding" not in headers  # a PNG is compressed already
            assert headers["Content-Security-Policy"] == CSP
            again = await s.get_bytes(f"{path}/card.png", **{"If-None-Match": headers["ETag"]})
            assert again[::2] == (304, b"")
            assert again[1]["ETag"] == headers["ETag"]
        # The score moves the card: a new day adds a day late to the overdue launch.
        _, before, _ = await s.get_bytes(f"/b/{SLUG}/card.png")
        s.h.clock.advance(dt.timedelta(days=1))
        moved = await s.get_bytes(f"/b/{SLUG}/card.png", **{"If-None-Match": before["ETag"]})
        assert moved[0] == 200 and moved[1]["ETag"] != before["ETag"]
        _, _, unknown = await s.get("/b/no-such-board")
        assert (await s.get(f"/b/{SLUG}/999999/card.png"))[::2] == (404, unknown)
        assert (await s.get("/b/no-such-board/card.png"))[::2] == (404, unknown)
        assert await BoardService(SqlStore(s.h.db), s.h.clock).unpublish(GUILD)
        for path in ("/card.png", f"/{s.ids.grok}/card.png"):
            assert (await s.get(f"/b/{SLUG}{path}"))[::2] == (404, unknown), path


async def test_without_a_public_url_the_card_address_is_the_bound_one(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        _, _, html = await s.get(f"/b/{SLUG}", Host="evil.example")
        # Never the request's Host: the page is cached and shared between readers.
        assert f'<meta property="og:image" content="{s.board}/card.png">' in html
        assert s.board.startswith("http://127.0.0.1:") and "evil.example" not in html


async def test_readers_asking_at_once_share_one_lookup() -> None:
    calls: list[str] = []
    release = asyncio.Event()

    class SlowBoards:
        async def find(self, slug: str) -> None:
            calls.append(slug)
            await release.wait()

    routes = BoardRoutes(SlowBoards(), lambda: "http://127.0.0.1:1")  # type: ignore[arg-type]
    readers = [asyncio.create_task(routes.find(SLUG)) for _ in range(5)]
    await asyncio.sleep(0)  # every reader is waiting now
    release.set()
    assert await asyncio.gather(*readers) == [None] * 5
    assert calls == [SLUG]
    # Nothing is kept: the next reader looks again.
    assert await routes.find(SLUG) is None
    assert calls == [SLUG, SLUG]


async def test_no_page_shows_anything_personal(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        await s.h.tracker.subscribe(GUILD, 424242424242, SubscriptionScope.ALL, "")
        await s.h.tracker.configure(GUILD, manager_role_id=515151515151, mention_role_id=616161)
        await s.h.tracker.note(GUILD, s.ids.grok, "user:737373737373", text="Reported by press.")
        paths = ["", f"/{s.ids.grok}", "/feed.atom", "/deadlines.ics", "/launches.json"]
        for path in paths:
            _, _, text = await s.get(f"/b/{SLUG}{path}")
            for secret in ("424242424242", "515151515151", "616161", "737373737373", "tester"):
                assert secret not in text, (path, secret)
            assert str(GUILD) not in re.sub(r"urn:uuid:[0-9a-f-]+|[0-9a-f-]{36}@", "", text)


async def test_taken_names_are_refused_and_a_board_can_move(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        service = BoardService(SqlStore(s.h.db), s.h.clock)
        with pytest.raises(Conflict) as taken:
            await service.publish(OTHER_GUILD, "AI-Watch")
        assert str(taken.value) == 'The board name "ai-watch" is taken; please pick another.'
        assert await service.slug_of(OTHER_GUILD) is None
        assert await service.publish(GUILD, "frontier-labs") == "frontier-labs"
        assert (await s.get(f"/b/{SLUG}"))[0] == 404
        assert (await s.get("/b/frontier-labs"))[0] == 200
        assert await service.publish(OTHER_GUILD, SLUG) == SLUG
        assert "Showing 0 of 0." in (await s.get(f"/b/{SLUG}"))[2]


async def test_the_table_is_paged_and_links_keep_the_view(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tracker.board.table.PAGE_SIZE", 2)
    async with served(tmp_path) as s:
        _, _, first = await s.get(f"/b/{SLUG}?sort=product")
        assert len(rows_of(first)) == 2
        assert "Showing 1–2 of 5 matching (5 in all)." in first
        assert '<a href="/b/ai-watch?sort=product&amp;page=2" rel="next">Next page</a>' in first
        _, _, last = await s.get(f"/b/{SLUG}?sort=product&page=3")
        assert rows_of(last) == ["Grok 3"]
        assert "Page 3 of 3" in last and "Next page" not in last
        assert '<a href="/b/ai-watch?sort=product&amp;page=2" rel="prev">' in last
        # Past the end shows the last page; the sort links start again at page 1.
        _, _, past = await s.get(f"/b/{SLUG}?sort=product&page=99")
        assert rows_of(past) == ["Grok 3"]
        assert '<a href="/b/ai-watch?sort=late">Days late</a>' in past


async def test_a_new_day_moves_the_board_but_not_the_feed_or_calendar(tmp_path: Path) -> None:
    async with served(tmp_path) as s:
        _, board, html = await s.get(f"/b/{SLUG}")
        _, feed, _ = await s.get(f"/b/{SLUG}/feed.atom")
        _, ics, _ = await s.get(f"/b/{SLUG}/deadlines.ics")
        s.h.clock.advance(dt.timedelta(days=1))
        status, board_after, html_after = await s.get(
            f"/b/{SLUG}", **{"If-None-Match": board["ETag"]}
        )
        assert status == 200 and board_after["ETag"] != board["ETag"]
        assert "101 days late" in html_after and "101 days late" not in html
        assert board_after["Last-Modified"] == "Fri, 11 Apr 2025 00:00:00 GMT"
        for path, headers in (("/feed.atom", feed), ("/deadlines.ics", ics)):
            again = await s.get(f"/b/{SLUG}{path}", **{"If-None-Match": headers["ETag"]})
            assert again[0] == 304, path
        # The server's settings can move deadlines: a change of them is a change of the board.
        await s.h.tracker.configure(GUILD, grace_days=2)
        _, moved, _ = await s.get(f"/b/{SLUG}/deadlines.ics")
        assert moved["ETag"] != ics["ETag"]


async def test_demo_serve_prints_the_board_address_and_stops_on_sigterm() -> None:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "bot.py",
        "demo",
        "--serve",
        "127.0.0.1:0",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        url = ""
        while not url:
            line = (await asyncio.wait_for(proc.stdout.readline(), 120)).decode()
            assert line, "the demo ended before serving its board"
            if line.startswith("The demo's board: "):
                url = line.split()[3]
                assert line.endswith("(Ctrl-C or SIGTERM stops it)\n")
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+/b/demo", url), url
        async with aiohttp.ClientSession() as http, http.get(url) as resp:
            assert resp.status == 200
            html = await resp.text()
        assert "<h1>Launch board: demo</h1>" in html and "Grok 3" in html
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 60) == 0
        rest = (await proc.stdout.read()).decode()
        assert rest == "board stopped\n"
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

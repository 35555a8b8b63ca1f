"""The board's feed and calendar as files: Atom (feedgen) and iCalendar (icalendar).

Both are deterministic for the same data: every id, time and order comes from the records, never
from the moment of the request, so a reader's app sees the same entries across requests and
restarts and a revalidation can answer 304.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import MutableMapping, Sequence

import icalendar
from feedgen.feed import FeedGenerator

from tracker.board import CalendarEvent, FeedEntry, Published

_NS = uuid.UUID("0b3c9a52-66a1-5c2e-8f0e-3f6a2b1c9d47")


def atom(published: Published, entries: Sequence[FeedEntry], base_url: str) -> bytes:
    """The Atom document of *entries* (newest first) for the board at *base_url*."""
    feed = FeedGenerator()
    feed.id(uuid.uuid5(_NS, f"board:{published.guild_id}").urn)
    feed.title(f"slipwatch board: {published.slug}")
    feed.subtitle("Every slip, ship, cancellation and re-dating on this watchlist.")
    feed.author({"name": "slipwatch"})
    feed.link(href=f"{base_url}/feed.atom", rel="self", type="application/atom+xml")
    feed.link(href=base_url, rel="alternate", type="text/html")
    feed.generator("slipwatch")
    newest = max((e.at for e in entries), default=dt.datetime(2000, 1, 1, tzinfo=dt.UTC))
    feed.updated(newest)
    # feedgen writes entries in reverse order of addition: add the oldest first.
    for item in reversed(entries):
        entry = feed.add_entry()
        entry.id(item.id)
        entry.title(item.title)
        entry.updated(item.at)
        entry.published(item.at)
        # One link only: feedgen 1.0 drops rel and type from entry links, so a second one would
        # read as a second "alternate". The source goes into the summary instead.
        entry.link(href=f"{base_url}/{item.launch_id}", rel="alternate", type="text/html")
        source = f" Source: {item.source_url}" if item.source_url else ""
        entry.summary(item.summary + source)
    data: bytes = feed.atom_str(pretty=False)
    return data


def icalendar_file(
    published: Published,
    items: Sequence[CalendarEvent],
    base_url: str,
    cache: MutableMapping[CalendarEvent, bytes] | None = None,
) -> bytes:
    """The iCalendar document of *items*: one all-day VEVENT per open deadline.

    Each VEVENT is serialised by icalendar on its own and kept in *cache* (keyed by the event's
    record, so a re-dated launch is serialised again): the calendar is their concatenation in
    the envelope icalendar wrote, exactly what Calendar.to_ical() writes for the whole."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//slipwatch//public board//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", f"slipwatch: {published.slug} deadlines")
    envelope: bytes = cal.to_ical()
    end = b"END:VCALENDAR\r\n"
    assert envelope.endswith(end)
    parts = [envelope[: -len(end)]]
    for item in items:
        data = cache.get(item) if cache is not None else None
        if data is None:
            data = _vevent(item, base_url)
            if cache is not None:
                cache[item] = data
        parts.append(data)
    parts.append(end)
    return b"".join(parts)


def _vevent(item: CalendarEvent, base_url: str) -> bytes:
    event = icalendar.Event()
    event.add("uid", item.uid)
    event.add("sequence", item.sequence)
    event.add("dtstamp", item.stamp)
    event.add("last-modified", item.stamp)
    event.add("dtstart", item.day)
    event.add("dtend", item.day + dt.timedelta(days=1))
    event.add("summary", item.summary)
    event.add("description", item.description)
    event.add("url", f"{base_url}/{item.launch_id}")
    event.add("transp", "TRANSPARENT")
    data: bytes = event.to_ical()
    return data

"""What readers follow from outside the board: the Atom feed's entries (one per slip, ship,
cancellation or re-dating) and the calendar's events (one per open deadline). Their ids never
change, so feed readers and calendar apps update an item instead of adding another.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tracker.board.rows import REDATING_KINDS, launch_name
from tracker.models import EventKind, Launch, LaunchEvent
from tracker.stats import late_words

__all__ = [
    "FEED_KINDS",
    "FEED_SIZE",
    "CalendarEvent",
    "FeedEntry",
    "calendar_events",
    "feed_entries",
]


# History kinds that are news: one feed entry each.
FEED_KINDS = frozenset(
    {
        EventKind.SLIPPED,
        EventKind.SHIPPED,
        EventKind.CANCELLED,
        EventKind.REANNOUNCED,
        EventKind.REVIVED,
    }
)
FEED_SIZE = 50  # entries in the feed
# A namespace of our own for uuid5 ids: ids stay the same across requests and restarts.
_NS = uuid.UUID("6d1b6f7e-2f4a-5a53-9b7e-51f0a7c0b0a1")


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One Atom entry: one slip, ship, cancellation or re-dating."""

    id: str  # urn:uuid, the same for this event forever
    launch_id: int
    at: dt.datetime
    title: str
    summary: str
    source_url: str | None


def _entry_text(event: LaunchEvent, launch: Launch) -> tuple[str, str] | None:
    data = event.data
    name = launch_name(launch)
    match event.kind:
        case EventKind.SLIPPED:
            return f"{name} missed its deadline", f"{name} was not out by its deadline."
        case EventKind.SHIPPED:
            late = data.get("days_late")
            how = "on time" if late is None else late_words(int(late))
            day = data.get("shipped_on") or event.at.date().isoformat()
            return (
                f"{name} shipped {how}",
                f"{name} shipped on {day}, {how} against its first promise.",
            )
        case EventKind.CANCELLED:
            day = data.get("cancelled_on")
            when = f" on {day}" if day else " (the day is not known)"
            reason = f" {event.note}" if event.note else ""
            return f"{name} was cancelled", f"{name} was cancelled{when}.{reason}"
        case EventKind.REANNOUNCED | EventKind.REVIVED:
            phrase = data.get("window", "")
            verb = "revived" if event.kind is EventKind.REVIVED else "re-dated"
            text = f'{name} was {verb}: "{phrase}" (by {data.get("window_end", "")}).'
            if data.get("from_window"):
                text += f' The promise before was "{data["from_window"]}".'
            return f"{name} {verb}: {phrase}", text
    return None


def feed_entries(
    guild_id: int,
    launches: Mapping[int, Launch],
    events: Iterable[LaunchEvent],
    limit: int = FEED_SIZE,
) -> list[FeedEntry]:
    """The newest *limit* slips, ships, cancellations and re-datings, newest first. Each
    entry's id is derived from the server and the history row, so it never changes."""
    chosen = sorted(
        (e for e in events if e.kind in FEED_KINDS and e.launch_id in launches),
        key=lambda e: (e.at, e.id),
        reverse=True,
    )[:limit]
    entries: list[FeedEntry] = []
    for event in chosen:
        launch = launches[event.launch_id]
        text = _entry_text(event, launch)
        if text is None:
            continue
        entries.append(
            FeedEntry(
                id=uuid.uuid5(_NS, f"event:{guild_id}:{event.id}").urn,
                launch_id=launch.id,
                at=event.at,
                title=text[0],
                summary=text[1],
                source_url=event.source_url or launch.source_url,
            )
        )
    return entries


@dataclass(frozen=True, slots=True)
class CalendarEvent:
    """One open deadline as an all-day event on the last promised day."""

    uid: str  # the same for the launch forever
    sequence: int  # how many times the launch was re-dated: calendar apps move the event
    launch_id: int
    day: dt.date
    summary: str
    description: str
    stamp: dt.datetime  # when the launch's record last changed


def calendar_events(
    guild_id: int, launches: Iterable[Launch], events: Mapping[int, Sequence[LaunchEvent]]
) -> list[CalendarEvent]:
    """Every open launch (upcoming or still out) as an all-day event, by day."""
    result: list[CalendarEvent] = []
    for launch in launches:
        if launch.state.resolved:
            continue
        history = events.get(launch.id, ())
        redatings = [e.at for e in history if e.kind in REDATING_KINDS]
        stamp = max(redatings, default=launch.created_at)
        redated = len(redatings)
        lines = [f'Promised: "{launch.window_phrase}" (last day {launch.window_end}).']
        if launch.quote:
            lines.append(f'"{launch.quote}"')
        if launch.source_url:
            lines.append(f"Source: {launch.source_url}")
        result.append(
            CalendarEvent(
                uid=f"{uuid.uuid5(_NS, f'launch:{guild_id}:{launch.id}')}@slipwatch",
                sequence=redated,
                launch_id=launch.id,
                day=launch.window_end,
                summary=f"{launch_name(launch)} due",
                description="\n".join(lines),
                stamp=stamp,
            )
        )
    result.sort(key=lambda c: (c.day, c.launch_id))
    return result

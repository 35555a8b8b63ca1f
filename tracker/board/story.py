"""One launch's page: its story from the first promise to the outcome, and its headline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from tracker.board.rows import BoardRow, make_row
from tracker.models import Launch, LaunchEvent, LaunchState
from tracker.stats import late_words, shipped_verdict

__all__ = ["LaunchPage", "LineageStep", "launch_page", "lineage"]


@dataclass(frozen=True, slots=True)
class LineageStep:
    """One line of a launch's story: a promise, a re-dating, a missed deadline, an outcome."""

    on: dt.date
    kind: str  # promised, redated, missed, shipped, cancelled, revived, note
    text: str
    quote: str | None
    source_url: str | None


def _step(event: LaunchEvent, launch: Launch) -> LineageStep | None:
    data = event.data
    day = event.at.date()
    kind = str(event.kind.value)
    match kind:
        case "created":
            phrase = data.get("window", launch.window_phrase)
            end = data.get("window_end", launch.window_end.isoformat())
            text = f'Promised "{phrase}" (by {end}).'
            return LineageStep(launch.announced_on, "promised", text, event.note, event.source_url)
        case "reannounced" | "revived":
            end = data.get("window_end", "")
            verb = "Revived" if kind == "revived" else "Re-dated"
            text = f'{verb}: "{data.get("window", "")}" (by {end}).'
            if data.get("from_window"):
                text += f' It was "{data["from_window"]}" before.'
            on = data.get("announced_on")
            when = dt.date.fromisoformat(on) if isinstance(on, str) else day
            return LineageStep(when, "redated", text, event.note, event.source_url)
        case "slipped":
            return LineageStep(day, "missed", "Missed its deadline.", None, None)
        case "shipped":
            on = data.get("shipped_on")
            shipped = dt.date.fromisoformat(on) if isinstance(on, str) else day
            late = data.get("days_late")
            text = "Shipped." if late is None else f"Shipped, {late_words(int(late))}."
            return LineageStep(shipped, "shipped", text, event.note, event.source_url)
        case "cancelled":
            on = data.get("cancelled_on")
            if isinstance(on, str):
                when, text = dt.date.fromisoformat(on), "Cancelled."
            else:
                when, text = day, "Cancelled (the day is not known; recorded then)."
            return LineageStep(when, "cancelled", text, event.note, event.source_url)
        case "note":
            return LineageStep(day, "note", event.note or "", None, event.source_url)
    return None  # reminders, milestones and edits are the bot's business, not the story


def lineage(launch: Launch, events: Sequence[LaunchEvent]) -> tuple[LineageStep, ...]:
    """The launch's story, oldest first: every promise with its quote and source, every
    re-dating, the missed deadline and the outcome."""
    steps = [step for event in events if (step := _step(event, launch)) is not None]
    return tuple(steps)


@dataclass(frozen=True, slots=True)
class LaunchPage:
    """One launch's page: its row, its story and the big figure."""

    slug: str
    today: dt.date
    row: BoardRow
    steps: tuple[LineageStep, ...]
    quote: str | None
    headline: str  # "48 days late", "12 days left", "shipped on time", "cancelled"


def launch_page(
    slug: str, launch: Launch, events: Sequence[LaunchEvent], today: dt.date
) -> LaunchPage:
    """The page of one launch on *today*."""
    row = make_row(launch, events, today)
    shipped = launch.state is LaunchState.SHIPPED and launch.shipped_on is not None
    headline = f"shipped {shipped_verdict(launch)}" if shipped else row.lateness
    return LaunchPage(
        slug=slug,
        today=today,
        row=row,
        steps=lineage(launch, events),
        quote=launch.quote,
        headline=headline,
    )

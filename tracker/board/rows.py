"""One launch as the board's table shows it (and the timeline chart draws it), and as
launches.json lists it. Its figures are tracker.stats'.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from tracker.models import EventKind, Launch, LaunchEvent, LaunchState
from tracker.stats import LaunchScore, late_words, score_launch
from tracker.text import plural

__all__ = ["REDATING_KINDS", "BoardRow", "launch_name", "make_row", "row_json"]


# Kinds that give a launch a new promised window (the chart marks them; the calendar's
# SEQUENCE counts them).
REDATING_KINDS = frozenset({EventKind.REANNOUNCED, EventKind.REVIVED})


@dataclass(frozen=True, slots=True)
class BoardRow:
    """One launch in the table (and one row of the timeline chart)."""

    launch_id: int
    product: str
    vendor: str
    announcer: str | None
    state: LaunchState
    outcome: str  # on_time, late, cancelled, pending, overdue: the chart's colour class
    evidence: str  # official, reported or rumour (rumours stay out of the score)
    announced_on: dt.date
    first_phrase: str
    first_end: dt.date
    latest_phrase: str
    latest_end: dt.date
    deadline_at: dt.datetime
    outcome_on: dt.date | None  # shipped or cancelled on
    days_late: int | None  # signed, as tracker.stats counts it; None: cancelled or not yet due
    lateness: str  # in words: "48 days late", "3 days early", "5 days left", "cancelled"
    slips: int
    source_url: str | None
    redated_on: tuple[dt.date, ...]  # days the window was re-announced (chart marks)


def _first_phrase(launch: Launch, events: Sequence[LaunchEvent]) -> str:
    """The words of the launch's first announcement (its created event); the current ones
    when the history holds none (an import without history)."""
    for event in events:
        if event.kind is EventKind.CREATED and isinstance(event.data.get("window"), str):
            return str(event.data["window"])
    return launch.window_phrase


def _lateness(launch: Launch, figure: LaunchScore, today: dt.date) -> str:
    if launch.state is LaunchState.CANCELLED:
        return "cancelled"
    if figure.days_late is not None:
        return late_words(figure.days_late, at_least=figure.at_least)
    left = (launch.first_window_end - today).days
    return "due today" if left == 0 else f"{plural(left, 'day')} left"


def _outcome(launch: Launch, figure: LaunchScore) -> str:
    if launch.state is LaunchState.SHIPPED:
        return "late" if figure.late else "on_time"
    if launch.state is LaunchState.CANCELLED:
        return "cancelled"
    return "overdue" if figure.still_out else "pending"


def make_row(launch: Launch, events: Sequence[LaunchEvent], today: dt.date) -> BoardRow:
    """One launch as the board shows it on *today* (its figures are tracker.stats')."""
    figure = score_launch(launch, today)
    return BoardRow(
        launch_id=launch.id,
        product=launch.product,
        vendor=launch.vendor,
        announcer=launch.announcer,
        state=figure.state,
        outcome=_outcome(launch, figure),
        evidence=launch.evidence.value,
        announced_on=launch.announced_on,
        first_phrase=_first_phrase(launch, events),
        first_end=launch.first_window_end,
        latest_phrase=launch.window_phrase,
        latest_end=launch.window_end,
        deadline_at=launch.deadline_at,
        outcome_on=launch.shipped_on or launch.cancelled_on,
        days_late=figure.days_late,
        lateness=_lateness(launch, figure, today),
        slips=launch.slip_count,
        source_url=launch.source_url,
        redated_on=tuple(e.at.date() for e in events if e.kind in REDATING_KINDS),
    )


def row_json(row: BoardRow) -> dict[str, object]:
    """One launch for launches.json: the keys of tracker.stats.to_json's launches, and more."""
    return {
        "id": row.launch_id,
        "product": row.product,
        "vendor": row.vendor,
        "announcer": row.announcer,
        "state": row.state.value,
        "evidence": row.evidence,
        "announced_on": row.announced_on.isoformat(),
        "first_window": row.first_phrase,
        "first_window_end": row.first_end.isoformat(),
        "latest_window": row.latest_phrase,
        "latest_window_end": row.latest_end.isoformat(),
        "deadline_at": row.deadline_at.isoformat(),
        "outcome_on": row.outcome_on.isoformat() if row.outcome_on else None,
        "days_late": row.days_late,
        "slips": row.slips,
        "source_url": row.source_url,
    }


def launch_name(launch: Launch) -> str:
    """The launch as the board names it in titles: "Grok 3 (xAI)"."""
    return f"{launch.product} ({launch.vendor})"

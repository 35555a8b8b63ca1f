"""The board's timeline chart as SVG geometry: one row per launch, a bar from the announcement
to the end of the first promise, then a line on to the day it shipped or was cancelled (or to
today while it is still out), a tick at each re-dating, coloured by outcome.

The geometry is computed here and drawn by the template (cogs/web/templates/_timeline.svg): the
chart needs no script, scales with the page (viewBox) and stays readable on a phone because each
row's label sits above its bar rather than beside it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from tracker.board import BoardRow

WIDTH = 480
LEFT = 8
RIGHT = 8
TOP = 8
ROW = 44  # label line + bar
AXIS = 28
MAX_ROWS = 30

OUTCOME_LABELS = {
    "on_time": "shipped on time",
    "late": "shipped late",
    "overdue": "overdue, still out",
    "pending": "not due yet",
    "cancelled": "cancelled",
}


@dataclass(frozen=True, slots=True)
class Bar:
    """One launch's row."""

    launch_id: int
    label: str
    outcome: str
    y: float
    promise_x: float
    promise_w: float
    tail_x: float
    tail_w: float
    marks: tuple[float, ...]
    summary: str  # for the row's <title>


@dataclass(frozen=True, slots=True)
class Tick:
    """A year (or month) line on the axis."""

    x: float
    label: str


@dataclass(frozen=True, slots=True)
class Timeline:
    """The whole chart."""

    width: int
    height: int
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    today_x: float
    axis_y: float
    left_out: int  # rows not drawn (only the most recently announced are)
    description: str


def _ticks(start: dt.date, end: dt.date, x_of: object) -> list[Tick]:
    assert callable(x_of)
    span = (end - start).days
    ticks: list[Tick] = []
    if span > 600:
        for year in range(start.year + 1, end.year + 1):
            day = dt.date(year, 1, 1)
            ticks.append(Tick(x_of(day), str(year)))
        return ticks
    step = 1 if span <= 200 else 3
    year, month = start.year, start.month
    while True:
        month += step
        while month > 12:
            year, month = year + 1, month - 12
        day = dt.date(year, month, 1)
        if day >= end:
            break
        ticks.append(Tick(x_of(day), f"{day:%b %Y}" if month == 1 else f"{day:%b}"))
    return ticks


def build_timeline(rows: Sequence[BoardRow], today: dt.date) -> Timeline:
    """Lay out *rows* (the most recently announced MAX_ROWS of them, oldest first)."""
    ordered = sorted(rows, key=lambda r: (r.announced_on, r.launch_id))
    left_out = max(0, len(ordered) - MAX_ROWS)
    shown = ordered[left_out:]
    if not shown:
        return Timeline(WIDTH, TOP + AXIS, (), (), 0.0, float(TOP), 0, "No launches to chart.")
    start = min(r.announced_on for r in shown)
    ends = [max(r.first_end, r.latest_end, r.outcome_on or today) for r in shown]
    end = max([*ends, today]) + dt.timedelta(days=1)
    span = max(1, (end - start).days)
    inner = WIDTH - LEFT - RIGHT

    def x_of(day: dt.date) -> float:
        return round(LEFT + inner * (day - start).days / span, 1)

    bars: list[Bar] = []
    for i, row in enumerate(shown):
        y = TOP + i * ROW + 20
        promise_end = row.first_end + dt.timedelta(days=1)  # the last day is inclusive
        finish = row.outcome_on or (today if not row.state.resolved else promise_end)
        px, pe = x_of(row.announced_on), x_of(promise_end)
        tail_end = x_of(finish + dt.timedelta(days=1)) if finish >= promise_end else pe
        marks = tuple(x_of(day) for day in row.redated_on)
        bars.append(
            Bar(
                launch_id=row.launch_id,
                label=f"{row.product} ({row.vendor})",
                outcome=row.outcome,
                y=float(y),
                promise_x=px,
                promise_w=max(1.5, round(pe - px, 1)),
                tail_x=pe,
                tail_w=max(0.0, round(tail_end - pe, 1)),
                marks=marks,
                summary=f"{row.product} ({row.vendor}): announced {row.announced_on}, "
                f"promised by {row.first_end}, {OUTCOME_LABELS[row.outcome]} ({row.lateness})",
            )
        )
    axis_y = TOP + len(shown) * ROW + 4
    shown_text = f"{len(shown)} launches" if not left_out else f"the {len(shown)} latest launches"
    return Timeline(
        width=WIDTH,
        height=int(axis_y + AXIS),
        bars=tuple(bars),
        ticks=tuple(_ticks(start, end, x_of)),
        today_x=x_of(today),
        axis_y=float(axis_y),
        left_out=left_out,
        description=f"Promised against delivered for {shown_text}, {start} to {today}.",
    )

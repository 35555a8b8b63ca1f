"""Timeline charts of launches as PNG images: what was promised against what happened.

One row per launch: a bar from the announcement to the end of the promised window, then a line
on to the day it shipped (or was cancelled, or to today while it is still out), a diamond at each
re-announcement, colours by outcome. Drawn with matplotlib's object API on the Agg canvas: no
pyplot, no display and no global figure registry, so nothing is left open after a render and
renders may run in worker threads. Call it through ``asyncio.to_thread``: it takes a few hundred
milliseconds of CPU for 40 rows, and since matplotlib holds the GIL for most of that, the event
loop runs slower meanwhile even so (StatsService.chart says by how much).
"""

from __future__ import annotations

import datetime as dt
import enum
import io
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before anything can import pyplot: never look for a display

from matplotlib import dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from tracker.models import EventKind, Launch, LaunchEvent, LaunchState
from tracker.stats.score import days_late

log = logging.getLogger(__name__)

__all__ = [
    "COLOURS",
    "DPI",
    "MAX_ROWS",
    "WIDTH_PX",
    "Outcome",
    "chart_height",
    "outcome_of",
    "render_timeline",
    "select_rows",
]

WIDTH_PX = 1200
DPI = 100
MAX_ROWS = 40
ROW_PX = 30
HEADER_PX = 84  # title and legend
FOOTER_PX = 64  # date labels and the "and N more" line
LEFT_PX = 300  # launch names
RIGHT_PX = 30
EMPTY_HEIGHT_PX = 300
LABEL_CHARS = 42


class Outcome(enum.StrEnum):
    """How a launch turned out, as far as is known today."""

    ON_TIME = "on_time"
    LATE = "late"
    CANCELLED = "cancelled"
    PENDING = "pending"
    SLIPPED = "slipped"  # past its deadline and still not out


# Solid colours (distinguishable for the common colour-vision deficiencies, and testable).
COLOURS: dict[Outcome, str] = {
    Outcome.ON_TIME: "#1b9e77",
    Outcome.LATE: "#e6ab02",
    Outcome.CANCELLED: "#7f7f7f",
    Outcome.PENDING: "#377eb8",
    Outcome.SLIPPED: "#d62728",
}

_LABELS: dict[Outcome, str] = {
    Outcome.ON_TIME: "shipped on time",
    Outcome.LATE: "shipped late",
    Outcome.CANCELLED: "cancelled",
    Outcome.PENDING: "pending",
    Outcome.SLIPPED: "late, still out",
}


def outcome_of(launch: Launch, today: dt.date | None = None) -> Outcome:
    """The outcome class (and so the colour) of a launch, judged against its first promise
    (tracker.stats): an open launch past it is late and still out, even when re-dated."""
    match launch.state:
        case LaunchState.SHIPPED:
            late = days_late(launch, launch.shipped_on or dt.date.max)
            return Outcome.LATE if (late or 0) > 0 else Outcome.ON_TIME
        case LaunchState.CANCELLED:
            return Outcome.CANCELLED
        case LaunchState.SLIPPED:
            return Outcome.SLIPPED
    if today is not None and days_late(launch, today) is not None:
        return Outcome.SLIPPED
    return Outcome.PENDING


def select_rows(launches: Sequence[Launch], max_rows: int = MAX_ROWS) -> tuple[list[Launch], int]:
    """The launches to draw, oldest announcement first, and how many were left out.

    When there are more than *max_rows*, the most recently announced ones are kept."""
    ordered = sorted(launches, key=lambda x: (x.announced_on, x.id))
    limit = max(1, max_rows)
    if len(ordered) <= limit:
        return ordered, 0
    return ordered[-limit:], len(ordered) - limit


def chart_height(rows: int) -> int:
    """The image height in pixels for *rows* rows (the width is always WIDTH_PX)."""
    if rows <= 0:
        return EMPTY_HEIGHT_PX
    return HEADER_PX + FOOTER_PX + rows * ROW_PX


def _num(day: dt.date) -> float:
    """Matplotlib's date number for the start of *day* (UTC)."""
    start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
    return float(mdates.date2num(start))  # type: ignore[no-untyped-call]


def _label(launch: Launch) -> str:
    text = f"#{launch.id} {launch.product} ({launch.vendor})"
    text = " ".join(text.split())
    return text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…"


LABEL_FONT = 9
LABEL_PAD_PX = 14  # tick length and padding between a label and the axis, plus a margin


def _fitted_labels(fig: Figure, launches: Sequence[Launch]) -> list[str]:
    """Each row's label, shortened (with an ellipsis) until its rendered width fits in the
    left margin: a character count alone lets wide letters run off the image's left edge."""
    renderer = FigureCanvasAgg(fig).get_renderer()  # type: ignore[no-untyped-call]
    room = LEFT_PX - LABEL_PAD_PX
    probe = fig.text(0, 0, "", fontsize=LABEL_FONT, parse_math=False)
    out: list[str] = []
    for launch in launches:
        text = _label(launch)
        probe.set_text(text)
        while len(text) > 2 and probe.get_window_extent(renderer).width > room:
            text = text[:-2].rstrip() + "…"
            probe.set_text(text)
        out.append(text)
    probe.remove()
    return out


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    FigureCanvasAgg(fig)  # attach the Agg canvas: no backend switching, no pyplot
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _empty(title: str, today: dt.date) -> bytes:
    fig = Figure(figsize=(WIDTH_PX / DPI, EMPTY_HEIGHT_PX / DPI), dpi=DPI)
    fig.text(0.5, 0.78, title, ha="center", va="center", fontsize=15, parse_math=False)
    fig.text(
        0.5,
        0.45,
        "Nothing to show: no launches match.\nAdd one with /launch add.",
        ha="center",
        va="center",
        fontsize=13,
        color="#555555",
    )
    fig.text(0.98, 0.05, f"as of {today.isoformat()}", ha="right", fontsize=9, color="#777777")
    return _png(fig)


@dataclass(slots=True)
class _Marks:
    """Everything drawn for the rows, in data coordinates (x: date numbers, y: row index)."""

    today_x: float
    lefts: list[float] = field(default_factory=list)  # bars: the first promise
    widths: list[float] = field(default_factory=list)
    colours: list[str] = field(default_factory=list)
    segments: list[list[tuple[float, float]]] = field(default_factory=list)  # late tails
    segment_colours: list[str] = field(default_factory=list)
    shipped: list[tuple[float, float, str]] = field(default_factory=list)
    cancelled: list[tuple[float, float]] = field(default_factory=list)
    still_out: list[tuple[float, float]] = field(default_factory=list)
    reannounced: list[tuple[float, float]] = field(default_factory=list)
    x_min: float = float("inf")
    x_max: float = float("-inf")
    any_open: bool = False

    def add(self, y: int, launch: Launch, events: Sequence[LaunchEvent], today: dt.date) -> None:
        """Row *y*: a bar for the first promise, a line on to the outcome (or to today while
        it is still out past it), and a diamond at each re-dating."""
        colour = COLOURS[outcome_of(launch, today)]
        start = _num(launch.announced_on)
        # The bar is the first promise: re-datings are markers, never a longer bar.
        promised_end = _num(launch.first_window_end) + 1.0  # the last day is inclusive
        self.lefts.append(start)
        self.widths.append(max(promised_end - start, 1.0))
        self.colours.append(colour)
        end: float | None = None
        if launch.state is LaunchState.SHIPPED and launch.shipped_on is not None:
            end = _num(launch.shipped_on) + 0.5
            self.shipped.append((end, y, colour))
        elif launch.state is LaunchState.CANCELLED and launch.cancelled_on is not None:
            end = _num(launch.cancelled_on) + 0.5
            self.cancelled.append((end, y))
        elif not launch.state.resolved:
            self.any_open = True
            if self.today_x > promised_end:
                end = self.today_x
                self.still_out.append((end, y))
        if end is not None and end > promised_end:
            self.segments.append([(promised_end, y), (end, y)])
            self.segment_colours.append(colour)
        for event in events:
            if event.kind in (EventKind.REANNOUNCED, EventKind.REVIVED):
                self.reannounced.append((_num(event.at.astimezone(dt.UTC).date()) + 0.5, y))
        self.x_min = min(self.x_min, start)
        self.x_max = max(self.x_max, promised_end, end or promised_end)

    @property
    def show_today(self) -> bool:
        """Whether the "today" line belongs on the chart."""
        return self.any_open or self.x_min <= self.today_x <= self.x_max


def render_timeline(
    launches: Sequence[Launch],
    events_by_launch: Mapping[int, Sequence[LaunchEvent]],
    today: dt.date,
    *,
    title: str,
    max_rows: int = MAX_ROWS,
    left_out: int = 0,
) -> bytes:
    """Draw *launches* as a timeline and return the PNG bytes (*left_out*: launches the caller
    already left out, counted with the rest not shown).

    The image is WIDTH_PX (1200) pixels wide and :func:`chart_height` tall. At most *max_rows*
    launches are drawn (the most recently announced); the rest are counted in the title and a
    footer. Re-announcements are taken from *events_by_launch* (events of kind REANNOUNCED, at
    their UTC day). No launches gives a small "nothing to show" image."""
    shown, hidden = select_rows(launches, max_rows)
    hidden += left_out
    if not shown:
        return _empty(title, today)
    rows = len(shown)
    height = chart_height(rows)
    fig = Figure(figsize=(WIDTH_PX / DPI, height / DPI), dpi=DPI)
    fig.subplots_adjust(
        left=LEFT_PX / WIDTH_PX,
        right=1 - RIGHT_PX / WIDTH_PX,
        top=1 - HEADER_PX / height,
        bottom=FOOTER_PX / height,
    )
    ax = fig.add_subplot()
    marks = _Marks(today_x=_num(today) + 0.5)
    for y, launch in enumerate(shown):
        marks.add(y, launch, events_by_launch.get(launch.id, ()), today)
    _draw_marks(ax, marks, rows)
    _draw_axes(fig, ax, marks, shown)
    _draw_heading(fig, marks, title, rows, hidden, height)
    footer = f"as of {today.isoformat()}"
    if hidden:
        footer = f"and {hidden} more not shown (older announcements) · {footer}"
    fig.text(0.99, 10 / height, footer, ha="right", va="bottom", fontsize=9, color="#555555")
    return _png(fig)


def _scatter(ax: Axes, points: Sequence[tuple[Any, ...]], *, zorder: int = 4, **style: Any) -> None:
    """Markers at *points* (x, y, ...), if there are any."""
    if points:
        ax.scatter([p[0] for p in points], [p[1] for p in points], zorder=zorder, **style)


def _draw_marks(ax: Axes, marks: _Marks, rows: int) -> None:
    """The bars, the late tails and the outcome markers."""
    ax.barh(
        range(rows),
        marks.widths,
        left=marks.lefts,
        height=0.56,
        color=marks.colours,
        edgecolor="none",
        zorder=2,
    )
    if marks.segments:
        ax.add_collection(
            LineCollection(marks.segments, colors=marks.segment_colours, linewidths=2.6, zorder=2)
        )
    shipped_colours = [p[2] for p in marks.shipped]
    _scatter(
        ax, marks.shipped, c=shipped_colours, marker="o", s=46, edgecolors="black", linewidths=0.8
    )
    _scatter(ax, marks.cancelled, c="black", marker="X", s=50)
    _scatter(ax, marks.still_out, c=COLOURS[Outcome.SLIPPED], marker=">", s=46)
    _scatter(
        ax,
        marks.reannounced,
        zorder=5,
        c="white",
        marker="D",
        s=30,
        edgecolors="black",
        linewidths=0.9,
    )


def _draw_axes(fig: Figure, ax: Axes, marks: _Marks, shown: Sequence[Launch]) -> None:
    """The date axis (with the "today" line when it belongs), the row labels and the grid."""
    rows = len(shown)
    x_min, x_max = marks.x_min, marks.x_max
    if marks.show_today:
        x_min = min(x_min, marks.today_x)
        x_max = max(x_max, marks.today_x)
        ax.axvline(marks.today_x, color="#444444", linestyle="--", linewidth=1.0, zorder=3)
    span = max(x_max - x_min, 10.0)
    ax.set_xlim(x_min - span * 0.02, x_max + span * 0.03)
    ax.set_ylim(rows - 0.5, -0.5)  # first row at the top
    ax.set_yticks(range(rows), labels=_fitted_labels(fig, shown), fontsize=9, parse_math=False)
    # matplotlib.dates ships no type stubs.
    locator = mdates.AutoDateLocator(minticks=4, maxticks=10)  # type: ignore[no-untyped-call]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(
        mdates.ConciseDateFormatter(locator)  # type: ignore[no-untyped-call]
    )
    ax.grid(axis="x", color="#dddddd", linewidth=0.8, zorder=0)
    ax.set_axisbelow(True)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _draw_heading(
    fig: Figure, marks: _Marks, title: str, rows: int, hidden: int, height: int
) -> None:
    """The title (saying how many rows were left out) and the legend."""
    heading = title if not hidden else f"{title} (latest {rows} of {rows + hidden})"
    fig.text(0.5, 1 - 18 / height, heading, ha="center", va="center", fontsize=14, parse_math=False)
    handles: list[Patch | Line2D] = [Patch(facecolor=COLOURS[o], label=_LABELS[o]) for o in Outcome]
    handles.append(
        Line2D(
            [],
            [],
            marker="D",
            linestyle="none",
            markerfacecolor="white",
            markeredgecolor="black",
            label="re-announced",
        )
    )
    if marks.show_today:
        handles.append(Line2D([], [], color="#444444", linestyle="--", label="today"))
    fig.legend(
        handles=handles,
        loc="center",
        bbox_to_anchor=(0.5, 1 - 52 / height),
        ncol=len(handles),
        frameon=False,
        fontsize=9,
        handlelength=1.6,
        columnspacing=1.4,
    )

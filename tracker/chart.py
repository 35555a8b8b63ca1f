"""Timeline charts of launches as PNG images: what was promised against what happened.

One row per launch: a bar from the announcement to the end of the promised window, then a line
on to the day it shipped (or was cancelled, or to today while it is still out), a diamond at each
re-announcement, colours by outcome. Drawn with matplotlib's object API on the Agg canvas: no
pyplot, no display and no global figure registry, so nothing is left open after a render and
renders may run in worker threads (call it through ``asyncio.to_thread``: it takes a few hundred
milliseconds of CPU for 40 rows).
"""

from __future__ import annotations

import datetime as dt
import enum
import io
import logging
from collections.abc import Mapping, Sequence

import matplotlib

matplotlib.use("Agg")  # before anything can import pyplot: never look for a display

from matplotlib import dates as mdates
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from tracker import stats
from tracker.models import EventKind, Launch, LaunchEvent, LaunchState

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
            late = stats.days_late(launch, launch.shipped_on or dt.date.max)
            return Outcome.LATE if (late or 0) > 0 else Outcome.ON_TIME
        case LaunchState.CANCELLED:
            return Outcome.CANCELLED
        case LaunchState.SLIPPED:
            return Outcome.SLIPPED
    if today is not None and stats.days_late(launch, today) is not None:
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


def render_timeline(
    launches: Sequence[Launch],
    events_by_launch: Mapping[int, Sequence[LaunchEvent]],
    today: dt.date,
    *,
    title: str,
    max_rows: int = MAX_ROWS,
) -> bytes:
    """Draw *launches* as a timeline and return the PNG bytes.

    The image is WIDTH_PX (1200) pixels wide and :func:`chart_height` tall. At most *max_rows*
    launches are drawn (the most recently announced); the rest are counted in the title and a
    footer. Re-announcements are taken from *events_by_launch* (events of kind REANNOUNCED, at
    their UTC day). No launches gives a small "nothing to show" image."""
    shown, hidden = select_rows(launches, max_rows)
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

    today_x = _num(today) + 0.5
    lefts: list[float] = []
    widths: list[float] = []
    colours: list[str] = []
    segments: list[list[tuple[float, float]]] = []
    segment_colours: list[str] = []
    shipped_pts: list[tuple[float, float, str]] = []
    cancelled_pts: list[tuple[float, float]] = []
    still_out_pts: list[tuple[float, float]] = []
    reannounced_pts: list[tuple[float, float]] = []
    x_min = float("inf")
    x_max = float("-inf")
    any_open = False

    for y, launch in enumerate(shown):
        outcome = outcome_of(launch, today)
        colour = COLOURS[outcome]
        start = _num(launch.announced_on)
        # The bar is the first promise: re-datings are markers, never a longer bar.
        promised_end = _num(launch.first_window_end) + 1.0  # the last day is inclusive
        lefts.append(start)
        widths.append(max(promised_end - start, 1.0))
        colours.append(colour)
        end: float | None = None
        if launch.state is LaunchState.SHIPPED and launch.shipped_on is not None:
            end = _num(launch.shipped_on) + 0.5
            shipped_pts.append((end, y, colour))
        elif launch.state is LaunchState.CANCELLED and launch.cancelled_on is not None:
            end = _num(launch.cancelled_on) + 0.5
            cancelled_pts.append((end, y))
        elif not launch.state.resolved:
            any_open = True
            if today_x > promised_end:
                end = today_x
                still_out_pts.append((end, y))
        if end is not None and end > promised_end:
            segments.append([(promised_end, y), (end, y)])
            segment_colours.append(colour)
        for event in events_by_launch.get(launch.id, ()):
            if event.kind in (EventKind.REANNOUNCED, EventKind.REVIVED):
                reannounced_pts.append((_num(event.at.astimezone(dt.UTC).date()) + 0.5, y))
        x_min = min(x_min, start)
        x_max = max(x_max, promised_end, end or promised_end)

    ax.barh(range(rows), widths, left=lefts, height=0.56, color=colours, edgecolor="none", zorder=2)
    if segments:
        ax.add_collection(
            LineCollection(segments, colors=segment_colours, linewidths=2.6, zorder=2)
        )
    if shipped_pts:
        ax.scatter(
            [p[0] for p in shipped_pts],
            [p[1] for p in shipped_pts],
            c=[p[2] for p in shipped_pts],
            marker="o",
            s=46,
            edgecolors="black",
            linewidths=0.8,
            zorder=4,
        )
    if cancelled_pts:
        ax.scatter(
            [p[0] for p in cancelled_pts],
            [p[1] for p in cancelled_pts],
            c="black",
            marker="X",
            s=50,
            zorder=4,
        )
    if still_out_pts:
        ax.scatter(
            [p[0] for p in still_out_pts],
            [p[1] for p in still_out_pts],
            c=COLOURS[Outcome.SLIPPED],
            marker=">",
            s=46,
            zorder=4,
        )
    if reannounced_pts:
        ax.scatter(
            [p[0] for p in reannounced_pts],
            [p[1] for p in reannounced_pts],
            c="white",
            marker="D",
            s=30,
            edgecolors="black",
            linewidths=0.9,
            zorder=5,
        )

    show_today = any_open or x_min <= today_x <= x_max
    if show_today:
        x_min = min(x_min, today_x)
        x_max = max(x_max, today_x)
        ax.axvline(today_x, color="#444444", linestyle="--", linewidth=1.0, zorder=3)
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
    if show_today:
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
    footer = f"as of {today.isoformat()}"
    if hidden:
        footer = f"and {hidden} more not shown (older announcements) · {footer}"
    fig.text(0.99, 10 / height, footer, ha="right", va="bottom", fontsize=9, color="#555555")
    return _png(fig)

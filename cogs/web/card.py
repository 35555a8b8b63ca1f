"""The link preview card (Open Graph og:image): a 1200 x 630 PNG with the board's score, or one
launch's figure, for a board link pasted in Discord, X or a chat app.

Drawn with matplotlib's object API on the Agg canvas (no pyplot, no display, nothing global), so
a card can be drawn in a worker thread: call these through ``asyncio.to_thread``. Text from users
is drawn as plain text (no mathtext: "$" stays a dollar sign) and cut to fit.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # before anything can import pyplot: never look for a display

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as MplFigure
from matplotlib.patches import Rectangle

from tracker.board import BoardRow, Figure

WIDTH = 1200
HEIGHT = 630
DPI = 100
INK = "#1a1a1a"
MUTED = "#4a4a4a"
PAPER = "#ffffff"
MARGIN = 0.05  # of the width, on both sides
# The board's state colours (cogs/web/static/board.css).
COLOURS = {
    "on_time": "#15803d",
    "late": "#9a3412",
    "overdue": "#b91c1c",
    "pending": "#1d4ed8",
    "cancelled": "#4b5563",
}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _canvas() -> MplFigure:
    fig = MplFigure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI, facecolor=PAPER)
    FigureCanvasAgg(fig)  # attach the Agg canvas: no backend switching, no pyplot
    # A band in the accent colour along the top, the brand under it.
    fig.patches.append(
        Rectangle((0, 0.965), 1, 0.035, transform=fig.transFigure, color=COLOURS["pending"])
    )
    fig.text(0.05, 0.87, "slipwatch", fontsize=22, weight="bold", color=INK)
    return fig


def _text(fig: MplFigure, x: float, y: float, text: str, **style: Any) -> None:
    """Draw *text* at (x, y), cut with an ellipsis where it would run off the card."""
    drawn = fig.text(x, y, text, parse_math=False, **style)
    room = (1 - MARGIN - x) * WIDTH
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    if drawn.get_window_extent(renderer).width <= room:
        return
    low, high = 1, len(text) - 1  # the longest cut that fits, by bisection
    while low < high:
        middle = (low + high + 1) // 2
        drawn.set_text(_cut(text, middle))
        if drawn.get_window_extent(renderer).width <= room:
            low = middle
        else:
            high = middle - 1
    drawn.set_text(_cut(text, low))


def _png(fig: MplFigure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor=PAPER)
    return buffer.getvalue()


def board_card(slug: str, figures: Sequence[Figure], launches: int, today: dt.date) -> bytes:
    """The board's card: its name, the on-time rate, the late, overdue and cancelled counts
    and the worst slip, as of *today*."""
    by_key = {f.key: f for f in figures}
    fig = _canvas()
    _text(fig, 0.05, 0.74, _cut(f"Launch board: {slug}", 40), fontsize=40, color=INK)
    on_time = by_key["on_time_rate"]
    _text(fig, 0.05, 0.62, on_time.label, fontsize=22, color=MUTED)
    _text(fig, 0.05, 0.47, _cut(on_time.value, 22), fontsize=54, weight="bold", color=INK)
    for i, (key, colour) in enumerate(
        (("shipped_late", "late"), ("overdue_open", "overdue"), ("cancelled", "cancelled"))
    ):
        figure = by_key[key]
        x = 0.05 + i * 0.3
        _text(fig, x, 0.33, _cut(figure.label, 24), fontsize=20, color=MUTED)
        _text(
            fig, x, 0.22, _cut(figure.value, 12), fontsize=40, weight="bold", color=COLOURS[colour]
        )
    worst = by_key.get("worst")
    if worst is not None and worst.value != "—":
        _text(fig, 0.05, 0.12, _cut(f"Worst slip: {worst.value}", 80), fontsize=20, color=INK)
    plural = "" if launches == 1 else "es"
    _text(
        fig,
        0.05,
        0.04,
        f"{launches} launch{plural} on the watchlist · as of {today.isoformat()}",
        fontsize=16,
        color=MUTED,
    )
    return _png(fig)


def launch_card(slug: str, row: BoardRow, headline: str, today: dt.date) -> bytes:
    """One launch's card: its name, how late (or how long left), its first promise and
    its slips, as of *today*."""
    fig = _canvas()
    _text(fig, 0.05, 0.74, _cut(row.product, 34), fontsize=44, weight="bold", color=INK)
    _text(fig, 0.05, 0.65, _cut(row.vendor, 60), fontsize=24, color=MUTED)
    colour = COLOURS.get(row.outcome, INK)
    _text(fig, 0.05, 0.46, _cut(headline, 30), fontsize=54, weight="bold", color=colour)
    promise = f'First promise: "{_cut(row.first_phrase, 40)}" (by {row.first_end})'
    _text(fig, 0.05, 0.32, promise, fontsize=22, color=INK)
    slips = f"{row.slips} slip" + ("" if row.slips == 1 else "s")
    _text(fig, 0.05, 0.22, f"{slips} · state: {row.state.value}", fontsize=22, color=INK)
    _text(
        fig,
        0.05,
        0.04,
        f"Board: {_cut(slug, 40)} · as of {today.isoformat()}",
        fontsize=16,
        color=MUTED,
    )
    return _png(fig)

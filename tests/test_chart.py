"""Timeline PNGs: real images, checked by their header and their pixels."""

from __future__ import annotations

import dataclasses
import datetime as dt
import gc
import io
import struct

import numpy as np
from matplotlib import image as mpimg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

from tests.test_stats import launch
from tracker.models import EventKind, Launch, LaunchEvent, LaunchState
from tracker.stats import chart_process
from tracker.stats.chart import (
    COLOURS,
    FOOTER_PX,
    HEADER_PX,
    LEFT_PX,
    RIGHT_PX,
    ROW_PX,
    WIDTH_PX,
    Outcome,
    chart_height,
    outcome_of,
    render_timeline,
    select_rows,
)

UTC = dt.UTC
D = dt.date
TODAY = D(2025, 3, 1)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def size_of(png: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which always comes first."""
    assert png[:8] == PNG_SIGNATURE
    length, kind = struct.unpack(">I4s", png[8:16])
    assert kind == b"IHDR" and length == 13
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def pixels(png: bytes) -> np.ndarray:
    rgba = mpimg.imread(io.BytesIO(png), format="png")
    return np.asarray(rgba[..., :3], dtype=float)


def near(block: np.ndarray, colour: str, tolerance: float = 0.03) -> int:
    """How many pixels of *block* have (about) *colour*."""
    target = np.array(to_rgb(colour))
    return int((np.abs(block - target).max(axis=-1) <= tolerance).sum())


def one_of_each() -> list[Launch]:
    """Five launches, one per outcome, in this order from the top."""
    return [
        launch(1, "Gemini 2", "Google", None, LaunchState.SHIPPED, D(2024, 10, 1),
               D(2024, 12, 31), shipped_on=D(2024, 12, 11), days_late=0),
        launch(2, "Grok 3", "xAI", None, LaunchState.SHIPPED, D(2024, 10, 2), D(2024, 12, 31),
               shipped_on=D(2025, 2, 17), days_late=48, slips=1),
        launch(3, "Claude 3.5 Opus", "Anthropic", None, LaunchState.CANCELLED, D(2024, 10, 3),
               D(2024, 12, 31), cancelled_on=D(2025, 1, 15), days_late=15),
        launch(4, "Claude 5", "Anthropic", None, LaunchState.UPCOMING, D(2024, 10, 4),
               D(2025, 9, 30)),
        launch(5, "GPT-5 $beta$", "OpenAI", None, LaunchState.SLIPPED, D(2024, 10, 5),
               D(2025, 1, 31), days_late=29),
    ]  # fmt: skip


def reannounced(launch_id: int, day: dt.date) -> LaunchEvent:
    at = dt.datetime.combine(day, dt.time(12), UTC)
    return LaunchEvent(1, launch_id, 1, EventKind.REANNOUNCED, at, "musk", None, None)


def many(n: int) -> list[Launch]:
    start = D(2024, 1, 1)
    return [
        launch(i, f"Model {i}", "Lab", None, LaunchState.UPCOMING,
               start + dt.timedelta(days=i), start + dt.timedelta(days=60 + i))
        for i in range(1, n + 1)
    ]  # fmt: skip


def test_chart_is_a_1200_pixel_wide_png_whose_height_grows_with_rows() -> None:
    small = render_timeline(many(5), {}, TODAY, title="5")
    large = render_timeline(many(20), {}, TODAY, title="20")
    assert size_of(small) == (WIDTH_PX, chart_height(5)) == (1200, HEADER_PX + FOOTER_PX + 150)
    assert size_of(large) == (1200, chart_height(20))
    assert size_of(large)[1] > size_of(small)[1]


def test_at_most_40_rows_are_drawn_and_the_rest_are_counted() -> None:
    fifty = many(50)
    shown, hidden = select_rows(fifty, 40)
    assert hidden == 10 and [x.id for x in shown] == list(range(11, 51))  # the latest 40
    png = render_timeline(fifty, {}, TODAY, title="50")
    assert size_of(png) == (1200, chart_height(40))


def test_each_row_shows_its_outcome_colour() -> None:
    launches = one_of_each()
    events = {2: [reannounced(2, D(2024, 12, 20))]}
    png = render_timeline(launches, events, TODAY, title="Promised vs. delivered")
    width, height = size_of(png)
    image = pixels(png)
    assert image.shape == (height, width, 3)
    plot = image[HEADER_PX : height - FOOTER_PX, LEFT_PX : width - RIGHT_PX]
    expected = [Outcome.ON_TIME, Outcome.LATE, Outcome.CANCELLED, Outcome.PENDING, Outcome.SLIPPED]
    assert [outcome_of(x) for x in launches] == expected
    # All five outcome colours are in the plot area, plentifully (bars, not just the legend).
    for outcome in expected:
        assert near(plot, COLOURS[outcome]) > 200, outcome
    # And each row, at its centre line, carries its own colour.
    for row, outcome in enumerate(expected):
        y = HEADER_PX + row * ROW_PX + ROW_PX // 2
        line = image[y : y + 1, LEFT_PX : width - RIGHT_PX]
        assert near(line, COLOURS[outcome]) >= 20, (row, outcome)
    # The white re-announcement diamond sits on row 2's bar: black outline pixels there.
    row2 = image[HEADER_PX + ROW_PX : HEADER_PX + 2 * ROW_PX, LEFT_PX : width - RIGHT_PX]
    assert near(row2, "#000000", 0.2) > 10
    distinct = {tuple(p) for p in (plot * 255).round().astype(int).reshape(-1, 3)[::7]}
    assert len(distinct) > 20


def test_no_launches_gives_a_nothing_to_show_image() -> None:
    png = render_timeline([], {}, TODAY, title="Nothing here")
    assert size_of(png) == (1200, chart_height(0))
    image = pixels(png)
    assert near(image, "#ffffff") < image.shape[0] * image.shape[1]  # there is text on it
    # ...and no bars (grey is left out: anti-aliased grey text has the "cancelled" grey).
    bars = [COLOURS[o] for o in Outcome if o is not Outcome.CANCELLED]
    assert all(near(image, colour) == 0 for colour in bars)


def test_rendering_leaves_no_figure_behind() -> None:
    def figures() -> int:
        gc.collect()
        return sum(isinstance(o, Figure) for o in gc.get_objects())

    render_timeline(one_of_each(), {}, TODAY, title="warm-up")
    before = figures()
    for _ in range(5):
        render_timeline(one_of_each(), {}, TODAY, title="again")
    assert figures() == before


def test_wide_names_are_shortened_to_fit_instead_of_cut_at_the_left_edge() -> None:
    wide = [
        dataclasses.replace(x, product="WWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWWW", vendor="MMMMMMM")
        for x in many(3)
    ]
    png = render_timeline(wide, {}, TODAY, title="wide")
    image = pixels(png)
    # The leftmost columns are background only: no glyph runs off the image.
    assert near(image[:, :4], "#ffffff") == image.shape[0] * 4


def test_colours_judge_the_first_promise_even_after_a_re_dating() -> None:
    redated = launch(1, "Siri LLM", "Apple", None, LaunchState.UPCOMING, D(2024, 6, 10),
                     D(2026, 12, 31), first_window_end=D(2025, 4, 30))  # fmt: skip
    assert outcome_of(redated, D(2025, 4, 30)) is Outcome.PENDING
    assert outcome_of(redated, D(2025, 5, 1)) is Outcome.SLIPPED  # late, still out
    early = launch(2, "o3", "OpenAI", None, LaunchState.SHIPPED, D(2024, 12, 20), D(2025, 5, 16),
                   shipped_on=D(2025, 4, 16), first_window_end=D(2025, 4, 30))  # fmt: skip
    assert outcome_of(early) is Outcome.ON_TIME
    late = dataclasses.replace(early, shipped_on=D(2025, 5, 10))  # on time vs the latest only
    assert outcome_of(late) is Outcome.LATE


async def test_the_worker_process_draws_the_same_chart_from_only_the_rows_it_shows() -> None:
    fifty = many(50)
    events = {30: [reannounced(30, D(2024, 3, 1))], 5: [reannounced(5, D(2024, 2, 1))]}
    here = render_timeline(fifty, events, TODAY, title="50", max_rows=40)
    there = await chart_process.render_timeline(fifty, events, TODAY, title="50", max_rows=40)
    assert there == here  # the same 40 rows, the same re-announcement, "latest 40 of 50"

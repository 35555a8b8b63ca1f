"""Timeline charts drawn in a worker process, so that drawing never stalls the event loop.

matplotlib holds the GIL while it draws (a few hundred milliseconds for 40 rows): in a worker
thread that still stops the event loop, and every alert and command with it, for as long. One
spawned process (started on the first chart, kept for the next ones) draws instead; only the
rows drawn and their re-announcements cross to it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import heapq
import logging
import multiprocessing
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from tracker.models import Launch, LaunchEvent

log = logging.getLogger(__name__)

_pool: ProcessPoolExecutor | None = None


def _executor() -> ProcessPoolExecutor:
    global _pool
    if _pool is None:
        # spawn, never fork: forking a process that runs threads (aiosqlite's, the loop's
        # helpers) can copy a lock held by another thread into the child.
        _pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
    return _pool


def _draw(
    launches: list[Launch],
    events: dict[int, Sequence[LaunchEvent]],
    today: dt.date,
    title: str,
    max_rows: int,
    left_out: int,
) -> bytes:
    from tracker.stats.chart import render_timeline  # in the worker process: matplotlib loads

    return render_timeline(
        launches, events, today, title=title, max_rows=max_rows, left_out=left_out
    )


async def render_timeline(
    launches: Sequence[Launch],
    events_by_launch: Mapping[int, Sequence[LaunchEvent]],
    today: dt.date,
    *,
    title: str,
    max_rows: int,
    left_out: int = 0,
) -> bytes:
    """tracker.stats.chart.render_timeline, drawn in the worker process (*left_out*: launches
    the caller already left out, counted with the rest not shown)."""
    # The rows the chart keeps (chart.select_rows: the most recently announced), so that only
    # they are sent to the process; the chart counts the rest as not shown.
    limit = max(1, max_rows)
    shown = heapq.nlargest(limit, launches, key=lambda x: (x.announced_on, x.id))
    events = {l.id: events_by_launch[l.id] for l in shown if l.id in events_by_launch}  # noqa: E741
    args = (shown, events, today, title, max_rows, left_out + len(launches) - len(shown))
    loop = asyncio.get_running_loop()
    try:
        return await loop.run_in_executor(_executor(), _draw, *args)
    except BrokenProcessPool:
        # The process died (killed, out of memory): start a new one and draw once more.
        log.warning("the chart process died; starting another")
        _reset()
        return await loop.run_in_executor(_executor(), _draw, *args)


def _reset() -> None:
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=False, cancel_futures=True)
    _pool = None

"""Launches as they stood on a past day, rebuilt from their history (``bot.py stats --today``)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence

from tracker.models import EventKind, Launch, LaunchEvent, LaunchState

__all__ = ["AS_OF_KINDS", "as_of"]

_REDATED = (EventKind.REANNOUNCED, EventKind.REVIVED)
_OUTCOMES = (EventKind.SHIPPED, EventKind.CANCELLED, EventKind.REVIVED)
# The history kinds :func:`as_of` reads.
AS_OF_KINDS = (EventKind.REANNOUNCED, EventKind.REVIVED, EventKind.SHIPPED, EventKind.CANCELLED)


def _stored_day(value: object) -> dt.date | None:
    """A day stored in an event's data: "2025-02-17", or "2025-02" for a month (its 1st)."""
    if not isinstance(value, str):
        return None
    try:
        if len(value) == 7:
            return dt.date.fromisoformat(value + "-01")
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _event_day(launch: Launch, event: LaunchEvent) -> dt.date:
    """The calendar day an event of the history happened on (what was said, not when typed)."""
    data = event.data
    if event.kind in _REDATED:
        said = _stored_day(data.get("announced_on"))
        if said is not None:
            return said
    if event.kind is EventKind.SHIPPED:
        shipped = _stored_day(data.get("shipped_on")) or launch.shipped_on
        if shipped is not None:
            return shipped
    if event.kind is EventKind.CANCELLED:
        cancelled = _stored_day(data.get("cancelled_on"))
        if cancelled is not None:
            return cancelled
    return event.at.astimezone(dt.UTC).date()


def as_of(launch: Launch, events: Iterable[LaunchEvent], day: dt.date) -> Launch | None:
    """*launch* as it stood at the end of *day*, rebuilt from its history; None when it had
    not been announced yet.

    A launch shipped, cancelled, re-dated or revived after *day* is shown as it was before:
    open (upcoming, or slipped past the window it then had), with the window and slip count of
    its last promise on or before *day*. The first promise never changes, so lateness as of
    *day* follows the same rules as today's (``python bot.py stats --today`` uses this)."""
    if launch.announced_on > day:
        return None
    history = sorted(
        (e for e in events if e.kind in AS_OF_KINDS),
        key=lambda e: (_event_day(launch, e), e.at, e.id),
    )
    past = [e for e in history if _event_day(launch, e) <= day]
    window_end, slips = _promise_then(launch, history, past)
    state, shipped_on, cancelled_on = _outcome_then(launch, history, past, day)
    if state is None:
        state = LaunchState.SLIPPED if day > window_end else LaunchState.UPCOMING
    return dataclasses.replace(
        launch,
        state=state,
        window_end=window_end,
        slip_count=slips,
        shipped_on=shipped_on,
        cancelled_on=cancelled_on,
        days_late=(shipped_on - launch.first_window_end).days if shipped_on else None,
    )


def _promise_then(
    launch: Launch, history: Sequence[LaunchEvent], past: Sequence[LaunchEvent]
) -> tuple[dt.date, int]:
    """The window end and slip count of the last promise in *past* (the first promise when
    every re-dating came later)."""
    if not any(e.kind in _REDATED for e in history):
        return launch.window_end, launch.slip_count
    said = [e for e in past if e.kind in _REDATED]
    if not said:
        return launch.first_window_end, 0
    window_end = _stored_day(said[-1].data.get("window_end")) or launch.window_end
    return window_end, int(said[-1].data.get("slip_count", launch.slip_count))


def _outcome_then(
    launch: Launch, history: Sequence[LaunchEvent], past: Sequence[LaunchEvent], day: dt.date
) -> tuple[LaunchState | None, dt.date | None, dt.date | None]:
    """State (None: open), shipped_on and cancelled_on as of the end of *day*: from the
    outcome events in *past*, or from the record itself when its history has none."""
    state: LaunchState | None = None
    shipped_on: dt.date | None = None
    cancelled_on: dt.date | None = None
    if any(e.kind in _OUTCOMES for e in history):
        for event in past:
            if event.kind is EventKind.SHIPPED:
                state, shipped_on = LaunchState.SHIPPED, _event_day(launch, event)
            elif event.kind is EventKind.CANCELLED:
                state = LaunchState.CANCELLED
                cancelled_on = _stored_day(event.data.get("cancelled_on"))
            elif event.kind is EventKind.REVIVED:
                state, cancelled_on = None, None
        if state is LaunchState.SHIPPED and launch.state is LaunchState.SHIPPED:
            shipped_on = launch.shipped_on  # the record's own day (and precision)
    elif launch.state is LaunchState.SHIPPED and (
        launch.shipped_on is None or launch.shipped_on <= day
    ):
        state, shipped_on = LaunchState.SHIPPED, launch.shipped_on
    elif launch.state is LaunchState.CANCELLED and (
        launch.cancelled_on is None or launch.cancelled_on <= day
    ):
        state, cancelled_on = LaunchState.CANCELLED, launch.cancelled_on
    return state, shipped_on, cancelled_on

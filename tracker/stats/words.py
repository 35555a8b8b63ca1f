"""One launch's standing and lineage in words, lateness always against the first promise."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from tracker.models import EventKind, Evidence, Launch, LaunchEvent, LaunchState, Precision
from tracker.stats.score import days_late, state_on
from tracker.text import lateness as late_words
from tracker.text import plural

__all__ = ["evidence_words", "late_words", "lineage", "shipped_verdict", "state_words"]


def shipped_verdict(launch: Launch) -> str:
    """How a shipped launch did, in words: "48 days late", or for a re-dated one "48 days late
    against the first promise (2024-12-31), on time against the latest (2025-02-28)"."""
    assert launch.shipped_on is not None
    month = launch.outcome_precision is Precision.MONTH
    first = late_words((launch.shipped_on - launch.first_window_end).days, at_least=month)
    if launch.window_end == launch.first_window_end:
        return first
    latest = late_words((launch.shipped_on - launch.window_end).days, at_least=month)
    return (
        f"{first} against the first promise ({launch.first_window_end.isoformat()}), "
        f"{latest} against the latest ({launch.window_end.isoformat()})"
    )


def state_words(launch: Launch, today: dt.date) -> str:
    """A launch's standing on *today* in words, lateness always against the first promise and
    computed now (never a stored milestone figure): "shipped 2025-02-17 (48 days late)",
    "slipped (61 days late so far)", "cancelled (day unknown)", "upcoming"."""
    month = launch.outcome_precision is Precision.MONTH
    if launch.state is LaunchState.SHIPPED and launch.shipped_on is not None:
        late = (launch.shipped_on - launch.first_window_end).days
        shown = launch.outcome_precision.show(launch.shipped_on)
        return f"shipped {shown} ({late_words(late, at_least=month)})"
    if launch.state is LaunchState.CANCELLED:
        if launch.cancelled_on is None:
            return "cancelled (day unknown)"
        return f"cancelled {launch.outcome_precision.show(launch.cancelled_on)}"
    state = state_on(launch, today).value
    running = days_late(launch, today)
    if running is None:
        return state
    return f"{state} ({plural(running, 'day')} late so far)"


def lineage(launch: Launch, events: Iterable[LaunchEvent], today: dt.date) -> str:
    """Every promise of a launch in order and how it ended, e.g. 'promised "end of 2024"
    (2024-12-31) → re-dated "February 2025" (2025-02-28) → shipped 2025-02-17: 48 days late
    against the first promise (2024-12-31), 11 days early against the latest (2025-02-28)'."""
    steps: list[str] = []
    for event in sorted(events, key=lambda e: (e.at, e.id)):
        data = event.data
        window, end = data.get("window"), data.get("window_end")
        if event.kind is EventKind.CREATED and window:
            steps.append(f'promised "{window}" ({end})' if end else f'promised "{window}"')
        elif event.kind in (EventKind.REANNOUNCED, EventKind.REVIVED) and window:
            verb = "re-dated" if event.kind is EventKind.REANNOUNCED else "revived"
            steps.append(f'{verb} "{window}" ({end})' if end else f'{verb} "{window}"')
        elif event.kind is EventKind.CANCELLED:
            day = data.get("cancelled_on")
            steps.append(f"cancelled {day}" if day else "cancelled (day unknown)")
    if not steps:  # imported without its history: only the first promise is known
        steps.append(f"promised by {launch.first_window_end.isoformat()}")
    if launch.state is LaunchState.SHIPPED and launch.shipped_on is not None:
        shown = launch.outcome_precision.show(launch.shipped_on)
        steps.append(f"shipped {shown}: {shipped_verdict(launch)}")
    elif not launch.state.resolved:
        steps.append(state_words(launch, today))
    return " → ".join(steps)


def evidence_words(launch: Launch) -> str:
    """ "" for an official promise, else " · reported" or " · rumour" (shown beside it)."""
    return "" if launch.evidence is Evidence.OFFICIAL else f" · {launch.evidence.value}"

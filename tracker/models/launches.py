"""A launch on a guild's watchlist: its state, how sure its record is, how precisely its
days are known, and what a person supplies to add one.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class LaunchState(enum.StrEnum):
    """Where a launch is in its life."""

    UPCOMING = "upcoming"
    SLIPPED = "slipped"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"

    @property
    def resolved(self) -> bool:
        """True once the launch has shipped or was cancelled."""
        return self in (LaunchState.SHIPPED, LaunchState.CANCELLED)


class Evidence(enum.StrEnum):
    """How sure the record of a promise is: the vendor said it, the press reported the vendor's
    words, or it is a rumour. Rumours are tracked and alerted like the rest but left out of
    every figure unless a reader asks for them."""

    OFFICIAL = "official"
    REPORTED = "reported"
    RUMOUR = "rumour"


class Precision(enum.StrEnum):
    """How precisely a day is known. A MONTH day is stored as the month's first day."""

    DAY = "day"
    MONTH = "month"

    def show(self, day: dt.date) -> str:
        """*day* as precisely as it is known: "2025-02-17" or "2025-02"."""
        return day.isoformat() if self is Precision.DAY else f"{day:%Y-%m}"


@dataclass(frozen=True, slots=True)
class Launch:
    """One announced launch on a guild's watchlist."""

    id: int
    guild_id: int
    product: str
    vendor: str
    announcer: str | None
    source_url: str | None
    quote: str | None
    announced_on: dt.date
    window_phrase: str
    window_start: dt.date
    window_end: dt.date
    window_rule: str
    timezone: str | None
    deadline_at: dt.datetime
    state: LaunchState
    slip_count: int
    revision: int
    shipped_on: dt.date | None
    cancelled_on: dt.date | None
    days_late: int | None  # as of the outcome (shipped: signed); read figures from tracker.stats
    next_due_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    # The window end of the first announcement: the promise lateness is measured against.
    first_window_end: dt.date
    evidence: Evidence = Evidence.OFFICIAL
    announced_precision: Precision = Precision.DAY
    # Precision of shipped_on / cancelled_on; an undated cancellation has cancelled_on None.
    outcome_precision: Precision = Precision.DAY


@dataclass(frozen=True, slots=True)
class NewLaunch:
    """What a person supplies to add a launch (before the window is resolved)."""

    guild_id: int
    product: str
    vendor: str
    window_phrase: str
    announced_on: dt.date
    announcer: str | None = None
    source_url: str | None = None
    quote: str | None = None
    timezone: str | None = None
    evidence: Evidence = Evidence.OFFICIAL
    announced_precision: Precision = Precision.DAY

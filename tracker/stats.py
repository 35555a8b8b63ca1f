"""The track record: on-time rates, lateness, slips and leaderboards.

Pure functions over lists of launches (``today`` is passed in), and at the end a thin
:class:`StatsService` that loads a guild's launches for the /slips commands. Only resolved
launches (shipped or cancelled) are scored: a launch that is still open never counts as a
failure before its deadline, and one already past its deadline (slipped, still out) is reported
apart with its running lateness instead of a final number.

The definitions, so that every reader computes the same figures:

- on-time rate = shipped with 0 days late / resolved (cancelled launches count as not on time);
- median and mean days late are over shipped launches (on-time ones count as 0);
- the worst slip is the shipped launch with the most days late;
- re-announcements per launch = mean slip_count over resolved launches;
- time multiplier = mean of (shipped_on - announced_on) / (window_end - announced_on) over
  launches shipped late, skipping those whose promised span is zero (or negative) days: "it took
  2.5 times as long as they said".
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import statistics
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from storage import repo, summaries
from storage.db import Database
from tracker import deadlines
from tracker.clock import Clock
from tracker.errors import InvalidInput
from tracker.models import EventKind, Launch, LaunchState

__all__ = [
    "DEFAULT_MIN_RESOLVED",
    "LaunchFigure",
    "Leaderboard",
    "LeaderboardEntry",
    "Stats",
    "StatsService",
    "compute_stats",
    "filter_launches",
    "final_days_late",
    "leaderboard",
    "running_days_late",
]

DEFAULT_MIN_RESOLVED = 3

GroupBy = Literal["vendor", "announcer"]


@dataclass(frozen=True, slots=True)
class LaunchFigure:
    """One launch named in a statistic (the worst slip, a launch still late)."""

    launch_id: int
    product: str
    vendor: str
    window_end: dt.date
    days_late: int
    slip_count: int


@dataclass(frozen=True, slots=True)
class Stats:
    """The track record of a set of launches. Rates and averages are None when there is
    nothing to compute them over (no resolved launch, no shipped launch...)."""

    vendor: str | None  # the filters applied, as given
    announcer: str | None
    total: int  # launches after filtering, in every state
    resolved: int  # shipped + cancelled
    shipped: int
    on_time: int  # shipped with 0 days late
    shipped_late: int
    cancelled: int
    open: int  # upcoming or slipped
    on_time_rate: float | None  # on_time / resolved
    median_days_late: float | None  # over shipped launches
    mean_days_late: float | None  # over shipped launches
    worst: LaunchFigure | None  # shipped launch with the most days late (None if none late)
    reannouncements_per_launch: float | None  # mean slip_count over resolved launches
    time_multiplier: float | None  # see the module docstring
    time_multiplier_count: int  # how many launches the multiplier was averaged over
    still_late: tuple[LaunchFigure, ...]  # slipped and not yet shipped, most late first


@dataclass(frozen=True, slots=True)
class LeaderboardEntry:
    """One vendor's (or announcer's) record on a leaderboard."""

    rank: int
    name: str
    resolved: int
    on_time: int
    shipped_late: int
    cancelled: int
    on_time_rate: float
    median_days_late: float | None  # None when nothing shipped (all cancelled)


@dataclass(frozen=True, slots=True)
class Leaderboard:
    """Names ranked by on-time rate, then median days late (lower first), then name."""

    by: GroupBy
    min_resolved: int
    entries: tuple[LeaderboardEntry, ...]
    too_few: tuple[str, ...]  # names left out for having fewer than min_resolved resolved


def final_days_late(launch: Launch) -> int | None:
    """Days late of a shipped launch (0 when on time); None for any other state.

    Uses the stored figure and falls back to shipped_on - window_end when it is missing."""
    if launch.state is not LaunchState.SHIPPED:
        return None
    if launch.days_late is not None:
        return max(0, launch.days_late)
    if launch.shipped_on is None:
        return 0
    return max(0, (launch.shipped_on - launch.window_end).days)


def running_days_late(launch: Launch, today: dt.date) -> int:
    """How late a launch that is still out is today (0 before the end of its window)."""
    return max(0, (today - launch.window_end).days)


def _fold(text: str | None) -> str | None:
    return " ".join(text.split()).casefold() if text else None


def filter_launches(
    launches: Iterable[Launch], *, vendor: str | None = None, announcer: str | None = None
) -> list[Launch]:
    """The launches of *vendor* and/or by *announcer* (case-insensitive; None: any)."""
    want_vendor = _fold(vendor)
    want_announcer = _fold(announcer)
    return [
        launch
        for launch in launches
        if (want_vendor is None or _fold(launch.vendor) == want_vendor)
        and (want_announcer is None or _fold(launch.announcer) == want_announcer)
    ]


def _figure(launch: Launch, days_late: int) -> LaunchFigure:
    return LaunchFigure(
        launch_id=launch.id,
        product=launch.product,
        vendor=launch.vendor,
        window_end=launch.window_end,
        days_late=days_late,
        slip_count=launch.slip_count,
    )


def _mean(values: Sequence[float]) -> float | None:
    return statistics.fmean(values) if values else None


def compute_stats(
    launches: Iterable[Launch],
    today: dt.date,
    *,
    vendor: str | None = None,
    announcer: str | None = None,
) -> Stats:
    """The track record of *launches*, optionally only those of *vendor* / by *announcer*.

    *today* is the reader's calendar day, used only for the running lateness of launches that
    are still late."""
    chosen = filter_launches(launches, vendor=vendor, announcer=announcer)
    shipped = [launch for launch in chosen if launch.state is LaunchState.SHIPPED]
    cancelled = [launch for launch in chosen if launch.state is LaunchState.CANCELLED]
    resolved = shipped + cancelled
    late_by = {launch.id: final_days_late(launch) or 0 for launch in shipped}
    on_time = [launch for launch in shipped if late_by[launch.id] == 0]
    late = [launch for launch in shipped if late_by[launch.id] > 0]

    days = sorted(late_by[launch.id] for launch in shipped)
    worst: LaunchFigure | None = None
    if late:
        # Most days late; among equals the one that shipped first, then the lowest id.
        top = min(late, key=lambda x: (-late_by[x.id], x.shipped_on or x.window_end, x.id))
        worst = _figure(top, late_by[top.id])

    ratios: list[float] = []
    for launch in late:
        promised = (launch.window_end - launch.announced_on).days
        if promised <= 0 or launch.shipped_on is None:
            continue  # a zero (or nonsensical) promised span has no meaningful multiple
        ratios.append((launch.shipped_on - launch.announced_on).days / promised)

    still_late = sorted(
        (
            _figure(launch, running_days_late(launch, today))
            for launch in chosen
            if launch.state is LaunchState.SLIPPED
        ),
        key=lambda f: (-f.days_late, f.launch_id),
    )
    return Stats(
        vendor=vendor,
        announcer=announcer,
        total=len(chosen),
        resolved=len(resolved),
        shipped=len(shipped),
        on_time=len(on_time),
        shipped_late=len(late),
        cancelled=len(cancelled),
        open=len(chosen) - len(resolved),
        on_time_rate=len(on_time) / len(resolved) if resolved else None,
        median_days_late=float(statistics.median(days)) if days else None,
        mean_days_late=_mean([float(d) for d in days]),
        worst=worst,
        reannouncements_per_launch=_mean([float(x.slip_count) for x in resolved]),
        time_multiplier=_mean(ratios),
        time_multiplier_count=len(ratios),
        still_late=tuple(still_late),
    )


def leaderboard(
    launches: Iterable[Launch],
    *,
    by: GroupBy = "vendor",
    min_resolved: int = DEFAULT_MIN_RESOLVED,
) -> Leaderboard:
    """Rank vendors (or announcers) by on-time rate, best first.

    Only names with at least *min_resolved* resolved launches are ranked. Ties are broken by
    median days late (lower first; a name that shipped nothing ranks after those that shipped),
    then by name. Names are grouped case-insensitively and shown in their most common spelling
    (the earliest seen among equals). Launches without an announcer are left out of the
    announcer board."""
    if min_resolved < 1:
        raise ValueError("min_resolved must be at least 1")
    key_of: Callable[[Launch], str | None] = (
        (lambda x: x.vendor) if by == "vendor" else (lambda x: x.announcer)
    )
    groups: dict[str, list[Launch]] = {}
    spellings: dict[str, dict[str, int]] = {}
    for launch in sorted(launches, key=lambda x: x.id):
        raw = key_of(launch)
        folded = _fold(raw)
        if raw is None or not folded:
            continue
        groups.setdefault(folded, []).append(launch)
        counts = spellings.setdefault(folded, {})
        shown = " ".join(raw.split())
        counts[shown] = counts.get(shown, 0) + 1

    ranked: list[tuple[tuple[float, float, str], LeaderboardEntry]] = []
    too_few: list[str] = []
    for folded, members in groups.items():
        counts = spellings[folded]
        name = max(counts, key=lambda s: counts[s])  # first inserted wins a tie
        record = compute_stats(members, dt.date.min)
        if record.resolved < min_resolved or record.on_time_rate is None:
            too_few.append(name)
            continue
        entry = LeaderboardEntry(
            rank=0,
            name=name,
            resolved=record.resolved,
            on_time=record.on_time,
            shipped_late=record.shipped_late,
            cancelled=record.cancelled,
            on_time_rate=record.on_time_rate,
            median_days_late=record.median_days_late,
        )
        median = record.median_days_late
        sort_key = (
            -record.on_time_rate,
            median if median is not None else float("inf"),
            name.casefold(),
        )
        ranked.append((sort_key, entry))
    ranked.sort(key=lambda pair: pair[0])
    entries = tuple(
        dataclasses.replace(entry, rank=i) for i, (_, entry) in enumerate(ranked, start=1)
    )
    return Leaderboard(
        by=by,
        min_resolved=min_resolved,
        entries=entries,
        too_few=tuple(sorted(too_few, key=str.casefold)),
    )


class StatsService:
    """Loads a guild's launches and computes its record, leaderboards and timeline chart."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def _today(self, guild_id: int) -> dt.date:
        config = await repo.get_guild(self.db.read, guild_id)
        try:
            tz = deadlines.zone(config.timezone)
        except InvalidInput:
            tz = deadlines.zone("UTC")
        return deadlines.local_today(self.clock.now(), tz)

    async def stats(
        self, guild_id: int, *, vendor: str | None = None, announcer: str | None = None
    ) -> Stats:
        """The guild's record (/slips stats), optionally for one vendor and/or announcer."""
        launches = await repo.all_launches(self.db.read, guild_id)
        return compute_stats(
            launches, await self._today(guild_id), vendor=vendor, announcer=announcer
        )

    async def leaderboard(
        self, guild_id: int, *, by: GroupBy = "vendor", min_resolved: int = DEFAULT_MIN_RESOLVED
    ) -> Leaderboard:
        """The guild's vendors (or announcers) ranked by on-time rate (/slips leaderboard)."""
        if not 1 <= min_resolved <= 1000:
            raise InvalidInput("The minimum number of resolved launches must be 1 to 1000.")
        launches = await repo.all_launches(self.db.read, guild_id)
        return leaderboard(launches, by=by, min_resolved=min_resolved)

    async def chart(
        self,
        guild_id: int,
        *,
        vendor: str | None = None,
        announcer: str | None = None,
        since: dt.date | None = None,
        title: str | None = None,
        max_rows: int = 40,
    ) -> Chart:
        """A PNG timeline of the guild's launches (/slips chart, digests), optionally only those
        announced on or after *since*. Rendering runs in a worker thread so the event loop is
        never blocked."""
        launches = filter_launches(
            await repo.all_launches(self.db.read, guild_id), vendor=vendor, announcer=announcer
        )
        if since is not None:
            launches = [launch for launch in launches if launch.announced_on >= since]
        events = await summaries.events_by_launch(
            self.db.read, guild_id, kinds=(EventKind.REANNOUNCED,)
        )
        today = await self._today(guild_id)
        heading = title or "Promised vs. delivered" + (f": {vendor}" if vendor else "")
        if since is not None and title is None:
            heading += f" (since {since:%Y-%m-%d})"

        def draw() -> bytes:
            from tracker.chart import render_timeline  # matplotlib loads on first use only

            return render_timeline(launches, events, today, title=heading, max_rows=max_rows)

        return Chart(png=await asyncio.to_thread(draw), launches=len(launches))


@dataclass(frozen=True, slots=True)
class Chart:
    """A rendered timeline and how many launches it covers (0: the "nothing to show" image)."""

    png: bytes
    launches: int

"""StatsService: loads a guild's launches and computes its score, leaderboards and chart."""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass

from tracker import deadlines
from tracker.clock import Clock
from tracker.errors import InvalidInput
from tracker.models import EventKind, Launch
from tracker.ports import Store
from tracker.stats import chart_process
from tracker.stats.as_of import AS_OF_KINDS, as_of
from tracker.stats.leaderboard import DEFAULT_MIN_SCORED, GroupBy, Leaderboard, leaderboard
from tracker.stats.score import EvidenceFilter, Stats, compute_stats, filter_launches

__all__ = ["Chart", "StatsService"]


@dataclass(frozen=True, slots=True)
class Chart:
    """A rendered timeline and how many launches it covers (0: the "nothing to show" image)."""

    png: bytes
    launches: int


class StatsService:
    """Loads a guild's launches and computes its record, leaderboards and timeline chart.

    The pure rules run in worker threads, so a server with 20,000 launches does not hold the
    event loop for the whole computation (threads still share the GIL with it)."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def today(self, guild_id: int) -> dt.date:
        """The guild's calendar day now (its timezone; UTC when that is unusable)."""
        config = await self.store.read.guilds.get_guild(guild_id)
        return deadlines.local_today(self.clock.now(), deadlines.zone_or_utc(config.timezone))

    async def stats(
        self,
        guild_id: int,
        *,
        vendor: str | None = None,
        announcer: str | None = None,
        evidence: EvidenceFilter = "counted",
        today: dt.date | None = None,
    ) -> Stats:
        """The guild's score (/slips stats, the CLI) as of *today* (default: the guild's
        calendar day now), optionally for one vendor and/or announcer."""
        day = today or await self.today(guild_id)
        launches = await self._launches_on(guild_id, day)
        return await asyncio.to_thread(
            compute_stats, launches, day, vendor=vendor, announcer=announcer, evidence=evidence
        )

    async def leaderboard(
        self,
        guild_id: int,
        *,
        by: GroupBy = "vendor",
        min_scored: int = DEFAULT_MIN_SCORED,
        evidence: EvidenceFilter = "counted",
        today: dt.date | None = None,
        vendor: str | None = None,
        announcer: str | None = None,
    ) -> Leaderboard:
        """The guild's vendors (or announcers) ranked by on-time rate (/slips leaderboard),
        optionally over the launches of one vendor and/or announcer only."""
        if not 1 <= min_scored <= 1000:
            raise InvalidInput("The minimum number of scored launches must be 1 to 1000.")
        day = today or await self.today(guild_id)
        launches = filter_launches(
            await self._launches_on(guild_id, day), vendor=vendor, announcer=announcer
        )
        return await asyncio.to_thread(
            leaderboard, launches, day, by=by, min_scored=min_scored, evidence=evidence
        )

    async def _launches_on(self, guild_id: int, day: dt.date) -> list[Launch]:
        """The guild's launches as they stood on *day*: as stored when *day* is today or later,
        else rebuilt from their history (see :func:`tracker.stats.as_of.as_of`)."""
        launches = await self.store.read.launches.all_launches(guild_id)
        if day >= await self.today(guild_id):
            return launches
        events = await self.store.read.events.events_by_launch(guild_id, kinds=AS_OF_KINDS)

        def rewind() -> list[Launch]:
            rebuilt = (as_of(x, events.get(x.id, ()), day) for x in launches)
            return [x for x in rebuilt if x is not None]

        return await asyncio.to_thread(rewind)

    async def chart(
        self,
        guild_id: int,
        *,
        vendor: str | None = None,
        announcer: str | None = None,
        since: dt.date | None = None,
        evidence: EvidenceFilter = "counted",
        title: str | None = None,
        max_rows: int = 40,
    ) -> Chart:
        """A PNG timeline of the guild's launches (/slips chart, digests), optionally only those
        announced on or after *since*.

        It is drawn in a worker process (tracker.stats.chart_process): matplotlib holds the GIL
        for most of a render (a few hundred milliseconds for 40 rows, more on first use while it
        builds its font cache), which in a thread stalled the event loop, and alerts with it."""
        launches = await asyncio.to_thread(
            filter_launches,
            await self.store.read.launches.all_launches(guild_id),
            vendor=vendor,
            announcer=announcer,
            evidence=evidence,
        )
        if since is not None:
            launches = [launch for launch in launches if launch.announced_on >= since]
        events = await self.store.read.events.events_by_launch(
            guild_id, kinds=(EventKind.REANNOUNCED, EventKind.REVIVED)
        )
        today = await self.today(guild_id)
        heading = title or "Promised vs. delivered" + (f": {vendor}" if vendor else "")
        if since is not None and title is None:
            heading += f" (since {since:%Y-%m-%d})"

        png = await chart_process.render_timeline(
            launches, events, today, title=heading, max_rows=max_rows
        )
        return Chart(png=png, launches=len(launches))

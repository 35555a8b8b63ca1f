"""StatsService: loads a guild's launches and computes its score, leaderboards and chart."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tracker import deadlines
from tracker.clock import Clock
from tracker.errors import InvalidInput
from tracker.models import EventKind, Launch, LaunchEvent
from tracker.ports import Store
from tracker.stats import chart_process
from tracker.stats.as_of import AS_OF_KINDS, as_of
from tracker.stats.leaderboard import DEFAULT_MIN_SCORED, GroupBy, Leaderboard, leaderboard
from tracker.stats.score import EvidenceFilter, Stats, compute_stats, filter_launches
from tracker.stats.tallies import scope_of, stored_leaderboard, stored_record

__all__ = ["CHUNK", "Chart", "StatsService"]

# Launches read (and rebuilt as of a past day) at a time.
CHUNK = 1000

EventsByLaunch = Mapping[int, Sequence[LaunchEvent]]


@dataclass(frozen=True, slots=True)
class Chart:
    """A rendered timeline and how many launches it covers (0: the "nothing to show" image)."""

    png: bytes
    launches: int


class StatsService:
    """Computes a guild's record, leaderboards and timeline chart.

    As the guild stands (today), the store counts (tracker.stats.tallies): only the launches a
    figure names are read. As of a past day, each launch is rebuilt from its history
    (tracker.stats.as_of), read in chunks and rebuilt in worker threads; so is the per-launch
    list of ``bot.py stats --json``."""

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
        still_late: int | None = None,
        every_launch: bool = False,
    ) -> Stats:
        """The guild's score (/slips stats, the CLI) as of *today* (default: the guild's
        calendar day now), optionally for one vendor and/or announcer, listing the first
        *still_late* launches still out past their first promise (None: all); with
        *every_launch*, each launch's score too (``Stats.launches``)."""
        now = await self.today(guild_id)
        day = today or now
        if day >= now and not every_launch:
            async with self.store.snapshot() as read:  # its several reads agree
                record, _ = await stored_record(
                    read,
                    guild_id,
                    day,
                    vendor=vendor,
                    announcer=announcer,
                    evidence=evidence,
                    still_late=still_late,
                )
                return record
        launches = await self._launches_on(guild_id, day, now)
        result = await asyncio.to_thread(
            compute_stats, launches, day, vendor=vendor, announcer=announcer, evidence=evidence
        )
        if still_late is None:
            return result
        return dataclasses.replace(result, still_late=result.still_late[:still_late])

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
        now = await self.today(guild_id)
        day = today or now
        if day >= now:
            async with self.store.snapshot() as read:
                return await stored_leaderboard(
                    read,
                    guild_id,
                    day,
                    by=by,
                    min_scored=min_scored,
                    evidence=evidence,
                    vendor=vendor,
                    announcer=announcer,
                )
        launches = filter_launches(
            await self._launches_on(guild_id, day, now), vendor=vendor, announcer=announcer
        )
        return await asyncio.to_thread(
            leaderboard, launches, day, by=by, min_scored=min_scored, evidence=evidence
        )

    async def _launches_on(self, guild_id: int, day: dt.date, today: dt.date) -> list[Launch]:
        """The guild's launches as they stood on *day*: as stored when *day* is *today* or
        later, else rebuilt from their history (see :func:`tracker.stats.as_of.as_of`); read
        CHUNK launches at a time, each chunk rebuilt in a worker thread."""
        out: list[Launch] = []
        after = 0
        async with self.store.snapshot() as read:  # the chunks agree with each other
            while chunk := await read.launches.launches_after(guild_id, after, CHUNK):
                after = chunk[-1].id
                if day >= today:
                    out.extend(chunk)
                    continue
                events = await read.events.events_for([x.id for x in chunk], AS_OF_KINDS)

                def rewind(part: list[Launch] = chunk, history: EventsByLaunch = events) -> None:
                    rebuilt = (as_of(x, history.get(x.id, ()), day) for x in part)
                    out.extend(x for x in rebuilt if x is not None)

                await asyncio.to_thread(rewind)
        return out

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

        The store picks the rows drawn (the most recently announced) and counts the rest;
        only those rows and their re-datings are read. It is drawn in a worker process
        (tracker.stats.chart_process): matplotlib holds the GIL for most of a render (a few
        hundred milliseconds for 40 rows, more on first use while it builds its font cache),
        which in a thread stalled the event loop, and alerts with it."""
        async with self.store.snapshot() as read:
            scope = await scope_of(
                read, guild_id, vendor=vendor, announcer=announcer, evidence=evidence
            )
            shown, count = await read.launches.newest_launches(scope, since, max(1, max_rows))
            events = await read.events.events_for(
                [x.id for x in shown], (EventKind.REANNOUNCED, EventKind.REVIVED)
            )
        today = await self.today(guild_id)
        heading = title or "Promised vs. delivered" + (f": {vendor}" if vendor else "")
        if since is not None and title is None:
            heading += f" (since {since:%Y-%m-%d})"

        png = await chart_process.render_timeline(
            shown, events, today, title=heading, max_rows=max_rows, left_out=count - len(shown)
        )
        return Chart(png=png, launches=count)

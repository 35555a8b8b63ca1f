"""The score of a guild as it stands, computed by the store: the counts and medians in SQL, and
only the launches a figure names (the worst slip, the still-late list) read as records. The
results are exactly those of :func:`tracker.stats.compute_stats` and
:func:`tracker.stats.leaderboard` over the guild's launches (the tests compare them), without
loading the launches: a server with 20,000 launches would otherwise put 20,000 records on the
heap for every /slips command, and the garbage collector's walks over them stop the event loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import functools

from tracker.models import Launch
from tracker.ports import Session
from tracker.records import Followed, LaunchScope
from tracker.stats.leaderboard import GroupBy, Leaderboard, rank, spelling_groups
from tracker.stats.score import EvidenceFilter, Stats, fold_name, stats_from_tally

__all__ = ["scope_of", "stored_leaderboard", "stored_record"]

# Still-late launches scored on the event loop; more are scored in a worker thread.
INLINE = 200


async def _spellings(session: Session, guild_id: int, by: GroupBy, wanted: str) -> tuple[str, ...]:
    """The stored spellings of a vendor (or announcer) that fold to what a person typed."""
    want = fold_name(wanted)
    return tuple(n for n in await session.launches.names(guild_id, by) if fold_name(n) == want)


async def scope_of(
    session: Session,
    guild_id: int,
    *,
    vendor: str | None = None,
    announcer: str | None = None,
    evidence: EvidenceFilter = "all",
) -> LaunchScope:
    """The launches :func:`tracker.stats.filter_launches` would keep, as a scope the store
    understands: the typed names resolved to their stored spellings."""
    return LaunchScope(
        guild_id=guild_id,
        vendors=await _spellings(session, guild_id, "vendor", vendor) if vendor else None,
        announcers=(
            await _spellings(session, guild_id, "announcer", announcer) if announcer else None
        ),
        rumours=evidence == "all",
    )


async def stored_record(
    session: Session,
    guild_id: int,
    today: dt.date,
    *,
    vendor: str | None = None,
    announcer: str | None = None,
    evidence: EvidenceFilter = "counted",
    still_late: int | None = None,
    followed: Followed | None = None,
) -> tuple[Stats, list[Launch]]:
    """:func:`tracker.stats.compute_stats` over the guild's launches as stored, on *today*,
    listing the first *still_late* launches still out (None: all of them), with no per-launch
    scores (``Stats.launches`` is empty); and the launches its still-late list names, in its
    order (a digest shows their windows). Only over the launches *followed*, if given (a
    subscriber's digest)."""
    scope = await scope_of(session, guild_id, vendor=vendor, announcer=announcer, evidence=evidence)
    if followed is not None:
        scope = dataclasses.replace(scope, followed=followed)
    tally = await session.launches.tally(scope, today)
    worst: list[Launch] = []
    overdue: list[Launch] = []
    if tally.shipped_late or tally.overdue_open:
        worst = await session.launches.late_launches(scope, today, open_only=False, limit=1)
    if tally.overdue_open and still_late != 0:
        overdue = await session.launches.late_launches(
            scope, today, open_only=True, limit=still_late
        )
    build = functools.partial(
        stats_from_tally,
        tally,
        today,
        worst=worst[0] if worst else None,
        still_late=overdue,
        vendor=vendor,
        announcer=announcer,
        evidence=evidence,
    )
    # Scoring thousands of still-late launches takes a while: not on the event loop.
    record = await asyncio.to_thread(build) if len(overdue) > INLINE else build()
    return record, overdue


async def stored_leaderboard(
    session: Session,
    guild_id: int,
    today: dt.date,
    *,
    by: GroupBy = "vendor",
    min_scored: int,
    evidence: EvidenceFilter = "counted",
    vendor: str | None = None,
    announcer: str | None = None,
) -> Leaderboard:
    """:func:`tracker.stats.leaderboard` over the guild's launches as stored (optionally only
    those of *vendor* / by *announcer*), on *today*."""
    if min_scored < 1:
        raise ValueError("min_scored must be at least 1")
    scope = await scope_of(session, guild_id, vendor=vendor, announcer=announcer, evidence=evidence)
    records: list[tuple[str, Stats]] = []
    for name, members in spelling_groups(await session.launches.tally_by(scope, today, by)):
        tally = members[0].tally
        if len(members) > 1:
            # Several spellings of one name: its medians are over all of them together.
            spellings = tuple(m.name for m in members)
            together = (
                dataclasses.replace(scope, vendors=spellings)
                if by == "vendor"
                else dataclasses.replace(scope, announcers=spellings)
            )
            tally = await session.launches.tally(together, today)
        records.append((name, stats_from_tally(tally, today, worst=None, still_late=())))
    return rank(records, by=by, min_scored=min_scored, evidence=evidence)

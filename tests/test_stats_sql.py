"""The score computed by the store (tracker.stats.tallies over storage/scores.py) against the pure
rules (tracker.stats.compute_stats, leaderboard, build_digest), on varied launches, on SQLite and
on PostgreSQL: the figures, the names shown, the still-late list, the chart's rows and the
digest must be exactly the same, whichever computed them."""

from __future__ import annotations

import dataclasses
import datetime as dt
import heapq
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from storage.db import open_database
from storage.session import SqlStore
from tracker.clock import SimClock
from tracker.digests import DigestService, build_digest
from tracker.models import EventKind, Evidence, Launch, LaunchState, Precision
from tracker.stats import StatsService, compute_stats, filter_launches, leaderboard
from tracker.stats.tallies import scope_of

D = dt.date
UTC = dt.UTC
# The guild's clock: before every day the tests score on, so the store computes the figures.
NOW = dt.datetime(2024, 1, 1, 12, tzinfo=UTC)
STAMP = dt.datetime(2023, 6, 1, tzinfo=UTC)

# Spellings that fold together (case, spaces, ß/SS) and apart.
VENDORS = ("OpenAI", "openai", "Open  AI", " OpenAI ", "Straße", "STRASSE", "xAI", "Ünï", "ünï")
ANNOUNCERS = (None, "", "  ", "Sam Altman", "sam  altman", "Elon", "ELON")
VENDOR_FILTERS = (None, "openai", "OPEN AI", "strasse", "ÜNÏ", "nobody")
ANNOUNCER_FILTERS = (None, "sam altman", "elon", "nobody")

_guilds = itertools.count(1000)

SLOW = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@st.composite
def launches(draw: st.DrawFn) -> Launch:
    """One launch in any state, with days that may be early, late, equal or missing."""
    announced = D(2024, 1, 1) + dt.timedelta(days=draw(st.integers(0, 400)))
    first_end = announced + dt.timedelta(days=draw(st.integers(-5, 200)))
    window_end = first_end + dt.timedelta(days=draw(st.integers(-10, 200)))
    state = draw(st.sampled_from(LaunchState))
    shipped_on = cancelled_on = None
    if state is LaunchState.SHIPPED and draw(st.integers(0, 9)):
        # On the day of either promise (the edges of "on time" and "kept"), or any day.
        shipped_on = draw(
            st.sampled_from((first_end, window_end))
            | st.integers(-10, 600).map(lambda n: announced + dt.timedelta(days=n))
        )
    if state is LaunchState.CANCELLED and draw(st.booleans()):
        cancelled_on = announced + dt.timedelta(days=draw(st.integers(0, 600)))
    deadline = dt.datetime.combine(window_end + dt.timedelta(days=1), dt.time(), UTC)
    return Launch(
        id=0,
        guild_id=0,
        product=draw(st.sampled_from(("Model A", "Model B", "Ünïcode ✨"))),
        vendor=draw(st.sampled_from(VENDORS)),
        announcer=draw(st.sampled_from(ANNOUNCERS)),
        source_url=None,
        quote=None,
        announced_on=announced,
        window_phrase=f"by {window_end.isoformat()}",
        window_start=window_end,
        window_end=window_end,
        window_rule="explicit_date",
        timezone=None,
        deadline_at=deadline + dt.timedelta(minutes=draw(st.integers(-5, 5))),
        state=state,
        slip_count=draw(st.integers(0, 3)),
        revision=0,
        shipped_on=shipped_on,
        cancelled_on=cancelled_on,
        days_late=draw(st.one_of(st.none(), st.integers(-30, 90))),
        next_due_at=None,
        created_at=STAMP,
        updated_at=STAMP,
        first_window_end=first_end,
        evidence=draw(st.sampled_from(Evidence)),
        outcome_precision=draw(st.sampled_from(Precision)),
    )


DAYS = st.integers(0, 700).map(lambda n: D(2024, 1, 1) + dt.timedelta(days=n))
# Scoring days late enough that most launches are due: medians over many, ties, both parities.
LATE_DAYS = st.integers(150, 700).map(lambda n: D(2024, 1, 1) + dt.timedelta(days=n))
SERVERS = st.lists(launches(), min_size=3, max_size=40)


@asynccontextmanager
async def stored(target: str, records: list[Launch]) -> AsyncIterator[Any]:
    """*records* stored in a guild of their own; yields (store, guild id, the records as
    stored: with their ids and the guild)."""
    guild = next(_guilds)
    async with open_database(target) as db:
        store = SqlStore(db)
        mirror = []
        async with store.transaction() as tx:
            for record in records:
                mine = dataclasses.replace(record, guild_id=guild)
                mirror.append(
                    dataclasses.replace(mine, id=await tx.launches.insert_launch_record(mine))
                )
        yield store, guild, mirror


@SLOW
@given(
    records=SERVERS,
    today=LATE_DAYS,
    vendor=st.sampled_from(VENDOR_FILTERS),
    announcer=st.sampled_from(ANNOUNCER_FILTERS),
    evidence=st.sampled_from(("counted", "all")),
    listed=st.sampled_from((None, 0, 1, 3)),
)
async def test_the_stored_score_is_the_pure_score(
    db_target: str,
    records: list[Launch],
    today: dt.date,
    vendor: str | None,
    announcer: str | None,
    evidence: Any,
    listed: int | None,
) -> None:
    async with stored(db_target, records) as (store, guild, mirror):
        service = StatsService(store, SimClock(NOW))
        got = await service.stats(
            guild,
            vendor=vendor,
            announcer=announcer,
            evidence=evidence,
            today=today,
            still_late=listed,
        )
    pure = compute_stats(mirror, today, vendor=vendor, announcer=announcer, evidence=evidence)
    cut = pure.still_late if listed is None else pure.still_late[:listed]
    assert got == dataclasses.replace(pure, launches=(), still_late=cut)


@SLOW
@given(
    records=SERVERS,
    today=LATE_DAYS,
    by=st.sampled_from(("vendor", "announcer")),
    minimum=st.integers(1, 3),
    evidence=st.sampled_from(("counted", "all")),
    vendor=st.sampled_from((None, "openai", "nobody")),
)
async def test_the_stored_leaderboard_is_the_pure_leaderboard(
    db_target: str,
    records: list[Launch],
    today: dt.date,
    by: Any,
    minimum: int,
    evidence: Any,
    vendor: str | None,
) -> None:
    async with stored(db_target, records) as (store, guild, mirror):
        service = StatsService(store, SimClock(NOW))
        got = await service.leaderboard(
            guild, by=by, min_scored=minimum, evidence=evidence, today=today, vendor=vendor
        )
    pure = leaderboard(
        filter_launches(mirror, vendor=vendor),
        today,
        by=by,
        min_scored=minimum,
        evidence=evidence,
    )
    assert got == pure


@SLOW
@given(
    records=st.lists(launches(), max_size=30),
    vendor=st.sampled_from(VENDOR_FILTERS),
    evidence=st.sampled_from(("counted", "all")),
    since=st.one_of(st.none(), DAYS),
    rows=st.integers(1, 8),
)
async def test_the_chart_rows_are_the_most_recently_announced(
    db_target: str,
    records: list[Launch],
    vendor: str | None,
    evidence: Any,
    since: dt.date | None,
    rows: int,
) -> None:
    async with stored(db_target, records) as (store, guild, mirror):
        scope = await scope_of(store.read, guild, vendor=vendor, evidence=evidence)
        shown, count = await store.read.launches.newest_launches(scope, since, rows)
    chosen = [
        x
        for x in filter_launches(mirror, vendor=vendor, evidence=evidence)
        if since is None or x.announced_on >= since
    ]
    assert count == len(chosen)
    assert shown == heapq.nlargest(rows, chosen, key=lambda x: (x.announced_on, x.id))


def _event_data(kind: EventKind, data: st.DataObject) -> dict[str, Any]:
    draw = data.draw
    if kind is EventKind.SLIPPED:
        return {"days_late": draw(st.integers(0, 40)), "due_at": "2025-03-01T00:00:00+00:00"}
    if kind in (EventKind.REANNOUNCED, EventKind.REVIVED):
        return {
            "from_window": draw(st.sampled_from(("Q1", "soon", None))),
            "window": "later",
            "slip_count": draw(st.integers(0, 3)),
        }
    return {}


@SLOW
@given(
    records=st.lists(launches(), min_size=1, max_size=20),
    data=st.data(),
    hours=st.integers(1, 24 * 60),
)
async def test_the_summary_from_the_store_is_the_pure_digest(
    db_target: str, records: list[Launch], data: st.DataObject, hours: int
) -> None:
    """/slips summary (the digest so far, read without loading every launch) against
    build_digest over every launch and every event of the period."""
    now = dt.datetime(2025, 3, 10, 9, 30, tzinfo=UTC)
    kinds = st.sampled_from(
        (
            EventKind.CREATED,
            EventKind.SLIPPED,
            EventKind.SHIPPED,
            EventKind.CANCELLED,
            EventKind.REANNOUNCED,
            EventKind.REVIVED,
            EventKind.NOTE,
        )
    )
    # Deadlines around now, so that some fall in the next 30 days.
    records = [
        dataclasses.replace(
            x, deadline_at=now + dt.timedelta(hours=data.draw(st.integers(-200, 24 * 40)))
        )
        for x in records
    ]
    async with stored(db_target, records) as (store, guild, mirror):
        async with store.transaction() as tx:
            for _ in range(data.draw(st.integers(0, 25))):
                launch = data.draw(st.sampled_from(mirror))
                kind = data.draw(kinds)
                await tx.events.append_event(
                    launch_id=launch.id,
                    guild_id=guild,
                    kind=kind,
                    at=now - dt.timedelta(minutes=data.draw(st.integers(0, 60 * hours))),
                    actor="tester",
                    data=_event_data(kind, data),
                )
        service = DigestService(store, SimClock(now))
        config = await store.read.guilds.get_guild(guild)
        got = await service.preview(guild, days=7)
        start = now - dt.timedelta(days=7)
        events = await store.read.events.guild_events_between(
            guild, start, now + dt.timedelta(milliseconds=1)
        )
    pure = build_digest(config, mirror, events, now.date(), now, schedule="")
    assert got == dataclasses.replace(pure, period_start=start, period_end=now)

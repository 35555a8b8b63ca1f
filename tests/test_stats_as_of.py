"""The score as of a past day through StatsService: the launches are read and rebuilt from
their history a chunk at a time (tracker.stats.service.CHUNK), and the figures are exactly the
pure rules' over the launches rebuilt whole."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from storage.db import open_database
from storage.session import SqlStore
from tracker import eventlog
from tracker.clock import SimClock
from tracker.models import GuildConfig, Launch, LaunchEvent
from tracker.records import NewEvent
from tracker.stats import StatsService, as_of, compute_stats, leaderboard
from tracker.stats import service as stats_service

NOW = dt.datetime(2025, 6, 30, 12, tzinfo=dt.UTC)
HISTORY = eventlog.read_log((Path(__file__).parent / "fixtures" / "history.csv").read_text())


@pytest.mark.parametrize("day", [dt.date(2024, 12, 31), dt.date(2025, 2, 20), dt.date(2023, 1, 1)])
async def test_the_score_as_of_a_past_day_is_rebuilt_in_chunks(
    db_target: str, monkeypatch: pytest.MonkeyPatch, day: dt.date
) -> None:
    monkeypatch.setattr(stats_service, "CHUNK", 4)  # 15 launches: four chunks
    rows, issues = HISTORY
    assert issues == []
    replayed, problems = eventlog.replay(rows, GuildConfig(7), NOW)
    assert problems == []
    stored: list[tuple[Launch, list[LaunchEvent]]] = []
    async with open_database(db_target) as db:
        store = SqlStore(db)
        async with store.transaction() as tx:
            for item in replayed:
                launch = dataclasses.replace(item.launch, guild_id=7)
                launch = dataclasses.replace(
                    launch, id=await tx.launches.insert_launch_record(launch)
                )
                await tx.events.append_events(
                    [NewEvent(launch.id, 7, e.kind, e.at, e.actor, e.data) for e in item.events]
                )
                stored.append((launch, await tx.events.launch_events(launch.id)))
        service = StatsService(store, SimClock(NOW))
        got = await service.stats(7, today=day)
        board = await service.leaderboard(7, today=day, min_scored=1)
    rebuilt = [
        x for x in (as_of(launch, events, day) for launch, events in stored) if x is not None
    ]
    assert got == compute_stats(rebuilt, day)
    assert board == leaderboard(rebuilt, day, min_scored=1)
    assert got.total + got.rumours_left_out == len(rebuilt)
    assert (got.total > 0) == (day.year > 2023)

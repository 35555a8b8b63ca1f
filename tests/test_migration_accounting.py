"""The accounting migration keeps every row of an existing database and fills the first promise,
signed lateness and the defaults in from what was stored."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import aiosqlite

from storage.db import SqliteDatabase, bundled_migrations, migrate
from storage.session import SqlStore
from tracker.models import Evidence, LaunchState, Precision
from tracker.stats import days_late

MS = 1_735_689_600_000  # 2025-01-01T00:00Z


def _accounting() -> int:
    return next(m.version for m in bundled_migrations() if m.name.endswith("_accounting.sql"))


async def _old_database(path: Path) -> None:
    """A database as the version before the accounting migration left it, with history."""
    previous = [m for m in bundled_migrations() if m.version < _accounting()]
    async with aiosqlite.connect(path, isolation_level=None) as raw:
        await migrate(raw, previous)
        launch = (
            "INSERT INTO launches (id, guild_id, product, vendor, announced_on, window_phrase, "
            "window_start, window_end, window_rule, deadline_at, state, slip_count, shipped_on, "
            "cancelled_on, days_late, created_at, updated_at) "
            "VALUES (?, 7, ?, 'xAI', ?, ?, ?, ?, 'x', ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        rows = [
            # Re-announced from "end of 2024" to February, shipped Feb 17: the old figure was 0
            # days late against the last window; against the first it is 48.
            (1, "Grok 3", "2024-07-01", "February 2025", "2025-02-01", "2025-02-28",
             "shipped", 1, "2025-02-17", None, 0),
            # Shipped early: the old figure was clamped to 0.
            (2, "Grok 2", "2024-03-01", "August", "2024-08-01", "2024-08-31",
             "shipped", 0, "2024-08-13", None, 0),
            # Cancelled late: the old figure invented a lateness.
            (3, "Grok 1.5", "2024-03-01", "May", "2024-05-01", "2024-05-31",
             "cancelled", 0, None, "2024-06-15", 15),
            # Still out, imported without history: its current window is its first promise.
            (4, "Grok 4", "2025-01-01", "Q1 2025", "2025-01-01", "2025-03-31",
             "slipped", 0, None, None, 7),
        ]  # fmt: skip
        for (lid, product, announced, phrase, start, end, state, slips, shipped, cancelled,
             late) in rows:  # fmt: skip
            await raw.execute(
                launch,
                (lid, product, announced, phrase, start, end, MS, state, slips, shipped,
                 cancelled, late, MS, MS),
            )  # fmt: skip
        created = json.dumps({"window": "end of 2024", "window_end": "2024-12-31"})
        for lid, data in ((1, created), (2, json.dumps({"window_end": "2024-08-31"}))):
            await raw.execute(
                "INSERT INTO launch_events (launch_id, guild_id, kind, at, actor, data) "
                "VALUES (?, 7, 'created', ?, 'mod', ?)",
                (lid, MS, data),
            )
        await raw.execute(
            "INSERT INTO launch_events (launch_id, guild_id, kind, at, actor, data) "
            "VALUES (1, 7, 'reannounced', ?, 'mod', ?)",
            (MS, json.dumps({"window": "February 2025", "window_end": "2025-02-28"})),
        )
        await raw.execute(
            "INSERT INTO subscriptions (guild_id, user_id, scope, target, created_at) "
            "VALUES (7, 99, 'vendor', 'xai', ?)",
            (MS,),
        )


async def test_existing_rows_survive_and_get_their_first_promise(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite"
    await _old_database(path)
    async with SqliteDatabase.open(path) as db:
        assert await db.user_version() == len(bundled_migrations())
        counts = [
            (await db.fetchone(f"SELECT COUNT(*) AS n FROM {table}") or {"n": -1})["n"]
            for table in ("launches", "launch_events", "subscriptions")
        ]
        assert counts == [4, 3, 1]
        launches = {x.product: x for x in await SqlStore(db).read.launches.all_launches(7)}
        grok3 = launches["Grok 3"]
        assert (grok3.first_window_end, grok3.window_end, grok3.days_late) == (
            dt.date(2024, 12, 31),
            dt.date(2025, 2, 28),
            48,
        )
        assert launches["Grok 2"].days_late == -18  # Aug 13 -> Aug 31, no longer clamped
        assert launches["Grok 1.5"].days_late is None  # cancelled: no lateness
        assert launches["Grok 1.5"].state is LaunchState.CANCELLED
        grok4 = launches["Grok 4"]
        assert grok4.first_window_end == grok4.window_end
        assert days_late(grok4, dt.date(2025, 4, 10)) == 10
        for launch in launches.values():
            assert launch.evidence is Evidence.OFFICIAL
            assert launch.announced_precision is Precision.DAY
            assert launch.outcome_precision is Precision.DAY
        assert [s.target for s in await SqlStore(db).read.subscriptions.user_subscriptions(99)] == [
            "xai"
        ]

"""Repository functions for summaries: digest runs, digest subscriptions, whole histories, and
writing imported launches with every field.

Like storage.repo: each function takes a connection (the writer inside
``Database.transaction()`` for changes, ``Database.read`` for queries) and binds every value with
``?``. Queries run as one ``execute_fetchall`` job each, so a statement never stays open across
an ``await``: on the shared reader connection an open statement pins the read snapshot for every
other coroutine's queries until it is reset, so they would read stale rows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from storage.db import Connection, from_ms, to_ms
from tracker.models import (
    EventKind,
    LaunchEvent,
    Subscription,
    SubscriptionScope,
)

Conn = Connection

DIGEST_OUTCOMES = ("posted", "no_channel", "skipped", "baseline")

# --------------------------------------------------------------------------- digest runs


@dataclass(frozen=True, slots=True)
class DigestRun:
    """One handled digest period of one guild (see migration 002)."""

    id: int
    guild_id: int
    period_key: str
    period_start: dt.datetime
    period_end: dt.datetime
    outcome: str  # one of DIGEST_OUTCOMES
    late: bool
    dm_count: int
    schedule: str
    timezone: str
    created_at: dt.datetime


def _row_to_run(row: sqlite3.Row) -> DigestRun:
    return DigestRun(
        id=row["id"],
        guild_id=row["guild_id"],
        period_key=row["period_key"],
        period_start=from_ms(row["period_start"]),
        period_end=from_ms(row["period_end"]),
        outcome=row["outcome"],
        late=bool(row["late"]),
        dm_count=row["dm_count"],
        schedule=row["schedule"],
        timezone=row["timezone"],
        created_at=from_ms(row["created_at"]),
    )


async def insert_digest_run(
    conn: Conn,
    *,
    guild_id: int,
    period_key: str,
    period_start: dt.datetime,
    period_end: dt.datetime,
    outcome: str,
    late: bool,
    dm_count: int,
    schedule: str,
    timezone: str,
    now: dt.datetime,
) -> bool:
    """Record a handled period; False (and nothing written) when it was already recorded."""
    if outcome not in DIGEST_OUTCOMES:
        raise ValueError(f"unknown digest outcome {outcome!r}")
    cur = await conn.execute(
        "INSERT INTO digest_runs (guild_id, period_key, period_start, period_end, "
        "outcome, late, dm_count, schedule, timezone, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (
            guild_id,
            period_key,
            to_ms(period_start),
            to_ms(period_end),
            outcome,
            1 if late else 0,
            dm_count,
            schedule,
            timezone,
            to_ms(now),
        ),
    )
    inserted = cur.rowcount == 1
    await cur.close()
    return inserted


async def set_digest_run_schedule(conn: Conn, run_id: int, schedule: str, timezone: str) -> None:
    """Re-label a handled period with the guild's new schedule and timezone, so that the next
    periods count from it (the schedule changed after this period was handled)."""
    await conn.execute(
        "UPDATE digest_runs SET schedule = ?, timezone = ? WHERE id = ?",
        (schedule, timezone, run_id),
    )


async def last_digest_run(conn: Conn, guild_id: int) -> DigestRun | None:
    """The most recently recorded period of a guild."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM digest_runs WHERE guild_id = ? ORDER BY id DESC LIMIT 1", (guild_id,)
    )
    return next((_row_to_run(r) for r in rows), None)


async def digest_runs(conn: Conn, guild_id: int, limit: int = 20) -> list[DigestRun]:
    """A guild's recorded periods, newest first."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM digest_runs WHERE guild_id = ? ORDER BY id DESC LIMIT ?",
        (guild_id, limit),
    )
    return [_row_to_run(r) for r in rows]


@dataclass(frozen=True, slots=True)
class DigestGuild:
    """What the digest timer needs to know about one guild."""

    guild_id: int
    timezone: str
    schedule: str  # GuildConfig.digest_schedule as stored


async def next_digest_due(conn: Conn) -> tuple[bool, dt.datetime | None]:
    """(whether some guild's next digest time is not computed yet, the earliest stored one)
    over guilds whose digests are not off: two index lookups, however many guilds exist."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT EXISTS (SELECT 1 FROM guilds WHERE digest_schedule <> 'off' "
            "AND digest_due_at IS NULL), "
            "(SELECT MIN(digest_due_at) FROM guilds WHERE digest_schedule <> 'off')"
        )
    )
    pending, earliest = (rows[0][0], rows[0][1]) if rows else (0, None)
    return bool(pending), from_ms(earliest) if earliest is not None else None


async def due_digest_guilds(conn: Conn, now: dt.datetime, limit: int) -> list[DigestGuild]:
    """Guilds whose digest needs handling at *now* (its time has come, or it is not computed
    yet), at most *limit*, earliest first."""
    # Two index range reads (not one OR, which would scan every guild).
    rows = list(
        await conn.execute_fetchall(
            "SELECT guild_id, timezone, digest_schedule FROM guilds "
            "WHERE digest_schedule <> 'off' AND digest_due_at IS NULL "
            "ORDER BY guild_id LIMIT ?",
            (limit,),
        )
    )
    if len(rows) < limit:
        rows += await conn.execute_fetchall(
            "SELECT guild_id, timezone, digest_schedule FROM guilds "
            "WHERE digest_schedule <> 'off' AND digest_due_at <= ? "
            "ORDER BY digest_due_at, guild_id LIMIT ?",
            (to_ms(now), limit - len(rows)),
        )
    return [DigestGuild(r[0], r[1], r[2]) for r in rows]


async def set_digest_due(conn: Conn, guild_id: int, due_at: dt.datetime) -> None:
    """Store when the guild's digest next needs handling."""
    await conn.execute(
        "UPDATE guilds SET digest_due_at = ? WHERE guild_id = ?", (to_ms(due_at), guild_id)
    )


# --------------------------------------------------------------------------- subscriptions


async def digest_subscriptions(conn: Conn, guild_id: int) -> list[Subscription]:
    """A guild's active (not paused) subscriptions in digest mode, by user."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM subscriptions WHERE guild_id = ? AND mode = 'digest' "
        "AND paused_reason IS NULL ORDER BY user_id, id",
        (guild_id,),
    )
    return [
        Subscription(
            id=r["id"],
            guild_id=r["guild_id"],
            user_id=r["user_id"],
            scope=SubscriptionScope(r["scope"]),
            target=r["target"],
            mode=r["mode"],
            paused_reason=r["paused_reason"],
            created_at=from_ms(r["created_at"]),
            label=r["label"],
        )
        for r in rows
    ]


# --------------------------------------------------------------------------- histories


def _row_to_event(row: sqlite3.Row) -> LaunchEvent:
    return LaunchEvent(
        id=row["id"],
        launch_id=row["launch_id"],
        guild_id=row["guild_id"],
        kind=EventKind(row["kind"]),
        at=from_ms(row["at"]),
        actor=row["actor"],
        source_url=row["source_url"],
        note=row["note"],
        data=json.loads(row["data"]),
    )


async def events_by_launch(
    conn: Conn, guild_id: int, kinds: Iterable[EventKind] | None = None
) -> dict[int, list[LaunchEvent]]:
    """Every history row of a guild (only of *kinds*, if given), grouped by launch, each list
    oldest first. Launches without any matching event are absent."""
    sql = "SELECT * FROM launch_events WHERE guild_id = ?"
    params: list[Any] = [guild_id]
    wanted = [k.value for k in kinds] if kinds is not None else None
    if wanted is not None:
        if not wanted:
            return {}
        sql += f" AND kind IN ({','.join('?' * len(wanted))})"
        params.extend(wanted)
    sql += " ORDER BY launch_id, id"
    rows = list(await conn.execute_fetchall(sql, params))
    if len(rows) > 500:
        # A big server's whole history: turned into records off the event loop.
        return await asyncio.to_thread(_group_events, rows)
    return _group_events(rows)


def _group_events(rows: list[sqlite3.Row]) -> dict[int, list[LaunchEvent]]:
    grouped: dict[int, list[LaunchEvent]] = {}
    for row in rows:
        event = _row_to_event(row)
        grouped.setdefault(event.launch_id, []).append(event)
    return grouped

"""Bulk loading for benchmarks and fixtures: millions of launch rows through plain sqlite3,
in one transaction, bypassing the per-row service layer (no events, no outbox)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from storage.db import Database, to_ms


@dataclass(frozen=True, slots=True)
class BulkLaunch:
    """The columns a bulk-loaded upcoming launch needs."""

    guild_id: int
    product: str
    vendor: str
    announced_on: dt.date
    window_end: dt.date
    deadline_at: dt.datetime
    next_due_at: dt.datetime | None


_INSERT_LAUNCH = (
    "INSERT INTO launches (guild_id, product, vendor, announced_on, window_phrase, "
    "window_start, window_end, window_rule, deadline_at, next_due_at, created_at, "
    "updated_at, first_window_end) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, 'explicit_date', ?, ?, ?, ?, ?)"
)


def _launch_values(launches: Iterable[BulkLaunch], stamp: int) -> Iterator[tuple[object, ...]]:
    for launch in launches:
        yield (
            launch.guild_id,
            launch.product,
            launch.vendor,
            launch.announced_on.isoformat(),
            launch.window_end.isoformat(),
            launch.window_end.isoformat(),
            launch.window_end.isoformat(),
            to_ms(launch.deadline_at),
            to_ms(launch.next_due_at) if launch.next_due_at else None,
            stamp,
            stamp,
            launch.window_end.isoformat(),
        )


async def insert_launches_into(
    db: Database, launches: Iterable[BulkLaunch], now: dt.datetime
) -> int:
    """Insert upcoming launches through an open database of either backend, in one
    transaction (benchmarks on PostgreSQL); returns how many."""
    async with db.transaction() as conn:
        cur = await conn.executemany(_INSERT_LAUNCH, _launch_values(launches, to_ms(now)))
        count = cur.rowcount
        await cur.close()
    return count


def insert_launches(
    path: str, launches: Iterable[BulkLaunch], now: dt.datetime, *, checkpoint: bool = True
) -> int:
    """Insert upcoming launches into an already migrated database; returns how many."""
    stamp = to_ms(now)
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        cur = conn.executemany(_INSERT_LAUNCH, _launch_values(launches, stamp))
        count = cur.rowcount
        conn.execute("COMMIT")
        if checkpoint:
            # Fold the WAL into the main file, as a long-running database would have done.
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return count
    finally:
        conn.close()


def set_alert_channel(path: str, guild_id: int, channel_id: int, now: dt.datetime) -> None:
    """Configure a guild's alert channel directly (bench setup)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute(
            "INSERT INTO guilds (guild_id, alert_channel_id, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET alert_channel_id = excluded.alert_channel_id",
            (guild_id, channel_id, to_ms(now)),
        )
    finally:
        conn.close()


def insert_guilds(
    path: str, guild_ids: Iterable[int], now: dt.datetime, digest_due_at: dt.datetime | None
) -> int:
    """Configure many guilds with default settings in one transaction (bench setup), their
    next digest time already computed, as a running bot leaves them."""
    stamp = to_ms(now)
    due = to_ms(digest_due_at) if digest_due_at is not None else None
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        cur = conn.executemany(
            "INSERT INTO guilds (guild_id, updated_at, digest_due_at) VALUES (?, ?, ?) "
            "ON CONFLICT (guild_id) DO NOTHING",
            ((gid, stamp, due) for gid in guild_ids),
        )
        count = cur.rowcount
        conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return count
    finally:
        conn.close()


async def subscribe_users(
    db: Database, guild_id: int, user_ids: Iterable[int], vendor: str, now: dt.datetime
) -> int:
    """Subscribe many users of a guild to a vendor's launches (instant DMs) in one transaction
    (bench setup); returns how many subscriptions were added."""
    async with db.transaction() as conn:
        cur = await conn.executemany(
            "INSERT INTO subscriptions (guild_id, user_id, scope, target, mode, created_at) "
            "VALUES (?, ?, 'vendor', ?, 'instant', ?) ON CONFLICT DO NOTHING",
            [(guild_id, user_id, vendor.casefold(), to_ms(now)) for user_id in user_ids],
        )
        count = cur.rowcount
        await cur.close()
    return count

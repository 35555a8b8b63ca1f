"""Launches and their deadlines."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from storage.batch import insert_returning_ids, insert_rows
from storage.db import ceil_ms, from_ms_or_none, to_ms
from storage.events import EVENT_COLUMNS, event_values
from storage.rows import (
    INLINE_ROWS,
    Repository,
    chunks,
    followed_clause,
    row_to_launch,
    skip_locked,
    values_rows,
)
from storage.scores import ScoreSql, row_to_name_tally, row_to_tally
from tracker.models import (
    Evidence,
    Launch,
    LaunchState,
    Precision,
)
from tracker.ports.launches import PreparedRecords
from tracker.records import Advance, Followed, LaunchRecord, LaunchScope, NameTally, ScoreTally

_LAUNCH_FIELDS = (
    "product",
    "vendor",
    "announcer",
    "source_url",
    "quote",
    "announced_on",
    "window_phrase",
    "window_start",
    "window_end",
    "window_rule",
    "timezone",
    "deadline_at",
    "state",
    "slip_count",
    "revision",
    "shipped_on",
    "cancelled_on",
    "days_late",
    "next_due_at",
    "first_window_end",
    "evidence",
    "announced_precision",
    "outcome_precision",
)


def _launch_values(launch: Launch) -> tuple[Any, ...]:
    """*launch*'s values for :data:`_LAUNCH_FIELDS`, in storage form."""
    return (
        launch.product,
        launch.vendor,
        launch.announcer,
        launch.source_url,
        launch.quote,
        launch.announced_on.isoformat(),
        launch.window_phrase,
        launch.window_start.isoformat(),
        launch.window_end.isoformat(),
        launch.window_rule,
        launch.timezone,
        to_ms(launch.deadline_at),
        launch.state.value,
        launch.slip_count,
        launch.revision,
        launch.shipped_on.isoformat() if launch.shipped_on else None,
        launch.cancelled_on.isoformat() if launch.cancelled_on else None,
        launch.days_late,
        to_ms(launch.next_due_at) if launch.next_due_at else None,
        launch.first_window_end.isoformat(),
        launch.evidence.value,
        launch.announced_precision.value,
        launch.outcome_precision.value,
    )


RECORD_COLUMNS = ("guild_id", *_LAUNCH_FIELDS, "created_at", "updated_at")
_INSERT_RECORD = (
    f"INSERT INTO launches ({', '.join(RECORD_COLUMNS)}) "
    f"VALUES {values_rows(1, len(RECORD_COLUMNS))} RETURNING id"
)


def _record_values(launch: Launch) -> tuple[Any, ...]:
    """*launch*'s values for :data:`RECORD_COLUMNS`: every stored field as given."""
    return (
        launch.guild_id,
        *_launch_values(launch),
        to_ms(launch.created_at),
        to_ms(launch.updated_at),
    )


@dataclass(frozen=True, slots=True)
class SqlPreparedRecords:
    """Launch records as rows for :data:`RECORD_COLUMNS`, and their history rows for
    storage.events.EVENT_COLUMNS without the launch id, each with the place of its launch."""

    launches: list[tuple[Any, ...]]
    events: list[tuple[int, tuple[Any, ...]]]

    def __len__(self) -> int:
        return len(self.launches)


def _launch_filter(
    guild_id: int, vendor: str | None, states: Sequence[LaunchState] | None
) -> tuple[str, list[Any]]:
    """The WHERE clause (with its parameters) shared by listing and counting."""
    where = "guild_id = ?"
    params: list[Any] = [guild_id]
    if vendor:
        where += " AND vendor = ? COLLATE NOCASE"
        params.append(vendor)
    if states:
        where += f" AND state IN ({','.join('?' * len(states))})"
        params.extend(s.value for s in states)
    return where, params


def _rows_to_launches(rows: list[sqlite3.Row]) -> list[Launch]:
    return [row_to_launch(r) for r in rows]


def _rows_to_keys(rows: list[sqlite3.Row]) -> list[tuple[str, str, dt.date]]:
    return [(r[0], r[1], dt.date.fromisoformat(r[2])) for r in rows]


async def _launches(rows: list[sqlite3.Row]) -> list[Launch]:
    """Rows to records; many of them off the event loop."""
    if len(rows) > INLINE_ROWS:
        return await asyncio.to_thread(_rows_to_launches, rows)
    return _rows_to_launches(rows)


class SqlLaunches(Repository):
    """Launches and their deadlines."""

    __slots__ = ()

    async def insert_launch(
        self,
        *,
        guild_id: int,
        product: str,
        vendor: str,
        announcer: str | None,
        source_url: str | None,
        quote: str | None,
        announced_on: dt.date,
        window_phrase: str,
        window_start: dt.date,
        window_end: dt.date,
        window_rule: str,
        timezone: str | None,
        deadline_at: dt.datetime,
        next_due_at: dt.datetime | None,
        now: dt.datetime,
        evidence: Evidence = Evidence.OFFICIAL,
        announced_precision: Precision = Precision.DAY,
    ) -> Launch:
        """Insert an upcoming launch (its window is its first promise) and return it."""
        rows = list(
            await self._conn.execute_fetchall(
                "INSERT INTO launches (guild_id, product, vendor, announcer, source_url, quote, "
                "announced_on, window_phrase, window_start, window_end, window_rule, timezone, "
                "deadline_at, next_due_at, created_at, updated_at, first_window_end, evidence, "
                "announced_precision) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *",
                (
                    guild_id,
                    product,
                    vendor,
                    announcer,
                    source_url,
                    quote,
                    announced_on.isoformat(),
                    window_phrase,
                    window_start.isoformat(),
                    window_end.isoformat(),
                    window_rule,
                    timezone,
                    to_ms(deadline_at),
                    to_ms(next_due_at) if next_due_at else None,
                    to_ms(now),
                    to_ms(now),
                    window_end.isoformat(),
                    evidence.value,
                    announced_precision.value,
                ),
            )
        )
        # One round trip: the row comes back whole (with every column's default), where
        # an id, a fetch, a close and a second SELECT were four trips through the driver's
        # thread, each a wake-up of the event loop that a busy machine makes slow.
        assert rows, "INSERT ... RETURNING gave no row"
        return row_to_launch(rows[0])

    async def get_launch(self, launch_id: int, guild_id: int | None = None) -> Launch | None:
        """One launch by id; with *guild_id*, only if it belongs to that guild."""
        params: tuple[int, ...]
        if guild_id is None:
            sql, params = "SELECT * FROM launches WHERE id = ?", (launch_id,)
        else:
            sql, params = (
                "SELECT * FROM launches WHERE id = ? AND guild_id = ?",
                (launch_id, guild_id),
            )
        rows = list(await self._conn.execute_fetchall(sql, params))
        row = rows[0] if rows else None
        return row_to_launch(row) if row else None

    async def update_launch(
        self, launch: Launch, *, expect_revision: int, expect_state: LaunchState, now: dt.datetime
    ) -> bool:
        """Write every mutable field of *launch*, only if the stored row still has the expected
        revision and state (compare-and-set). Returns False when someone else changed it first."""
        assignments = ", ".join(f"{name} = ?" for name in _LAUNCH_FIELDS)
        cur = await self._conn.execute(
            f"UPDATE launches SET {assignments}, updated_at = ? "
            "WHERE id = ? AND revision = ? AND state = ?",
            (*_launch_values(launch), to_ms(now), launch.id, expect_revision, expect_state.value),
        )
        changed = cur.rowcount == 1
        await cur.close()
        return changed

    async def insert_launch_record(self, launch: Launch) -> int:
        """Insert *launch* with every stored field as given (its id is ignored: a new one is
        assigned and returned), keeping states, outcomes and timestamps; an import inserts
        many at once with :meth:`insert_launch_records`."""
        cur = await self._conn.execute(_INSERT_RECORD, _record_values(launch))
        row = await cur.fetchone()
        await cur.close()
        assert row is not None
        return int(row[0])

    async def insert_launch_records(self, records: Sequence[LaunchRecord]) -> list[int]:
        """Batch form of :meth:`insert_launch_record`, each launch's history appended with it
        (as :meth:`storage.events.SqlEvents.append_event` would, in the same order): the same
        rows, in a few statements instead of one per row (storage.batch). Returns the new ids,
        in the order of *records*."""
        return await self.insert_prepared(self.prepare_records(records))

    def prepare_records(self, records: Sequence[LaunchRecord]) -> SqlPreparedRecords:
        """*records* and their histories as rows in storage form, before any statement (CPU
        work only: a worker thread can do it while the writer is free for others)."""
        return SqlPreparedRecords(
            [_record_values(r.launch) for r in records],
            [
                (
                    n,
                    event_values(
                        0, r.launch.guild_id, e.kind, e.at, e.actor, e.source_url, e.note, e.data
                    )[1:],
                )
                for n, r in enumerate(records)
                for e in r.events
            ],
        )

    async def insert_prepared(self, prepared: PreparedRecords) -> list[int]:
        """Insert what :meth:`prepare_records` made: the launches, then their histories (in
        order, each row given its launch's new id); the new ids, in the order of the
        records."""
        assert isinstance(prepared, SqlPreparedRecords), prepared
        ids = await insert_returning_ids(self._conn, "launches", RECORD_COLUMNS, prepared.launches)
        history = [(ids[n], *rest) for n, rest in prepared.events]
        await insert_rows(self._conn, "launch_events", EVENT_COLUMNS, history)
        return ids

    async def advance_due(
        self,
        launch_id: int,
        *,
        expect_due: dt.datetime,
        expect_revision: int,
        state: LaunchState,
        next_due_at: dt.datetime | None,
        days_late: int | None,
        now: dt.datetime,
    ) -> bool:
        """The sweep's conditional step: move a launch past the due item it was found at.

        Only succeeds when next_due_at and revision are still what the sweep read, so sweeping
        twice (or two sweepers) changes nothing more."""
        cur = await self._conn.execute(
            "UPDATE launches SET state = ?, next_due_at = ?, days_late = ?, updated_at = ? "
            "WHERE id = ? AND next_due_at = ? AND revision = ?",
            (
                state.value,
                to_ms(next_due_at) if next_due_at else None,
                days_late,
                to_ms(now),
                launch_id,
                to_ms(expect_due),
                expect_revision,
            ),
        )
        changed = cur.rowcount == 1
        await cur.close()
        return changed

    async def delete_launch(self, launch_id: int, guild_id: int) -> bool:
        """Remove a launch, its history and its launch subscriptions."""
        await self._conn.execute(
            "DELETE FROM subscriptions WHERE guild_id = ? AND scope = 'launch' AND target = ?",
            (guild_id, str(launch_id)),
        )
        cur = await self._conn.execute(
            "DELETE FROM launches WHERE id = ? AND guild_id = ?", (launch_id, guild_id)
        )
        deleted = cur.rowcount == 1
        await cur.close()
        return deleted

    async def next_due(self) -> dt.datetime | None:
        """The earliest pending due time over all launches (one index lookup)."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT MIN(next_due_at) FROM launches WHERE next_due_at IS NOT NULL"
            )
        )
        row = rows[0] if rows else None
        return from_ms_or_none(row[0]) if row else None

    async def due_launches(self, now: dt.datetime, limit: int) -> list[Launch]:
        """Launches whose next due item is at or before *now*, earliest first (index range scan)."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT * FROM launches WHERE next_due_at IS NOT NULL AND next_due_at <= ? "
                f"ORDER BY next_due_at LIMIT ?{skip_locked(self._conn)}",
                (to_ms(now), limit),
            )
        )
        return [row_to_launch(r) for r in rows]

    async def list_launches(
        self,
        guild_id: int,
        *,
        vendor: str | None = None,
        states: Sequence[LaunchState] | None = None,
        limit: int = 25,
        offset: int = 0,
    ) -> list[Launch]:
        """A guild's launches sorted by deadline, optionally filtered by vendor and state."""
        where, params = _launch_filter(guild_id, vendor, states)
        rows = list(
            await self._conn.execute_fetchall(
                f"SELECT * FROM launches WHERE {where} ORDER BY deadline_at, id LIMIT ? OFFSET ?",
                [*params, limit, offset],
            )
        )
        return [row_to_launch(r) for r in rows]

    async def count_launches(
        self,
        guild_id: int,
        *,
        vendor: str | None = None,
        states: Sequence[LaunchState] | None = None,
    ) -> int:
        """How many launches :func:`list_launches` would page through."""
        where, params = _launch_filter(guild_id, vendor, states)
        rows = list(
            await self._conn.execute_fetchall(
                f"SELECT COUNT(*) FROM launches WHERE {where}", params
            )
        )
        return int(rows[0][0]) if rows else 0

    async def all_launches(self, guild_id: int | None = None) -> list[Launch]:
        """Every launch (of one guild), by id."""
        params: tuple[int, ...]
        if guild_id is None:
            sql, params = "SELECT * FROM launches ORDER BY id", ()
        else:
            sql, params = "SELECT * FROM launches WHERE guild_id = ? ORDER BY id", (guild_id,)
        rows = list(await self._conn.execute_fetchall(sql, params))
        if len(rows) > INLINE_ROWS:
            # Tens of thousands of rows take a while to turn into records: not on the event loop.
            return await asyncio.to_thread(_rows_to_launches, rows)
        return _rows_to_launches(rows)

    async def launches_after(
        self, guild_id: int, after_id: int, limit: int, *, vendor: str | None = None
    ) -> list[Launch]:
        """One page of a guild's launches (of *vendor* only, if given) by id: the first *limit*
        with an id above *after_id* (keyset paging: each page is one index range)."""
        where, params = _launch_filter(guild_id, vendor, None)
        rows = list(
            await self._conn.execute_fetchall(
                f"SELECT * FROM launches WHERE {where} AND id > ? ORDER BY id LIMIT ?",
                (*params, after_id, limit),
            )
        )
        if len(rows) > INLINE_ROWS:
            return await asyncio.to_thread(_rows_to_launches, rows)
        return _rows_to_launches(rows)

    async def launch_keys(self, guild_id: int) -> list[tuple[str, str, dt.date]]:
        """What tells a guild's launches apart for an import's duplicate check: product, vendor
        and announcement day of each (as stored, not case-folded), without the whole records."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT product, vendor, announced_on FROM launches WHERE guild_id = ?",
                (guild_id,),
            )
        )
        if len(rows) > INLINE_ROWS:
            return await asyncio.to_thread(_rows_to_keys, rows)
        return _rows_to_keys(rows)

    async def search_launches(self, guild_id: int, prefix: str, limit: int = 25) -> list[Launch]:
        """Autocomplete: a guild's launches whose product or vendor starts with *prefix*."""
        escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"{escaped}%"
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT * FROM launches WHERE guild_id = ? AND "
                "(product LIKE ? ESCAPE '\\' OR vendor LIKE ? ESCAPE '\\') "
                "ORDER BY deadline_at, id LIMIT ?",
                (guild_id, pattern, pattern, limit),
            )
        )
        return [row_to_launch(r) for r in rows]

    async def advance_many(self, advances: Sequence[Advance], now: dt.datetime) -> int:
        """Batch form of :meth:`advance_due`. Returns how many rows changed."""
        stamp = to_ms(now)
        cur = await self._conn.executemany(
            "UPDATE launches SET state = ?, next_due_at = ?, days_late = ?, updated_at = ? "
            "WHERE id = ? AND next_due_at = ? AND revision = ?",
            [
                (
                    a.state.value,
                    None if a.next_due_at is None else to_ms(a.next_due_at),
                    a.days_late,
                    stamp,
                    a.launch_id,
                    to_ms(a.expect_due),
                    a.expect_revision,
                )
                for a in advances
            ],
        )
        changed = cur.rowcount
        await cur.close()
        return changed

    # ------------------------------------------------------------- the score, in SQL

    async def tally(self, scope: LaunchScope, today: dt.date) -> ScoreTally:
        """The score's counts and medians over *scope* as of *today* (tracker.stats' rules)."""
        sql, params = ScoreSql(self._conn).tally(scope, today.isoformat())
        rows = list(await self._conn.execute_fetchall(sql, params))
        return row_to_tally(rows[0])

    async def tally_by(
        self, scope: LaunchScope, today: dt.date, by: Literal["vendor", "announcer"]
    ) -> list[NameTally]:
        """:meth:`tally` per stored spelling of the vendor (or announcer), in order of first
        appearance; launches without an announcer are left out of the announcer tallies."""
        sql, params = ScoreSql(self._conn).tally_by(scope, today.isoformat(), by)
        rows = list(await self._conn.execute_fetchall(sql, params))
        return [row_to_name_tally(r) for r in rows]

    async def late_launches(
        self, scope: LaunchScope, today: dt.date, *, open_only: bool, limit: int | None
    ) -> list[Launch]:
        """The launches of *scope* late as of *today* (still out past their first promise
        only, with *open_only*), most late first, at most *limit* (None: all)."""
        sql, params = ScoreSql(self._conn).late_ones(
            scope, today.isoformat(), open_only=open_only, limit=limit
        )
        return await _launches(list(await self._conn.execute_fetchall(sql, params)))

    async def newest_launches(
        self, scope: LaunchScope, since: dt.date | None, limit: int
    ) -> tuple[list[Launch], int]:
        """The *limit* most recently announced launches of *scope* announced on or after
        *since* (newest first, ties: the higher id), and how many there are in all."""
        score = ScoreSql(self._conn)
        day = since.isoformat() if since else None
        count_sql, count_params = score.count_since(scope, day)
        counted = list(await self._conn.execute_fetchall(count_sql, count_params))
        sql, params = score.newest(scope, day, limit)
        rows = list(await self._conn.execute_fetchall(sql, params))
        return await _launches(rows), int(counted[0][0])

    async def names(self, guild_id: int, by: Literal["vendor", "announcer"]) -> list[str]:
        """Every stored spelling of a guild's vendors (or announcers)."""
        rows = await self._conn.execute_fetchall(
            f"SELECT DISTINCT {by} FROM launches WHERE guild_id = ? AND {by} IS NOT NULL",
            (guild_id,),
        )
        return [str(r[0]) for r in rows]

    async def launches_by_ids(self, guild_id: int, ids: Sequence[int]) -> list[Launch]:
        """The guild's launches with these ids, by id (unknown ids are left out)."""
        rows: list[sqlite3.Row] = []
        for part in chunks(sorted(set(ids)), 500):
            rows.extend(
                await self._conn.execute_fetchall(
                    f"SELECT * FROM launches WHERE guild_id = ? AND id IN "
                    f"({','.join('?' * len(part))}) ORDER BY id",
                    (guild_id, *part),
                )
            )
        return await _launches(rows)

    async def due_soon(
        self,
        guild_id: int,
        start: dt.datetime,
        end: dt.datetime,
        listed: int,
        followed: Followed | None = None,
    ) -> tuple[list[Launch], int]:
        """The guild's upcoming launches (only those *followed*, if given) whose deadline is in
        [start, end) to the microsecond: the first *listed* by (deadline_at, id), and how many
        there are in all."""
        # Deadlines are stored in whole milliseconds: d >= start and d < end to the microsecond
        # are d >= ceil(start) and d < ceil(end) in milliseconds.
        follow, follow_params = followed_clause(followed, "vendor", "id")
        where = (
            "FROM launches WHERE guild_id = ? AND state = 'upcoming' "
            f"AND deadline_at >= ? AND deadline_at < ?{follow}"
        )
        params = [guild_id, ceil_ms(start), ceil_ms(end), *follow_params]
        counted = list(await self._conn.execute_fetchall(f"SELECT COUNT(*) {where}", params))
        rows = list(
            await self._conn.execute_fetchall(
                f"SELECT * {where} ORDER BY deadline_at, id LIMIT ?", [*params, listed]
            )
        )
        return await _launches(rows), int(counted[0][0])

"""Every launch's history (the event log)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from storage.db import to_ms
from storage.rows import (
    INLINE_ROWS,
    Repository,
    chunks,
    followed_clause,
    row_to_event,
    values_rows,
)
from tracker.models import (
    EventKind,
    LaunchEvent,
)
from tracker.records import ChangeSection, Followed, NewEvent, PeriodChanges

EVENT_COLUMNS = ("launch_id", "guild_id", "kind", "at", "actor", "source_url", "note", "data")
_APPEND_EVENT = (
    f"INSERT INTO launch_events ({', '.join(EVENT_COLUMNS)}) "
    f"VALUES {values_rows(1, len(EVENT_COLUMNS))}"
)


def event_values(
    launch_id: int,
    guild_id: int,
    kind: EventKind,
    at: dt.datetime,
    actor: str,
    source_url: str | None,
    note: str | None,
    data: dict[str, Any] | None,
) -> tuple[Any, ...]:
    """A history row's values for :data:`EVENT_COLUMNS`, in storage form (one place, so that a
    row appended alone and one inserted in a batch are the same row)."""
    return (
        launch_id,
        guild_id,
        kind.value,
        to_ms(at),
        actor,
        source_url,
        note,
        json.dumps(data or {}, sort_keys=True),
    )


def _rows_to_events(rows: list[sqlite3.Row]) -> list[LaunchEvent]:
    return [row_to_event(r) for r in rows]


def _group_events(rows: list[sqlite3.Row]) -> dict[int, list[LaunchEvent]]:
    grouped: dict[int, list[LaunchEvent]] = {}
    for row in rows:
        event = row_to_event(row)
        grouped.setdefault(event.launch_id, []).append(event)
    return grouped


# The history kinds a digest lists, by the section they are listed in.
_SECTION_OF = {
    EventKind.SLIPPED: "slipped",
    EventKind.SHIPPED: "shipped",
    EventKind.CANCELLED: "cancelled",
    EventKind.REANNOUNCED: "reannounced",
    EventKind.REVIVED: "reannounced",
}
_SECTIONS = ("slipped", "shipped", "cancelled", "reannounced")


class SqlEvents(Repository):
    """Every launch's history (the event log)."""

    __slots__ = ()

    async def append_event(
        self,
        *,
        launch_id: int,
        guild_id: int,
        kind: EventKind,
        at: dt.datetime,
        actor: str,
        source_url: str | None = None,
        note: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Append one row to a launch's history (never updated afterwards)."""
        await self._conn.execute(
            _APPEND_EVENT,
            event_values(launch_id, guild_id, kind, at, actor, source_url, note, data),
        )

    async def launch_events(self, launch_id: int) -> list[LaunchEvent]:
        """A launch's history, oldest first."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT * FROM launch_events WHERE launch_id = ? ORDER BY id", (launch_id,)
            )
        )
        return [row_to_event(r) for r in rows]

    async def guild_events_between(
        self,
        guild_id: int,
        start: dt.datetime,
        end: dt.datetime,
        kinds: Iterable[EventKind] | None = None,
    ) -> list[LaunchEvent]:
        """A guild's history rows with start <= at < end (only of *kinds*, if given), oldest
        first."""
        sql = "SELECT * FROM launch_events WHERE guild_id = ? AND at >= ? AND at < ?"
        params: list[Any] = [guild_id, to_ms(start), to_ms(end)]
        if kinds is not None:
            wanted = [k.value for k in kinds]
            if not wanted:
                return []
            sql += f" AND kind IN ({','.join('?' * len(wanted))})"
            params.extend(wanted)
        rows = list(await self._conn.execute_fetchall(sql + " ORDER BY at, id", params))
        if len(rows) > INLINE_ROWS:
            return await asyncio.to_thread(_rows_to_events, rows)
        return _rows_to_events(rows)

    async def period_changes(
        self,
        guild_id: int,
        start: dt.datetime,
        end: dt.datetime,
        listed: int,
        followed: Followed | None = None,
    ) -> PeriodChanges:
        """A digest's changes in [start, end), counted and listed by the database: per section,
        each of the guild's launches (only those *followed*, if given) once, by its latest event
        of the section's kinds in the period; the first *listed* by that event's (at, id), and
        how many launches in all. A revival is listed with the re-announcements. Events of
        launches no longer stored are left out."""
        follow, follow_params = followed_clause(followed, "l.vendor", "l.id")
        span = [guild_id, to_ms(start), to_ms(end)]
        kinds = [k.value for k in _SECTION_OF]
        # x: each launch's latest event per section; y: its place in the section and the
        # section's size. One statement; only the listed rows leave the database.
        sql = (
            "WITH x AS (SELECT e.id, e.launch_id, e.guild_id, e.kind, e.at, e.actor, "
            "e.source_url, e.note, e.data, "
            "CASE WHEN e.kind = 'revived' THEN 'reannounced' ELSE e.kind END AS section, "
            "ROW_NUMBER() OVER (PARTITION BY "
            "CASE WHEN e.kind = 'revived' THEN 'reannounced' ELSE e.kind END, e.launch_id "
            "ORDER BY e.at DESC, e.id DESC) AS latest "
            "FROM launch_events e "
            "JOIN launches l ON l.id = e.launch_id AND l.guild_id = e.guild_id "
            "WHERE e.guild_id = ? AND e.at >= ? AND e.at < ? "
            f"AND e.kind IN ({', '.join('?' * len(kinds))}){follow}), "
            "y AS (SELECT x.*, ROW_NUMBER() OVER (PARTITION BY section ORDER BY at, id) AS place, "
            "COUNT(*) OVER (PARTITION BY section) AS total FROM x WHERE latest = 1) "
            "SELECT id, launch_id, guild_id, kind, at, actor, source_url, note, data, section, "
            "total FROM y WHERE place <= ? ORDER BY section, at, id"
        )
        rows = list(await self._conn.execute_fetchall(sql, [*span, *kinds, *follow_params, listed]))
        listed_events: dict[str, list[LaunchEvent]] = {name: [] for name in _SECTIONS}
        totals = dict.fromkeys(_SECTIONS, 0)
        for row in rows:
            listed_events[row["section"]].append(row_to_event(row))
            totals[row["section"]] = int(row["total"])
        slipped = sorted({e.launch_id for e in listed_events["slipped"]})
        reannouncements: dict[int, list[LaunchEvent]] = {}
        for part in chunks(slipped, 500):
            reannouncements.update(
                _group_events(
                    list(
                        await self._conn.execute_fetchall(
                            "SELECT * FROM launch_events WHERE guild_id = ? AND at >= ? "
                            "AND at < ? AND kind = 'reannounced' AND launch_id IN "
                            f"({','.join('?' * len(part))}) ORDER BY at, id",
                            (*span, *part),
                        )
                    )
                )
            )
        sections = {
            name: ChangeSection(totals[name], tuple(listed_events[name])) for name in _SECTIONS
        }
        return PeriodChanges(
            slipped=sections["slipped"],
            shipped=sections["shipped"],
            cancelled=sections["cancelled"],
            reannounced=sections["reannounced"],
            reannouncements=reannouncements,
        )

    async def append_events(self, events: Sequence[NewEvent]) -> None:
        """Batch form of :meth:`append_event`."""
        await self._conn.executemany(
            "INSERT INTO launch_events (launch_id, guild_id, kind, at, actor, data) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            [
                (
                    e.launch_id,
                    e.guild_id,
                    e.kind.value,
                    to_ms(e.at),
                    e.actor,
                    json.dumps(e.data, sort_keys=True),
                )
                for e in events
            ],
        )

    async def events_of_launches(
        self, guild_id: int, launch_ids: Sequence[int]
    ) -> dict[int, list[LaunchEvent]]:
        """The whole history of each of a guild's launches *launch_ids* (a page of an export),
        grouped by launch, each list oldest first; launches without history are absent."""
        if not launch_ids:
            return {}
        grouped: dict[int, list[LaunchEvent]] = {}
        # In slices: SQLite binds at most 32,766 parameters per statement.
        for part in chunks(launch_ids, 1000):
            rows = list(
                await self._conn.execute_fetchall(
                    "SELECT * FROM launch_events WHERE guild_id = ? "
                    f"AND launch_id IN ({','.join('?' * len(part))}) ORDER BY launch_id, id",
                    (guild_id, *part),
                )
            )
            if len(rows) > INLINE_ROWS:
                grouped.update(await asyncio.to_thread(_group_events, rows))
            else:
                grouped.update(_group_events(rows))
        return grouped

    async def events_by_launch(
        self, guild_id: int, kinds: Iterable[EventKind] | None = None
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
        rows = list(await self._conn.execute_fetchall(sql, params))
        if len(rows) > 500:
            # A big server's whole history: turned into records off the event loop.
            return await asyncio.to_thread(_group_events, rows)
        return _group_events(rows)

    async def events_for(
        self, launch_ids: Sequence[int], kinds: Iterable[EventKind]
    ) -> dict[int, list[LaunchEvent]]:
        """The history rows of *kinds* of these launches, grouped by launch, each list oldest
        first. Launches without any matching event are absent."""
        wanted = [k.value for k in kinds]
        if not wanted or not launch_ids:
            return {}
        rows: list[sqlite3.Row] = []
        for part in chunks(sorted(set(launch_ids)), 500):
            rows.extend(
                await self._conn.execute_fetchall(
                    f"SELECT * FROM launch_events WHERE launch_id IN "
                    f"({','.join('?' * len(part))}) AND kind IN ({','.join('?' * len(wanted))}) "
                    "ORDER BY launch_id, id",
                    (*part, *wanted),
                )
            )
        if len(rows) > INLINE_ROWS:
            return await asyncio.to_thread(_group_events, rows)
        return _group_events(rows)

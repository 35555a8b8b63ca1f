"""Repository functions: every SQL statement of slipwatch lives in storage/.

Each function takes a connection: the writer inside ``Database.transaction()`` for changes, or
``Database.read`` for queries. Queries fetch their rows in one step (``execute_fetchall``): a
cursor read across an await would hold a stale read snapshot open for every other coroutine
sharing the connection. Parameters are always bound with ``?``; results are frozen
dataclasses from tracker.models.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from storage.db import Connection, from_ms, from_ms_or_none, to_ms
from storage.postgres.db import Connection as PgConnection
from tracker.models import (
    DestinationKind,
    EventKind,
    Evidence,
    GuildConfig,
    Launch,
    LaunchEvent,
    LaunchState,
    Message,
    OutboxRow,
    OutboxState,
    Precision,
    Subscription,
    SubscriptionScope,
)

Conn = Connection

# --------------------------------------------------------------------------- guilds

_GUILD_FIELDS = (
    "timezone",
    "grace_days",
    "reminder_offsets",
    "late_milestones",
    "alert_channel_id",
    "manager_role_id",
    "mention_role_id",
    "locale",
    "digest_channel_id",
    "digest_schedule",
    "digest_when_empty",
)


def _offsets(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in text.split(",") if p.strip())


def _row_to_guild(row: sqlite3.Row) -> GuildConfig:
    return GuildConfig(
        guild_id=row["guild_id"],
        timezone=row["timezone"],
        grace_days=row["grace_days"],
        reminder_offsets=_offsets(row["reminder_offsets"]),
        late_milestones=_offsets(row["late_milestones"]),
        alert_channel_id=row["alert_channel_id"],
        manager_role_id=row["manager_role_id"],
        mention_role_id=row["mention_role_id"],
        locale=row["locale"],
        digest_channel_id=row["digest_channel_id"],
        digest_schedule=row["digest_schedule"],
        digest_when_empty=row["digest_when_empty"],
    )


async def get_guild(conn: Conn, guild_id: int) -> GuildConfig:
    """A guild's settings; defaults when the guild was never configured."""
    rows = list(await conn.execute_fetchall("SELECT * FROM guilds WHERE guild_id = ?", (guild_id,)))
    row = rows[0] if rows else None
    return _row_to_guild(row) if row else GuildConfig(guild_id=guild_id)


async def get_guilds(conn: Conn, guild_ids: Iterable[int]) -> dict[int, GuildConfig]:
    """Settings for many guilds at once (defaults for unknown ones)."""
    ids = sorted(set(guild_ids))
    result = {gid: GuildConfig(guild_id=gid) for gid in ids}
    for chunk in _chunks(ids, 500):
        marks = ",".join("?" * len(chunk))
        rows = list(
            await conn.execute_fetchall(f"SELECT * FROM guilds WHERE guild_id IN ({marks})", chunk)
        )
        for row in rows:
            result[row["guild_id"]] = _row_to_guild(row)
    return result


async def list_guilds(conn: Conn) -> list[GuildConfig]:
    """Every configured guild."""
    rows = list(await conn.execute_fetchall("SELECT * FROM guilds ORDER BY guild_id"))
    return [_row_to_guild(r) for r in rows]


async def save_guild(conn: Conn, config: GuildConfig, now: dt.datetime) -> None:
    """Insert or replace a guild's settings."""
    values: list[Any] = [
        config.timezone,
        config.grace_days,
        ",".join(str(o) for o in config.reminder_offsets),
        ",".join(str(m) for m in config.late_milestones),
        config.alert_channel_id,
        config.manager_role_id,
        config.mention_role_id,
        config.locale,
        config.digest_channel_id,
        config.digest_schedule,
        config.digest_when_empty,
    ]
    cols = ", ".join(("guild_id", *_GUILD_FIELDS, "updated_at"))
    marks = ", ".join("?" * (len(_GUILD_FIELDS) + 2))
    # Any change may move the next digest (schedule, timezone, channel): NULL has the next
    # sweep compute it again (see migration 004).
    updates = ", ".join(
        [f"{f} = excluded.{f}" for f in (*_GUILD_FIELDS, "updated_at")] + ["digest_due_at = NULL"]
    )
    await conn.execute(
        f"INSERT INTO guilds ({cols}) VALUES ({marks}) "
        f"ON CONFLICT (guild_id) DO UPDATE SET {updates}",
        (config.guild_id, *values, to_ms(now)),
    )


# --------------------------------------------------------------------------- launches


def _date(text: str | None) -> dt.date | None:
    return dt.date.fromisoformat(text) if text else None


def row_to_launch(row: sqlite3.Row) -> Launch:
    """Map a launches row to the domain record."""
    return Launch(
        id=row["id"],
        guild_id=row["guild_id"],
        product=row["product"],
        vendor=row["vendor"],
        announcer=row["announcer"],
        source_url=row["source_url"],
        quote=row["quote"],
        announced_on=dt.date.fromisoformat(row["announced_on"]),
        window_phrase=row["window_phrase"],
        window_start=dt.date.fromisoformat(row["window_start"]),
        window_end=dt.date.fromisoformat(row["window_end"]),
        window_rule=row["window_rule"],
        timezone=row["timezone"],
        deadline_at=from_ms(row["deadline_at"]),
        state=LaunchState(row["state"]),
        slip_count=row["slip_count"],
        revision=row["revision"],
        shipped_on=_date(row["shipped_on"]),
        cancelled_on=_date(row["cancelled_on"]),
        days_late=row["days_late"],
        next_due_at=from_ms_or_none(row["next_due_at"]),
        created_at=from_ms(row["created_at"]),
        updated_at=from_ms(row["updated_at"]),
        first_window_end=dt.date.fromisoformat(row["first_window_end"] or row["window_end"]),
        evidence=Evidence(row["evidence"]),
        announced_precision=Precision(row["announced_precision"]),
        outcome_precision=Precision(row["outcome_precision"]),
    )


async def insert_launch(
    conn: Conn,
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
    cur = await conn.execute(
        "INSERT INTO launches (guild_id, product, vendor, announcer, source_url, quote, "
        "announced_on, window_phrase, window_start, window_end, window_rule, timezone, "
        "deadline_at, next_due_at, created_at, updated_at, first_window_end, evidence, "
        "announced_precision) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
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
    row = await cur.fetchone()
    await cur.close()
    assert row is not None
    launch = await get_launch(conn, int(row[0]))
    assert launch is not None
    return launch


async def get_launch(conn: Conn, launch_id: int, guild_id: int | None = None) -> Launch | None:
    """One launch by id; with *guild_id*, only if it belongs to that guild."""
    params: tuple[int, ...]
    if guild_id is None:
        sql, params = "SELECT * FROM launches WHERE id = ?", (launch_id,)
    else:
        sql, params = "SELECT * FROM launches WHERE id = ? AND guild_id = ?", (launch_id, guild_id)
    rows = list(await conn.execute_fetchall(sql, params))
    row = rows[0] if rows else None
    return row_to_launch(row) if row else None


# Every column of a launch a change can write, in one order, shared by update and import.
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


async def update_launch(
    conn: Conn, launch: Launch, *, expect_revision: int, expect_state: LaunchState, now: dt.datetime
) -> bool:
    """Write every mutable field of *launch*, only if the stored row still has the expected
    revision and state (compare-and-set). Returns False when someone else changed it first."""
    assignments = ", ".join(f"{name} = ?" for name in _LAUNCH_FIELDS)
    cur = await conn.execute(
        f"UPDATE launches SET {assignments}, updated_at = ? "
        "WHERE id = ? AND revision = ? AND state = ?",
        (*_launch_values(launch), to_ms(now), launch.id, expect_revision, expect_state.value),
    )
    changed = cur.rowcount == 1
    await cur.close()
    return changed


async def insert_launch_record(conn: Conn, launch: Launch) -> int:
    """Insert *launch* with every stored field as given (its id is ignored: a new one is
    assigned and returned). Used by imports, which keep states, outcomes and timestamps."""
    columns = ("guild_id", *_LAUNCH_FIELDS, "created_at", "updated_at")
    values = (
        launch.guild_id,
        *_launch_values(launch),
        to_ms(launch.created_at),
        to_ms(launch.updated_at),
    )
    cur = await conn.execute(
        f"INSERT INTO launches ({', '.join(columns)}) "
        f"VALUES ({', '.join('?' * len(columns))}) RETURNING id",
        values,
    )
    row = await cur.fetchone()
    await cur.close()
    assert row is not None
    return int(row[0])


async def advance_due(
    conn: Conn,
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
    cur = await conn.execute(
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


async def delete_launch(conn: Conn, launch_id: int, guild_id: int) -> bool:
    """Remove a launch, its history and its launch subscriptions."""
    await conn.execute(
        "DELETE FROM subscriptions WHERE guild_id = ? AND scope = 'launch' AND target = ?",
        (guild_id, str(launch_id)),
    )
    cur = await conn.execute(
        "DELETE FROM launches WHERE id = ? AND guild_id = ?", (launch_id, guild_id)
    )
    deleted = cur.rowcount == 1
    await cur.close()
    return deleted


async def next_due(conn: Conn) -> dt.datetime | None:
    """The earliest pending due time over all launches (one index lookup)."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT MIN(next_due_at) FROM launches WHERE next_due_at IS NOT NULL"
        )
    )
    row = rows[0] if rows else None
    return from_ms_or_none(row[0]) if row else None


async def due_launches(conn: Conn, now: dt.datetime, limit: int) -> list[Launch]:
    """Launches whose next due item is at or before *now*, earliest first (index range scan)."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT * FROM launches WHERE next_due_at IS NOT NULL AND next_due_at <= ? "
            f"ORDER BY next_due_at LIMIT ?{_skip_locked(conn)}",
            (to_ms(now), limit),
        )
    )
    return [row_to_launch(r) for r in rows]


async def list_launches(
    conn: Conn,
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
        await conn.execute_fetchall(
            f"SELECT * FROM launches WHERE {where} ORDER BY deadline_at, id LIMIT ? OFFSET ?",
            [*params, limit, offset],
        )
    )
    return [row_to_launch(r) for r in rows]


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


async def count_launches(
    conn: Conn,
    guild_id: int,
    *,
    vendor: str | None = None,
    states: Sequence[LaunchState] | None = None,
) -> int:
    """How many launches :func:`list_launches` would page through."""
    where, params = _launch_filter(guild_id, vendor, states)
    rows = list(await conn.execute_fetchall(f"SELECT COUNT(*) FROM launches WHERE {where}", params))
    return int(rows[0][0]) if rows else 0


async def all_launches(conn: Conn, guild_id: int | None = None) -> list[Launch]:
    """Every launch (of one guild), by id."""
    params: tuple[int, ...]
    if guild_id is None:
        sql, params = "SELECT * FROM launches ORDER BY id", ()
    else:
        sql, params = "SELECT * FROM launches WHERE guild_id = ? ORDER BY id", (guild_id,)
    rows = list(await conn.execute_fetchall(sql, params))
    if len(rows) > _INLINE_ROWS:
        # Tens of thousands of rows take a while to turn into records: not on the event loop.
        return await asyncio.to_thread(_rows_to_launches, rows)
    return _rows_to_launches(rows)


_INLINE_ROWS = 500


def _rows_to_launches(rows: list[sqlite3.Row]) -> list[Launch]:
    return [row_to_launch(r) for r in rows]


async def search_launches(conn: Conn, guild_id: int, prefix: str, limit: int = 25) -> list[Launch]:
    """Autocomplete: a guild's launches whose product or vendor starts with *prefix*."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    pattern = f"{escaped}%"
    rows = list(
        await conn.execute_fetchall(
            "SELECT * FROM launches WHERE guild_id = ? AND "
            "(product LIKE ? ESCAPE '\\' OR vendor LIKE ? ESCAPE '\\') "
            "ORDER BY deadline_at, id LIMIT ?",
            (guild_id, pattern, pattern, limit),
        )
    )
    return [row_to_launch(r) for r in rows]


# --------------------------------------------------------------------------- events


async def append_event(
    conn: Conn,
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
    await conn.execute(
        "INSERT INTO launch_events (launch_id, guild_id, kind, at, actor, source_url, note, data) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            launch_id,
            guild_id,
            kind.value,
            to_ms(at),
            actor,
            source_url,
            note,
            json.dumps(data or {}, sort_keys=True),
        ),
    )


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


async def launch_events(conn: Conn, launch_id: int) -> list[LaunchEvent]:
    """A launch's history, oldest first."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT * FROM launch_events WHERE launch_id = ? ORDER BY id", (launch_id,)
        )
    )
    return [_row_to_event(r) for r in rows]


async def guild_events_between(
    conn: Conn, guild_id: int, start: dt.datetime, end: dt.datetime
) -> list[LaunchEvent]:
    """A guild's history rows with start <= at < end, oldest first."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT * FROM launch_events WHERE guild_id = ? AND at >= ? AND at < ? ORDER BY at, id",
            (guild_id, to_ms(start), to_ms(end)),
        )
    )
    if len(rows) > _INLINE_ROWS:
        return await asyncio.to_thread(_rows_to_events, rows)
    return _rows_to_events(rows)


def _rows_to_events(rows: list[sqlite3.Row]) -> list[LaunchEvent]:
    return [_row_to_event(r) for r in rows]


# --------------------------------------------------------------------------- subscriptions


def _row_to_subscription(row: sqlite3.Row) -> Subscription:
    return Subscription(
        id=row["id"],
        guild_id=row["guild_id"],
        user_id=row["user_id"],
        scope=SubscriptionScope(row["scope"]),
        target=row["target"],
        mode=row["mode"],
        paused_reason=row["paused_reason"],
        created_at=from_ms(row["created_at"]),
        label=row["label"],
    )


async def add_subscription(
    conn: Conn,
    *,
    guild_id: int,
    user_id: int,
    scope: SubscriptionScope,
    target: str,
    mode: str,
    now: dt.datetime,
    label: str | None = None,
) -> tuple[Subscription, bool]:
    """Subscribe (or re-activate); returns the row and whether it was new. *label* is the
    spelling to show (a vendor as typed); the latest one given is kept."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT * FROM subscriptions WHERE guild_id = ? AND user_id = ? AND scope = ? "
            "AND target = ?",
            (guild_id, user_id, scope.value, target),
        )
    )
    existing = rows[0] if rows else None
    if existing:
        await conn.execute(
            "UPDATE subscriptions SET mode = ?, paused_reason = NULL, "
            "label = COALESCE(?, label) WHERE id = ?",
            (mode, label, existing["id"]),
        )
        created = False
        sub_id = existing["id"]
    else:
        cur2 = await conn.execute(
            "INSERT INTO subscriptions (guild_id, user_id, scope, target, mode, created_at, "
            "label) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (guild_id, user_id, scope.value, target, mode, to_ms(now), label),
        )
        inserted = await cur2.fetchone()
        await cur2.close()
        sub_id = inserted[0]
        created = True
    rows = list(await conn.execute_fetchall("SELECT * FROM subscriptions WHERE id = ?", (sub_id,)))
    row = rows[0] if rows else None
    assert row is not None
    return _row_to_subscription(row), created


async def remove_subscription(
    conn: Conn, *, guild_id: int, user_id: int, scope: SubscriptionScope, target: str
) -> bool:
    """Unsubscribe; False when there was nothing to remove."""
    cur = await conn.execute(
        "DELETE FROM subscriptions WHERE guild_id = ? AND user_id = ? AND scope = ? AND target = ?",
        (guild_id, user_id, scope.value, target),
    )
    removed = cur.rowcount > 0
    await cur.close()
    return removed


async def user_subscriptions(conn: Conn, user_id: int) -> list[Subscription]:
    """Every subscription of a user, in every guild."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT * FROM subscriptions WHERE user_id = ? ORDER BY guild_id, id", (user_id,)
        )
    )
    return [_row_to_subscription(r) for r in rows]


async def subscribers_for(
    conn: Conn, guild_id: int, launch_id: int, vendor: str, mode: str = "instant"
) -> list[int]:
    """User ids with an active subscription of *mode* matching a launch (deduplicated)."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT DISTINCT user_id FROM subscriptions WHERE guild_id = ? AND mode = ? "
            "AND paused_reason IS NULL AND ("
            "(scope = 'launch' AND target = ?) OR (scope = 'vendor' AND target = ?) "
            "OR scope = 'all') ORDER BY user_id",
            (guild_id, mode, str(launch_id), vendor.casefold()),
        )
    )
    return [r[0] for r in rows]


async def guild_subscription_count(conn: Conn, guild_id: int) -> dict[str, int]:
    """Active and paused subscriptions of a guild."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT paused_reason IS NULL, COUNT(*) FROM subscriptions WHERE guild_id = ? "
            "GROUP BY paused_reason IS NULL",
            (guild_id,),
        )
    )
    counts = {"active": 0, "paused": 0}
    for row in rows:
        counts["active" if row[0] else "paused"] = row[1]
    return counts


async def pause_user_subscriptions(conn: Conn, user_id: int, reason: str) -> int:
    """Pause every active subscription of a user who cannot be reached; returns how many."""
    cur = await conn.execute(
        "UPDATE subscriptions SET paused_reason = ? WHERE user_id = ? AND paused_reason IS NULL",
        (reason, user_id),
    )
    count = cur.rowcount
    await cur.close()
    return count


# --------------------------------------------------------------------------- outbox


def _row_to_outbox(row: sqlite3.Row) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        guild_id=row["guild_id"],
        dest_kind=DestinationKind(row["dest_kind"]),
        dest_id=row["dest_id"],
        idem_key=row["idem_key"],
        nonce=row["nonce"],
        payload=Message.from_json(json.loads(row["payload"])),
        state=OutboxState(row["state"]),
        attempts=row["attempts"],
        next_attempt_at=from_ms(row["next_attempt_at"]),
        last_error=row["last_error"],
        sent_message_id=row["sent_message_id"],
        created_at=from_ms(row["created_at"]),
        queued_at=from_ms(row["queued_at"]),
        sent_at=from_ms_or_none(row["sent_at"]),
    )


async def enqueue(
    conn: Conn,
    *,
    guild_id: int | None,
    dest_kind: DestinationKind,
    dest_id: int,
    idem_key: str,
    nonce: str,
    payload: Message,
    now: dt.datetime,
    state: OutboxState = OutboxState.PENDING,
) -> bool:
    """Queue a message; a repeated idempotency key is ignored. Returns True if inserted."""
    inserted = await enqueue_many(
        conn, [(guild_id, dest_kind, dest_id, idem_key, nonce, payload, state)], now
    )
    return inserted == 1


async def fair_keys(conn: Conn, guild_ids: Sequence[int | None], now: dt.datetime) -> list[int]:
    """Delivery-order keys for new outbox rows of *guild_ids* (one per row, in order): fair
    queuing between guilds. A guild's next key is the larger of the head (the first due pending
    key: where delivery stands now) and one past its own last pending key, so its message waits
    behind at most one message of each other guild, however many those have queued. Ties go to
    the older row."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT fair_key FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? "
            "ORDER BY fair_key LIMIT 1",
            (to_ms(now),),
        )
    )
    if rows:
        head = int(rows[0][0])
    else:
        rows = list(
            await conn.execute_fetchall("SELECT MAX(fair_key) FROM outbox WHERE state = 'pending'")
        )
        head = int(rows[0][0] or 0) + 1 if rows else 1
    last: dict[int, int] = {}
    known = sorted({g for g in guild_ids if g is not None})
    for chunk in _chunks(known, 400):
        values = ", ".join("(?)" for _ in chunk)
        # One index probe per guild (outbox_guild_fair), however many rows each holds.
        for gid, key in await conn.execute_fetchall(
            "SELECT g.column1, (SELECT MAX(o.fair_key) FROM outbox o "
            "WHERE o.state = 'pending' AND o.guild_id = g.column1) "
            f"FROM (VALUES {values}) AS g",
            chunk,
        ):
            if key is not None:
                last[int(gid)] = int(key)
    keys: list[int] = []
    for gid in guild_ids:
        key = max(head, last.get(gid, 0) + 1 if gid is not None else 0)
        if gid is not None:
            last[gid] = key
        keys.append(key)
    return keys


async def next_outbox_attempt(conn: Conn) -> dt.datetime | None:
    """The earliest next_attempt_at of a pending row (one index lookup)."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'"
        )
    )
    row = rows[0] if rows else None
    return from_ms_or_none(row[0]) if row else None


async def due_outbox(
    conn: Conn, now: dt.datetime, limit: int, busy: Sequence[int] = ()
) -> list[OutboxRow]:
    """Pending rows ready to send in fair order (see :func:`fair_keys`), leaving out every
    destination in *busy* (those with a message in flight)."""
    sql = (
        "SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? "
        "AND (claimed_until IS NULL OR claimed_until <= ?)"
    )
    params: list[Any] = [to_ms(now), to_ms(now)]
    if busy:
        sql += f" AND dest_id NOT IN ({','.join('?' * len(busy))})"
        params.extend(busy)
    sql += " ORDER BY fair_key, id LIMIT ?"
    params.append(limit)
    rows = list(await conn.execute_fetchall(sql, params))
    return [_row_to_outbox(r) for r in rows]


async def claim_outbox(
    conn: Conn, row_ids: Sequence[int], now: dt.datetime, until: dt.datetime
) -> set[int]:
    """Claim these due rows for sending until *until*; returns the ids claimed (rows another
    deliverer holds, or that stopped being due, are left out). On PostgreSQL the rows are
    locked with SKIP LOCKED, so two deliverers claiming at once never get the same row."""
    if not row_ids:
        return set()
    marks = ",".join("?" * len(row_ids))
    rows = await conn.execute_fetchall(
        "UPDATE outbox SET claimed_until = ? WHERE id IN (SELECT id FROM outbox "
        f"WHERE id IN ({marks}) AND state = 'pending' AND next_attempt_at <= ? "
        f"AND (claimed_until IS NULL OR claimed_until <= ?){_skip_locked(conn)}) RETURNING id",
        (to_ms(until), *row_ids, to_ms(now), to_ms(now)),
    )
    return {int(r[0]) for r in rows}


async def release_claims(conn: Conn, row_ids: Sequence[int] | None = None) -> int:
    """End claims: these rows' (a deliverer stopping), or every claim (a new deliverer taking
    over from one that is gone). Returns how many rows were released."""
    if row_ids is None:
        cur = await conn.execute(
            "UPDATE outbox SET claimed_until = NULL "
            "WHERE claimed_until IS NOT NULL AND state = 'pending'"
        )
    elif not row_ids:
        return 0
    else:
        cur = await conn.execute(
            f"UPDATE outbox SET claimed_until = NULL WHERE id IN ({','.join('?' * len(row_ids))})",
            tuple(row_ids),
        )
    count = cur.rowcount
    await cur.close()
    return count


def _skip_locked(conn: Conn) -> str:
    # Row locks exist only on PostgreSQL, where several processes may share the database;
    # SQLite's one writer is already alone.
    return " FOR UPDATE SKIP LOCKED" if isinstance(conn, PgConnection) else ""


async def get_outbox(conn: Conn, row_id: int) -> OutboxRow | None:
    """One outbox row."""
    rows = list(await conn.execute_fetchall("SELECT * FROM outbox WHERE id = ?", (row_id,)))
    row = rows[0] if rows else None
    return _row_to_outbox(row) if row else None


async def all_outbox(conn: Conn) -> list[OutboxRow]:
    """Every outbox row by id (tests, status pages)."""
    rows = list(await conn.execute_fetchall("SELECT * FROM outbox ORDER BY id"))
    return [_row_to_outbox(r) for r in rows]


async def mark_sent(conn: Conn, row_id: int, message_id: int | None, now: dt.datetime) -> None:
    """Record a confirmed delivery."""
    await conn.execute(
        "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_message_id = ?, "
        "sent_at = ?, last_error = NULL WHERE id = ? AND state = 'pending'",
        (message_id, to_ms(now), row_id),
    )


async def mark_retry(conn: Conn, row_id: int, error: str, next_attempt_at: dt.datetime) -> None:
    """Record a failed attempt that will be tried again."""
    await conn.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, "
        "claimed_until = NULL WHERE id = ? AND state = 'pending'",
        (error[:500], to_ms(next_attempt_at), row_id),
    )


async def mark_final(conn: Conn, row_id: int, state: OutboxState, error: str) -> None:
    """Record that a row will not be tried again (failed or dead)."""
    await conn.execute(
        "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ? "
        "WHERE id = ? AND state = 'pending'",
        (state.value, error[:500], row_id),
    )


async def hold_destination(
    conn: Conn,
    dest_kind: DestinationKind,
    dest_id: int,
    guild_id: int | None,
    reason: str,
    now: dt.datetime,
) -> bool:
    """Mark a destination broken and hold its pending rows. True if it was newly broken."""
    cur = await conn.execute(
        "INSERT INTO broken_destinations (dest_kind, dest_id, guild_id, reason, since) "
        "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        (dest_kind.value, dest_id, guild_id, reason[:500], to_ms(now)),
    )
    newly = cur.rowcount == 1
    await cur.close()
    await conn.execute(
        "UPDATE outbox SET state = 'held', last_error = ? "
        "WHERE dest_kind = ? AND dest_id = ? AND state = 'pending'",
        (reason[:500], dest_kind.value, dest_id),
    )
    return newly


async def is_broken(conn: Conn, dest_kind: DestinationKind, dest_id: int) -> bool:
    """Whether a destination is currently held."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT 1 FROM broken_destinations WHERE dest_kind = ? AND dest_id = ?",
            (dest_kind.value, dest_id),
        )
    )
    return (rows[0] if rows else None) is not None


async def release_destination(
    conn: Conn, dest_kind: DestinationKind, dest_id: int, now: dt.datetime
) -> int:
    """Destination fixed: forget it was broken and make its held rows pending again."""
    await conn.execute(
        "DELETE FROM broken_destinations WHERE dest_kind = ? AND dest_id = ?",
        (dest_kind.value, dest_id),
    )
    cur = await conn.execute(
        "UPDATE outbox SET state = 'pending', next_attempt_at = ?, queued_at = ? "
        "WHERE dest_kind = ? AND dest_id = ? AND state = 'held'",
        (to_ms(now), to_ms(now), dest_kind.value, dest_id),
    )
    count = cur.rowcount
    await cur.close()
    return count


async def retarget_held(
    conn: Conn, dest_kind: DestinationKind, old_id: int, new_id: int, now: dt.datetime
) -> int:
    """A manager chose another channel: send what the broken one held to the new one."""
    await conn.execute(
        "DELETE FROM broken_destinations WHERE dest_kind = ? AND dest_id = ?",
        (dest_kind.value, old_id),
    )
    cur = await conn.execute(
        "UPDATE outbox SET dest_id = ?, state = 'pending', next_attempt_at = ?, queued_at = ? "
        "WHERE dest_kind = ? AND dest_id = ? AND state IN ('held', 'pending')",
        (new_id, to_ms(now), to_ms(now), dest_kind.value, old_id),
    )
    count = cur.rowcount
    await cur.close()
    return count


async def broken_destinations(conn: Conn, guild_id: int | None = None) -> list[dict[str, Any]]:
    """Broken destinations with how many rows each holds."""
    sql = (
        "SELECT b.dest_kind, b.dest_id, b.guild_id, b.reason, b.since, b.notified_at, "
        "(SELECT COUNT(*) FROM outbox o WHERE o.dest_kind = b.dest_kind "
        "AND o.dest_id = b.dest_id AND o.state = 'held') AS held "
        "FROM broken_destinations b"
    )
    params: tuple[Any, ...] = ()
    if guild_id is not None:
        sql += " WHERE b.guild_id = ?"
        params = (guild_id,)
    rows = list(await conn.execute_fetchall(sql + " ORDER BY b.since", params))
    return [
        {
            "dest_kind": DestinationKind(r["dest_kind"]),
            "dest_id": r["dest_id"],
            "guild_id": r["guild_id"],
            "reason": r["reason"],
            "since": from_ms(r["since"]),
            "notified_at": from_ms_or_none(r["notified_at"]),
            "held": r["held"],
        }
        for r in rows
    ]


async def mark_broken_notified(
    conn: Conn, dest_kind: DestinationKind, dest_id: int, now: dt.datetime
) -> bool:
    """Claim the one-time "your channel is broken" notice; True for the first caller only."""
    cur = await conn.execute(
        "UPDATE broken_destinations SET notified_at = ? "
        "WHERE dest_kind = ? AND dest_id = ? AND notified_at IS NULL",
        (to_ms(now), dest_kind.value, dest_id),
    )
    claimed = cur.rowcount == 1
    await cur.close()
    return claimed


async def outbox_counts(conn: Conn, guild_id: int | None = None) -> dict[str, int]:
    """Rows per state (all guilds, or one)."""
    sql = "SELECT state, COUNT(*) FROM outbox"
    params: tuple[Any, ...] = ()
    if guild_id is not None:
        sql += " WHERE guild_id = ?"
        params = (guild_id,)
    rows = list(await conn.execute_fetchall(sql + " GROUP BY state", params))
    counts = {s.value: 0 for s in OutboxState}
    for row in rows:
        counts[row[0]] = row[1]
    return counts


# --------------------------------------------------------------------------- DM channels


async def get_dm_channel(conn: Conn, user_id: int) -> int | None:
    """The cached DM channel id for a user."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT channel_id FROM dm_channels WHERE user_id = ?", (user_id,)
        )
    )
    row = rows[0] if rows else None
    return int(row[0]) if row else None


async def save_dm_channel(conn: Conn, user_id: int, channel_id: int) -> None:
    """Remember a user's DM channel id."""
    await conn.execute(
        "INSERT INTO dm_channels (user_id, channel_id) VALUES (?, ?) "
        "ON CONFLICT (user_id) DO UPDATE SET channel_id = excluded.channel_id",
        (user_id, channel_id),
    )


def _chunks(items: Sequence[int], size: int) -> Iterable[Sequence[int]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


async def forget_dm_channel(conn: Conn, user_id: int) -> None:
    """Drop a cached DM channel id that Discord no longer knows."""
    await conn.execute("DELETE FROM dm_channels WHERE user_id = ?", (user_id,))


# --------------------------------------------------------------------------- batches (sweep)


async def instant_subscriptions(
    conn: Conn, guild_ids: Iterable[int]
) -> dict[int, list[tuple[int, str, str]]]:
    """Active instant subscriptions of many guilds: guild -> [(user, scope, target)]."""
    ids = sorted(set(guild_ids))
    result: dict[int, list[tuple[int, str, str]]] = {gid: [] for gid in ids}
    for chunk in _chunks(ids, 500):
        marks = ",".join("?" * len(chunk))
        rows = list(
            await conn.execute_fetchall(
                f"SELECT guild_id, user_id, scope, target FROM subscriptions WHERE guild_id IN "
                f"({marks}) AND mode = 'instant' AND paused_reason IS NULL ORDER BY user_id",
                chunk,
            )
        )
        for row in rows:
            result[row[0]].append((row[1], row[2], row[3]))
    return result


async def broken_set(conn: Conn) -> set[tuple[DestinationKind, int]]:
    """Every broken destination (a small table)."""
    rows = list(await conn.execute_fetchall("SELECT dest_kind, dest_id FROM broken_destinations"))
    return {(DestinationKind(r[0]), r[1]) for r in rows}


async def advance_many(
    conn: Conn,
    rows: Sequence[tuple[str, int | None, int | None, int, int, int, int]],
) -> int:
    """Batch form of :func:`advance_due`: (state, next_due_ms, days_late, now_ms, id,
    expect_due_ms, expect_revision) per launch. Returns how many rows changed."""
    cur = await conn.executemany(
        "UPDATE launches SET state = ?, next_due_at = ?, days_late = ?, updated_at = ? "
        "WHERE id = ? AND next_due_at = ? AND revision = ?",
        rows,
    )
    changed = cur.rowcount
    await cur.close()
    return changed


async def append_events(
    conn: Conn,
    rows: Sequence[tuple[int, int, EventKind, dt.datetime, str, dict[str, Any]]],
) -> None:
    """Batch form of :func:`append_event` for (launch, guild, kind, at, actor, data) rows."""
    await conn.executemany(
        "INSERT INTO launch_events (launch_id, guild_id, kind, at, actor, data) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            (lid, gid, kind.value, to_ms(at), actor, json.dumps(data, sort_keys=True))
            for lid, gid, kind, at, actor, data in rows
        ],
    )


async def enqueue_many(
    conn: Conn,
    rows: Sequence[tuple[int | None, DestinationKind, int, str, str, Message, OutboxState]],
    now: dt.datetime,
) -> int:
    """Batch form of :func:`enqueue` for (guild, dest_kind, dest_id, idem_key, nonce, payload,
    state) rows; repeated keys are ignored. Returns how many were inserted."""
    if not rows:
        return 0
    stamp = to_ms(now)
    keys = await fair_keys(conn, [row[0] for row in rows], now)
    cur = await conn.executemany(
        "INSERT INTO outbox (guild_id, dest_kind, dest_id, idem_key, nonce, payload, "
        "state, next_attempt_at, created_at, queued_at, fair_key) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [
            (
                guild_id,
                kind.value,
                dest_id,
                key,
                nonce,
                json.dumps(payload.to_json(), separators=(",", ":")),
                state.value,
                stamp,
                stamp,
                stamp,
                fair,
            )
            for (guild_id, kind, dest_id, key, nonce, payload, state), fair in zip(
                rows, keys, strict=True
            )
        ],
    )
    inserted = cur.rowcount
    await cur.close()
    return inserted

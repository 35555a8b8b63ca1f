"""Repository functions for promise discovery (schema 009): discoveries and the proposals they
found. Same rules as storage/repo.py: ``?`` parameters only, frozen records out, every lookup a
person can trigger filters by guild_id."""

from __future__ import annotations

import datetime as dt
import sqlite3

from storage.db import Connection, from_ms, from_ms_or_none, to_ms
from tracker.promises import (
    Discovery,
    DiscoveryKind,
    Promised,
    PromiseProposal,
    ProposalState,
)

Conn = Connection


def _discovery(row: sqlite3.Row) -> Discovery:
    return Discovery(
        id=row["id"],
        guild_id=row["guild_id"],
        vendor=row["vendor"],
        kind=DiscoveryKind(row["kind"]),
        target=row["target"],
        interval_minutes=row["interval_minutes"],
        enabled=bool(row["enabled"]),
        next_check_at=from_ms(row["next_check_at"]),
        etag=row["etag"],
        last_modified=row["last_modified"],
        last_checked_at=from_ms_or_none(row["last_checked_at"]),
        last_status=row["last_status"],
        last_error=row["last_error"],
        consecutive_failures=row["consecutive_failures"],
        baseline_done=bool(row["baseline_done"]),
        created_by=row["created_by"],
        created_at=from_ms(row["created_at"]),
    )


async def insert(
    conn: Conn,
    *,
    guild_id: int,
    vendor: str,
    kind: DiscoveryKind,
    target: str,
    interval_minutes: int,
    next_check_at: dt.datetime,
    created_by: str,
    now: dt.datetime,
) -> Discovery | None:
    """A new discovery; None when the server already watches that source."""
    cur = await conn.execute(
        "INSERT INTO discoveries (guild_id, vendor, kind, target, interval_minutes, "
        "next_check_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING RETURNING id",
        (
            guild_id,
            vendor,
            kind.value,
            target,
            interval_minutes,
            to_ms(next_check_at),
            created_by,
            to_ms(now),
        ),
    )
    row = await cur.fetchone()
    await cur.close()
    if row is None:
        return None
    return await get(conn, int(row[0]))


async def get(conn: Conn, discovery_id: int) -> Discovery | None:
    """One discovery by id."""
    rows = list(
        await conn.execute_fetchall("SELECT * FROM discoveries WHERE id = ?", (discovery_id,))
    )
    return _discovery(rows[0]) if rows else None


async def count(conn: Conn, guild_id: int) -> int:
    """How many sources a server watches for promises."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT COUNT(*) FROM discoveries WHERE guild_id = ?", (guild_id,)
        )
    )
    return int(rows[0][0]) if rows else 0


async def next_due(conn: Conn) -> dt.datetime | None:
    """The earliest next_check_at of an enabled discovery (one index lookup)."""
    rows = list(
        await conn.execute_fetchall("SELECT MIN(next_check_at) FROM discoveries WHERE enabled = 1")
    )
    return from_ms_or_none(rows[0][0]) if rows else None


async def due(conn: Conn, now: dt.datetime, limit: int) -> list[Discovery]:
    """Enabled discoveries due at or before *now*, earliest first."""
    rows = await conn.execute_fetchall(
        "SELECT * FROM discoveries WHERE enabled = 1 AND next_check_at <= ? "
        "ORDER BY next_check_at LIMIT ?",
        (to_ms(now), limit),
    )
    return [_discovery(row) for row in rows]


async def record_success(
    conn: Conn,
    discovery_id: int,
    *,
    now: dt.datetime,
    next_check_at: dt.datetime,
    status: str,
    etag: str | None,
    last_modified: str | None,
) -> None:
    """A poll that got an answer: failures reset, validators kept, baseline taken."""
    await conn.execute(
        "UPDATE discoveries SET last_checked_at = ?, last_status = ?, last_error = NULL, "
        "consecutive_failures = 0, baseline_done = 1, next_check_at = ?, "
        "etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified) WHERE id = ?",
        (to_ms(now), status[:100], to_ms(next_check_at), etag, last_modified, discovery_id),
    )


async def record_failure(
    conn: Conn, discovery_id: int, *, now: dt.datetime, next_check_at: dt.datetime, error: str
) -> None:
    """A poll without a usable answer: counted, retried later."""
    await conn.execute(
        "UPDATE discoveries SET last_checked_at = ?, last_status = 'failed', last_error = ?, "
        "consecutive_failures = consecutive_failures + 1, next_check_at = ? WHERE id = ?",
        (to_ms(now), error, to_ms(next_check_at), discovery_id),
    )


def _proposal(row: sqlite3.Row) -> PromiseProposal:
    return PromiseProposal(
        id=row["id"],
        guild_id=row["guild_id"],
        discovery_id=row["discovery_id"],
        entry_key=row["entry_key"],
        vendor=row["vendor"],
        promised=Promised(
            entry_key=row["entry_key"],
            title=row["title"],
            url=row["url"],
            sentence=row["sentence"],
            span=(row["phrase_start"], row["phrase_end"]),
            window_phrase=row["window_phrase"],
            window_start=dt.date.fromisoformat(row["window_start"]),
            window_end=dt.date.fromisoformat(row["window_end"]),
            announced_on=dt.date.fromisoformat(row["announced_on"]),
            product=row["product"],
        ),
        state=ProposalState(row["state"]),
        launch_id=row["launch_id"],
        decided_by=row["decided_by"],
        created_at=from_ms(row["created_at"]),
    )


async def insert_proposal(
    conn: Conn,
    discovery: Discovery,
    promised: Promised,
    state: ProposalState,
    now: dt.datetime,
) -> PromiseProposal | None:
    """Record an entry's promise once per server; None when the server already has it."""
    cur = await conn.execute(
        "INSERT INTO promise_proposals (guild_id, discovery_id, entry_key, vendor, title, url, "
        "sentence, phrase_start, phrase_end, window_phrase, window_start, window_end, "
        "announced_on, product, state, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING RETURNING id",
        (
            discovery.guild_id,
            discovery.id,
            promised.entry_key,
            discovery.vendor,
            promised.title,
            promised.url,
            promised.sentence,
            promised.span[0],
            promised.span[1],
            promised.window_phrase,
            promised.window_start.isoformat(),
            promised.window_end.isoformat(),
            promised.announced_on.isoformat(),
            promised.product,
            state.value,
            to_ms(now),
        ),
    )
    row = await cur.fetchone()
    await cur.close()
    if row is None:
        return None
    return await get_proposal(conn, discovery.guild_id, int(row[0]))


async def get_proposal(conn: Conn, guild_id: int, proposal_id: int) -> PromiseProposal | None:
    """One proposal of one server."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT * FROM promise_proposals WHERE id = ? AND guild_id = ?",
            (proposal_id, guild_id),
        )
    )
    return _proposal(rows[0]) if rows else None


async def decide(
    conn: Conn,
    proposal_id: int,
    state: ProposalState,
    actor: str,
    now: dt.datetime,
    launch_id: int | None,
) -> bool:
    """Close a proposal once: False when it was no longer waiting."""
    cur = await conn.execute(
        "UPDATE promise_proposals SET state = ?, decided_by = ?, decided_at = ?, launch_id = ? "
        "WHERE id = ? AND state = 'proposed'",
        (state.value, actor[:100], to_ms(now), launch_id, proposal_id),
    )
    changed = cur.rowcount == 1
    await cur.close()
    return changed

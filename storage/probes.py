"""Repository functions for release probes (schema 003): probes, their HTTP validators and
their detections. Same rules as storage/repo.py: a connection per call (the writer inside
``Database.transaction()`` for changes, ``Database.read`` for queries), ``?`` parameters only,
frozen dataclasses out. Every lookup a person can trigger filters by guild_id."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Sequence
from typing import Any

from storage.db import Connection, from_ms, from_ms_or_none, to_ms
from tracker.probes import Detection, DetectionState, Probe, ProbeKind
from tracker.probes.classify import Verdict

Conn = Connection
MAX_ERROR = 300

# --------------------------------------------------------------------------- probes


def _row_to_probe(row: sqlite3.Row) -> Probe:
    return Probe(
        id=row["id"],
        guild_id=row["guild_id"],
        launch_id=row["launch_id"],
        kind=ProbeKind(row["kind"]),
        target=row["target"],
        pattern=row["pattern"],
        auto_confirm=bool(row["auto_confirm"]),
        interval_minutes=row["interval_minutes"],
        api_key_env=row["api_key_env"],
        enabled=bool(row["enabled"]),
        next_check_at=from_ms(row["next_check_at"]),
        last_checked_at=from_ms_or_none(row["last_checked_at"]),
        last_ok_at=from_ms_or_none(row["last_ok_at"]),
        last_error=row["last_error"],
        consecutive_failures=row["consecutive_failures"],
        baseline_done=bool(row["baseline_done"]),
        disabled_reason=row["disabled_reason"],
        disabled_at=from_ms_or_none(row["disabled_at"]),
        created_by=row["created_by"],
        created_at=from_ms(row["created_at"]),
        prereleases=bool(row["prereleases"]),
    )


async def insert_probe(
    conn: Conn,
    *,
    guild_id: int,
    launch_id: int,
    kind: ProbeKind,
    target: str,
    pattern: str,
    auto_confirm: bool,
    interval_minutes: int,
    api_key_env: str | None,
    next_check_at: dt.datetime,
    created_by: str,
    now: dt.datetime,
    prereleases: bool = False,
) -> Probe:
    """Insert an enabled probe and return it."""
    cur = await conn.execute(
        "INSERT INTO probes (guild_id, launch_id, kind, target, pattern, auto_confirm, "
        "interval_minutes, api_key_env, next_check_at, created_by, created_at, updated_at, "
        "prereleases) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
        (
            guild_id,
            launch_id,
            kind.value,
            target,
            pattern,
            int(auto_confirm),
            interval_minutes,
            api_key_env,
            to_ms(next_check_at),
            created_by,
            to_ms(now),
            to_ms(now),
            int(prereleases),
        ),
    )
    row = await cur.fetchone()
    await cur.close()
    assert row is not None
    probe_id = int(row[0])
    probe = await get_probe(conn, probe_id)
    assert probe is not None
    return probe


async def get_probe(conn: Conn, probe_id: int, guild_id: int | None = None) -> Probe | None:
    """One probe by id; with *guild_id*, only if it belongs to that guild."""
    params: tuple[int, ...]
    if guild_id is None:
        sql, params = "SELECT * FROM probes WHERE id = ?", (probe_id,)
    else:
        sql, params = "SELECT * FROM probes WHERE id = ? AND guild_id = ?", (probe_id, guild_id)
    rows = list(await conn.execute_fetchall(sql, params))
    row = rows[0] if rows else None
    return _row_to_probe(row) if row else None


async def find_probe(
    conn: Conn, launch_id: int, kind: ProbeKind, target: str, pattern: str
) -> Probe | None:
    """The probe of a launch with this kind, target and pattern (ignoring case), if any."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT * FROM probes WHERE launch_id = ? AND kind = ? AND target = ? "
            "AND pattern = ? COLLATE NOCASE",
            (launch_id, kind.value, target, pattern),
        )
    )
    row = rows[0] if rows else None
    return _row_to_probe(row) if row else None


async def list_probes(conn: Conn, guild_id: int, launch_id: int | None = None) -> list[Probe]:
    """A guild's probes (of one launch), by id."""
    sql = "SELECT * FROM probes WHERE guild_id = ?"
    params: list[Any] = [guild_id]
    if launch_id is not None:
        sql += " AND launch_id = ?"
        params.append(launch_id)
    rows = list(await conn.execute_fetchall(sql + " ORDER BY id", params))
    return [_row_to_probe(r) for r in rows]


async def count_probes(conn: Conn, guild_id: int, launch_id: int | None = None) -> int:
    """How many probes a guild (or one of its launches) has."""
    sql = "SELECT COUNT(*) FROM probes WHERE guild_id = ?"
    params: list[Any] = [guild_id]
    if launch_id is not None:
        sql += " AND launch_id = ?"
        params.append(launch_id)
    rows = list(await conn.execute_fetchall(sql, params))
    row = rows[0] if rows else None
    return int(row[0]) if row else 0


async def delete_probe(conn: Conn, probe_id: int, guild_id: int) -> bool:
    """Remove a probe with its validators and detections; False when there was none."""
    cur = await conn.execute(
        "DELETE FROM probes WHERE id = ? AND guild_id = ?", (probe_id, guild_id)
    )
    deleted = cur.rowcount == 1
    await cur.close()
    return deleted


async def next_probe_due(conn: Conn) -> dt.datetime | None:
    """The earliest next_check_at of an enabled probe (one index lookup)."""
    rows = list(
        await conn.execute_fetchall("SELECT MIN(next_check_at) FROM probes WHERE enabled = 1")
    )
    row = rows[0] if rows else None
    return from_ms_or_none(row[0]) if row else None


async def due_probes(conn: Conn, now: dt.datetime, limit: int) -> list[Probe]:
    """Enabled probes due at or before *now*, earliest first (index range scan)."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT * FROM probes WHERE enabled = 1 AND next_check_at <= ? "
            "ORDER BY next_check_at, id LIMIT ?",
            (to_ms(now), limit),
        )
    )
    return [_row_to_probe(r) for r in rows]


async def resolved_launches(conn: Conn, launch_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    """For each launch id: its (state, product). Missing launches are left out."""
    out: dict[int, tuple[str, str]] = {}
    ids = sorted(set(launch_ids))
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ",".join("?" * len(chunk))
        rows = list(
            await conn.execute_fetchall(
                f"SELECT id, state, product FROM launches WHERE id IN ({marks})", chunk
            )
        )
        for row in rows:
            out[row["id"]] = (row["state"], row["product"])
    return out


async def record_success(
    conn: Conn,
    probe_id: int,
    *,
    now: dt.datetime,
    next_check_at: dt.datetime,
    status: str,
) -> bool:
    """A poll that got an answer: failures reset, next poll armed, baseline taken.
    False when the probe was removed or disabled meanwhile (then record nothing else)."""
    cur = await conn.execute(
        "UPDATE probes SET last_checked_at = ?, last_ok_at = ?, last_status = ?, "
        "last_error = NULL, consecutive_failures = 0, baseline_done = 1, next_check_at = ?, "
        "updated_at = ? WHERE id = ? AND enabled = 1",
        (to_ms(now), to_ms(now), status[:100], to_ms(next_check_at), to_ms(now), probe_id),
    )
    changed = cur.rowcount == 1
    await cur.close()
    return changed


async def record_failure(
    conn: Conn,
    probe_id: int,
    *,
    now: dt.datetime,
    next_check_at: dt.datetime,
    error: str,
    limit: int,
) -> tuple[int, bool]:
    """A failed poll: count it and arm the next one; at *limit* consecutive failures the probe
    is disabled. Returns (consecutive failures, newly disabled); (0, False) when the probe is
    gone or was already disabled."""
    cur = await conn.execute(
        "UPDATE probes SET last_checked_at = ?, last_status = 'failed', last_error = ?, "
        "consecutive_failures = consecutive_failures + 1, next_check_at = ?, updated_at = ? "
        "WHERE id = ? AND enabled = 1",
        (to_ms(now), error[:MAX_ERROR], to_ms(next_check_at), to_ms(now), probe_id),
    )
    changed = cur.rowcount == 1
    await cur.close()
    if not changed:
        return 0, False
    rows2 = list(
        await conn.execute_fetchall(
            "SELECT consecutive_failures FROM probes WHERE id = ?", (probe_id,)
        )
    )
    row = rows2[0] if rows2 else None
    failures = int(row[0]) if row else 0
    if failures < limit:
        return failures, False
    newly = await disable_probe(
        conn, probe_id, f"failed {failures} times in a row; last error: {error}", now
    )
    return failures, newly


async def disable_probe(conn: Conn, probe_id: int, reason: str, now: dt.datetime) -> bool:
    """Turn a probe off with a reason; True only for the call that turned it off."""
    cur = await conn.execute(
        "UPDATE probes SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? "
        "WHERE id = ? AND enabled = 1",
        (reason[:MAX_ERROR], to_ms(now), to_ms(now), probe_id),
    )
    changed = cur.rowcount == 1
    await cur.close()
    return changed


async def disable_launch_probes(
    conn: Conn, launch_id: int, guild_id: int, reason: str, now: dt.datetime
) -> int:
    """Turn off every enabled probe of a launch (it shipped or was cancelled)."""
    cur = await conn.execute(
        "UPDATE probes SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? "
        "WHERE launch_id = ? AND guild_id = ? AND enabled = 1",
        (reason[:MAX_ERROR], to_ms(now), to_ms(now), launch_id, guild_id),
    )
    count = cur.rowcount
    await cur.close()
    return count


async def enable_probe(conn: Conn, probe_id: int, guild_id: int, now: dt.datetime) -> bool:
    """Turn a disabled probe back on, due at once, with its failure count reset."""
    cur = await conn.execute(
        "UPDATE probes SET enabled = 1, disabled_reason = NULL, disabled_at = NULL, "
        "consecutive_failures = 0, last_error = NULL, next_check_at = ?, updated_at = ? "
        "WHERE id = ? AND guild_id = ? AND enabled = 0",
        (to_ms(now), to_ms(now), probe_id, guild_id),
    )
    changed = cur.rowcount == 1
    await cur.close()
    return changed


# --------------------------------------------------------------------------- validators


async def get_validators(conn: Conn, probe_id: int) -> dict[str, tuple[str | None, str | None]]:
    """The stored (ETag, Last-Modified) of each of a probe's requests."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT name, etag, last_modified FROM probe_validators WHERE probe_id = ?",
            (probe_id,),
        )
    )
    return {r["name"]: (r["etag"], r["last_modified"]) for r in rows}


async def save_validators(
    conn: Conn, probe_id: int, name: str, etag: str | None, last_modified: str | None
) -> None:
    """Remember (or forget, when both are None) the validators of one request."""
    if etag is None and last_modified is None:
        await conn.execute(
            "DELETE FROM probe_validators WHERE probe_id = ? AND name = ?", (probe_id, name)
        )
        return
    await conn.execute(
        "INSERT INTO probe_validators (probe_id, name, etag, last_modified) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (probe_id, name) DO UPDATE SET etag = excluded.etag, "
        "last_modified = excluded.last_modified",
        (
            probe_id,
            name,
            (etag or None) and etag[:300],
            (last_modified or None) and last_modified[:100],
        ),
    )


async def clear_validators(conn: Conn, probe_id: int | None = None) -> None:
    """Forget stored validators (of one probe, or all: the benchmark's unconditional round)."""
    if probe_id is None:
        await conn.execute("DELETE FROM probe_validators")
    else:
        await conn.execute("DELETE FROM probe_validators WHERE probe_id = ?", (probe_id,))


# --------------------------------------------------------------------------- detections


def _row_to_detection(row: sqlite3.Row) -> Detection:
    return Detection(
        id=row["id"],
        probe_id=row["probe_id"],
        guild_id=row["guild_id"],
        launch_id=row["launch_id"],
        kind=ProbeKind(row["kind"]),
        evidence_key=row["evidence_key"],
        title=row["title"],
        url=row["url"],
        matched=row["matched"],
        published_at=from_ms_or_none(row["published_at"]),
        detected_at=from_ms(row["detected_at"]),
        state=DetectionState(row["state"]),
        auto_confirm=bool(row["auto_confirm"]),
        decided_by=row["decided_by"],
        decided_at=from_ms_or_none(row["decided_at"]),
        posted_at=from_ms_or_none(row["posted_at"]),
        message_id=row["message_id"],
        verdict=Verdict(row["verdict"]),
        window_phrase=row["window_phrase"],
        window_end=_date_or_none(row["window_end"]),
        window_read_on=_date_or_none(row["window_read_on"]),
    )


def _date_or_none(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


async def insert_detection(
    conn: Conn,
    probe: Probe,
    *,
    evidence_key: str,
    title: str,
    url: str | None,
    matched: str,
    published_at: dt.datetime | None,
    state: DetectionState,
    now: dt.datetime,
    verdict: Verdict = Verdict.RELEASE,
    window_phrase: str | None = None,
    window_end: dt.date | None = None,
    window_read_on: dt.date | None = None,
) -> Detection | None:
    """Record a piece of evidence once; None when this probe already knew it."""
    cur = await conn.execute(
        "INSERT INTO probe_detections (probe_id, guild_id, launch_id, kind, "
        "evidence_key, title, url, matched, published_at, detected_at, state, auto_confirm, "
        "verdict, window_phrase, window_end, window_read_on) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT DO NOTHING RETURNING id",
        (
            probe.id,
            probe.guild_id,
            probe.launch_id,
            probe.kind.value,
            evidence_key,
            title,
            url,
            matched,
            to_ms(published_at) if published_at else None,
            to_ms(now),
            state.value,
            int(probe.auto_confirm and verdict is Verdict.RELEASE),
            verdict.value,
            window_phrase,
            window_end.isoformat() if window_end else None,
            window_read_on.isoformat() if window_read_on else None,
        ),
    )
    inserted = await cur.fetchone()
    await cur.close()
    if inserted is None:
        return None
    detection_id = int(inserted[0])
    return await get_detection(conn, detection_id)


async def known_keys(conn: Conn, probe_id: int, keys: Sequence[str]) -> set[str]:
    """Which of *keys* this probe already recorded."""
    found: set[str] = set()
    unique = list(dict.fromkeys(keys))
    for start in range(0, len(unique), 500):
        chunk = unique[start : start + 500]
        rows = await conn.execute_fetchall(
            "SELECT evidence_key FROM probe_detections WHERE probe_id = ? AND evidence_key IN "
            f"({','.join('?' * len(chunk))})",
            [probe_id, *chunk],
        )
        found.update(str(r[0]) for r in rows)
    return found


async def get_detection(
    conn: Conn, detection_id: int, guild_id: int | None = None
) -> Detection | None:
    """One detection by id; with *guild_id*, only if it belongs to that guild."""
    params: tuple[int, ...]
    if guild_id is None:
        sql, params = "SELECT * FROM probe_detections WHERE id = ?", (detection_id,)
    else:
        sql = "SELECT * FROM probe_detections WHERE id = ? AND guild_id = ?"
        params = (detection_id, guild_id)
    rows = list(await conn.execute_fetchall(sql, params))
    row = rows[0] if rows else None
    return _row_to_detection(row) if row else None


async def list_detections(
    conn: Conn,
    guild_id: int,
    *,
    launch_id: int | None = None,
    probe_id: int | None = None,
    states: Sequence[DetectionState] | None = None,
    limit: int = 25,
) -> list[Detection]:
    """A guild's detections, newest first, optionally of one launch / probe / some states."""
    sql = "SELECT * FROM probe_detections WHERE guild_id = ?"
    params: list[Any] = [guild_id]
    if launch_id is not None:
        sql += " AND launch_id = ?"
        params.append(launch_id)
    if probe_id is not None:
        sql += " AND probe_id = ?"
        params.append(probe_id)
    if states:
        sql += f" AND state IN ({','.join('?' * len(states))})"
        params.extend(s.value for s in states)
    sql += " ORDER BY detected_at DESC, id DESC LIMIT ?"
    params.append(limit)
    rows = list(await conn.execute_fetchall(sql, params))
    return [_row_to_detection(r) for r in rows]


async def decide_detection(
    conn: Conn,
    detection_id: int,
    guild_id: int,
    *,
    expect: DetectionState,
    state: DetectionState,
    actor: str,
    now: dt.datetime,
) -> bool:
    """Move a detection from *expect* to *state* (compare-and-set); False if it moved first."""
    cur = await conn.execute(
        "UPDATE probe_detections SET state = ?, decided_by = ?, decided_at = ? "
        "WHERE id = ? AND guild_id = ? AND state = ?",
        (state.value, actor[:100], to_ms(now), detection_id, guild_id, expect.value),
    )
    changed = cur.rowcount == 1
    await cur.close()
    return changed


async def supersede_proposals(
    conn: Conn, launch_id: int, guild_id: int, actor: str, now: dt.datetime
) -> int:
    """Close the open proposals of a launch that was resolved."""
    cur = await conn.execute(
        "UPDATE probe_detections SET state = 'superseded', decided_by = ?, decided_at = ? "
        "WHERE launch_id = ? AND guild_id = ? AND state = 'proposed'",
        (actor[:100], to_ms(now), launch_id, guild_id),
    )
    count = cur.rowcount
    await cur.close()
    return count


async def unposted_detections(conn: Conn, limit: int) -> list[Detection]:
    """Proposals and auto-confirmations the Discord layer has not posted yet, oldest first."""
    rows = list(
        await conn.execute_fetchall(
            "SELECT * FROM probe_detections WHERE posted_at IS NULL "
            "AND state IN ('proposed', 'auto_confirmed') ORDER BY detected_at, id LIMIT ?",
            (limit,),
        )
    )
    return [_row_to_detection(r) for r in rows]


async def mark_posted(
    conn: Conn, detection_id: int, message_id: int | None, now: dt.datetime
) -> bool:
    """Record that a detection was posted; False when it was already marked."""
    cur = await conn.execute(
        "UPDATE probe_detections SET posted_at = ?, message_id = ? "
        "WHERE id = ? AND posted_at IS NULL",
        (to_ms(now), message_id, detection_id),
    )
    changed = cur.rowcount == 1
    await cur.close()
    return changed

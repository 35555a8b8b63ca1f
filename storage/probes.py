"""Probes: sources watched for a launch's release, and their HTTP validators."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from storage.db import from_ms_or_none, to_ms
from storage.rows import (
    Repository,
    row_to_probe,
)
from tracker.probes import Probe, ProbeKind

MAX_ERROR = 300


class SqlProbes(Repository):
    """Probes: sources watched for a launch's release, and their HTTP validators."""

    __slots__ = ()

    async def insert_probe(
        self,
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
        cur = await self._conn.execute(
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
        probe = await self.get_probe(probe_id)
        assert probe is not None
        return probe

    async def get_probe(self, probe_id: int, guild_id: int | None = None) -> Probe | None:
        """One probe by id; with *guild_id*, only if it belongs to that guild."""
        params: tuple[int, ...]
        if guild_id is None:
            sql, params = "SELECT * FROM probes WHERE id = ?", (probe_id,)
        else:
            sql, params = "SELECT * FROM probes WHERE id = ? AND guild_id = ?", (probe_id, guild_id)
        rows = list(await self._conn.execute_fetchall(sql, params))
        row = rows[0] if rows else None
        return row_to_probe(row) if row else None

    async def find_probe(
        self, launch_id: int, kind: ProbeKind, target: str, pattern: str
    ) -> Probe | None:
        """The probe of a launch with this kind, target and pattern (ignoring case), if any."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT * FROM probes WHERE launch_id = ? AND kind = ? AND target = ? "
                "AND pattern = ? COLLATE NOCASE",
                (launch_id, kind.value, target, pattern),
            )
        )
        row = rows[0] if rows else None
        return row_to_probe(row) if row else None

    async def list_probes(self, guild_id: int, launch_id: int | None = None) -> list[Probe]:
        """A guild's probes (of one launch), by id."""
        sql = "SELECT * FROM probes WHERE guild_id = ?"
        params: list[Any] = [guild_id]
        if launch_id is not None:
            sql += " AND launch_id = ?"
            params.append(launch_id)
        rows = list(await self._conn.execute_fetchall(sql + " ORDER BY id", params))
        return [row_to_probe(r) for r in rows]

    async def count_probes(self, guild_id: int, launch_id: int | None = None) -> int:
        """How many probes a guild (or one of its launches) has."""
        sql = "SELECT COUNT(*) FROM probes WHERE guild_id = ?"
        params: list[Any] = [guild_id]
        if launch_id is not None:
            sql += " AND launch_id = ?"
            params.append(launch_id)
        rows = list(await self._conn.execute_fetchall(sql, params))
        row = rows[0] if rows else None
        return int(row[0]) if row else 0

    async def delete_probe(self, probe_id: int, guild_id: int) -> bool:
        """Remove a probe with its validators and detections; False when there was none."""
        cur = await self._conn.execute(
            "DELETE FROM probes WHERE id = ? AND guild_id = ?", (probe_id, guild_id)
        )
        deleted = cur.rowcount == 1
        await cur.close()
        return deleted

    async def next_probe_due(self) -> dt.datetime | None:
        """The earliest next_check_at of an enabled probe (one index lookup)."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT MIN(next_check_at) FROM probes WHERE enabled = 1"
            )
        )
        row = rows[0] if rows else None
        return from_ms_or_none(row[0]) if row else None

    async def due_probes(self, now: dt.datetime, limit: int) -> list[Probe]:
        """Enabled probes due at or before *now*, earliest first (index range scan)."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT * FROM probes WHERE enabled = 1 AND next_check_at <= ? "
                "ORDER BY next_check_at, id LIMIT ?",
                (to_ms(now), limit),
            )
        )
        return [row_to_probe(r) for r in rows]

    async def resolved_launches(self, launch_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """For each launch id: its (state, product). Missing launches are left out."""
        out: dict[int, tuple[str, str]] = {}
        ids = sorted(set(launch_ids))
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = list(
                await self._conn.execute_fetchall(
                    f"SELECT id, state, product FROM launches WHERE id IN ({marks})", chunk
                )
            )
            for row in rows:
                out[row["id"]] = (row["state"], row["product"])
        return out

    async def record_success(
        self,
        probe_id: int,
        *,
        now: dt.datetime,
        next_check_at: dt.datetime,
        status: str,
    ) -> bool:
        """A poll that got an answer: failures reset, next poll armed, baseline taken.
        False when the probe was removed or disabled meanwhile (then record nothing else)."""
        cur = await self._conn.execute(
            "UPDATE probes SET last_checked_at = ?, last_ok_at = ?, last_status = ?, "
            "last_error = NULL, consecutive_failures = 0, baseline_done = 1, next_check_at = ?, "
            "updated_at = ? WHERE id = ? AND enabled = 1",
            (to_ms(now), to_ms(now), status[:100], to_ms(next_check_at), to_ms(now), probe_id),
        )
        changed = cur.rowcount == 1
        await cur.close()
        return changed

    async def record_failure(
        self,
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
        cur = await self._conn.execute(
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
            await self._conn.execute_fetchall(
                "SELECT consecutive_failures FROM probes WHERE id = ?", (probe_id,)
            )
        )
        row = rows2[0] if rows2 else None
        failures = int(row[0]) if row else 0
        if failures < limit:
            return failures, False
        newly = await self.disable_probe(
            probe_id, f"failed {failures} times in a row; last error: {error}", now
        )
        return failures, newly

    async def disable_probe(self, probe_id: int, reason: str, now: dt.datetime) -> bool:
        """Turn a probe off with a reason; True only for the call that turned it off."""
        cur = await self._conn.execute(
            "UPDATE probes SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? "
            "WHERE id = ? AND enabled = 1",
            (reason[:MAX_ERROR], to_ms(now), to_ms(now), probe_id),
        )
        changed = cur.rowcount == 1
        await cur.close()
        return changed

    async def disable_launch_probes(
        self, launch_id: int, guild_id: int, reason: str, now: dt.datetime
    ) -> int:
        """Turn off every enabled probe of a launch (it shipped or was cancelled)."""
        cur = await self._conn.execute(
            "UPDATE probes SET enabled = 0, disabled_reason = ?, disabled_at = ?, updated_at = ? "
            "WHERE launch_id = ? AND guild_id = ? AND enabled = 1",
            (reason[:MAX_ERROR], to_ms(now), to_ms(now), launch_id, guild_id),
        )
        count = cur.rowcount
        await cur.close()
        return count

    async def enable_probe(self, probe_id: int, guild_id: int, now: dt.datetime) -> bool:
        """Turn a disabled probe back on, due at once, with its failure count reset."""
        cur = await self._conn.execute(
            "UPDATE probes SET enabled = 1, disabled_reason = NULL, disabled_at = NULL, "
            "consecutive_failures = 0, last_error = NULL, next_check_at = ?, updated_at = ? "
            "WHERE id = ? AND guild_id = ? AND enabled = 0",
            (to_ms(now), to_ms(now), probe_id, guild_id),
        )
        changed = cur.rowcount == 1
        await cur.close()
        return changed

    async def get_validators(self, probe_id: int) -> dict[str, tuple[str | None, str | None]]:
        """The stored (ETag, Last-Modified) of each of a probe's requests."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT name, etag, last_modified FROM probe_validators WHERE probe_id = ?",
                (probe_id,),
            )
        )
        return {r["name"]: (r["etag"], r["last_modified"]) for r in rows}

    async def save_validators(
        self, probe_id: int, name: str, etag: str | None, last_modified: str | None
    ) -> None:
        """Remember (or forget, when both are None) the validators of one request."""
        if etag is None and last_modified is None:
            await self._conn.execute(
                "DELETE FROM probe_validators WHERE probe_id = ? AND name = ?", (probe_id, name)
            )
            return
        await self._conn.execute(
            "INSERT INTO probe_validators (probe_id, name, etag, last_modified) "
            "VALUES (?, ?, ?, ?) "
            "ON CONFLICT (probe_id, name) DO UPDATE SET etag = excluded.etag, "
            "last_modified = excluded.last_modified",
            (
                probe_id,
                name,
                (etag or None) and etag[:300],
                (last_modified or None) and last_modified[:100],
            ),
        )

    async def clear_validators(self, probe_id: int | None = None) -> None:
        """Forget stored validators (of one probe, or all: the benchmark's unconditional round)."""
        if probe_id is None:
            await self._conn.execute("DELETE FROM probe_validators")
        else:
            await self._conn.execute("DELETE FROM probe_validators WHERE probe_id = ?", (probe_id,))

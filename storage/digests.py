"""Digest runs and each server's next digest time."""

from __future__ import annotations

import datetime as dt

from storage.db import from_ms, to_ms
from storage.rows import (
    Repository,
    row_to_digest_run,
)
from tracker.records import DigestGuild, DigestRun

DIGEST_OUTCOMES = ("posted", "no_channel", "skipped", "baseline")


class SqlDigests(Repository):
    """Digest runs and each server's next digest time."""

    __slots__ = ()

    async def insert_digest_run(
        self,
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
        cur = await self._conn.execute(
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

    async def set_digest_run_schedule(self, run_id: int, schedule: str, timezone: str) -> None:
        """Re-label a handled period with the guild's new schedule and timezone, so that the next
        periods count from it (the schedule changed after this period was handled)."""
        await self._conn.execute(
            "UPDATE digest_runs SET schedule = ?, timezone = ? WHERE id = ?",
            (schedule, timezone, run_id),
        )

    async def last_digest_run(self, guild_id: int) -> DigestRun | None:
        """The most recently recorded period of a guild."""
        rows = await self._conn.execute_fetchall(
            "SELECT * FROM digest_runs WHERE guild_id = ? ORDER BY id DESC LIMIT 1", (guild_id,)
        )
        return next((row_to_digest_run(r) for r in rows), None)

    async def digest_runs(self, guild_id: int, limit: int = 20) -> list[DigestRun]:
        """A guild's recorded periods, newest first."""
        rows = await self._conn.execute_fetchall(
            "SELECT * FROM digest_runs WHERE guild_id = ? ORDER BY id DESC LIMIT ?",
            (guild_id, limit),
        )
        return [row_to_digest_run(r) for r in rows]

    async def next_digest_due(self) -> tuple[bool, dt.datetime | None]:
        """(whether some guild's next digest time is not computed yet, the earliest stored one)
        over guilds whose digests are not off: two index lookups, however many guilds exist."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT EXISTS (SELECT 1 FROM guilds WHERE digest_schedule <> 'off' "
                "AND digest_due_at IS NULL), "
                "(SELECT MIN(digest_due_at) FROM guilds WHERE digest_schedule <> 'off')"
            )
        )
        pending, earliest = (rows[0][0], rows[0][1]) if rows else (0, None)
        return bool(pending), from_ms(earliest) if earliest is not None else None

    async def due_digest_guilds(self, now: dt.datetime, limit: int) -> list[DigestGuild]:
        """Guilds whose digest needs handling at *now* (its time has come, or it is not computed
        yet), at most *limit*, earliest first."""
        # Two index range reads (not one OR, which would scan every guild).
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT guild_id, timezone, digest_schedule FROM guilds "
                "WHERE digest_schedule <> 'off' AND digest_due_at IS NULL "
                "ORDER BY guild_id LIMIT ?",
                (limit,),
            )
        )
        if len(rows) < limit:
            rows += await self._conn.execute_fetchall(
                "SELECT guild_id, timezone, digest_schedule FROM guilds "
                "WHERE digest_schedule <> 'off' AND digest_due_at <= ? "
                "ORDER BY digest_due_at, guild_id LIMIT ?",
                (to_ms(now), limit - len(rows)),
            )
        return [DigestGuild(r[0], r[1], r[2]) for r in rows]

    async def set_digest_due(self, guild_id: int, due_at: dt.datetime) -> None:
        """Store when the guild's digest next needs handling."""
        await self._conn.execute(
            "UPDATE guilds SET digest_due_at = ? WHERE guild_id = ?", (to_ms(due_at), guild_id)
        )

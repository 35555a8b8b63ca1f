"""Where messages go: held (broken) channels and users, and cached DM channels."""

from __future__ import annotations

import datetime as dt
from typing import Any

from storage.db import from_ms, from_ms_or_none, to_ms
from storage.rows import (
    Repository,
)
from tracker.models import (
    DestinationKind,
)


class SqlDestinations(Repository):
    """Where messages go: held (broken) channels and users, and cached DM channels."""

    __slots__ = ()

    async def hold_destination(
        self,
        dest_kind: DestinationKind,
        dest_id: int,
        guild_id: int | None,
        reason: str,
        now: dt.datetime,
    ) -> bool:
        """Mark a destination broken and hold its pending rows. True if it was newly broken."""
        cur = await self._conn.execute(
            "INSERT INTO broken_destinations (dest_kind, dest_id, guild_id, reason, since) "
            "VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (dest_kind.value, dest_id, guild_id, reason[:500], to_ms(now)),
        )
        newly = cur.rowcount == 1
        await cur.close()
        await self._conn.execute(
            # A held row is in nobody's hands: released early (the channel fixed within a
            # claim's time), it must be due at once, not when the failed send's claim ends.
            "UPDATE outbox SET state = 'held', last_error = ?, claimed_until = NULL "
            "WHERE dest_kind = ? AND dest_id = ? AND state = 'pending'",
            (reason[:500], dest_kind.value, dest_id),
        )
        return newly

    async def is_broken(self, dest_kind: DestinationKind, dest_id: int) -> bool:
        """Whether a destination is currently held."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT 1 FROM broken_destinations WHERE dest_kind = ? AND dest_id = ?",
                (dest_kind.value, dest_id),
            )
        )
        return (rows[0] if rows else None) is not None

    async def release_destination(
        self, dest_kind: DestinationKind, dest_id: int, now: dt.datetime
    ) -> int:
        """Destination fixed: forget it was broken and make its held rows pending again."""
        await self._conn.execute(
            "DELETE FROM broken_destinations WHERE dest_kind = ? AND dest_id = ?",
            (dest_kind.value, dest_id),
        )
        cur = await self._conn.execute(
            "UPDATE outbox SET state = 'pending', next_attempt_at = ?, queued_at = ? "
            "WHERE dest_kind = ? AND dest_id = ? AND state = 'held'",
            (to_ms(now), to_ms(now), dest_kind.value, dest_id),
        )
        count = cur.rowcount
        await cur.close()
        return count

    async def retarget_held(
        self, dest_kind: DestinationKind, old_id: int, new_id: int, now: dt.datetime
    ) -> int:
        """A manager chose another channel: send what the broken one held to the new one."""
        await self._conn.execute(
            "DELETE FROM broken_destinations WHERE dest_kind = ? AND dest_id = ?",
            (dest_kind.value, old_id),
        )
        cur = await self._conn.execute(
            "UPDATE outbox SET dest_id = ?, state = 'pending', next_attempt_at = ?, queued_at = ? "
            "WHERE dest_kind = ? AND dest_id = ? AND state IN ('held', 'pending')",
            (new_id, to_ms(now), to_ms(now), dest_kind.value, old_id),
        )
        count = cur.rowcount
        await cur.close()
        return count

    async def broken_destinations(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Broken destinations with how many rows each holds and where the managers' notice
        of each breakage stands (its outbox state and last error; None when there is none)."""
        sql = (
            "SELECT b.dest_kind, b.dest_id, b.guild_id, b.reason, b.since, b.notified_at, "
            "(SELECT COUNT(*) FROM outbox o WHERE o.dest_kind = b.dest_kind "
            "AND o.dest_id = b.dest_id AND o.state = 'held') AS held, "
            "n.state AS notice_state, n.last_error AS notice_error "
            "FROM broken_destinations b LEFT JOIN outbox n ON n.idem_key = "
            # The managers' notice of this breakage (tracker.outbox.fanout.broken_notice).
            "'broken:c' || CAST(b.dest_id AS TEXT) || ':' || CAST(b.since AS TEXT)"
        )
        params: tuple[Any, ...] = ()
        if guild_id is not None:
            sql += " WHERE b.guild_id = ?"
            params = (guild_id,)
        rows = list(await self._conn.execute_fetchall(sql + " ORDER BY b.since", params))
        return [
            {
                "dest_kind": DestinationKind(r["dest_kind"]),
                "dest_id": r["dest_id"],
                "guild_id": r["guild_id"],
                "reason": r["reason"],
                "since": from_ms(r["since"]),
                "notified_at": from_ms_or_none(r["notified_at"]),
                "held": r["held"],
                "notice_state": r["notice_state"],
                "notice_error": r["notice_error"],
            }
            for r in rows
        ]

    async def mark_broken_notified(
        self, dest_kind: DestinationKind, dest_id: int, since: dt.datetime, now: dt.datetime
    ) -> bool:
        """Record that the managers were told of the breakage that began at *since* (their
        notice was delivered). False when that breakage is over (fixed, or broken anew since)
        or already marked."""
        cur = await self._conn.execute(
            "UPDATE broken_destinations SET notified_at = ? "
            "WHERE dest_kind = ? AND dest_id = ? AND since = ? AND notified_at IS NULL",
            (to_ms(now), dest_kind.value, dest_id, to_ms(since)),
        )
        marked = cur.rowcount == 1
        await cur.close()
        return marked

    async def get_dm_channel(self, user_id: int) -> int | None:
        """The cached DM channel id for a user."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT channel_id FROM dm_channels WHERE user_id = ?", (user_id,)
            )
        )
        row = rows[0] if rows else None
        return int(row[0]) if row else None

    async def save_dm_channel(self, user_id: int, channel_id: int) -> None:
        """Remember a user's DM channel id."""
        await self._conn.execute(
            "INSERT INTO dm_channels (user_id, channel_id) VALUES (?, ?) "
            "ON CONFLICT (user_id) DO UPDATE SET channel_id = excluded.channel_id",
            (user_id, channel_id),
        )

    async def forget_dm_channel(self, user_id: int) -> None:
        """Drop a cached DM channel id that Discord no longer knows."""
        await self._conn.execute("DELETE FROM dm_channels WHERE user_id = ?", (user_id,))

    async def broken_set(self) -> set[tuple[DestinationKind, int]]:
        """Every broken destination (a small table)."""
        rows = list(
            await self._conn.execute_fetchall("SELECT dest_kind, dest_id FROM broken_destinations")
        )
        return {(DestinationKind(r[0]), r[1]) for r in rows}

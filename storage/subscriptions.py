"""Who follows which launches, and how."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from storage.db import to_ms
from storage.rows import (
    Repository,
    chunks,
    row_to_subscription,
)
from tracker.models import (
    Subscription,
    SubscriptionScope,
)


class SqlSubscriptions(Repository):
    """Who follows which launches, and how."""

    __slots__ = ()

    async def add_subscription(
        self,
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
            await self._conn.execute_fetchall(
                "SELECT * FROM subscriptions WHERE guild_id = ? AND user_id = ? AND scope = ? "
                "AND target = ?",
                (guild_id, user_id, scope.value, target),
            )
        )
        existing = rows[0] if rows else None
        if existing:
            await self._conn.execute(
                "UPDATE subscriptions SET mode = ?, paused_reason = NULL, "
                "label = COALESCE(?, label) WHERE id = ?",
                (mode, label, existing["id"]),
            )
            created = False
            sub_id = existing["id"]
        else:
            cur2 = await self._conn.execute(
                "INSERT INTO subscriptions (guild_id, user_id, scope, target, mode, created_at, "
                "label) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id",
                (guild_id, user_id, scope.value, target, mode, to_ms(now), label),
            )
            inserted = await cur2.fetchone()
            await cur2.close()
            sub_id = inserted[0]
            created = True
        rows = list(
            await self._conn.execute_fetchall("SELECT * FROM subscriptions WHERE id = ?", (sub_id,))
        )
        row = rows[0] if rows else None
        assert row is not None
        return row_to_subscription(row), created

    async def remove_subscription(
        self, *, guild_id: int, user_id: int, scope: SubscriptionScope, target: str
    ) -> bool:
        """Unsubscribe; False when there was nothing to remove."""
        cur = await self._conn.execute(
            "DELETE FROM subscriptions "
            "WHERE guild_id = ? AND user_id = ? AND scope = ? AND target = ?",
            (guild_id, user_id, scope.value, target),
        )
        removed = cur.rowcount > 0
        await cur.close()
        return removed

    async def user_subscriptions(self, user_id: int) -> list[Subscription]:
        """Every subscription of a user, in every guild."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT * FROM subscriptions WHERE user_id = ? ORDER BY guild_id, id", (user_id,)
            )
        )
        return [row_to_subscription(r) for r in rows]

    async def subscribers_for(
        self, guild_id: int, launch_id: int, vendor: str, mode: str = "instant"
    ) -> list[int]:
        """User ids with an active subscription of *mode* matching a launch (deduplicated)."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT DISTINCT user_id FROM subscriptions WHERE guild_id = ? AND mode = ? "
                "AND paused_reason IS NULL AND ("
                "(scope = 'launch' AND target = ?) OR (scope = 'vendor' AND target = ?) "
                "OR scope = 'all') ORDER BY user_id",
                (guild_id, mode, str(launch_id), vendor.casefold()),
            )
        )
        return [r[0] for r in rows]

    async def guild_subscription_count(self, guild_id: int) -> dict[str, int]:
        """Active and paused subscriptions of a guild."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT paused_reason IS NULL, COUNT(*) FROM subscriptions WHERE guild_id = ? "
                "GROUP BY paused_reason IS NULL",
                (guild_id,),
            )
        )
        counts = {"active": 0, "paused": 0}
        for row in rows:
            counts["active" if row[0] else "paused"] = row[1]
        return counts

    async def pause_user_subscriptions(self, user_id: int, reason: str) -> int:
        """Pause every active subscription of a user who cannot be reached; returns how many."""
        cur = await self._conn.execute(
            "UPDATE subscriptions SET paused_reason = ? "
            "WHERE user_id = ? AND paused_reason IS NULL",
            (reason, user_id),
        )
        count = cur.rowcount
        await cur.close()
        return count

    async def instant_subscriptions(
        self, guild_ids: Iterable[int]
    ) -> dict[int, list[tuple[int, str, str]]]:
        """Active instant subscriptions of many guilds: guild -> [(user, scope, target)]."""
        ids = sorted(set(guild_ids))
        result: dict[int, list[tuple[int, str, str]]] = {gid: [] for gid in ids}
        for chunk in chunks(ids, 500):
            marks = ",".join("?" * len(chunk))
            rows = list(
                await self._conn.execute_fetchall(
                    f"SELECT guild_id, user_id, scope, target FROM subscriptions WHERE guild_id IN "
                    f"({marks}) AND mode = 'instant' AND paused_reason IS NULL ORDER BY user_id",
                    chunk,
                )
            )
            for row in rows:
                result[row[0]].append((row[1], row[2], row[3]))
        return result

    async def digest_subscriptions(self, guild_id: int) -> list[Subscription]:
        """A guild's active (not paused) subscriptions in digest mode, by user."""
        rows = await self._conn.execute_fetchall(
            "SELECT * FROM subscriptions WHERE guild_id = ? AND mode = 'digest' "
            "AND paused_reason IS NULL ORDER BY user_id, id",
            (guild_id,),
        )
        return [row_to_subscription(r) for r in rows]

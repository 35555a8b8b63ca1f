"""Public boards: which server publishes under which slug, and their change stamps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from storage.db import from_ms, to_ms
from storage.rows import (
    Repository,
    row_to_board,
    row_to_event,
)
from tracker.models import (
    LaunchEvent,
)
from tracker.records import BoardStamp, PublicBoard

VISIBLE_KINDS = (
    "created",
    "edited",
    "slipped",
    "shipped",
    "cancelled",
    "reannounced",
    "revived",
    "note",
)


class SqlBoards(Repository):
    """Public boards: which server publishes under which slug, and their change stamps."""

    __slots__ = ()

    async def board_by_slug(self, slug: str) -> PublicBoard | None:
        """The published board with this slug, or None."""
        rows = list(
            await self._conn.execute_fetchall("SELECT * FROM public_boards WHERE slug = ?", (slug,))
        )
        return row_to_board(rows[0]) if rows else None

    async def board_of_guild(self, guild_id: int) -> PublicBoard | None:
        """The server's published board, or None when it is private."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT * FROM public_boards WHERE guild_id = ?", (guild_id,)
            )
        )
        return row_to_board(rows[0]) if rows else None

    async def publish_board(self, guild_id: int, slug: str, now: dt.datetime) -> bool:
        """Publish (or rename) the server's board. False when another server holds *slug*.

        Call it inside a write transaction: the check and the write are then one step (and the
        UNIQUE constraint stops a concurrent writer on a database that allows one)."""
        holder = list(
            await self._conn.execute_fetchall(
                "SELECT guild_id FROM public_boards WHERE slug = ?", (slug,)
            )
        )
        if holder and holder[0][0] != guild_id:
            return False
        await self._conn.execute(
            "INSERT INTO public_boards (guild_id, slug, created_at, updated_at) "
            "VALUES (?, ?, ?, ?) "
            "ON CONFLICT (guild_id) DO UPDATE SET slug = excluded.slug, "
            "updated_at = excluded.updated_at",
            (guild_id, slug, to_ms(now), to_ms(now)),
        )
        return True

    async def unpublish_board(self, guild_id: int) -> bool:
        """Make the server's board private again; False when it was not public."""
        cur = await self._conn.execute("DELETE FROM public_boards WHERE guild_id = ?", (guild_id,))
        deleted = cur.rowcount == 1
        await cur.close()
        return deleted

    async def board_stamp(self, guild_id: int) -> BoardStamp:
        """The server's change stamp: one index lookup per visible kind (launch_events_guild_kind)
        and one pass over the server's launches, however long its history is."""
        newest = " UNION ALL ".join(
            "SELECT MAX(id) AS id FROM launch_events WHERE guild_id = ? AND kind = ?"
            for _ in VISIBLE_KINDS
        )
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT (SELECT COUNT(*) FROM launches WHERE guild_id = ?), "
                "(SELECT COALESCE(MAX(updated_at), 0) FROM launches WHERE guild_id = ?), "
                f"(SELECT COALESCE(MAX(id), 0) FROM ({newest}) AS newest), "
                "(SELECT COALESCE(MAX(updated_at), 0) FROM public_boards WHERE guild_id = ?), "
                "(SELECT COALESCE(MAX(updated_at), 0) FROM guilds WHERE guild_id = ?)",
                (
                    guild_id,
                    guild_id,
                    *(value for kind in VISIBLE_KINDS for value in (guild_id, kind)),
                    guild_id,
                    guild_id,
                ),
            )
        )
        count, launch_at, event_id, board_at, guild_at = rows[0]
        return BoardStamp(
            changed_at=from_ms(max(launch_at, board_at, guild_at)),
            launches=int(count),
            last_event_id=int(event_id),
            settings_at=from_ms(max(board_at, guild_at)),
        )

    async def recent_events(
        self, guild_id: int, kinds: Iterable[str], limit: int
    ) -> list[LaunchEvent]:
        """The server's newest *limit* history rows of *kinds*, newest first."""
        wanted = list(kinds)
        marks = ",".join("?" * len(wanted))
        rows = await self._conn.execute_fetchall(
            f"SELECT * FROM launch_events WHERE guild_id = ? AND kind IN ({marks}) "
            "ORDER BY at DESC, id DESC LIMIT ?",
            (guild_id, *wanted, limit),
        )
        return [row_to_event(row) for row in rows]  # the one mapper of history rows

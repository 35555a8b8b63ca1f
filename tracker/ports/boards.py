"""The boards repository as the domain sees it; storage/boards.py implements it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Protocol

from tracker.models import (
    LaunchEvent,
)
from tracker.records import (
    BoardStamp,
    PublicBoard,
)


class Boards(Protocol):
    """Public boards: which server publishes under which slug, and their change stamps."""

    async def board_by_slug(self, slug: str) -> PublicBoard | None:
        """The published board with this slug, or None."""

    async def board_of_guild(self, guild_id: int) -> PublicBoard | None:
        """The server's published board, or None when it is private."""

    async def publish_board(self, guild_id: int, slug: str, now: dt.datetime) -> bool:
        """Publish (or rename) the server's board. False when another server holds *slug*.

        Call it inside a write transaction: the check and the write are then one step (and the
        UNIQUE constraint stops a concurrent writer on a database that allows one)."""

    async def unpublish_board(self, guild_id: int) -> bool:
        """Make the server's board private again; False when it was not public."""

    async def board_stamp(self, guild_id: int) -> BoardStamp:
        """The server's change stamp: one index lookup per visible kind (launch_events_guild_kind)
        and one pass over the server's launches, however long its history is."""

    async def recent_events(
        self, guild_id: int, kinds: Iterable[str], limit: int
    ) -> list[LaunchEvent]:
        """The server's newest *limit* history rows of *kinds*, newest first."""

"""Publishing boards (/alerts public) and loading what a published board shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from tracker import deadlines
from tracker.board.feeds import FEED_KINDS, FEED_SIZE
from tracker.board.slugs import normalize_slug
from tracker.clock import Clock
from tracker.errors import Conflict, NotFound
from tracker.models import EventKind, Launch, LaunchEvent
from tracker.ports import Store

__all__ = ["BOARD_KINDS", "BoardService", "Published"]


# What the table, the chart and the calendar read of the history: first promises, re-datings.
BOARD_KINDS = (EventKind.CREATED, EventKind.REANNOUNCED, EventKind.REVIVED)


@dataclass(frozen=True, slots=True)
class Published:
    """A published server as the web board sees it: its slug, its calendar day now, and the
    stamp that changes whenever anything shown could have changed."""

    guild_id: int
    slug: str
    today: dt.date
    changed_at: dt.datetime  # the last change of what is shown (not counting the date)
    data_version: str  # opaque; equal versions mean equal records (the date aside)
    midnight: dt.datetime  # the start of *today* in the server's zone, in UTC

    def version(self, *, dated: bool) -> str:
        """The content version of a view: *dated* views (running figures, countdowns) also
        change with the server's calendar day."""
        return f"{self.data_version}.{self.today.isoformat()}" if dated else self.data_version

    def last_modified(self, *, dated: bool) -> dt.datetime:
        """When a view last changed: for a dated view never before today's midnight."""
        return max(self.changed_at, self.midnight) if dated else self.changed_at


class BoardService:
    """Publishing boards (/alerts public) and loading what a published board shows."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self.store = store
        self.clock = clock

    async def publish(self, guild_id: int, slug: str) -> str:
        """Publish the server's board under *slug* (or move it there); returns the slug."""
        clean = normalize_slug(slug)
        async with self.store.transaction() as tx:
            if not await tx.boards.publish_board(guild_id, clean, self.clock.now()):
                raise Conflict(f'The board name "{clean}" is taken; please pick another.')
        return clean

    async def unpublish(self, guild_id: int) -> bool:
        """Make the server's board private; False when it was not public."""
        async with self.store.transaction() as tx:
            return await tx.boards.unpublish_board(guild_id)

    async def slug_of(self, guild_id: int) -> str | None:
        """The server's published slug, or None while it is private."""
        board = await self.store.read.boards.board_of_guild(guild_id)
        return board.slug if board else None

    async def find(self, slug: str) -> Published | None:
        """The published board called *slug*, or None (unknown and private look the same)."""
        board = await self.store.read.boards.board_by_slug(slug)
        if board is None:
            return None
        config = await self.store.read.guilds.get_guild(board.guild_id)
        tz = deadlines.zone_or_utc(config.timezone)
        today = deadlines.local_today(self.clock.now(), tz)
        stamp = await self.store.read.boards.board_stamp(board.guild_id)
        changed = max(stamp.changed_at, board.updated_at)
        settings = max(stamp.settings_at, board.updated_at)
        version = (
            f"{board.guild_id}.{board.slug}.{int(settings.timestamp() * 1000)}."
            f"{stamp.launches}.{stamp.last_event_id}"
        )
        midnight = dt.datetime.combine(today, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
        return Published(board.guild_id, board.slug, today, changed, version, midnight)

    async def launches(self, guild_id: int) -> list[Launch]:
        """Every launch of the server, by id."""
        return await self.store.read.launches.all_launches(guild_id)

    async def events(
        self, guild_id: int, kinds: Iterable[EventKind] = BOARD_KINDS
    ) -> dict[int, list[LaunchEvent]]:
        """The server's history rows of *kinds* (by default what the board and the calendar
        need), by launch, oldest first."""
        return await self.store.read.events.events_by_launch(guild_id, kinds=kinds)

    async def recent(self, guild_id: int, limit: int = FEED_SIZE) -> list[LaunchEvent]:
        """The server's newest *limit* feed-worthy history rows, newest first."""
        kinds = sorted(k.value for k in FEED_KINDS)
        return await self.store.read.boards.recent_events(guild_id, kinds, limit)

    async def launch(self, guild_id: int, launch_id: int) -> tuple[Launch, list[LaunchEvent]]:
        """One launch of the server and its history; NotFound for any other launch."""
        launch = await self.store.read.launches.get_launch(launch_id, guild_id)
        if launch is None:
            raise NotFound(f"There is no launch #{launch_id} on this board.")
        return launch, await self.store.read.events.launch_events(launch.id)

"""The watchlist as people browse it: pages, counts, a search by name or id, and where a
server's alerts stand. Read-only; every change goes through tracker.launches.Tracker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tracker.models import GuildConfig, Launch, LaunchState
from tracker.ports import Store


@dataclass(frozen=True, slots=True)
class AlertStatus:
    """What /alerts status shows: the settings, the outbox by state, the destinations held
    because they are broken, and the subscriptions by scope."""

    config: GuildConfig
    outbox: dict[str, int]
    broken: list[dict[str, Any]]
    subscriptions: dict[str, int]


class Watchlist:
    """Queries over one server's launches (every one filtered by the server's id)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def page(
        self,
        guild_id: int,
        *,
        vendor: str | None = None,
        states: Sequence[LaunchState] | None = None,
        limit: int = 25,
        offset: int = 0,
    ) -> list[Launch]:
        """One page of the watchlist, in the list's order."""
        return await self.store.read.launches.list_launches(
            guild_id, vendor=vendor, states=states, limit=limit, offset=offset
        )

    async def count(
        self,
        guild_id: int,
        *,
        vendor: str | None = None,
        states: Sequence[LaunchState] | None = None,
    ) -> int:
        """How many launches match."""
        return await self.store.read.launches.count_launches(guild_id, vendor=vendor, states=states)

    async def find(self, guild_id: int, launch_id: int) -> Launch | None:
        """A launch of this server by id, or None."""
        return await self.store.read.launches.get_launch(launch_id, guild_id)

    async def search(self, guild_id: int, prefix: str, limit: int = 25) -> list[Launch]:
        """Launches whose name starts with *prefix* (for autocomplete)."""
        return await self.store.read.launches.search_launches(guild_id, prefix, limit)

    async def alert_status(self, guild_id: int) -> AlertStatus:
        """Where the server's alerts stand."""
        read = self.store.read
        return AlertStatus(
            config=await read.guilds.get_guild(guild_id),
            outbox=await read.outbox.outbox_counts(guild_id),
            broken=await read.destinations.broken_destinations(guild_id),
            subscriptions=await read.subscriptions.guild_subscription_count(guild_id),
        )

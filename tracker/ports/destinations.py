"""The destinations repository as the domain sees it; storage/destinations.py implements it."""

from __future__ import annotations

import datetime as dt
from typing import Any, Protocol

from tracker.models import (
    DestinationKind,
)


class Destinations(Protocol):
    """Where messages go: held (broken) channels and users, and cached DM channels."""

    async def hold_destination(
        self,
        dest_kind: DestinationKind,
        dest_id: int,
        guild_id: int | None,
        reason: str,
        now: dt.datetime,
    ) -> bool:
        """Mark a destination broken and hold its pending rows. True if it was newly broken."""

    async def is_broken(self, dest_kind: DestinationKind, dest_id: int) -> bool:
        """Whether a destination is currently held."""

    async def release_destination(
        self, dest_kind: DestinationKind, dest_id: int, now: dt.datetime
    ) -> int:
        """Destination fixed: forget it was broken and make its held rows pending again."""

    async def retarget_held(
        self, dest_kind: DestinationKind, old_id: int, new_id: int, now: dt.datetime
    ) -> int:
        """A manager chose another channel: send what the broken one held to the new one."""

    async def broken_destinations(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Broken destinations with how many rows each holds and where the managers' notice
        of each breakage stands (its outbox state and last error; None when there is none)."""

    async def mark_broken_notified(
        self, dest_kind: DestinationKind, dest_id: int, since: dt.datetime, now: dt.datetime
    ) -> bool:
        """Record that the managers were told of the breakage that began at *since* (their
        notice was delivered). False when that breakage is over (fixed, or broken anew since)
        or already marked."""

    async def get_dm_channel(self, user_id: int) -> int | None:
        """The cached DM channel id for a user."""

    async def save_dm_channel(self, user_id: int, channel_id: int) -> None:
        """Remember a user's DM channel id."""

    async def forget_dm_channel(self, user_id: int) -> None:
        """Drop a cached DM channel id that Discord no longer knows."""

    async def broken_set(self) -> set[tuple[DestinationKind, int]]:
        """Every broken destination (a small table)."""

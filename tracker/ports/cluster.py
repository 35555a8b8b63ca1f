"""What several processes of one bot share through the database (PostgreSQL only): the elected
deliverer, the change feed and the IDENTIFY turns. storage/postgres/cluster.py implements it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Protocol


class Election(Protocol):
    """Campaigns for the one deliverer's lock in the background."""

    elected: bool
    first_try: asyncio.Event  # set once the first try is over (lost, or won and handled)

    def start(self) -> None:
        """Start campaigning."""

    async def stop(self) -> None:
        """Step down (the deposed callback runs first) and stop campaigning."""

    async def wait_elected(self, timeout: float) -> None:  # noqa: ASYNC109
        """Return once elected (TimeoutError after *timeout* seconds)."""


class ChangeFeed(Protocol):
    """Tells the other processes that something changed, and hears their changes."""

    received: int

    async def start(self) -> None:
        """Start listening."""

    async def stop(self) -> None:
        """Stop listening and publishing."""

    async def publish(self) -> None:
        """Announce a change to the other processes."""


class IdentifyTurns(Protocol):
    """One gateway IDENTIFY per rate-limit key per interval across every process."""

    async def wait_turn(self, shard_id: int, max_concurrency: int) -> None:
        """Wait until this shard may IDENTIFY."""

    async def close(self) -> None:
        """Release what is held."""


class Coordination(Protocol):
    """Makes the three for one process."""

    def election(
        self,
        *,
        on_elected: Callable[[], Awaitable[None]],
        on_deposed: Callable[[], Awaitable[None]],
    ) -> Election:
        """The deliverer's election, with what to run when this process wins or loses it."""
        ...

    def feed(self, on_change: Callable[[], None]) -> ChangeFeed:
        """The change feed, with what to run when another process announces a change."""
        ...

    def identify(self) -> IdentifyTurns:
        """The IDENTIFY turns."""
        ...

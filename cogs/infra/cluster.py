"""This process's part in a bot that runs as several processes on one PostgreSQL database.

Every process answers the interactions of its own shards. Exactly one, the elected deliverer,
runs the engine (sweeps, digests, probes), the outbox delivery (at 48 of Discord's 50 requests/s
for the whole bot; every other process keeps to 2, see cogs/infra/pacing.py), which posts the
probes' proposals too. When it dies another takes over at once and resumes from the outbox. A
change committed here (a new deadline) is announced to the deliverer at once.

With SQLite there is one process, and it does everything: no Cluster is made.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import TYPE_CHECKING

from cogs.infra.pacing import CLUSTER_DELIVERER_LIMIT, STANDBY_LIMIT
from tracker.ports.cluster import Coordination

if TYPE_CHECKING:
    from cogs.infra.bot import SlipwatchBot

log = logging.getLogger(__name__)


class Cluster:
    """Election, change feed and IDENTIFY turns for one bot process."""

    def __init__(self, bot: SlipwatchBot, coordination: Coordination) -> None:
        self.bot = bot
        self.election = coordination.election(on_elected=self._elected, on_deposed=self._deposed)
        self.feed = coordination.feed(self._heard)
        self.identify = coordination.identify()
        self._publishing: set[asyncio.Task[None]] = set()

    @property
    def elected(self) -> bool:
        """Whether this process is the deliverer now."""
        return self.election.elected

    async def start(self) -> None:
        """Listen for changes and campaign for the deliverer's lock; returns after the first
        try (so a process that wins at once has its engine running, as without a cluster)."""
        await self.feed.start()
        self.election.start()
        async with asyncio.timeout(30):
            await self.election.first_try.wait()

    async def stop(self) -> None:
        """Step down (the engine stops before the lock is released) and disconnect."""
        await self.election.stop()
        await self.feed.stop()
        await self.identify.close()
        for task in list(self._publishing):
            await task

    def changed(self, due: dt.datetime | None = None) -> None:
        """Something was committed here (*due*: it only added something due then): wake the
        local engine, if it runs here, and tell the deliverer elsewhere."""
        if self.elected:
            self.bot.engine.poke(due)
        task = asyncio.create_task(self.feed.publish())
        self._publishing.add(task)
        task.add_done_callback(self._publishing.discard)

    def _heard(self) -> None:
        if self.elected:
            self.bot.engine.poke()

    async def _elected(self) -> None:
        # The previous deliverer is gone (its lock went with its session): its rows in flight
        # are pending again, and the first sweep catches up on what fell due in between.
        log.info("this process is now the deliverer")
        # The deliverer before us may have sent its last requests a moment ago, and Discord
        # counts them for a second: we start with that second's budget spent, then take the
        # deliverer's share. Whatever it sent is unknown here, so this holds after a crash and
        # a clean hand-over alike.
        pacer = self.bot.pacer
        pacer.drain()
        pacer.set_limit(CLUSTER_DELIVERER_LIMIT)
        await self.bot.deliverer.resume()
        await self.bot.start_delivering()

    async def _deposed(self) -> None:
        log.warning("this process is no longer the deliverer")
        await self.bot.stop_delivering()
        self.bot.pacer.set_limit(STANDBY_LIMIT)

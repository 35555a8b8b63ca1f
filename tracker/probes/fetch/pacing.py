"""Politeness and fairness of the probes' requests: at most ``concurrency`` at once, at most
``per_owner`` of them for one server (:class:`FairSlots`: one server's slow sources cannot hold
every connection), and one request per ``per_host_interval_s`` to the same host."""

from __future__ import annotations

import asyncio
import math

from tracker.probes.fair import FairSlots

MAX_HOSTS = 1024  # hosts remembered before idle ones are forgotten


class Turns:
    """Whose turn it is to send a request: :meth:`take` before a request, :meth:`done` after
    it (whatever its outcome)."""

    def __init__(self, concurrency: int, per_owner: int, per_host_interval_s: float) -> None:
        concurrency = max(1, concurrency)
        self.slots = FairSlots(concurrency, max(1, min(per_owner, concurrency)))
        self.interval = per_host_interval_s
        self._host_locks: dict[str, asyncio.Lock] = {}
        self._host_last: dict[str, float] = {}

    async def take(self, host: str, owner: int) -> None:
        """Wait for *host*'s turn and a free slot for *owner*."""
        if self.interval <= 0:
            await self.slots.acquire(owner)
            return
        loop = asyncio.get_running_loop()
        if len(self._host_locks) > MAX_HOSTS:
            self._forget_idle_hosts(loop.time())
        lock = self._host_locks.setdefault(host, asyncio.Lock())
        async with lock:
            # The last request to *host* may still be running; its end moves the mark again
            # (in done()), so wait until a full interval has passed since whichever is later.
            for _ in range(3):  # the mark moves at most once more per request in flight
                wait = self._host_last.get(host, -math.inf) + self.interval - loop.time()
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            await self.slots.acquire(owner)
            self._host_last[host] = loop.time()

    def done(self, host: str, owner: int) -> None:
        """Give back *owner*'s slot; the next request to *host* waits an interval from now."""
        self.slots.release(owner)
        if self.interval > 0:
            # Paced from the end of the exchange too: on a busy machine a request can reach
            # the server late, and the next one must still come an interval later.
            self._host_last[host] = asyncio.get_running_loop().time()

    def _forget_idle_hosts(self, now: float) -> None:
        for host in [h for h, lock in self._host_locks.items() if not lock.locked()]:
            if self._host_last.get(host, -math.inf) + self.interval < now:
                self._host_locks.pop(host, None)
                self._host_last.pop(host, None)

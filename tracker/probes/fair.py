"""Fair shares of a few slots (HTTP connections, reader processes) between servers.

A plain semaphore serves callers in arrival order: a server whose eight probes happen to be due
first (or whose sources answer slowly on purpose) would hold every slot while every other
server waits. :class:`FairSlots` caps what one owner (a server) holds at once and hands a freed
slot to the next owner in turn, so one server's slow or hostile probes only ever slow down that
server's own probes.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class FairSlots:
    """*total* slots, at most *per_owner* held by one owner; waiting owners are served in
    round-robin order (each owner's own callers in arrival order)."""

    def __init__(self, total: int, per_owner: int) -> None:
        if total < 1 or per_owner < 1:
            raise ValueError("FairSlots needs at least one slot and one per owner")
        self.total = total
        self.per_owner = min(per_owner, total)
        self._free = total
        self._held: dict[int, int] = {}
        self._waiting: OrderedDict[int, deque[asyncio.Future[None]]] = OrderedDict()

    @property
    def free(self) -> int:
        """Slots nobody holds."""
        return self._free

    def held(self, owner: int) -> int:
        """Slots *owner* holds now."""
        return self._held.get(owner, 0)

    @asynccontextmanager
    async def slot(self, owner: int) -> AsyncIterator[None]:
        """Hold one slot for *owner* while the block runs."""
        await self.acquire(owner)
        try:
            yield
        finally:
            self.release(owner)

    async def acquire(self, owner: int) -> None:
        """Wait for a slot for *owner*."""
        if not self._waiting and self._free > 0 and self.held(owner) < self.per_owner:
            self._grant(owner)
            return
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(owner, deque()).append(future)
        self._dispatch()
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():
                self.release(owner)  # granted just as the caller gave up
            else:
                queue = self._waiting.get(owner)
                if queue is not None and future in queue:
                    queue.remove(future)
                    if not queue:
                        del self._waiting[owner]
            raise

    def release(self, owner: int) -> None:
        """Give back one of *owner*'s slots."""
        held = self._held.get(owner, 0)
        if held <= 0:
            raise RuntimeError("release() without a matching acquire()")
        if held == 1:
            del self._held[owner]
        else:
            self._held[owner] = held - 1
        self._free += 1
        self._dispatch()

    def _grant(self, owner: int) -> None:
        self._free -= 1
        self._held[owner] = self._held.get(owner, 0) + 1

    def _dispatch(self) -> None:
        while self._free > 0 and self._waiting:
            chosen = None
            for owner, queue in self._waiting.items():
                if self.held(owner) < self.per_owner and queue:
                    chosen = owner
                    break
            if chosen is None:
                return
            queue = self._waiting.pop(chosen)
            future = queue.popleft()
            if queue:
                self._waiting[chosen] = queue  # to the back of the line
            if future.done():  # cancelled while waiting
                continue
            self._grant(chosen)
            future.set_result(None)

"""Background polling rounds on the engine's one timer, shared by the release probes
(``ProbeService``) and promise discovery (``DiscoveryService``).

A polled source is a row with a stored ``next_check_at``. The service registers ``due`` (the
earliest of them) and a sweep hook with the engine; when something is due, the hook starts one
background round and returns at once, so that slow sites never hold up deadline alerts. While
the round runs, ``due`` says nothing; when it ends the service is told (``changed``), which
pokes the engine to re-arm at the next due time. A failed source is asked again later with
:func:`backoff`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)

NextDue = Callable[[], Awaitable[dt.datetime | None]]
Sweep = Callable[[dt.datetime], Awaitable[object]]


def backoff(interval_s: float, failures: int, cap: dt.timedelta) -> float:
    """Seconds until a failing source is asked again: its interval doubled for each
    failure in a row, at most *cap*."""
    return min(interval_s * 2.0 ** min(failures, 30), cap.total_seconds())


class BackgroundRounds:
    """One background round at a time of a service's due sources.

    *next_due* reads the earliest due time, *sweep* polls what is due at a given time, and
    *changed* is called after every round (the engine re-arms). ``lock`` is held by whoever
    polls (the service's sweep, a new probe's first check), so two polls never overlap."""

    def __init__(
        self, name: str, next_due: NextDue, sweep: Sweep, changed: Callable[[], None]
    ) -> None:
        self.name = name
        self.lock = asyncio.Lock()
        self._next_due = next_due
        self._sweep = sweep
        self._changed = changed
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """A background round is in progress."""
        return self._task is not None and not self._task.done()

    async def due(self) -> dt.datetime | None:
        """The earliest next check; None while a background round runs (the round tells
        ``changed`` when it ends)."""
        if self.running:
            return None
        return await self._next_due()

    async def start(self, now: dt.datetime) -> None:
        """Start a background round if something is due at *now*; returns at once."""
        if self.running:
            return
        nxt = await self._next_due()
        if nxt is None or nxt > now:
            return
        self._task = asyncio.create_task(self._round(now), name=f"slipwatch-{self.name}")

    async def _round(self, now: dt.datetime) -> None:
        try:
            await self._sweep(now)
        except Exception:
            log.exception("%s round failed", self.name)
        finally:
            self._task = None
            self._changed()

    async def wait_idle(self, limit_s: float = 30.0) -> None:
        """Wait until no background round runs (tests, shutdown)."""
        async with asyncio.timeout(limit_s):
            while self._task is not None:
                await asyncio.shield(self._task)

    async def stop(self) -> None:
        """Cancel a running round (the sources it finished are already recorded)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

"""Every REST request of this process, paced at its share of Discord's global rate limit.

Discord lets a bot make 50 requests per second across all its processes and refuses the next
with a global 429, which costs the request and a pause. Interaction callbacks and followups
(/interactions/..., /webhooks/...) are exempt; the gateway is not REST at all.

Discord counts a request when it arrives, which the sender never sees: only that it arrived at
some time between sending and the response. A token bucket that spaces the *sends* is therefore
not enough: network and scheduling jitter bunch arrivals together, and 49 sends spaced over a
second became 51 arrivals within one second here (bench/cluster.py saw three global 429s a run).
So each request holds one of ``limit`` slots from the moment it is sent until ``window_s`` after
its response or failure: whatever the jitter, no window of Discord's then holds more than
``limit`` of ours. Sends are also spaced ``window_s / limit`` apart on a schedule, so a window
that frees up is not spent in one burst.

The pacer hooks into aiohttp's request tracing (discord.py's documented ``http_trace`` option), so
every request discord.py makes goes through it: its own retries, startup calls, DM channel
creation, message edits, not only the sends that remember to ask.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import aiohttp

log = logging.getLogger(__name__)

GLOBAL_LIMIT = 50  # requests per second per bot, all processes together
WINDOW_S = 1.0  # the span over which Discord counts them
# A process of a cluster that does not deliver still makes a few requests that count (its
# start-up, the DM that checks a new subscriber can be reached, a message edit): it keeps to two
# per second, and the deliverer leaves two per second for them. One such process at its limit
# fits beside a deliverer running flat out; two at their limit within the same second (people
# subscribing in both during a fan-out) may meet a 429, which discord.py waits out.
STANDBY_LIMIT = 2
CLUSTER_DELIVERER_LIMIT = GLOBAL_LIMIT - STANDBY_LIMIT
CATCH_UP = 12  # sends that may follow at once to make up for late ones (a quarter second)
LOG_EVERY = 1000  # requests between two log lines on the pace kept
# Paths that do not count against the global limit.
EXEMPT_PREFIXES = ("/interactions/", "/webhooks/")


class GlobalPacer:
    """At most ``limit`` requests in any ``window_s``, counted from send to response plus
    ``window_s``; see the module docstring."""

    def __init__(
        self,
        limit: int = GLOBAL_LIMIT,
        window_s: float = WINDOW_S,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self.in_flight = 0
        self._frees: deque[float] = deque()  # when finished requests' slots free, ascending
        self._next_start = 0.0
        self._closed_until = 0.0
        self._lock = asyncio.Lock()  # waiters are served in order
        self._finished = asyncio.Event()
        self.started = 0  # requests sent through the pacer (tests, logs)
        # Response times, which cost throughput here: limit / (window_s + response time).
        self._sent_at: deque[float] = deque()
        self._response_s = 0.0
        self._responses = 0

    def set_limit(self, limit: int) -> None:
        """Change this process's share (elected or deposed); held slots stay held."""
        self.limit = limit

    def drain(self, seconds: float | None = None) -> None:
        """Send nothing for *seconds* (default one window), as if the window were full: a new
        deliverer does not know what the one before it sent in its last second."""
        span = self.window_s if seconds is None else seconds
        self._closed_until = max(self._closed_until, self._clock() + span)

    def wait_s(self, now: float) -> float | None:
        """How long a request must wait from *now*: 0.0 to go now, None until a request in
        flight finishes (every slot is held by one)."""
        while self._frees and self._frees[0] <= now:
            self._frees.popleft()
        waits = [self._closed_until - now, self._next_start - now]
        if self.in_flight + len(self._frees) >= self.limit:
            if not self._frees:
                return None
            waits.append(self._frees[0] - now)
        return max(0.0, *waits)

    def start(self, now: float) -> None:
        """Take a slot for a request sent at *now* (after :meth:`wait_s` said 0)."""
        self.in_flight += 1
        self.started += 1
        self._sent_at.append(now)
        # Spaced from the schedule, not from this send: a send that woke a little late (the
        # event loop's timer, a busy process) lets the next ones catch up, CATCH_UP at most. Lost
        # moments added up to 5% of the limit here; the slots keep any window under it.
        spacing = self.window_s / max(1, self.limit)
        self._next_start = max(self._next_start, now - CATCH_UP * spacing) + spacing

    def finish(self, now: float) -> None:
        """A request taken at :meth:`start` got its response (or failed) at *now*: its slot
        stays held for one more window."""
        self.in_flight = max(0, self.in_flight - 1)
        self._frees.append(now + self.window_s)
        self._finished.set()
        if self._sent_at:  # responses come in any order: the mean is what matters
            self._response_s += now - self._sent_at.popleft()
            self._responses += 1
            if self._responses == LOG_EVERY:
                log.info(
                    "paced %d requests; mean response %.0f ms over the last %d",
                    self.started,
                    self._response_s / self._responses * 1000,
                    self._responses,
                )
                self._response_s, self._responses = 0.0, 0

    async def acquire(self) -> None:
        """Wait for a slot and take it; call :meth:`release` when the response is in."""
        async with self._lock:
            while True:
                wait = self.wait_s(self._clock())
                if wait == 0.0:
                    self.start(self._clock())
                    return
                self._finished.clear()
                if wait is None:
                    await self._finished.wait()
                else:
                    await asyncio.sleep(wait)

    def release(self) -> None:
        """The request taken by :meth:`acquire` is answered or failed."""
        self.finish(self._clock())

    def trace_config(self, api_base: str) -> aiohttp.TraceConfig:
        """An aiohttp TraceConfig (discord.py's ``http_trace``) that paces every request to
        *api_base* that counts against the global limit."""
        base = api_base.rstrip("/")

        def counts(url: Any) -> bool:
            text = str(url)
            if not text.startswith(base):
                return False  # the gateway, the CDN
            return not text[len(base) :].startswith(EXEMPT_PREFIXES)

        async def on_start(
            session: aiohttp.ClientSession, ctx: SimpleNamespace, params: Any
        ) -> None:
            ctx.paced = counts(params.url)
            if ctx.paced:
                await self.acquire()

        async def on_done(
            session: aiohttp.ClientSession, ctx: SimpleNamespace, params: Any
        ) -> None:
            if getattr(ctx, "paced", False):
                ctx.paced = False
                self.release()

        config = aiohttp.TraceConfig()
        config.on_request_start.append(on_start)
        config.on_request_end.append(on_done)
        config.on_request_exception.append(on_done)
        config.freeze()
        return config

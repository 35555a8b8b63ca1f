"""Several slipwatch processes on one PostgreSQL database: who delivers, who hears of changes, who
may IDENTIFY now.

- :class:`DelivererElection`: the sweep and the outbox delivery run in exactly one process, the
  one holding a session advisory lock. PostgreSQL drops the lock the moment that process's
  connection ends (a crash, a kill, a lost network) and hands it to the next process waiting in
  the lock's queue, which takes over at once.
- :class:`ChangeFeed`: a change committed in one process (a new deadline answered by a shard
  process) is announced with NOTIFY; the elected process LISTENs and re-arms at once.
- :class:`IdentifyGate`: Discord lets one IDENTIFY per rate-limit key (shard_id %
  max_concurrency) start every 5 seconds, per bot, whatever the number of processes; a session
  advisory lock per key, held for 5 seconds after each IDENTIFY, makes every process take turns.

Each holds one dedicated connection: a session lock lives and dies with its connection, and a
LISTEN needs a connection that nothing else blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg

from storage.postgres.db import connect

log = logging.getLogger(__name__)

DELIVERER_LOCK_KEY = 0x736C_6970_0002  # "slip" 2
IDENTIFY_LOCK_BASE = 0x736C_6970_1000  # + the rate-limit key
CHANGES_CHANNEL = "slipwatch_changes"
IDENTIFY_INTERVAL_S = 5.0

Callback = Callable[[], Awaitable[None]]


async def _cancel(task: asyncio.Task[Any] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


class DelivererElection:
    """Keeps trying for the deliverer's lock; runs *on_elected* when this process gets it and
    *on_deposed* when it loses it (its connection broke) or stops."""

    def __init__(
        self,
        url: str,
        *,
        on_elected: Callback,
        on_deposed: Callback,
        poll_s: float = 0.5,
        check_s: float = 1.0,
        queue_s: float = 5.0,
    ) -> None:
        self.url = url
        self.on_elected = on_elected
        self.on_deposed = on_deposed
        self.poll_s = poll_s  # pause before campaigning again after a lost connection
        self.check_s = check_s  # how often the holder checks that its session is alive
        self.queue_s = queue_s  # longest single wait in the lock's queue
        self.elected = False
        self.terms = 0  # how many times this process was elected
        self._task: asyncio.Task[None] | None = None
        self._holding = False  # the lock is ours (from the grant to the connection's end)
        self._stopping = asyncio.Event()
        self._changed = asyncio.Event()
        # Set once the first try is over: lost, or won and on_elected done.
        self.first_try = asyncio.Event()

    def start(self) -> None:
        """Start campaigning in the background."""
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._run(), name="slipwatch-election")

    async def stop(self) -> None:
        """Step down and stop trying. A holder stops its deliverer first and only then releases
        the lock, so that its successor never overlaps with its last sends."""
        task, self._task = self._task, None
        if task is not None:
            self._stopping.set()
            if not self._holding:
                task.cancel()  # campaigning, perhaps queued for the lock: nothing to hand over
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._step_down()

    async def wait_elected(self, timeout: float) -> None:  # noqa: ASYNC109
        """Wait until this process holds the lock (tests, benches)."""
        async with asyncio.timeout(timeout):
            while not self.elected:
                self._changed.clear()
                await self._changed.wait()

    async def _step_down(self) -> None:
        if self.elected:
            self.elected = False
            self._changed.set()
            try:
                await self.on_deposed()
            except Exception:
                log.exception("stopping the deliverer failed")

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                async with await connect(self.url, purpose="election") as conn:
                    try:
                        await self._campaign(conn)
                    finally:
                        self._holding = False  # the connection closes next, with the lock
            except (psycopg.Error, OSError) as exc:
                if self.elected:
                    log.warning("lost the deliverer's lock (%s); stopping delivery here", exc)
                else:
                    log.warning("cannot reach the database to campaign (%s); retrying", exc)
                await self._step_down()
            self.first_try.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.poll_s)

    async def _campaign(self, conn: psycopg.AsyncConnection[Any]) -> None:
        cur = await conn.execute("SELECT pg_try_advisory_lock(%s)", (DELIVERER_LOCK_KEY,))
        row = await cur.fetchone()
        if row is None or not row[0]:
            self.first_try.set()
            await self._queue_for_lock(conn)
        self._holding = True
        self.elected = True
        self.terms += 1
        self._changed.set()
        log.info("elected deliverer: this process now sweeps and delivers")
        try:
            await self.on_elected()
        finally:
            self.first_try.set()
        while not self._stopping.is_set():
            # The lock lives as long as this session; a dead session raises here.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.check_s)
            await conn.execute("SELECT 1")
        await self._step_down()  # still holding the lock: nobody else delivers meanwhile

    async def _queue_for_lock(self, conn: psycopg.AsyncConnection[Any]) -> None:
        # Wait in the lock's queue rather than poll: PostgreSQL hands the lock over the moment
        # the holder's session ends, so a standby takes over within milliseconds of a crash.
        # Each wait is bounded (lock_timeout), so a connection that died meanwhile is noticed.
        await conn.execute(
            "SELECT set_config('lock_timeout', %s, false)", (f"{int(self.queue_s * 1000)}ms",)
        )
        while True:
            try:
                await conn.execute("SELECT pg_advisory_lock(%s)", (DELIVERER_LOCK_KEY,))
            except psycopg.errors.LockNotAvailable:
                continue
            await conn.execute("SELECT set_config('lock_timeout', '0', false)")
            return


class ChangeFeed:
    """NOTIFY on change, LISTEN for others' changes. *on_change* also runs after every
    (re)connect, since a notification sent while we were not listening is gone."""

    def __init__(self, url: str, on_change: Callable[[], None], *, retry_s: float = 1.0) -> None:
        self.url = url
        self.on_change = on_change
        self.retry_s = retry_s
        self.received = 0
        self._me = secrets.token_hex(8)  # our own notifications are not news to us
        self._listener: asyncio.Task[None] | None = None
        self._publisher: psycopg.AsyncConnection[Any] | None = None
        self._listening = asyncio.Event()

    async def start(self) -> None:
        """Connect the publisher and start listening (returns once LISTEN is in place)."""
        self._publisher = await connect(self.url, purpose="notify")
        self._listener = asyncio.create_task(self._listen(), name="slipwatch-listen")
        async with asyncio.timeout(10):
            await self._listening.wait()

    async def stop(self) -> None:
        """Stop listening and close both connections."""
        await _cancel(self._listener)
        self._listener = None
        if self._publisher is not None:
            await self._publisher.close()
            self._publisher = None

    async def publish(self) -> None:
        """Tell every other process that something changed (a lost notification is only a
        later re-arm: the elected engine also wakes at its own timer)."""
        try:
            if self._publisher is None or self._publisher.closed:
                self._publisher = await connect(self.url, purpose="notify")
            await self._publisher.execute("SELECT pg_notify(%s, %s)", (CHANGES_CHANNEL, self._me))
        except (psycopg.Error, OSError) as exc:
            log.warning("could not announce a change to the other processes: %s", exc)

    async def _listen(self) -> None:
        while True:
            try:
                async with await connect(self.url, purpose="listen") as conn:
                    await conn.execute(f"LISTEN {CHANGES_CHANNEL}")
                    self._listening.set()
                    self.on_change()
                    async for note in conn.notifies():
                        if note.payload != self._me:
                            self.received += 1
                            self.on_change()
            except (psycopg.Error, OSError) as exc:
                log.warning("listening for changes failed (%s); reconnecting", exc)
            await asyncio.sleep(self.retry_s)


class IdentifyGate:
    """One IDENTIFY per rate-limit key per ``interval_s`` across every process of the bot."""

    def __init__(
        self, url: str, *, interval_s: float = IDENTIFY_INTERVAL_S, poll_s: float = 0.1
    ) -> None:
        self.url = url
        self.interval_s = interval_s
        self.poll_s = poll_s
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._local: dict[int, asyncio.Lock] = {}
        self._releases: set[asyncio.Task[None]] = set()

    async def wait_turn(self, shard_id: int, max_concurrency: int) -> None:
        """Return when *shard_id* may IDENTIFY; the turn is held for ``interval_s`` after."""
        key = shard_id % max(1, max_concurrency)
        # Session locks are re-entrant, so the process's own shards queue up locally first.
        local = self._local.setdefault(key, asyncio.Lock())
        await local.acquire()
        try:
            if self._conn is None or self._conn.closed:
                self._conn = await connect(self.url, purpose="identify")
            while True:
                cur = await self._conn.execute(
                    "SELECT pg_try_advisory_lock(%s)", (IDENTIFY_LOCK_BASE + key,)
                )
                row = await cur.fetchone()
                if row is not None and row[0]:
                    break
                await asyncio.sleep(self.poll_s)
        except BaseException:
            local.release()
            raise
        task = asyncio.create_task(self._release_later(key, local))
        self._releases.add(task)
        task.add_done_callback(self._releases.discard)

    async def _release_later(self, key: int, local: asyncio.Lock) -> None:
        try:
            await asyncio.sleep(self.interval_s)
            if self._conn is not None and not self._conn.closed:
                await self._conn.execute(
                    "SELECT pg_advisory_unlock(%s)", (IDENTIFY_LOCK_BASE + key,)
                )
        except (psycopg.Error, OSError) as exc:  # a closed session released it anyway
            log.warning("releasing an IDENTIFY turn failed: %s", exc)
        finally:
            local.release()

    async def close(self) -> None:
        """Release every turn (closing the session drops its locks)."""
        for task in list(self._releases):
            await _cancel(task)
        if self._conn is not None:
            await self._conn.close()
            self._conn = None


class PgCoordination:
    """tracker.ports.cluster.Coordination on one PostgreSQL database."""

    def __init__(self, url: str) -> None:
        self.url = url

    def election(self, *, on_elected: Callback, on_deposed: Callback) -> DelivererElection:
        """The deliverer's election (advisory lock)."""
        return DelivererElection(self.url, on_elected=on_elected, on_deposed=on_deposed)

    def feed(self, on_change: Callable[[], None]) -> ChangeFeed:
        """The change feed (LISTEN/NOTIFY)."""
        return ChangeFeed(self.url, on_change)

    def identify(self) -> IdentifyGate:
        """The IDENTIFY turns."""
        return IdentifyGate(self.url)

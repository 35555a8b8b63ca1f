"""The outbox deliverer: drains pending rows through a Notifier, at least once, shown once.

A row is marked sent only after the Notifier confirmed it. Failures are classified by the
Notifier: retry later (backoff with jitter, or the server's Retry-After), a broken destination
(rows held until it is fixed; the managers' notice queued in the outbox once per breakage), an
unreachable user (subscriptions paused).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from dataclasses import dataclass
from typing import Protocol

from tracker.clock import Clock
from tracker.models import BrokenNotice, DestinationKind, OutboxRow, OutboxState
from tracker.outbox.fanout import broken_notice
from tracker.ports import Store
from tracker.records import SentMark

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Delivered:
    """The destination accepted the message."""

    message_id: int | None = None


@dataclass(frozen=True, slots=True)
class RetryLater:
    """A passing failure (rate limit, server error, timeout)."""

    error: str
    after_s: float | None = None  # the server's Retry-After, when it gave one


@dataclass(frozen=True, slots=True)
class BrokenDestination:
    """The destination refuses for good until someone fixes it (permissions, deleted channel)."""

    reason: str


@dataclass(frozen=True, slots=True)
class UnreachableUser:
    """A user who cannot be sent DMs (closed DMs, blocked the bot)."""

    reason: str


@dataclass(frozen=True, slots=True)
class Rejected:
    """The destination refused this message itself (a malformed payload): retrying the same
    bytes cannot help, and nobody is paused for it."""

    reason: str


DeliveryResult = Delivered | RetryLater | BrokenDestination | UnreachableUser | Rejected


class Notifier(Protocol):
    """Delivers one outbox row; never raises for delivery failures, classifies them instead."""

    async def deliver(self, row: OutboxRow) -> DeliveryResult:
        """Send *row* to its destination with its nonce, and say how it went."""
        ...


@dataclass(frozen=True, slots=True)
class DeliverySettings:
    """Tuning of the deliverer."""

    concurrency: int = 16
    batch: int = 200
    base_backoff_s: float = 2.0
    max_backoff_s: float = 900.0
    max_age: dt.timedelta = dt.timedelta(days=2)
    # How long a row stays claimed by the deliverer sending it: longer than one send can take.
    claim: dt.timedelta = dt.timedelta(seconds=60)


class Deliverer:
    """One background task that sends due outbox rows, several at a time."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        notifier: Notifier,
        settings: DeliverySettings | None = None,
        *,
        rng: random.Random | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.notifier = notifier
        self.settings = settings or DeliverySettings()
        self._rng = rng or random.Random()
        self._wake = asyncio.Event()
        self._in_flight: dict[int, asyncio.Task[None]] = {}
        self._busy_dests: dict[int, int] = {}  # row id in flight -> its destination id
        self._task: asyncio.Task[None] | None = None
        self._busy = False
        # Group commit of sent marks: the marks confirmed while one write waits for the lock
        # (SQLite has one writer: the sweep, claims, commands) all go in the next transaction.
        self._marks: list[SentMark] = []
        self._marks_written: asyncio.Future[None] | None = None  # the queued marks' batch
        self._marker: asyncio.Task[None] | None = None
        self.sent = 0
        self.failed = 0
        self.dead = 0

    def start(self) -> None:
        """Start the background task."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="slipwatch-deliverer")

    async def resume(self) -> int:
        """Release the claims of a deliverer that is gone (this process before a crash, or the
        elected deliverer of another process that died): its rows in flight are due again."""
        if not await self.store.read.outbox.has_claims():
            return 0  # no write: the start need not wait for a write transaction
        async with self.store.transaction() as tx:
            released = await tx.outbox.release_claims()
        if released:
            log.info("resuming %d messages a previous deliverer had in flight", released)
        return released

    async def stop(self) -> None:
        """Stop sending: rows in flight are cancelled and stay pending (never lost), their
        claims released for whoever delivers next."""
        in_flight = list(self._in_flight)
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        for task in list(self._in_flight.values()):
            task.cancel()
        if self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)
        self._in_flight.clear()
        self._busy_dests.clear()
        if self._marker is not None:
            # Sends that succeeded are recorded before their claims are released.
            await asyncio.gather(self._marker, return_exceptions=True)
            self._marker = None
        if in_flight:
            async with self.store.transaction() as tx:
                await tx.outbox.release_claims(in_flight)

    def kick(self) -> None:
        """Look for due rows now."""
        self._wake.set()

    @property
    def idle(self) -> bool:
        """Nothing in flight and no wake-up waiting."""
        return not self._in_flight and not self._wake.is_set() and not self._busy

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._busy = True
            try:
                await self._drain()
            except Exception:
                log.exception("outbox drain failed; retrying shortly")
                await asyncio.sleep(1.0)
                self._wake.set()
            finally:
                self._busy = False

    async def _drain(self) -> None:
        limit = self.settings.concurrency
        while True:
            free = limit - len(self._in_flight)
            if free <= 0:
                await asyncio.wait(
                    list(self._in_flight.values()), return_when=asyncio.FIRST_COMPLETED
                )
                continue
            # One message in flight per destination: a channel paced by Discord (5 per 5 s)
            # holds one slot, never all of them, and its messages keep their order.
            busy = set(self._busy_dests.values())
            excluded = bool(busy)
            now = self.clock.now()
            rows = await self.store.read.outbox.due_outbox(now, free * 4, busy=sorted(busy))
            chosen: list[OutboxRow] = []
            for row in rows:
                if row.dest_id in busy or len(chosen) == free:
                    continue
                busy.add(row.dest_id)
                chosen.append(row)
            # Claimed before sending: no other deliverer takes them meanwhile. (Nothing to
            # claim, as after most sweeps' kicks: no write transaction at all.)
            claimed: set[int] = set()
            if chosen:
                async with self.store.transaction(bookkeeping=True) as tx:
                    claimed = await tx.outbox.claim_outbox(
                        [r.id for r in chosen], now, now + self.settings.claim
                    )
            started = 0
            for row in chosen:
                if row.id not in claimed:
                    continue
                started += 1
                self._busy_dests[row.id] = row.dest_id
                self._in_flight[row.id] = asyncio.create_task(self._deliver_one(row))
            if started:
                continue
            if not self._in_flight:
                if excluded:
                    continue  # sends finished during the query: their destinations are free
                return
            await self._until_sent_or_kicked()

    async def _until_sent_or_kicked(self) -> None:
        # A send may wait seconds on its channel's Discord bucket: new rows for other
        # destinations (a kick from the sweep) must not wait behind it.
        kicked = asyncio.ensure_future(self._wake.wait())
        try:
            done, _ = await asyncio.wait(
                [*self._in_flight.values(), kicked], return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            if not kicked.done():
                kicked.cancel()
        if kicked in done:
            self._wake.clear()

    async def _deliver_one(self, row: OutboxRow) -> None:
        try:
            await self.deliver_row(row)
        except Exception:
            log.exception("delivering outbox row %s failed unexpectedly", row.id)
        finally:
            self._in_flight.pop(row.id, None)
            self._busy_dests.pop(row.id, None)

    async def deliver_row(self, row: OutboxRow) -> DeliveryResult | None:
        """Send one row and record the outcome; returns the result (None when skipped)."""
        now = self.clock.now()
        if now - row.queued_at > self.settings.max_age:
            async with self.store.transaction() as tx:
                await tx.outbox.mark_final(
                    row.id, OutboxState.DEAD, f"gave up after {row.attempts} attempts"
                )
            self.dead += 1
            log.warning("outbox row %s is dead after %s attempts", row.id, row.attempts)
            return None
        try:
            result = await self.notifier.deliver(row)
        except Exception as exc:  # a notifier bug must not lose the row: retry it
            log.exception("notifier raised for outbox row %s", row.id)
            result = RetryLater(f"{type(exc).__name__}: {exc}")
        now = self.clock.now()
        if row.payload.notice is not None and isinstance(
            result, BrokenDestination | UnreachableUser
        ):
            # A notice is addressed to a guild's managers, not to a channel that can be held
            # or a user whose subscriptions can be paused: nobody could be told.
            result = Rejected(result.reason)
        if isinstance(result, Delivered):
            notice = row.payload.notice
            detection = row.payload.detection
            if detection is not None:
                # The detection is marked posted with the row, in one transaction.
                await asyncio.shield(self._mark_posted(row.id, result.message_id, detection, now))
            elif notice is None:
                await self._mark_sent(SentMark(row.id, result.message_id, now))
            else:
                # Shielded like the other marks: a notice Discord took is recorded as told.
                await asyncio.shield(self._mark_told(row.id, result.message_id, notice, now))
            self.sent += 1
        elif isinstance(result, RetryLater):
            delay = self.backoff(row.attempts, result.after_s)
            async with self.store.transaction(bookkeeping=True) as tx:
                await tx.outbox.mark_retry(row.id, result.error, now + dt.timedelta(seconds=delay))
            log.info("outbox row %s: %s; retry in %.1fs", row.id, result.error, delay)
            self._schedule_wake(delay)
        elif isinstance(result, BrokenDestination):
            queued = False
            async with self.store.transaction() as tx:
                newly = await tx.destinations.hold_destination(
                    row.dest_kind, row.dest_id, row.guild_id, result.reason, now
                )
                # The managers' notice is queued with the hold, in one transaction: it is
                # retried, survives a crash, and is written once per breakage (only the
                # deliverer that newly held the channel writes it, under a unique key).
                if newly and row.dest_kind is DestinationKind.CHANNEL and row.guild_id:
                    tell = broken_notice(row.guild_id, row.dest_id, result.reason, now)
                    queued = await tx.outbox.enqueue_many([tell], now) == 1
            log.warning(
                "destination %s %s is broken (%s); holding its alerts%s",
                row.dest_kind.value,
                row.dest_id,
                result.reason,
                "; the managers' notice is queued" if queued else "",
            )
            if queued:
                self.kick()
        elif isinstance(result, Rejected):
            async with self.store.transaction() as tx:
                await tx.outbox.mark_final(row.id, OutboxState.FAILED, result.reason)
            self.failed += 1
            log.error("outbox row %s was rejected: %s", row.id, result.reason)
        else:
            async with self.store.transaction() as tx:
                await tx.outbox.mark_final(row.id, OutboxState.FAILED, result.reason)
                if row.dest_kind is DestinationKind.USER:
                    await tx.subscriptions.pause_user_subscriptions(row.dest_id, result.reason)
            self.failed += 1
            log.info("user %s cannot be reached; subscriptions paused", row.dest_id)
        return result

    async def _mark_told(
        self, row_id: int, message_id: int | None, notice: BrokenNotice, now: dt.datetime
    ) -> None:
        """A broken channel's notice arrived: the row is sent and the breakage is marked as
        told (shown by /alerts status), in one transaction."""
        async with self.store.transaction() as tx:
            await tx.outbox.mark_sent(row_id, message_id, now)
            await tx.destinations.mark_broken_notified(
                DestinationKind.CHANNEL, notice.channel_id, notice.since, now
            )

    async def _mark_posted(
        self, row_id: int, message_id: int | None, detection_id: int, now: dt.datetime
    ) -> None:
        """A detection's post arrived: the row is sent and the detection marked posted (its
        message id kept), in one transaction."""
        async with self.store.transaction() as tx:
            await tx.outbox.mark_sent(row_id, message_id, now)
            await tx.detections.mark_posted(detection_id, message_id, now)

    async def _mark_sent(self, mark: SentMark) -> None:
        """Record a confirmed delivery; returns once it is committed. Marks that arrive while
        the write before them waits for the lock share one transaction (one per send cost
        the sweep's alerts a wait behind each of them)."""
        if self._marks_written is None:
            self._marks_written = asyncio.get_running_loop().create_future()
        written = self._marks_written
        self._marks.append(mark)
        if self._marker is None or self._marker.done():
            self._marker = asyncio.create_task(self._write_marks(), name="slipwatch-sent-marks")
        # Shielded: a send cancelled now (the deliverer stopping) still has its mark written.
        await asyncio.shield(written)

    async def _write_marks(self) -> None:
        while self._marks:
            marks: list[SentMark] = []
            written: asyncio.Future[None] | None = None
            try:
                async with self.store.transaction(bookkeeping=True) as tx:
                    # Taken once the lock is ours: everything queued meanwhile goes too.
                    marks, self._marks = self._marks, []
                    written, self._marks_written = self._marks_written, None
                    await tx.outbox.mark_sent_many(marks)
            except BaseException as exc:
                if written is None:  # failed before taking the batch: fail the queued marks
                    self._marks = []
                    written, self._marks_written = self._marks_written, None
                if written is not None and not written.done():
                    if isinstance(exc, Exception):
                        written.set_exception(exc)
                        written.exception()  # retrieved here too: every waiter may be gone
                    else:
                        written.cancel()
                if not isinstance(exc, Exception):
                    raise
            else:
                if written is not None and not written.done():
                    written.set_result(None)

    def backoff(self, attempts: int, retry_after: float | None) -> float:
        """Seconds to wait before the next try: the server's word if given, else exponential
        with full jitter between half and the whole step, capped."""
        if retry_after is not None:
            return max(0.0, retry_after)
        growth = 2.0 ** min(attempts, 30)
        step = min(self.settings.max_backoff_s, self.settings.base_backoff_s * growth)
        return float(step * (0.5 + self._rng.random() * 0.5))

    def _schedule_wake(self, delay: float) -> None:
        # The engine's sweep also wakes us at the earliest next_attempt_at; this timer makes
        # retries prompt even when the deliverer runs without an engine (tests, CLI).
        loop = asyncio.get_running_loop()
        loop.call_later(delay + 0.001, self._wake.set)

    async def has_due(self) -> bool:
        """Whether a pending row is due now."""
        return bool(await self.store.read.outbox.due_outbox(self.clock.now(), 1))

    async def release(self, dest_kind: DestinationKind, dest_id: int) -> int:
        """A broken destination was fixed: send what it held. Returns how many rows."""
        async with self.store.transaction() as tx:
            count = await tx.destinations.release_destination(dest_kind, dest_id, self.clock.now())
        self.kick()
        return count

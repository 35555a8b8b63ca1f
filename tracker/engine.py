"""The deadline engine: APScheduler owns the timer, SQLite owns the truth.

One APScheduler job ("slipwatch-sweep") is armed at the earliest pending due time found by an
indexed query (launch due items and outbox retries) and re-armed after every sweep and every
change. Never one job per launch. A sweep handles due launches in transactions: a conditional
update (compare-and-set on next_due_at and revision), an event row and outbox rows with unique
idempotency keys, so running it twice, or again after a crash, changes nothing more.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from tracker import deadlines
from tracker.clock import Clock
from tracker.models import (
    Alert,
    AlertKind,
    EventKind,
    GuildConfig,
    Launch,
    LaunchSnapshot,
    LaunchState,
)
from tracker.outbox import fanout
from tracker.outbox.delivery import Deliverer
from tracker.ports import Store
from tracker.records import Advance, NewEvent

log = logging.getLogger(__name__)

SWEEP_JOB_ID = "slipwatch-sweep"
# Outbox rows already due are the deliverer's to drain (every sweep kicks it); the sweep only
# looks at them again this much later, in case one waits out another deliverer's claim.
OUTBOX_RECHECK = dt.timedelta(seconds=1)


@dataclass(frozen=True, slots=True)
class SweepReport:
    """What one sweep did."""

    handled: int = 0
    alerts: int = 0
    rows: int = 0
    catch_up: bool = False


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """Tuning of the engine."""

    batch: int = 1000
    merge_threshold: int = fanout.MERGE_THRESHOLD
    late_tolerance: dt.timedelta = deadlines.LATE_TOLERANCE


ExtraDue = Callable[[], Awaitable[dt.datetime | None]]
ExtraSweep = Callable[[dt.datetime], Awaitable[None]]


class Engine:
    """Sweeps due launches and keeps one APScheduler job armed at the next due time."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        scheduler: AsyncIOScheduler,
        deliverer: Deliverer,
        settings: EngineSettings | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.scheduler = scheduler
        self.deliverer = deliverer
        self.settings = settings or EngineSettings()
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._sweeping = False
        self._first_sweep_done = asyncio.Event()
        self._idle = asyncio.Event()  # set while the runner waits with nothing to do
        self._extra_due: list[ExtraDue] = []
        self._extra_sweep: list[ExtraSweep] = []
        self.armed_at: dt.datetime | None = None
        self._recheck_at: dt.datetime | None = None  # armed only to look at due outbox rows
        self._launch_due: dt.datetime | None = None  # the launches' next due, as last read
        self.sweeps = 0
        self.last_report = SweepReport()

    # ------------------------------------------------------------------ wiring

    def add_due_source(self, due: ExtraDue, sweep: ExtraSweep) -> None:
        """Let another feature (digests, probes) share the one timer: *due* tells its earliest
        due time, *sweep* handles what is due at a given time."""
        self._extra_due.append(due)
        self._extra_sweep.append(sweep)

    def remove_due_source(self, due: ExtraDue, sweep: ExtraSweep) -> None:
        """Take a feature off the timer again (its rounds are then run by whoever calls
        *sweep*: the probe tests drive rounds by hand)."""
        self._extra_due.remove(due)
        self._extra_sweep.remove(sweep)

    async def start(self) -> None:
        """Start delivering and sweep at once: whatever fell due while we were down is handled
        now, marked as detected late, and merged per destination when there is a lot."""
        await self.deliverer.resume()
        self.deliverer.start()
        self._runner = asyncio.create_task(self._run(), name="slipwatch-engine")
        self._wake.set()
        await self._first_sweep_done.wait()

    async def stop(self) -> None:
        """Stop the runner and the deliverer; nothing pending is lost (it is in the database)."""
        if self.scheduler.get_job(SWEEP_JOB_ID) is not None:
            self.scheduler.remove_job(SWEEP_JOB_ID)
        if self._runner is not None:
            self._runner.cancel()
            try:
                await self._runner
            except asyncio.CancelledError:
                pass
            self._runner = None
            self._idle.set()  # nothing runs any more: nobody waits for it
        await self.deliverer.stop()

    def poke(self, due: dt.datetime | None = None) -> None:
        """Something changed: sweep now and re-arm (cheap; coalesces).

        *due*: the change only added something due then (a new launch's first due time). When
        the timer is already armed at or before it, and no sweep is running (whose re-arm may
        have read the store before the change), the armed time is still the earliest: there is
        nothing to sweep and nothing to re-arm, and the runner is not woken."""
        if (
            due is not None
            and self._runner is not None
            and not self._sweeping
            and self.armed_at is not None
            and self.armed_at <= due
        ):
            return
        self._idle.clear()
        self._wake.set()

    async def idle(self) -> None:
        """Wait until the runner has swept and re-armed for every change so far (at once when
        the engine is not running)."""
        if self._runner is not None:
            await self._idle.wait()

    async def _fire(self) -> None:
        # Runs as an APScheduler job in the event loop; the runner does the work so that a
        # job firing during a sweep is never skipped or run twice at once.
        self._wake.set()

    async def _run(self) -> None:
        catch_up = True
        while True:
            if not self._wake.is_set():
                self._idle.set()
            await self._wake.wait()
            self._wake.clear()
            self._sweeping = True
            try:
                self.last_report = await self.sweep(catch_up=catch_up)
                catch_up = False
            except Exception:
                log.exception("sweep failed; retrying in 5 s")
                asyncio.get_running_loop().call_later(5.0, self._wake.set)
            try:
                await self.rearm()
            except Exception:
                log.exception("re-arming failed; retrying in 5 s")
                asyncio.get_running_loop().call_later(5.0, self._wake.set)
            finally:
                # Only now is armed_at current: settle() must not see the old, later time.
                self._sweeping = False
                self._first_sweep_done.set()

    # ------------------------------------------------------------------ timer

    async def next_due(self) -> dt.datetime | None:
        """The earliest pending due time of anything the engine watches. Outbox rows already
        due count as due in OUTBOX_RECHECK: re-arming at them would sweep again at once, over
        and over for as long as a fan-out drains (thousands of idle sweeps, each a dozen
        queries, taking the deliverer's CPU)."""
        # The lookups go out together (the reader pool runs them side by side): the next sweep
        # waits for the slowest of them, not for their sum.
        outbox_at, launch_at, *extra = await asyncio.gather(
            self.store.read.outbox.next_outbox_attempt(),
            self.store.read.launches.next_due(),
            *(source() for source in self._extra_due),
        )
        now = self.clock.now()
        self._recheck_at = None
        if outbox_at is not None and outbox_at <= now:
            outbox_at = self._recheck_at = now + OUTBOX_RECHECK
        self._launch_due = launch_at
        present = [c for c in (launch_at, outbox_at, *extra) if c is not None]
        return min(present) if present else None

    async def rearm(self) -> dt.datetime | None:
        """Arm the one sweep job at the next due time (or disarm when nothing is pending)."""
        due = await self.next_due()
        self.armed_at = due
        if due is None:
            if self.scheduler.get_job(SWEEP_JOB_ID) is not None:
                self.scheduler.remove_job(SWEEP_JOB_ID)
            return None
        # The clock may be simulated: translate "due in N seconds of clock time" to wall time.
        delay = max(0.0, (due - self.clock.now()).total_seconds())
        run_date = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=delay)
        self.scheduler.add_job(
            self._fire,
            DateTrigger(run_date=run_date, timezone=dt.UTC),
            id=SWEEP_JOB_ID,
            replace_existing=True,
            misfire_grace_time=None,
            coalesce=True,
            max_instances=1,
        )
        return due

    async def settle(self, limit_s: float = 10.0) -> None:
        """Wait until nothing is due now, no sweep runs and no row is in flight (demo, tests)."""
        loop = asyncio.get_running_loop()
        end = loop.time() + limit_s
        while loop.time() < end:
            if (
                not self._wake.is_set()
                and not self._sweeping
                and self.deliverer.idle
                and (self.armed_at is None or self.armed_at > self.clock.now())
                and not await self.deliverer.has_due()
            ):
                if self._recheck_at is None or self.armed_at != self._recheck_at:
                    return
                # Armed to look at rows the deliverer has drained since: arm at what is
                # really next, as the recheck would have.
                await self.rearm()
                continue
            await asyncio.sleep(0.002)
        raise TimeoutError("engine did not settle")

    # ------------------------------------------------------------------ sweep

    async def sweep(self, *, catch_up: bool = False) -> SweepReport:
        """Handle everything due now. Safe to run twice: the second run finds nothing."""
        now = self.clock.now()
        handled = rows = 0
        self.sweeps += 1
        # Most sweeps follow a change that made nothing due: one index lookup on the reader
        # then, instead of taking the write lock for nothing. A sweep the timer started for a
        # launch that was due by then needs no lookup: the re-arm just read its due time.
        earliest, self._launch_due = self._launch_due, None  # used once: sweeps change it
        if earliest is None or earliest > now:
            earliest = await self.store.read.launches.next_due()
        while earliest is not None and earliest <= now:
            # Read and write in one IMMEDIATE transaction: nobody can move these launches
            # between our read and our compare-and-set update.
            async with self.store.transaction() as tx:
                due = await tx.launches.due_launches(now, self.settings.batch)
                if not due:
                    break
                guild_ids = {launch.guild_id for launch in due}
                # Independent statements go out together: the writer's thread runs them back
                # to back, where one after another each waited for the event loop (and, while
                # other threads compute, for the GIL) in between.
                configs, subscriptions, broken = await _together(
                    tx.guilds.get_guilds(guild_ids),
                    tx.subscriptions.instant_subscriptions(guild_ids),
                    tx.destinations.broken_set(),
                )
                advances: list[Advance] = []
                events: list[NewEvent] = []
                pending: list[fanout.Pending] = []
                for launch in due:
                    config = configs[launch.guild_id]
                    step = self.plan(launch, config, now)
                    assert launch.next_due_at is not None
                    advances.append(
                        Advance(
                            launch_id=launch.id,
                            expect_due=launch.next_due_at,
                            expect_revision=launch.revision,
                            state=step.state,
                            next_due_at=step.next_due_at,
                            days_late=step.days_late,
                        )
                    )
                    if step.alert is None:
                        continue
                    handled += 1
                    assert step.event is not None
                    events.append(step.event)
                    pending.extend(
                        fanout.destinations_from(
                            config, step.alert, step.key, subscriptions[launch.guild_id]
                        )
                    )
                # A burst into one destination (a catch-up, or many deadlines in the same
                # minute) is merged: Discord takes 5 messages per 5 s in a channel, so 100
                # separate alerts would trickle in over 100 s.
                groups = fanout.merge(pending, self.settings.merge_threshold)
                changed, _, written = await _together(
                    tx.launches.advance_many(advances, now),
                    tx.events.append_events(events),
                    fanout.write(tx, groups, now, broken=broken),
                )
                if changed != len(advances):  # cannot happen inside one IMMEDIATE transaction
                    raise RuntimeError(f"sweep moved {changed} of {len(advances)} launches")
                rows += written
            if len(due) < self.settings.batch:
                break
        if rows:
            self.deliverer.kick()  # the alerts go out while the other features sweep
        # The other features' sweeps are independent of each other: side by side, the next
        # launch sweep waits for the slowest, not for their sum. A failure is raised once all
        # are done, as if they ran one after another.
        await _together(*(extra(now) for extra in self._extra_sweep))
        # Rows may also come from outside the sweep (a manager marking a launch shipped), and
        # retries fall due here: the deliverer looks every time (one index lookup).
        self.deliverer.kick()
        if handled:
            log.info("sweep handled %d due launches, queued %d messages", handled, rows)
        return SweepReport(handled=handled, alerts=handled, rows=rows, catch_up=catch_up)

    def plan(self, launch: Launch, config: GuildConfig, now: dt.datetime) -> Step:
        """What the sweep does with one due launch (pure): its next state and due time, and
        the alert and history row to write, if any."""
        assert launch.next_due_at is not None
        tz = deadlines.zone(launch.timezone or config.timezone)

        current = deadlines.due_items(
            state=launch.state,
            deadline_at=launch.deadline_at,
            window_end=launch.window_end,
            tz=tz,
            reminder_offsets=config.reminder_offsets,
            late_milestones=config.late_milestones,
        )
        item = deadlines.pick_due(current, launch.next_due_at, now)
        state = launch.state
        if item is not None and item.kind is deadlines.DueKind.DEADLINE:
            state = LaunchState.SLIPPED
            # Once slipped only the late milestones remain (see deadlines.due_items).
            current = [i for i in current if i.kind is deadlines.DueKind.MILESTONE]
        days_late = launch.days_late
        if state is LaunchState.SLIPPED:
            days_late = max(0, (deadlines.local_today(now, tz) - launch.window_end).days)
        nxt = deadlines.next_after(current, now)
        next_due = nxt.at if nxt else None
        if item is None:
            return Step(state, next_due, days_late, None, None, "")
        # Late because the launch was only added after this fell due (an old promise entered
        # today) is not late because the bot was down: the alert says which.
        added_late = launch.created_at >= item.at
        detected_late = not added_late and now - item.at > self.settings.late_tolerance
        updated = dataclasses.replace(
            launch, state=state, days_late=days_late, next_due_at=next_due
        )
        alert = _due_alert(updated, item, tz, detected_late=detected_late, added_late=added_late)
        history = NewEvent(
            launch.id,
            launch.guild_id,
            _EVENT_OF[item.kind],
            now,
            "slipwatch",
            {
                "due_at": item.at.isoformat(),
                "item": item.key,
                "detected_late": detected_late,
                "added_late": added_late,
                "days_late": alert.days_late,
            },
        )
        return Step(
            state,
            next_due,
            days_late,
            alert,
            history,
            f"L{launch.id}.r{launch.revision}.{item.key}",
        )


async def _together(*steps: Awaitable[Any]) -> tuple[Any, ...]:
    """Run *steps* side by side and return their results in order. Every step has finished
    before this returns or raises (the first failure, once all are done): none may still be
    running on the transaction's connection when its caller rolls back."""
    results = await asyncio.gather(*steps, return_exceptions=True)
    for result in results:
        if isinstance(result, BaseException):
            raise result
    return tuple(results)


# What each kind of due item becomes: the alert people see and the history row kept.
_ALERT_OF = {
    deadlines.DueKind.DEADLINE: AlertKind.SLIPPED,
    deadlines.DueKind.MILESTONE: AlertKind.MILESTONE,
    deadlines.DueKind.REMINDER: AlertKind.REMINDER,
}
_EVENT_OF = {
    deadlines.DueKind.DEADLINE: EventKind.SLIPPED,
    deadlines.DueKind.MILESTONE: EventKind.MILESTONE,
    deadlines.DueKind.REMINDER: EventKind.REMINDER,
}


def _due_alert(
    updated: Launch,
    item: deadlines.DueItem,
    tz: ZoneInfo,
    *,
    detected_late: bool,
    added_late: bool,
) -> Alert:
    """The alert for a due *item* of a launch, as the launch stands after the sweep."""
    slipped = updated.state is LaunchState.SLIPPED
    return Alert(
        kind=_ALERT_OF[item.kind],
        launch=LaunchSnapshot.of(updated, tz.key),
        at=item.at,
        detected_late=detected_late,
        added_late=added_late,
        days_late=updated.days_late if slipped else None,
        days_before=item.value if item.kind is deadlines.DueKind.REMINDER else None,
        milestone=item.value if item.kind is deadlines.DueKind.MILESTONE else None,
        actor="slipwatch",
    )


@dataclass(frozen=True, slots=True)
class Step:
    """The sweep's decision for one due launch."""

    state: LaunchState
    next_due_at: dt.datetime | None
    days_late: int | None
    alert: Alert | None
    event: NewEvent | None
    key: str

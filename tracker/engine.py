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

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger

from storage import repo
from storage.db import Database
from tracker import alerts as alert_rows
from tracker import schedule
from tracker.clock import Clock
from tracker.delivery import Deliverer
from tracker.models import (
    Alert,
    AlertKind,
    EventKind,
    GuildConfig,
    Launch,
    LaunchSnapshot,
    LaunchState,
)

log = logging.getLogger(__name__)

SWEEP_JOB_ID = "slipwatch-sweep"


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
    merge_threshold: int = alert_rows.MERGE_THRESHOLD
    late_tolerance: dt.timedelta = schedule.LATE_TOLERANCE


ExtraDue = Callable[[], Awaitable[dt.datetime | None]]
ExtraSweep = Callable[[dt.datetime], Awaitable[None]]


class Engine:
    """Sweeps due launches and keeps one APScheduler job armed at the next due time."""

    def __init__(
        self,
        db: Database,
        clock: Clock,
        scheduler: AsyncIOScheduler,
        deliverer: Deliverer,
        settings: EngineSettings | None = None,
    ) -> None:
        self.db = db
        self.clock = clock
        self.scheduler = scheduler
        self.deliverer = deliverer
        self.settings = settings or EngineSettings()
        self._wake = asyncio.Event()
        self._runner: asyncio.Task[None] | None = None
        self._sweeping = False
        self._first_sweep_done = asyncio.Event()
        self._extra_due: list[ExtraDue] = []
        self._extra_sweep: list[ExtraSweep] = []
        self.armed_at: dt.datetime | None = None
        self.sweeps = 0
        self.last_report = SweepReport()

    # ------------------------------------------------------------------ wiring

    def add_due_source(self, due: ExtraDue, sweep: ExtraSweep) -> None:
        """Let another feature (digests, probes) share the one timer: *due* tells its earliest
        due time, *sweep* handles what is due at a given time."""
        self._extra_due.append(due)
        self._extra_sweep.append(sweep)

    async def start(self) -> None:
        """Start delivering and sweep at once: whatever fell due while we were down is handled
        now, marked as detected late, and merged per destination when there is a lot."""
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
        await self.deliverer.stop()

    def poke(self) -> None:
        """Something changed: sweep now and re-arm (cheap; coalesces)."""
        self._wake.set()

    async def _fire(self) -> None:
        # Runs as an APScheduler job in the event loop; the runner does the work so that a
        # job firing during a sweep is never skipped or run twice at once.
        self._wake.set()

    async def _run(self) -> None:
        catch_up = True
        while True:
            await self._wake.wait()
            self._wake.clear()
            self._sweeping = True
            try:
                self.last_report = await self.sweep(catch_up=catch_up)
                catch_up = False
            except Exception:
                log.exception("sweep failed; retrying in 5 s")
                asyncio.get_running_loop().call_later(5.0, self._wake.set)
            finally:
                self._sweeping = False
                self._first_sweep_done.set()
            try:
                await self.rearm()
            except Exception:
                log.exception("re-arming failed; retrying in 5 s")
                asyncio.get_running_loop().call_later(5.0, self._wake.set)

    # ------------------------------------------------------------------ timer

    async def next_due(self) -> dt.datetime | None:
        """The earliest pending due time of anything the engine watches."""
        candidates = [
            await repo.next_due(self.db.read),
            await repo.next_outbox_attempt(self.db.read),
        ]
        for source in self._extra_due:
            candidates.append(await source())
        present = [c for c in candidates if c is not None]
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
                return
            await asyncio.sleep(0.002)
        raise TimeoutError("engine did not settle")

    # ------------------------------------------------------------------ sweep

    async def sweep(self, *, catch_up: bool = False) -> SweepReport:
        """Handle everything due now. Safe to run twice: the second run finds nothing."""
        now = self.clock.now()
        handled = alerts = rows = 0
        self.sweeps += 1
        while True:
            due = await repo.due_launches(self.db.read, now, self.settings.batch)
            if not due:
                break
            async with self.db.transaction() as conn:
                configs = await repo.get_guilds(conn, {launch.guild_id for launch in due})
                pending: list[alert_rows.Pending] = []
                for launch in due:
                    alert, key = await self._handle(conn, launch, configs[launch.guild_id], now)
                    if alert is None:
                        continue
                    handled += 1
                    alerts += 1
                    pending.extend(
                        await alert_rows.destinations(conn, configs[launch.guild_id], alert, key)
                    )
                if catch_up:
                    groups = alert_rows.merge(pending, self.settings.merge_threshold)
                else:
                    groups = [(p,) for p in pending]
                rows += await alert_rows.write(conn, groups, now)
            if len(due) < self.settings.batch:
                break
        for extra in self._extra_sweep:
            await extra(now)
        # Rows may also come from outside the sweep (a manager marking a launch shipped), and
        # retries fall due here: the deliverer looks every time (one index lookup).
        self.deliverer.kick()
        if handled:
            log.info("sweep handled %d due launches, queued %d messages", handled, rows)
        return SweepReport(handled=handled, alerts=alerts, rows=rows, catch_up=catch_up)

    async def _handle(
        self, conn: Any, launch: Launch, config: GuildConfig, now: dt.datetime
    ) -> tuple[Alert | None, str]:
        """Advance one due launch; returns the alert to send (or None) and its key base."""
        assert launch.next_due_at is not None
        tz = schedule.zone(launch.timezone or config.timezone)
        items = schedule.due_items(
            state=launch.state,
            deadline_at=launch.deadline_at,
            window_end=launch.window_end,
            tz=tz,
            reminder_offsets=config.reminder_offsets,
            late_milestones=config.late_milestones,
        )
        item = schedule.pick_due(items, launch.next_due_at, now)
        state = launch.state
        days_late = launch.days_late
        if item is not None and item.kind is schedule.DueKind.DEADLINE:
            state = LaunchState.SLIPPED
        today = schedule.local_today(now, tz)
        if state is LaunchState.SLIPPED:
            days_late = max(0, (today - launch.window_end).days)
        after = schedule.due_items(
            state=state,
            deadline_at=launch.deadline_at,
            window_end=launch.window_end,
            tz=tz,
            reminder_offsets=config.reminder_offsets,
            late_milestones=config.late_milestones,
        )
        nxt = schedule.next_after(after, now)
        if not await repo.advance_due(
            conn,
            launch.id,
            expect_due=launch.next_due_at,
            expect_revision=launch.revision,
            state=state,
            next_due_at=nxt.at if nxt else None,
            days_late=days_late if state is LaunchState.SLIPPED else launch.days_late,
            now=now,
        ):
            return None, ""  # someone else moved it first: nothing more to do
        if item is None:
            return None, ""
        detected_late = now - item.at > self.settings.late_tolerance
        updated = dataclasses.replace(
            launch, state=state, days_late=days_late, next_due_at=nxt.at if nxt else None
        )
        snapshot = LaunchSnapshot.of(updated, tz.key)
        if item.kind is schedule.DueKind.DEADLINE:
            kind, event = AlertKind.SLIPPED, EventKind.SLIPPED
        elif item.kind is schedule.DueKind.MILESTONE:
            kind, event = AlertKind.MILESTONE, EventKind.MILESTONE
        else:
            kind, event = AlertKind.REMINDER, EventKind.REMINDER
        alert = Alert(
            kind=kind,
            launch=snapshot,
            at=item.at,
            detected_late=detected_late,
            days_late=days_late if state is LaunchState.SLIPPED else None,
            days_before=item.value if item.kind is schedule.DueKind.REMINDER else None,
            milestone=item.value if item.kind is schedule.DueKind.MILESTONE else None,
            actor="slipwatch",
        )
        await repo.append_event(
            conn,
            launch_id=launch.id,
            guild_id=launch.guild_id,
            kind=event,
            at=now,
            actor="slipwatch",
            data={
                "due_at": item.at.isoformat(),
                "item": item.key,
                "detected_late": detected_late,
                "days_late": alert.days_late,
            },
        )
        return alert, f"L{launch.id}.r{launch.revision}.{item.key}"

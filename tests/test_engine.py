"""The deadline engine and the outbox, on real SQLite, real APScheduler and a simulated clock."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from storage.db import (
    SqliteDatabase,
    bundled_migrations,
    migrate,
    open_database,
)
from storage.outbox import SqlOutbox
from storage.schema import Migration, MigrationError
from storage.session import SqlSession, SqlStore
from tests.harness import CHANNEL, GUILD, RecordingNotifier, harness
from tracker.clock import SimClock
from tracker.engine import OUTBOX_RECHECK, SWEEP_JOB_ID
from tracker.errors import DiskFull, InvalidInput, InvalidTransition, NotFound
from tracker.models import (
    AlertKind,
    BrokenNotice,
    DestinationKind,
    EventKind,
    LaunchState,
    Message,
    NewLaunch,
    OutboxRow,
    OutboxState,
    SubscriptionScope,
)
from tracker.outbox.alert_text import render_text
from tracker.outbox.delivery import (
    BrokenDestination,
    Delivered,
    Deliverer,
    DeliveryResult,
    DeliverySettings,
    RetryLater,
    UnreachableUser,
)
from tracker.outbox.fanout import nonce_for
from tracker.records import Outgoing, SentMark

UTC = dt.UTC
JAN1 = dt.datetime(2025, 1, 1, tzinfo=UTC)


def at(y: int, m: int, d: int, h: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=UTC)


class TimedNotifier(RecordingNotifier):
    """Also records the simulated time of each delivery."""

    def __init__(self, clock: SimClock) -> None:
        super().__init__()
        self.clock = clock
        self.times: list[tuple[str, dt.datetime]] = []

    async def deliver(self, row: OutboxRow) -> DeliveryResult:
        result = await super().deliver(row)
        for alert in row.payload.alerts:
            self.times.append((alert.kind.value, self.clock.now()))
        return result


async def test_slip_fires_once_at_the_deadline_with_reminders_before(
    tmp_path: Path, db_target: str
) -> None:
    clock = SimClock(at(2024, 7, 1, 12))
    notifier = TimedNotifier(clock)
    async with harness(db_target, clock=clock, notifier=notifier) as h:
        launch_id = await h.add("Grok 3", "xAI", "end of 2024")
        launch = await h.tracker.get(GUILD, launch_id)
        assert launch.deadline_at == JAN1
        # The one sweep job is armed at the first reminder, 7 days before the deadline.
        assert h.engine.armed_at == at(2024, 12, 25)
        job = h.scheduler.get_job(SWEEP_JOB_ID)
        assert job is not None and len(h.scheduler.get_jobs()) == 1

        await h.run_until(at(2025, 1, 2, 12))
        assert notifier.times == [
            ("reminder", at(2024, 12, 25)),
            ("reminder", at(2024, 12, 31)),
            ("slipped", JAN1),
        ]
        launch = await h.tracker.get(GUILD, launch_id)
        assert launch.state is LaunchState.SLIPPED
        assert launch.next_due_at == at(2025, 1, 7)  # the "7 days late" milestone

        # Sweeping again at the same moment changes nothing.
        report = await h.engine.sweep()
        assert report.handled == 0
        await h.engine.settle()
        assert len(notifier.delivered) == 3

        await h.run_until(at(2025, 1, 8))
        assert notifier.times[-1] == ("milestone", at(2025, 1, 7))
        assert notifier.delivered[-1].payload.alerts[0].milestone == 7
        assert notifier.delivered[-1].payload.alerts[0].days_late == 7
        kinds = [e.kind for e in await h.tracker.history(GUILD, launch_id)]
        assert kinds == [
            EventKind.CREATED,
            EventKind.REMINDER,
            EventKind.REMINDER,
            EventKind.SLIPPED,
            EventKind.MILESTONE,
        ]
        rows = await h.store.read.outbox.all_outbox()
        assert [r.state for r in rows] == [OutboxState.SENT] * 4
        assert all(r.dest_kind is DestinationKind.CHANNEL and r.dest_id == CHANNEL for r in rows)


async def test_restart_after_deadline_fires_the_slip_exactly_once_in_total(
    tmp_path: Path, db_target: str
) -> None:
    path = db_target
    clock = SimClock(at(2024, 12, 30))
    async with harness(path, clock=clock) as h:
        launch_id = await h.add("Grok 3", "xAI", "end of 2024")
    # The bot is down over the deadline (and the 1-day reminder) and comes back on Jan 3.
    clock.set(at(2025, 1, 3, 9))
    first = RecordingNotifier()
    async with harness(path, clock=clock, notifier=first, configure=False) as h:
        await h.engine.settle()
        assert first.kinds() == ["slipped"]  # the stale reminder is not sent
        alert = first.delivered[0].payload.alerts[0]
        assert alert.detected_late is True and alert.at == JAN1 and alert.days_late == 3
    second = RecordingNotifier()
    async with harness(path, clock=clock, notifier=second, configure=False) as h:
        await h.engine.settle()
        assert second.attempts == []
        launch = await h.tracker.get(GUILD, launch_id)
        assert launch.state is LaunchState.SLIPPED
        slips = [
            e for e in await h.tracker.history(GUILD, launch_id) if e.kind is EventKind.SLIPPED
        ]
        assert len(slips) == 1 and slips[0].data["detected_late"] is True


class CrashingNotifier(RecordingNotifier):
    """Sends (records) and then hangs: the process is killed before it can mark the row sent."""

    async def deliver(self, row: OutboxRow) -> DeliveryResult:
        self.attempts.append(row)
        await asyncio.Event().wait()  # never returns; the harness exit kills the task
        raise AssertionError("unreachable")


async def test_crash_between_send_and_mark_sent_resends_with_the_same_nonce(
    tmp_path: Path, db_target: str
) -> None:
    path = db_target
    clock = SimClock(at(2024, 12, 31, 23))
    crashing = CrashingNotifier()
    async with harness(path, clock=clock, notifier=crashing) as h:
        await h.tracker.configure(GUILD, reminder_offsets=())
        await h.add("Grok 3", "xAI", "end of 2024")
        clock.set(JAN1)
        await h.engine.rearm()
        for _ in range(200):
            if crashing.attempts:
                break
            await asyncio.sleep(0.01)
        assert len(crashing.attempts) == 1
    rows = await _rows(path)
    assert [r.state for r in rows] == [OutboxState.PENDING]  # never marked before confirmation
    resend = RecordingNotifier()
    async with harness(path, clock=clock, notifier=resend, configure=False) as h:
        await h.engine.settle()
    assert len(resend.delivered) == 1
    assert resend.delivered[0].nonce == crashing.attempts[0].nonce
    assert len(resend.delivered[0].nonce) <= 25
    assert [r.state for r in await _rows(path)] == [OutboxState.SENT]


async def _rows(path: str | Path) -> list[OutboxRow]:
    async with open_database(path) as db:
        return await SqlStore(db).read.outbox.all_outbox()


async def test_reannouncing_rearms_the_sweep_and_counts_a_slip(
    tmp_path: Path, db_target: str
) -> None:
    clock = SimClock(at(2024, 12, 20))
    notifier = TimedNotifier(clock)
    async with harness(db_target, clock=clock, notifier=notifier) as h:
        launch_id = await h.add("Grok 3", "xAI", "end of 2024")
        assert h.engine.armed_at == at(2024, 12, 25)
        await h.tracker.reannounce(
            GUILD, launch_id, "musk", window_phrase="Q1 2025", announced_on=dt.date(2024, 12, 20)
        )
        await h.engine.settle()
        launch = await h.tracker.get(GUILD, launch_id)
        assert launch.slip_count == 1 and launch.state is LaunchState.UPCOMING
        assert launch.deadline_at == at(2025, 4, 1)
        assert h.engine.armed_at == at(2025, 3, 25)
        await h.run_until(at(2025, 2, 1))
        assert notifier.kinds() == ["reannounced"]  # the old deadline passes silently
        await h.run_until(at(2025, 4, 2))
        assert notifier.kinds() == ["reannounced", "reminder", "reminder", "slipped"]
        # An earlier window is a correction, not a slip.
        await h.tracker.reannounce(GUILD, launch_id, "musk", window_phrase="2025-05-31")
        launch = await h.tracker.get(GUILD, launch_id)
        assert launch.slip_count == 2  # later than the Q1 deadline: a second slip
        await h.tracker.reannounce(GUILD, launch_id, "musk", window_phrase="2025-05-15")
        launch = await h.tracker.get(GUILD, launch_id)
        assert launch.slip_count == 2


async def test_catch_up_merges_more_than_five_alerts_per_destination(
    tmp_path: Path, db_target: str
) -> None:
    path = db_target
    clock = SimClock(at(2024, 12, 30))
    async with harness(path, clock=clock) as h:
        await h.tracker.configure(GUILD, reminder_offsets=())
        for i in range(7):
            await h.add(f"Model {i}", "xAI", "end of 2024")
        await h.add("Solo", "Other", "end of 2024")
        await h.tracker.subscribe(GUILD, 77, SubscriptionScope.LAUNCH, "1")
    clock.set(at(2025, 1, 2))
    notifier = RecordingNotifier()
    async with harness(path, clock=clock, notifier=notifier, configure=False) as h:
        await h.engine.settle()
    channel = [r for r in notifier.delivered if r.dest_kind is DestinationKind.CHANNEL]
    users = [r for r in notifier.delivered if r.dest_kind is DestinationKind.USER]
    assert len(channel) == 1 and len(channel[0].payload.alerts) == 8
    assert len(users) == 1 and len(users[0].payload.alerts) == 1  # 1 alert: not merged
    assert all(a.detected_late for a in channel[0].payload.alerts)


async def test_retry_later_backs_off_and_delivers_once(tmp_path: Path, db_target: str) -> None:
    clock = SimClock(at(2024, 12, 31, 23))
    notifier = RecordingNotifier()
    notifier.script.extend([RetryLater("HTTP 503"), RetryLater("429", after_s=30.0)])
    async with harness(db_target, clock=clock, notifier=notifier) as h:
        await h.tracker.configure(GUILD, reminder_offsets=())
        await h.add()
        await h.run_until(JAN1)
        rows = await h.store.read.outbox.all_outbox()
        assert rows[0].state is OutboxState.PENDING and rows[0].attempts == 1
        assert rows[0].last_error == "HTTP 503"
        # The sweep job is armed at the retry time (1..2 s later: 2 s base with jitter).
        assert h.engine.armed_at is not None
        assert JAN1 + dt.timedelta(seconds=1) <= h.engine.armed_at <= JAN1 + dt.timedelta(seconds=2)
        await h.run_until(JAN1 + dt.timedelta(seconds=3))
        rows = await h.store.read.outbox.all_outbox()
        assert rows[0].attempts == 2 and rows[0].last_error == "429"
        assert rows[0].next_attempt_at >= JAN1 + dt.timedelta(seconds=31)
        await h.run_until(JAN1 + dt.timedelta(minutes=5))
        rows = await h.store.read.outbox.all_outbox()
        assert rows[0].state is OutboxState.SENT and rows[0].attempts == 3
        assert len(notifier.delivered) == 1 and len(notifier.attempts) == 3


REFUSED = "403 Missing Permissions (50013)"


def notice_rows(rows: Sequence[OutboxRow]) -> list[OutboxRow]:
    return [r for r in rows if r.payload.notice is not None]


async def test_broken_channel_holds_alerts_queues_one_notice_and_releases(
    tmp_path: Path, db_target: str
) -> None:
    clock = SimClock(at(2024, 12, 31, 23))
    notifier = RecordingNotifier()
    notifier.per_dest[CHANNEL] = BrokenDestination(REFUSED)
    async with harness(db_target, clock=clock, notifier=notifier) as h:
        await h.tracker.configure(GUILD, reminder_offsets=())
        await h.add("A", "xAI", "end of 2024")
        await h.add("B", "xAI", "end of 2024")
        await h.run_until(at(2025, 1, 8))
        rows = await h.store.read.outbox.all_outbox()
        alerts = [r for r in rows if r.payload.notice is None]
        assert sorted(r.state.value for r in alerts) == ["held"] * 4  # 2 slips + 2 milestones
        broken = await h.store.read.destinations.broken_destinations(GUILD)
        assert broken[0]["held"] == 4
        since = broken[0]["since"]
        # One notice, queued with the hold, addressed to the guild's managers, and sent.
        (notice,) = notice_rows(rows)
        key = f"broken:c{CHANNEL}:{int(since.timestamp() * 1000)}"
        assert (notice.dest_kind, notice.dest_id, notice.guild_id) == (
            DestinationKind.CHANNEL,
            GUILD,
            GUILD,
        )
        assert (notice.idem_key, notice.nonce) == (key, nonce_for(key))
        assert notice.payload.notice == BrokenNotice(GUILD, CHANNEL, REFUSED, since)
        assert notice.state is OutboxState.SENT and notice.attempts == 1
        assert [r.id for r in notifier.delivered] == [notice.id]
        assert render_text(notice.payload) == (
            f"slipwatch cannot post alerts in <#{CHANNEL}>: {REFUSED}\n"
            "Alerts are being held, not lost. Fix the channel's permissions (or pick another "
            "channel) and run `/alerts channel` again; `/alerts status` shows what is held."
        )
        assert broken[0]["notified_at"] == notice.sent_at is not None
        assert (broken[0]["notice_state"], broken[0]["notice_error"]) == ("sent", None)
        del notifier.per_dest[CHANNEL]
        assert await h.deliverer.release(DestinationKind.CHANNEL, CHANNEL) == 4
        await h.engine.settle()
        rows = await h.store.read.outbox.all_outbox()
        assert [r.state for r in rows] == [OutboxState.SENT] * 5
        assert await h.store.read.destinations.broken_destinations(GUILD) == []
        # Broken again after the fix: a new breakage, a new notice.
        notifier.per_dest[CHANNEL] = BrokenDestination(REFUSED)
        await h.add("C", "xAI", "January 2025")
        await h.run_until(at(2025, 2, 2))
        rows = await h.store.read.outbox.all_outbox()
        notices = notice_rows(rows)
        assert len(notices) == 2 and notices[0].idem_key != notices[1].idem_key
        assert [r.state for r in notices] == [OutboxState.SENT] * 2
        again = await h.store.read.destinations.broken_destinations(GUILD)
        assert again[0]["since"] > since and again[0]["notified_at"] == notices[1].sent_at


async def test_broken_notice_is_retried_until_sent_and_only_then_marked_told(
    tmp_path: Path, db_target: str
) -> None:
    clock = SimClock(at(2024, 12, 31, 23))
    notifier = RecordingNotifier()
    notifier.per_dest[CHANNEL] = BrokenDestination(REFUSED)
    notifier.per_dest[GUILD] = RetryLater("Discord server error 500")
    async with harness(db_target, clock=clock, notifier=notifier) as h:
        await h.tracker.configure(GUILD, reminder_offsets=(), late_milestones=())
        await h.add("A", "xAI", "end of 2024")
        await h.run_until(at(2025, 1, 1, 1))
        (notice,) = notice_rows(await h.store.read.outbox.all_outbox())
        assert notice.state is OutboxState.PENDING and notice.attempts >= 2
        assert notice.last_error == "Discord server error 500"
        (broken,) = await h.store.read.destinations.broken_destinations(GUILD)
        assert broken["notified_at"] is None and broken["notice_state"] == "pending"
        del notifier.per_dest[GUILD]
        await h.run_until(at(2025, 1, 1, 3))
        (notice,) = notice_rows(await h.store.read.outbox.all_outbox())
        assert notice.state is OutboxState.SENT and notice.sent_at is not None
        assert [r.id for r in notifier.delivered] == [notice.id]
        (broken,) = await h.store.read.destinations.broken_destinations(GUILD)
        assert broken["notified_at"] == notice.sent_at


async def test_broken_notice_refused_everywhere_fails_without_holding_anything(
    tmp_path: Path, db_target: str
) -> None:
    clock = SimClock(at(2024, 12, 31, 23))
    notifier = RecordingNotifier()
    notifier.per_dest[CHANNEL] = BrokenDestination(REFUSED)
    # A notifier that calls the guild itself broken: a notice is never held for it.
    notifier.per_dest[GUILD] = BrokenDestination("no way to reach the managers")
    async with harness(db_target, clock=clock, notifier=notifier) as h:
        await h.tracker.configure(GUILD, reminder_offsets=(), late_milestones=())
        await h.add("A", "xAI", "end of 2024")
        await h.run_until(at(2025, 1, 1, 1))
        (notice,) = notice_rows(await h.store.read.outbox.all_outbox())
        assert notice.state is OutboxState.FAILED
        assert notice.last_error == "no way to reach the managers"
        (broken,) = await h.store.read.destinations.broken_destinations(GUILD)
        assert broken["dest_id"] == CHANNEL and broken["notified_at"] is None
        assert (broken["notice_state"], broken["notice_error"]) == (
            "failed",
            "no way to reach the managers",
        )


async def test_two_deliverers_breaking_one_channel_queue_one_notice(
    tmp_path: Path, db_target: str
) -> None:
    clock = SimClock(at(2025, 1, 1))
    notifier = RecordingNotifier()
    notifier.per_dest[CHANNEL] = BrokenDestination(REFUSED)
    async with harness(db_target, clock=clock, notifier=notifier) as h:
        message = Message(alerts=())
        async with h.store.transaction() as tx:
            await tx.outbox.enqueue_many(
                [
                    Outgoing(GUILD, DestinationKind.CHANNEL, CHANNEL, f"k{i}", f"n{i}", message)
                    for i in range(2)
                ],
                clock.now(),
            )
        first, second = await h.store.read.outbox.all_outbox()
        other = Deliverer(h.store, clock, notifier)
        results = await asyncio.gather(h.deliverer.deliver_row(first), other.deliver_row(second))
        assert list(results) == [BrokenDestination(REFUSED)] * 2
        await h.engine.settle()
        rows = await h.store.read.outbox.all_outbox()
        (notice,) = notice_rows(rows)
        assert notice.state is OutboxState.SENT
        assert [r.state for r in rows if r.payload.notice is None] == [OutboxState.HELD] * 2
        assert [r.id for r in notifier.delivered] == [notice.id]


async def test_unreachable_user_pauses_subscription_and_channel_still_gets_it(
    tmp_path: Path, db_target: str
) -> None:
    clock = SimClock(at(2024, 12, 31, 23))
    notifier = RecordingNotifier()
    notifier.per_dest[42] = UnreachableUser("Cannot send messages to this user (50007)")
    async with harness(db_target, clock=clock, notifier=notifier) as h:
        await h.tracker.configure(GUILD, reminder_offsets=())
        await h.add()
        await h.tracker.subscribe(GUILD, 42, SubscriptionScope.ALL)
        await h.tracker.subscribe(GUILD, 43, SubscriptionScope.VENDOR, "XAI")
        await h.run_until(at(2025, 1, 1, 1))
        states = {(r.dest_id, r.state) for r in await h.store.read.outbox.all_outbox()}
        assert states == {
            (CHANNEL, OutboxState.SENT),
            (42, OutboxState.FAILED),
            (43, OutboxState.SENT),
        }
        subs = await h.tracker.subscriptions(42)
        assert subs[0].paused_reason == "Cannot send messages to this user (50007)"
        # A paused subscription gets nothing more.
        await h.run_until(at(2025, 1, 8))
        assert [r.dest_id for r in notifier.attempts].count(42) == 1


async def test_rows_past_max_age_are_marked_dead(tmp_path: Path, db_target: str) -> None:
    clock = SimClock(at(2024, 12, 31, 23))
    notifier = RecordingNotifier()
    notifier.per_dest[CHANNEL] = RetryLater("HTTP 500")
    async with harness(db_target, clock=clock, notifier=notifier) as h:
        h.deliverer.settings = DeliverySettings(max_age=dt.timedelta(hours=1))
        await h.tracker.configure(GUILD, reminder_offsets=(), late_milestones=())
        await h.add()
        await h.run_until(at(2025, 1, 1, 3))
        rows = await h.store.read.outbox.all_outbox()
        assert rows[0].state is OutboxState.DEAD
        assert h.deliverer.dead == 1


async def test_lifecycle_shipped_late_and_illegal_transitions(
    tmp_path: Path, db_target: str
) -> None:
    async with harness(db_target, start=at(2025, 2, 17, 18)) as h:
        launch_id = await h.add("Grok 3", "xAI", "end of 2024")  # added after its deadline
        launch = await h.tracker.get(GUILD, launch_id)
        assert launch.state is LaunchState.SLIPPED  # the sweep caught the passed deadline
        shipped = await h.tracker.shipped(GUILD, launch_id, "mod", on=dt.date(2025, 2, 17))
        assert shipped.days_late == 48 and shipped.state is LaunchState.SHIPPED
        assert shipped.next_due_at is None
        with pytest.raises(InvalidTransition) as err:
            await h.tracker.cancelled(GUILD, launch_id, "mod")
        assert str(err.value) == (
            "Grok 3 was already shipped on 2025-02-17, so it cannot be cancelled. "
            "Use /launch history to see what happened."
        )
        with pytest.raises(InvalidTransition):
            await h.tracker.reannounce(GUILD, launch_id, "mod", window_phrase="Q3 2025")
        with pytest.raises(NotFound):
            await h.tracker.shipped(GUILD + 1, launch_id, "mod")
        with pytest.raises(InvalidInput) as bad:
            await h.add("X", "Y", "soon")
        assert "soon" in str(bad.value)
        on_time = await h.add("Z", "Y", "2025-02-28")
        z = await h.tracker.shipped(GUILD, on_time, "mod", on=dt.date(2025, 2, 17))
        assert z.days_late == -11  # signed: 11 days early
        await h.engine.settle()
        kinds = h.notifier.kinds()
        assert kinds == ["slipped", "shipped", "shipped"]


async def test_launch_events_are_append_only(tmp_path: Path) -> None:
    async with harness(tmp_path / "db.sqlite") as h:
        await h.add()
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            async with h.db.transaction() as conn:
                await conn.execute("UPDATE launch_events SET actor = 'forger'")


async def test_deadline_uses_launch_timezone_across_dst_and_grace(
    tmp_path: Path, db_target: str
) -> None:
    async with harness(db_target, start=at(2024, 3, 1)) as h:
        la = await h.add("A", "V", "2024-03-09", timezone="America/Los_Angeles")
        # Midnight of March 10 in Los Angeles is still PST (DST starts at 02:00): 08:00 UTC.
        assert (await h.tracker.get(GUILD, la)).deadline_at == at(2024, 3, 10, 8)
        after = await h.add("B", "V", "2024-03-10", timezone="America/Los_Angeles")
        assert (await h.tracker.get(GUILD, after)).deadline_at == at(2024, 3, 11, 7)  # PDT
        await h.tracker.configure(GUILD, timezone="Asia/Jakarta", grace_days=2)
        jkt = await h.add("C", "V", "2024-03-31")
        # Start of April 3 in Jakarta (UTC+7): grace of 2 days after April 1.
        assert (await h.tracker.get(GUILD, jkt)).deadline_at == at(2024, 4, 2, 17)
        # Existing launches were rescheduled with the grace too (their own zone kept).
        assert (await h.tracker.get(GUILD, la)).deadline_at == at(2024, 3, 12, 7)


async def test_migrations_apply_on_empty_and_roll_back_a_failing_one(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    async with SqliteDatabase.open(path) as db:
        assert await db.user_version() == len(bundled_migrations())
        assert await db.integrity_check() == []
    broken = [
        *bundled_migrations(),
        Migration(
            len(bundled_migrations()) + 1,
            "999_broken.sql",
            "CREATE TABLE half_done (x INTEGER);\nINSERT INTO nowhere VALUES (1);",
        ),
    ]
    with pytest.raises(MigrationError, match=r"999_broken\.sql"):
        async with SqliteDatabase.open(path, migrations=broken):
            pass
    async with SqliteDatabase.open(path) as db:
        assert await db.user_version() == len(bundled_migrations())
        assert await db.fetchone("SELECT name FROM sqlite_master WHERE name = 'half_done'") is None


async def test_migrations_upgrade_a_database_of_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    migrations = bundled_migrations()
    previous = migrations[:-1]
    conn = sqlite3.connect(path, isolation_level=None)
    conn.close()
    import aiosqlite

    async with aiosqlite.connect(path, isolation_level=None) as raw:
        assert await migrate(raw, previous) == len(previous)
    async with SqliteDatabase.open(path) as db:
        assert await db.user_version() == len(migrations)
        assert await db.fetchone("SELECT COUNT(*) FROM launches") is not None


async def test_deliverer_skips_nothing_under_concurrency(tmp_path: Path, db_target: str) -> None:
    clock = SimClock(at(2024, 12, 31, 23))
    notifier = RecordingNotifier()
    async with harness(db_target, clock=clock, notifier=notifier) as h:
        await h.tracker.configure(GUILD, reminder_offsets=())
        launch_id = await h.add()
        for user in range(1, 101):
            await h.tracker.subscribe(GUILD, user, SubscriptionScope.LAUNCH, str(launch_id))
        await h.run_until(at(2025, 1, 1, 1))
        assert len(notifier.delivered) == 101
        assert len({r.id for r in notifier.delivered}) == 101
        assert len({r.nonce for r in notifier.delivered}) == 101


async def test_the_same_alert_is_never_queued_twice(tmp_path: Path, db_target: str) -> None:
    clock = SimClock(at(2025, 1, 2))
    async with harness(db_target, clock=clock) as h:
        await h.add()
        rows = await h.store.read.outbox.all_outbox()
        assert len(rows) == 1
        row = rows[0]
        async with h.store.transaction() as conn:
            again = await conn.outbox.enqueue(
                guild_id=GUILD,
                dest_kind=row.dest_kind,
                dest_id=row.dest_id,
                idem_key=row.idem_key,
                nonce=row.nonce,
                payload=row.payload,
                now=clock.now(),
            )
        assert again is False
        assert row.payload.alerts[0].kind is AlertKind.SLIPPED


async def test_deliverer_survives_a_notifier_bug(tmp_path: Path, db_target: str) -> None:
    class Buggy(RecordingNotifier):
        calls = 0

        async def deliver(self, row: OutboxRow) -> DeliveryResult:
            Buggy.calls += 1
            if Buggy.calls == 1:
                raise RuntimeError("boom")
            return await super().deliver(row)

    clock = SimClock(at(2025, 1, 2))
    notifier = Buggy()
    async with harness(db_target, clock=clock, notifier=notifier) as h:
        await h.add()
        rows = await h.store.read.outbox.all_outbox()
        assert rows[0].state is OutboxState.PENDING and "boom" in (rows[0].last_error or "")
        await h.run_until(at(2025, 1, 2, 1))
        assert [r.state for r in await h.store.read.outbox.all_outbox()] == [OutboxState.SENT]


def test_deliverer_backoff_is_bounded_and_jittered() -> None:
    import random

    d = Deliverer.__new__(Deliverer)
    d.settings = DeliverySettings(base_backoff_s=2.0, max_backoff_s=60.0)
    d._rng = random.Random(1)
    values = [d.backoff(n, None) for n in range(10)]
    assert all(0 < v <= 60 for v in values)
    assert values[0] <= 2.0 and values[-1] >= 30.0
    assert d.backoff(3, 12.5) == 12.5


class HeldNotifier(RecordingNotifier):
    """Keeps every send in flight until released."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def deliver(self, row: OutboxRow) -> DeliveryResult:
        self.attempts.append(row)
        await self.release.wait()
        self.delivered.append(row)
        return Delivered(message_id=1000 + len(self.delivered))


async def test_rows_due_in_the_outbox_do_not_arm_the_sweep_again_at_once(
    tmp_path: Path, db_target: str
) -> None:
    # A fan-out takes the deliverer minutes. Armed at those rows' due time, the sweep ran again
    # the moment it finished, over and over, taking the deliverer's CPU: it looks once more
    # after OUTBOX_RECHECK instead.
    clock = SimClock(at(2024, 12, 31, 23))
    notifier = HeldNotifier()
    async with harness(db_target, clock=clock, notifier=notifier) as h:
        await h.tracker.configure(GUILD, reminder_offsets=(), late_milestones=())
        await h.add()
        clock.set(JAN1)
        await h.engine.rearm()
        for _ in range(500):
            if notifier.attempts and h.engine.armed_at == JAN1 + OUTBOX_RECHECK:
                break
            await asyncio.sleep(0.02)
        assert notifier.attempts
        assert h.engine.armed_at == JAN1 + OUTBOX_RECHECK
        notifier.release.set()
        await h.engine.settle()
        assert len(notifier.delivered) == 1
        rows = await h.store.read.outbox.all_outbox()
        assert [r.state for r in rows] == [OutboxState.SENT]


async def test_a_launch_due_after_the_armed_time_is_added_without_a_sweep_and_still_alerts(
    tmp_path: Path, db_target: str
) -> None:
    # The timer already fires first for an earlier launch: adding a later one changes nothing
    # the engine must look at again (no sweep, no re-arm); an earlier one moves the timer.
    clock = SimClock(at(2024, 12, 1))
    notifier = TimedNotifier(clock)
    async with harness(db_target, clock=clock, notifier=notifier) as h:
        await h.add("Grok 3", "xAI", "end of 2024")
        assert h.engine.armed_at == at(2024, 12, 25)
        sweeps = h.engine.sweeps
        await h.add("Claude 3.5 Opus", "Anthropic", "end of 2025")
        await h.engine.idle()
        assert h.engine.sweeps == sweeps
        assert h.engine.armed_at == at(2024, 12, 25)
        await h.add("Gemini 2", "Google", "2024-12-20")
        await h.engine.idle()
        assert h.engine.sweeps == sweeps + 1
        assert h.engine.armed_at == at(2024, 12, 14)  # 7 days before its deadline, 21 Dec

        await h.run_until(at(2026, 1, 2))
        slipped = [
            (row.payload.alerts[0].launch.product, when)
            for row, (kind, when) in zip(notifier.delivered, notifier.times, strict=True)
            if kind == "slipped"
        ]
        assert slipped == [
            ("Gemini 2", at(2024, 12, 21)),
            ("Grok 3", JAN1),
            ("Claude 3.5 Opus", at(2026, 1, 1)),
        ]


async def test_a_launch_added_while_a_sweep_re_arms_is_not_left_behind(
    tmp_path: Path, db_target: str
) -> None:
    # The sweep's re-arm may read the store just before an add commits: that add is earlier
    # than what the re-arm finds but later than the time armed before the sweep, so it must
    # wake the runner again rather than trust the armed time. (No alert channel: no outbox
    # row whose recheck would re-arm early and hide a timer armed too late.)
    clock = SimClock(at(2024, 12, 20))
    async with harness(db_target, clock=clock, configure=False) as h:
        await h.add("Grok 3", "xAI", "end of 2024")  # reminders 25 and 31 Dec
        assert h.engine.armed_at == at(2024, 12, 25)
        added: list[int] = []

        async def add_during_rearm() -> dt.datetime | None:
            # In the runner's pass that swept the 25 Dec reminder, after its store read.
            if not added and h.engine.last_report.handled:
                launch = await h.tracker.add(
                    NewLaunch(GUILD, "Gemini 2", "Google", "2024-12-27", dt.date(2024, 12, 20)),
                    actor="tester",
                )
                added.append(launch.launch.id)
            return None

        async def nothing(now: dt.datetime) -> None:
            return None

        h.engine.add_due_source(add_during_rearm, nothing)
        await h.run_until(at(2024, 12, 27, 12))
        assert added
        history = await h.tracker.history(GUILD, added[0])
        assert [(e.kind, e.at) for e in history] == [
            (EventKind.CREATED, at(2024, 12, 25)),
            (EventKind.REMINDER, at(2024, 12, 27)),  # a day before its deadline, on time
        ]


def _outgoing(count: int) -> list[Outgoing]:
    """One message for each of *count* servers' alert channels."""
    return [
        Outgoing(
            guild,
            DestinationKind.CHANNEL,
            500 + guild,
            f"k{guild}",
            nonce_for(f"k{guild}"),
            Message(alerts=()),
        )
        for guild in range(1, count + 1)
    ]


async def _until_idle(deliverer: Deliverer, done: Callable[[], bool]) -> None:
    for _ in range(2000):
        if done() and deliverer.idle:
            return
        await asyncio.sleep(0.005)
    raise TimeoutError("the deliverer did not finish")


async def test_sends_confirmed_together_are_each_recorded_with_their_own_message(
    tmp_path: Path, db_target: str
) -> None:
    notifier = RecordingNotifier()
    async with open_database(db_target) as db:
        store = SqlStore(db)
        async with store.transaction() as conn:
            assert await conn.outbox.enqueue_many(_outgoing(40), JAN1) == 40
        deliverer = Deliverer(store, SimClock(JAN1), notifier, DeliverySettings(concurrency=16))
        deliverer.start()
        deliverer.kick()
        try:
            await _until_idle(deliverer, lambda: len(notifier.delivered) == 40)
        finally:
            await deliverer.stop()
        message_of = {row.id: 1001 + i for i, row in enumerate(notifier.delivered)}
        rows = await store.read.outbox.all_outbox()
    assert len(message_of) == 40
    assert [(r.state, r.attempts, r.sent_message_id) for r in rows] == [
        (OutboxState.SENT, 1, message_of[r.id]) for r in rows
    ]


class _SentMarksFail(SqlOutbox):
    async def mark_sent_many(self, marks: Sequence[SentMark]) -> None:
        raise DiskFull("The disk is full, so nothing was saved.")


class _SessionWhoseMarksFail(SqlSession):
    @property
    def outbox(self) -> SqlOutbox:
        return _SentMarksFail(self.conn)


class _StoreWhoseMarksFail(SqlStore):
    @asynccontextmanager
    async def transaction(self, *, bookkeeping: bool = False) -> AsyncIterator[SqlSession]:
        async with self.db.transaction(bookkeeping=bookkeeping) as conn:
            yield _SessionWhoseMarksFail(conn)


async def test_sends_whose_record_fails_stay_pending_and_go_again_with_the_same_nonce(
    tmp_path: Path, db_target: str
) -> None:
    first, second = RecordingNotifier(), RecordingNotifier()
    async with open_database(db_target) as db:
        async with SqlStore(db).transaction() as conn:
            await conn.outbox.enqueue_many(_outgoing(5), JAN1)
        failing = Deliverer(_StoreWhoseMarksFail(db), SimClock(JAN1), first)
        failing.start()
        failing.kick()
        try:
            await _until_idle(failing, lambda: len(first.delivered) == 5)
        finally:
            await failing.stop()
        # Sent, but never recorded as sent: still pending (the process is as good as gone).
        rows = await SqlStore(db).read.outbox.all_outbox()
        assert [r.state for r in rows] == [OutboxState.PENDING] * 5
        again = Deliverer(SqlStore(db), SimClock(JAN1), second)
        assert await again.resume() == 5
        again.start()
        again.kick()
        try:
            await _until_idle(again, lambda: len(second.delivered) == 5)
        finally:
            await again.stop()
        rows = await SqlStore(db).read.outbox.all_outbox()
    # The resend carries the same nonces, so Discord shows each message once.
    assert sorted(r.nonce for r in second.delivered) == sorted(r.nonce for r in first.delivered)
    assert [r.state for r in rows] == [OutboxState.SENT] * 5

"""Digests: schedules people type, DST-proof periods, and posting exactly once per period through
the outbox on a real engine (real SQLite, real APScheduler, simulated clock)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.triggers.cron import CronTrigger

from tests.harness import CHANNEL, GUILD, Harness, RecordingNotifier, harness
from tests.test_stats import launch
from tracker.clock import SimClock
from tracker.digests import (
    Digest,
    DigestPeriod,
    DigestSchedule,
    DigestService,
    Frequency,
    build_digest,
    next_run_after,
    parse_schedule,
    parse_when_empty,
    period_for,
    render_digest_text,
)
from tracker.errors import InvalidInput
from tracker.models import (
    DestinationKind,
    EventKind,
    GuildConfig,
    LaunchEvent,
    LaunchState,
    Message,
    OutboxRow,
    SubscriptionScope,
)
from tracker.outbox.delivery import DeliveryResult

UTC = dt.UTC
LA = ZoneInfo("America/Los_Angeles")
JAKARTA = ZoneInfo("Asia/Jakarta")


def at(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=UTC)


# --------------------------------------------------------------------------- schedules


@pytest.mark.parametrize(
    ("typed", "setting"),
    [
        ("daily 09:00", "daily:09:00"),
        ("Daily 9:00", "daily:09:00"),
        ("weekly monday 9:00", "weekly:mon:09:00"),
        ("weekly fri 17:30", "weekly:fri:17:30"),
        ("every Tuesday at 9am", "weekly:tue:09:00"),
        ("sunday 5:30 p.m.", "weekly:sun:17:30"),
        ("every day at 12am", "daily:00:00"),
        ("weekly:wed:08:15", "weekly:wed:08:15"),
        ("daily:23:59", "daily:23:59"),
        ("OFF", "off"),
    ],
)
def test_schedules_are_read_as_people_type_them(typed: str, setting: str) -> None:
    schedule = parse_schedule(typed)
    assert schedule.to_setting() == setting
    assert parse_schedule(schedule.to_setting()) == schedule  # the stored form reads back


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("weekly 9:00", "a weekly digest needs a weekday"),
        ("daily monday 9:00", "a daily digest has no weekday"),
        ("daily 25:00", "25:00 is not a time of day"),
        ("monday friday 9:00", "more than one weekday"),
        ("weekly monday", "it has no time of day"),
        ("fortnightly 9:00", '"fortnightly" is not a weekday, "daily", "weekly" or a time'),
        ("", "it is empty"),
    ],
)
def test_unreadable_schedules_say_what_to_type(typed: str, why: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_schedule(typed)
    assert why in str(err.value)
    assert 'Type "daily 09:00", "weekly monday 09:00"' in str(err.value)
    assert 'or "off". Times are in the server\'s timezone.' in str(err.value)


def test_schedule_words_cron_fields_and_empty_choice() -> None:
    weekly = parse_schedule("weekly monday 09:00")
    assert weekly.describe() == "every Monday at 09:00"
    assert weekly.cron_fields() == {"day_of_week": "mon", "hour": 9, "minute": 0}
    assert parse_schedule("daily 17:30").cron_fields() == {
        "day_of_week": "*",
        "hour": 17,
        "minute": 30,
    }
    with pytest.raises(ValueError):
        parse_schedule("off").cron_fields()
    assert parse_when_empty("Skip") == "skip" and parse_when_empty("short") == "short"
    with pytest.raises(InvalidInput, match='choose "short"'):
        parse_when_empty("maybe")


@pytest.mark.parametrize("tz", [LA, JAKARTA])
def test_cron_trigger_from_cron_fields_agrees_with_next_run_after(tz: ZoneInfo) -> None:
    for text in ("weekly monday 09:00", "daily 17:30"):
        schedule = parse_schedule(text)
        trigger = CronTrigger(timezone=tz, **schedule.cron_fields())
        now = at(2025, 6, 4, 12)
        for _ in range(5):
            expected = next_run_after(schedule, tz, now)
            assert trigger.get_next_fire_time(None, now + dt.timedelta(seconds=1)) == expected
            assert expected is not None
            now = expected


def ends(
    schedule: DigestSchedule, tz: ZoneInfo, start: dt.datetime, until: dt.datetime
) -> list[dt.datetime]:
    """Every scheduled instant in (start, until]."""
    out: list[dt.datetime] = []
    now = start
    while True:
        nxt = next_run_after(schedule, tz, now)
        assert nxt is not None
        if nxt > until:
            return out
        out.append(nxt)
        now = nxt


def test_los_angeles_spring_forward_keeps_local_time_and_fires_once() -> None:
    daily = parse_schedule("daily 09:00")
    # 09:00 PST is 17:00 UTC; from March 9, 2025, 09:00 PDT is 16:00 UTC.
    assert ends(daily, LA, at(2025, 3, 7), at(2025, 3, 11)) == [
        at(2025, 3, 7, 17),
        at(2025, 3, 8, 17),
        at(2025, 3, 9, 16),
        at(2025, 3, 10, 16),
    ]
    period = period_for(daily, LA, at(2025, 3, 9, 16, 30))
    assert period == DigestPeriod(at(2025, 3, 8, 17), at(2025, 3, 9, 16), "2025-03-09T09:00")
    assert period.end - period.start == dt.timedelta(hours=23)  # the short day
    assert period_for(daily, LA, at(2025, 3, 9, 15, 59)) == DigestPeriod(
        at(2025, 3, 7, 17), at(2025, 3, 8, 17), "2025-03-08T09:00"
    )
    # 02:30 does not exist on March 9 (02:00 -> 03:00): that day it runs at 03:30 PDT, once.
    gap = parse_schedule("daily 02:30")
    runs = ends(gap, LA, at(2025, 3, 8), at(2025, 3, 11))
    assert runs == [at(2025, 3, 8, 10, 30), at(2025, 3, 9, 10, 30), at(2025, 3, 10, 9, 30)]
    assert [r.astimezone(LA).strftime("%d %H:%M %Z") for r in runs] == [
        "08 02:30 PST",
        "09 03:30 PDT",
        "10 02:30 PDT",
    ]
    weekly = parse_schedule("weekly monday 09:00")
    assert period_for(weekly, LA, at(2025, 3, 10, 16)) == DigestPeriod(
        at(2025, 3, 3, 17), at(2025, 3, 10, 16), "2025-03-10T09:00"
    )


def test_los_angeles_fall_back_never_fires_twice() -> None:
    # 01:30 happens twice on November 2, 2025 (PDT, then PST): the digest runs at the first.
    daily = parse_schedule("daily 01:30")
    assert ends(daily, LA, at(2025, 10, 31, 12), at(2025, 11, 4)) == [
        at(2025, 11, 1, 8, 30),
        at(2025, 11, 2, 8, 30),
        at(2025, 11, 3, 9, 30),
    ]
    after_second = at(2025, 11, 2, 9, 45)  # 01:45 PST, after the second 01:30
    period = period_for(daily, LA, after_second)
    assert period is not None
    assert (period.end, period.key) == (at(2025, 11, 2, 8, 30), "2025-11-02T01:30")
    nine = parse_schedule("daily 09:00")
    fall = period_for(nine, LA, at(2025, 11, 2, 17))
    assert fall == DigestPeriod(at(2025, 11, 1, 16), at(2025, 11, 2, 17), "2025-11-02T09:00")
    assert fall.end - fall.start == dt.timedelta(hours=25)  # the long day


def test_jakarta_has_no_dst_so_every_period_is_24_hours() -> None:
    daily = parse_schedule("daily 09:00")
    runs = ends(daily, JAKARTA, at(2025, 3, 1), at(2025, 11, 30))
    assert all(r.astimezone(JAKARTA).time() == dt.time(9) for r in runs)
    assert all(b - a == dt.timedelta(days=1) for a, b in itertools.pairwise(runs))
    assert period_for(daily, JAKARTA, at(2025, 3, 9, 2)) == DigestPeriod(
        at(2025, 3, 8, 2), at(2025, 3, 9, 2), "2025-03-09T09:00"
    )
    assert period_for(parse_schedule("off"), JAKARTA, at(2025, 3, 9)) is None


# --------------------------------------------------------------------------- building


def event(
    event_id: int, launch_id: int, kind: EventKind, when: dt.datetime, **data: object
) -> LaunchEvent:
    return LaunchEvent(event_id, launch_id, 1, kind, when, "mod", None, None, dict(data))


def test_build_digest_sections_record_and_round_trip() -> None:
    d = dt.date
    launches = [
        launch(1, "Grok 3", "xAI", "Elon Musk", LaunchState.SHIPPED, d(2024, 7, 1),
               d(2024, 12, 31), shipped_on=d(2025, 2, 17), days_late=48, slips=1),
        launch(2, "Gemini 2", "Google", None, LaunchState.SHIPPED, d(2024, 10, 1),
               d(2025, 2, 28), shipped_on=d(2025, 2, 14), days_late=0),
        launch(3, "Claude 3.5 Opus", "Anthropic", None, LaunchState.CANCELLED, d(2024, 6, 20),
               d(2024, 12, 31), cancelled_on=d(2025, 2, 13), days_late=44),
        launch(4, "GPT-5", "OpenAI", None, LaunchState.UPCOMING, d(2025, 2, 12), d(2025, 3, 5),
               slips=1, first_window_end=d(2025, 2, 11)),
        launch(5, "Llama 4", "Meta", None, LaunchState.SLIPPED, d(2025, 1, 1), d(2025, 2, 10)),
        launch(6, "Far away", "Meta", None, LaunchState.UPCOMING, d(2025, 1, 1), d(2025, 12, 31)),
    ]  # fmt: skip
    start, end = at(2025, 2, 10, 9), at(2025, 2, 17, 9)
    events = [
        event(1, 5, EventKind.SLIPPED, at(2025, 2, 11), days_late=0,
              due_at=at(2025, 2, 11).isoformat()),
        event(7, 4, EventKind.SLIPPED, at(2025, 2, 12), days_late=0),
        event(2, 3, EventKind.CANCELLED, at(2025, 2, 13, 10)),
        event(3, 4, EventKind.REANNOUNCED, at(2025, 2, 14, 10), from_window="February",
              window="2025-03-05", slip_count=1, deadline_at=at(2025, 3, 6).isoformat()),
        event(4, 2, EventKind.SHIPPED, at(2025, 2, 14, 11)),
        event(5, 1, EventKind.SHIPPED, at(2025, 2, 17, 8)),
        event(6, 1, EventKind.NOTE, at(2025, 2, 17, 8)),  # notes are not digest material
    ]  # fmt: skip
    guild = GuildConfig(GUILD, timezone="UTC")
    period = DigestPeriod(start, end, "2025-02-17T09:00")
    digest = build_digest(guild, launches, events, d(2025, 2, 17), end, period=period)
    # GPT-5 slipped, then was re-announced: the window it missed is the one replaced.
    assert [(e.launch_id, e.window, e.day) for e in digest.slipped] == [
        (5, "2025-02-10", d(2025, 2, 10)),
        (4, "February", None),
    ]
    # Signed against the first promise: Gemini 2 shipped 14 days before Feb 28.
    assert [(e.launch_id, e.days_late) for e in digest.shipped] == [(2, -14), (1, 48)]
    assert [(e.launch_id, e.day) for e in digest.cancelled] == [(3, d(2025, 2, 13))]
    assert [(e.previous_window, e.window, e.slip_count) for e in digest.reannounced] == [
        ("February", "2025-03-05", 1)
    ]
    assert [e.launch_id for e in digest.upcoming] == [4]  # due Mar 6, within 30 days
    # GPT-5 is re-dated to March, yet 6 days past its first promise (Feb 11): still late.
    assert [(e.launch_id, e.days_late) for e in digest.still_late] == [(5, 7), (4, 6)]
    # Scored: Grok 3 late, Gemini 2 on time, Claude cancelled, GPT-5 and Llama 4 overdue.
    assert digest.on_time_rate == pytest.approx(1 / 5) and digest.scored == 5
    assert not digest.empty and digest.changes == 6
    assert Digest.from_json(digest.to_json()) == digest
    message = Message.from_json(Message(alerts=(), digest=digest.to_json()).to_json())
    assert message.alerts == () and Digest.from_json(message.digest or {}) == digest
    text = render_digest_text(digest)
    assert '#5 Llama 4 (Meta) missed "2025-02-10" (by 2025-02-10)' in text
    assert '#4 GPT-5 (OpenAI) missed "February"\n' in text
    assert "#1 Grok 3 (xAI) shipped 48 days late (2025-02-17)" in text
    assert "#2 Gemini 2 (Google) shipped 14 days early (2025-02-14)" in text
    assert '#4 GPT-5 (OpenAI): "February" -> "2025-03-05" (slip #1)' in text
    assert "On time so far: 20% of 5 scored launches." in text

    quiet = build_digest(guild, launches[5:], [], d(2025, 2, 17), end, period=period)
    assert quiet.empty
    assert render_digest_text(quiet) == (
        "Nothing changed since the last digest and no deadline in the next 30 days."
    )


# --------------------------------------------------------------------------- delivery


class TimedNotifier(RecordingNotifier):
    """Records the simulated time of each delivery."""

    def __init__(self, clock: SimClock) -> None:
        super().__init__()
        self.clock = clock
        self.times: dict[int, dt.datetime] = {}

    async def deliver(self, row: OutboxRow) -> DeliveryResult:
        self.times[row.id] = self.clock.now()
        return await super().deliver(row)

    def digests(self) -> list[OutboxRow]:
        return [r for r in self.delivered if r.payload.digest is not None]


async def settle(h: Harness) -> None:
    """Settle, then arm the timer from the committed state.

    Engine.settle() can return while the runner is still re-arming after its sweep, with
    armed_at still at the previous (later) time; run_until would then jump past a digest time
    that a settings change just made earlier. Re-arming here closes that window."""
    await h.engine.settle()
    await h.engine.rearm()
    await h.engine.settle()


@asynccontextmanager
async def with_digests(
    path: str | Path,
    clock: SimClock,
    notifier: RecordingNotifier,
    *,
    configure: bool = True,
) -> AsyncIterator[tuple[Harness, DigestService]]:
    async with harness(
        path, clock=clock, notifier=notifier, configure=configure, digests=True
    ) as h:
        service = h.app.digests
        h.engine.poke()
        await settle(h)
        yield h, service


def body(row: OutboxRow) -> Digest:
    assert row.payload.digest is not None and row.payload.alerts == ()
    return Digest.from_json(row.payload.digest)


async def test_weekly_digest_posts_once_per_period_across_a_restart(
    tmp_path: Path, db_target: str
) -> None:
    path = db_target
    clock = SimClock(at(2025, 3, 2, 12))  # a Sunday; the default is weekly:mon:09:00 UTC
    first = TimedNotifier(clock)
    async with with_digests(path, clock, first) as (h, service):
        # A new guild is not sent a digest for a week it was not watched.
        assert first.digests() == []
        assert await service.due() == at(2025, 3, 3, 9)
        await h.add("Grok 3.5", "xAI", "2025-03-31", announced_on=dt.date(2025, 2, 20))
        await h.run_until(at(2025, 3, 3, 12))
        [row] = first.digests()
        assert row.idem_key == f"digest:{GUILD}:2025-03-03T09:00"
        assert (row.dest_kind, row.dest_id) == (DestinationKind.CHANNEL, CHANNEL)
        assert first.times[row.id] == at(2025, 3, 3, 9)
        digest = body(row)
        assert (digest.period_start, digest.period_end) == (at(2025, 2, 24, 9), at(2025, 3, 3, 9))
        assert not digest.late and [e.product for e in digest.upcoming] == ["Grok 3.5"]
        assert await service.due() == at(2025, 3, 10, 9)
    clock.set(at(2025, 3, 3, 12, 5))
    second = TimedNotifier(clock)
    async with with_digests(path, clock, second, configure=False) as (h, service):
        assert second.digests() == []  # the restart posts nothing again
        await h.run_until(at(2025, 3, 10, 12))
        [row] = second.digests()
        assert row.idem_key == f"digest:{GUILD}:2025-03-10T09:00"
        assert second.times[row.id] == at(2025, 3, 10, 9)
        runs = await h.store.read.digests.digest_runs(GUILD)
        assert [(r.period_key, r.outcome) for r in reversed(runs)] == [
            ("2025-02-24T09:00", "baseline"),
            ("2025-03-03T09:00", "posted"),
            ("2025-03-10T09:00", "posted"),
        ]
        digest_rows = [r for r in await h.store.read.outbox.all_outbox() if r.payload.digest]
        assert len(digest_rows) == 2


async def test_missed_digests_post_only_the_latest_once_marked_late(
    tmp_path: Path, db_target: str
) -> None:
    path = db_target
    clock = SimClock(at(2025, 3, 2, 12))
    notifier = TimedNotifier(clock)
    async with with_digests(path, clock, notifier) as (h, _):
        launch_id = await h.add(
            "Gemini 2.5", "Google", "2025-03-31", announced_on=dt.date(2025, 3, 1)
        )
        await h.run_until(at(2025, 3, 3, 12))
        assert len(notifier.digests()) == 1
        await h.run_until(at(2025, 3, 5, 10))
        await h.tracker.shipped(GUILD, launch_id, "mod", on=dt.date(2025, 3, 5))
    # Down from March 5 to Wednesday March 26: the Mondays 10, 17 and 24 pass unseen.
    clock.set(at(2025, 3, 26, 10))
    back = TimedNotifier(clock)
    async with with_digests(path, clock, back, configure=False) as (h, service):
        [row] = back.digests()
        assert row.idem_key == f"digest:{GUILD}:2025-03-24T09:00"
        digest = body(row)
        assert digest.late is True
        # It covers everything since the last digest, so the launch shipped on the 5th is in it.
        assert (digest.period_start, digest.period_end) == (at(2025, 3, 3, 9), at(2025, 3, 24, 9))
        # Signed against the first promise: shipped March 5, 26 days before March 31.
        assert [(e.product, e.days_late) for e in digest.shipped] == [("Gemini 2.5", -26)]
        assert "Posted late: the bot was offline" in render_digest_text(digest)
        assert await service.due() == at(2025, 3, 31, 9)
    again = TimedNotifier(clock)
    async with with_digests(path, clock, again, configure=False) as (h, _):
        assert again.digests() == []
        runs = await h.store.read.digests.digest_runs(GUILD)
        assert [(r.period_key, r.outcome, r.late) for r in reversed(runs)] == [
            ("2025-02-24T09:00", "baseline", False),
            ("2025-03-03T09:00", "posted", False),
            ("2025-03-24T09:00", "posted", True),
        ]


async def delivery_times(
    tmp_path: Path, tz: str, schedule: str, start: dt.datetime, until: dt.datetime
) -> list[dt.datetime]:
    clock = SimClock(start)
    notifier = TimedNotifier(clock)
    async with with_digests(tmp_path / "db.sqlite", clock, notifier) as (h, _):
        await h.tracker.configure(GUILD, timezone=tz, digest_schedule=schedule)
        await settle(h)
        await h.run_until(until)
        rows = notifier.digests()
        keys = [r.idem_key for r in rows]
        assert len(set(keys)) == len(keys)
        return [notifier.times[r.id] for r in rows]


async def test_daily_digest_follows_los_angeles_local_time_across_spring_dst(
    tmp_path: Path,
) -> None:
    times = await delivery_times(
        tmp_path, "America/Los_Angeles", "daily 09:00", at(2025, 3, 7, 12), at(2025, 3, 11)
    )
    assert times == [
        at(2025, 3, 7, 17),
        at(2025, 3, 8, 17),
        at(2025, 3, 9, 16),
        at(2025, 3, 10, 16),
    ]
    assert {t.astimezone(LA).time() for t in times} == {dt.time(9)}


async def test_daily_digest_fires_once_on_the_fall_back_day_in_los_angeles(
    tmp_path: Path,
) -> None:
    times = await delivery_times(
        tmp_path, "America/Los_Angeles", "daily:01:30", at(2025, 10, 31, 12), at(2025, 11, 4)
    )
    assert times == [at(2025, 11, 1, 8, 30), at(2025, 11, 2, 8, 30), at(2025, 11, 3, 9, 30)]


async def test_daily_digest_in_jakarta(tmp_path: Path) -> None:
    times = await delivery_times(
        tmp_path, "Asia/Jakarta", "daily 09:00", at(2025, 3, 7, 12), at(2025, 3, 10, 12)
    )
    assert times == [at(2025, 3, 8, 2), at(2025, 3, 9, 2), at(2025, 3, 10, 2)]


async def test_empty_period_posts_one_line_or_nothing(tmp_path: Path, db_target: str) -> None:
    clock = SimClock(at(2025, 3, 2, 12))
    notifier = TimedNotifier(clock)
    async with with_digests(db_target, clock, notifier) as (h, service):
        await h.run_until(at(2025, 3, 3, 12))
        [row] = notifier.digests()
        digest = body(row)
        assert digest.empty
        assert "\n" not in render_digest_text(digest)
        await h.tracker.configure(GUILD, digest_when_empty="skip")
        await settle(h)
        await h.run_until(at(2025, 3, 10, 12))
        assert len(notifier.digests()) == 1  # nothing posted for the empty week
        runs = await h.store.read.digests.digest_runs(GUILD, limit=1)
        assert (runs[0].period_key, runs[0].outcome) == ("2025-03-10T09:00", "skipped")
        # Handled: the timer moves on to next week instead of spinning on a past time.
        assert await service.due() == at(2025, 3, 17, 9)
        assert h.engine.armed_at is not None and h.engine.armed_at > clock.now()


async def test_dm_digest_holds_only_the_subscribers_launches(
    tmp_path: Path, db_target: str
) -> None:
    clock = SimClock(at(2025, 3, 2, 12))
    notifier = TimedNotifier(clock)
    async with with_digests(db_target, clock, notifier) as (h, _):
        grok = await h.add("Grok 3.5", "xAI", "2025-03-31", announced_on=dt.date(2025, 3, 1))
        gemini = await h.add("Gemini 2.5", "Google", "2025-03-31", announced_on=dt.date(2025, 3, 1))
        await h.tracker.subscribe(GUILD, 77, SubscriptionScope.VENDOR, "XAI", mode="digest")
        await h.tracker.subscribe(GUILD, 79, SubscriptionScope.LAUNCH, str(gemini), mode="digest")
        await h.tracker.subscribe(GUILD, 78, SubscriptionScope.ALL)  # instant: no digest DMs
        await h.run_until(at(2025, 3, 4, 10))
        await h.tracker.shipped(GUILD, grok, "mod", on=dt.date(2025, 3, 4))
        await h.tracker.shipped(GUILD, gemini, "mod", on=dt.date(2025, 3, 4))
        await h.run_until(at(2025, 3, 10, 12))
        rows = {r.idem_key: r for r in notifier.digests() if "2025-03-10" in r.idem_key}
        assert sorted(rows) == [
            f"digest:{GUILD}:2025-03-10T09:00",
            f"digest:{GUILD}:2025-03-10T09:00:u77",
            f"digest:{GUILD}:2025-03-10T09:00:u79",
        ]
        channel = body(rows[f"digest:{GUILD}:2025-03-10T09:00"])
        assert sorted(e.product for e in channel.shipped) == ["Gemini 2.5", "Grok 3.5"]
        dm77 = rows[f"digest:{GUILD}:2025-03-10T09:00:u77"]
        assert (dm77.dest_kind, dm77.dest_id) == (DestinationKind.USER, 77)
        assert [e.product for e in body(dm77).shipped] == ["Grok 3.5"]
        assert body(dm77).user_id == 77
        assert [e.product for e in body(rows[f"digest:{GUILD}:2025-03-10T09:00:u79"]).shipped] == [
            "Gemini 2.5"
        ]
        # The instant subscriber got the two shipped alerts as they happened, and no digest.
        to_78 = [r for r in notifier.delivered if r.dest_id == 78]
        assert [r.payload.alerts[0].kind.value for r in to_78] == ["shipped", "shipped"]


async def test_changing_the_schedule_neither_posts_at_once_nor_loses_the_next(
    tmp_path: Path, db_target: str
) -> None:
    clock = SimClock(at(2025, 3, 2, 12))
    notifier = TimedNotifier(clock)
    async with with_digests(db_target, clock, notifier) as (h, service):
        await h.run_until(at(2025, 3, 3, 10))
        assert len(notifier.digests()) == 1  # Monday's weekly digest
        await h.tracker.configure(GUILD, digest_schedule=parse_schedule("daily 09:00").to_setting())
        await settle(h)
        assert len(notifier.digests()) == 1
        assert await service.due() == at(2025, 3, 4, 9)
        await h.run_until(at(2025, 3, 4, 10))
        assert [r.idem_key for r in notifier.digests()][-1] == f"digest:{GUILD}:2025-03-04T09:00"
        assert body(notifier.digests()[-1]).period_start == at(2025, 3, 3, 9)
        # Off means off.
        await h.tracker.configure(GUILD, digest_schedule="off")
        await settle(h)
        assert await service.due() is None
        await h.run_until(at(2025, 3, 12))
        assert len(notifier.digests()) == 2


async def test_preview_summarises_the_period_so_far(tmp_path: Path, db_target: str) -> None:
    clock = SimClock(at(2025, 3, 3, 12))
    async with with_digests(db_target, clock, RecordingNotifier()) as (h, service):
        launch_id = await h.add("Grok 3.5", "xAI", "2025-03-31", announced_on=dt.date(2025, 3, 1))
        await h.tracker.shipped(GUILD, launch_id, "mod", on=dt.date(2025, 3, 3))
        preview = await service.preview(GUILD)
        assert preview.period_key is None
        assert preview.period_start == at(2025, 3, 3, 9)  # since the last scheduled time
        assert [e.product for e in preview.shipped] == ["Grok 3.5"]
        assert (await service.schedule_of(GUILD)).frequency is Frequency.WEEKLY
        assert await service.next_run(GUILD) == at(2025, 3, 10, 9)


async def _stored_due(h: Harness, guild_id: int) -> dt.datetime | None:
    row = await h.db.fetchone("SELECT digest_due_at FROM guilds WHERE guild_id = ?", (guild_id,))
    assert row is not None
    return None if row[0] is None else dt.datetime.fromtimestamp(row[0] / 1000, UTC)


async def test_next_digest_time_is_stored_per_guild_and_only_due_guilds_are_read(
    tmp_path: Path,
) -> None:
    clock = SimClock(at(2025, 3, 2, 12))
    notifier = TimedNotifier(clock)
    async with with_digests(tmp_path / "db.sqlite", clock, notifier) as (h, service):
        assert await _stored_due(h, GUILD) == at(2025, 3, 3, 9)
        # A settings change clears it; the next sweep stores the new time.
        await h.tracker.configure(GUILD, digest_schedule="daily:18:00")
        assert await _stored_due(h, GUILD) is None
        assert await service.due() == clock.now()  # "compute it now"
        await settle(h)
        assert await _stored_due(h, GUILD) == at(2025, 3, 2, 18)
        # 450 more servers: a sweep handles at most 200 of them, and asks to be run again.
        async with h.store.transaction() as conn:  # quietly: no sweep runs meanwhile
            for gid in range(1, 451):
                config = await conn.guilds.get_guild(gid)
                daily = dataclasses.replace(config, digest_schedule="daily:18:00")
                await conn.guilds.save_guild(daily, clock.now())
        assert len(await h.store.read.digests.due_digest_guilds(clock.now(), 1000)) == 450
        report = await service.run(clock.now())
        assert report.baselines == 200
        assert len(await h.store.read.digests.due_digest_guilds(clock.now(), 1000)) == 250
        assert await service.due() == clock.now()
        await settle(h)
        assert await h.store.read.digests.due_digest_guilds(clock.now(), 1000) == []
        assert await service.due() == at(2025, 3, 2, 18)
        # Off guilds are not in the timer at all.
        for gid in range(1, 451):
            await h.tracker.configure(gid, digest_schedule="off")
        await h.tracker.configure(GUILD, digest_schedule="off")
        await settle(h)
        assert await service.due() is None

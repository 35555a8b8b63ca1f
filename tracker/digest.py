"""Scheduled digests: what slipped, shipped, was cancelled or re-announced since the last one.

A guild's schedule is one setting, ``GuildConfig.digest_schedule``: "daily:HH:MM",
"weekly:<mon..sun>:HH:MM" or "off", in the guild's timezone. A digest period runs from one
scheduled local time to the next; it is named by the local wall time that closes it
("2025-03-10T09:00"), so DST never moves it off local time nor makes it fire twice: each local
day has exactly one scheduled instant (a time that does not exist on the spring-forward day is
taken one hour later, as zoneinfo resolves it; a time that happens twice on the fall-back day is
taken the first time).

Delivery shares the engine's one timer (``Engine.add_due_source``): :meth:`DigestService.due`
tells the next scheduled time across guilds, :meth:`DigestService.sweep` posts what is due. Each
guild and period is recorded in ``digest_runs`` in the same transaction as its outbox rows, under
unique keys, so a period is posted once, across restarts too. After downtime only the latest
missed period is posted, once, marked late, covering everything since the previous digest.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import enum
import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple
from zoneinfo import ZoneInfo

from tracker import deadlines, stats
from tracker.clock import Clock
from tracker.errors import InvalidInput
from tracker.models import (
    DestinationKind,
    EventKind,
    GuildConfig,
    Launch,
    LaunchEvent,
    LaunchState,
    Message,
    OutboxState,
    Subscription,
    SubscriptionScope,
)
from tracker.outbox.fanout import nonce_for
from tracker.ports import Session, Store
from tracker.records import DigestRun
from tracker.text import lateness, plural

if TYPE_CHECKING:
    from tracker.engine import Engine

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_SCHEDULE",
    "UPCOMING_DAYS",
    "Digest",
    "DigestEntry",
    "DigestPeriod",
    "DigestReport",
    "DigestSchedule",
    "DigestService",
    "Frequency",
    "build_digest",
    "next_run_after",
    "parse_schedule",
    "parse_when_empty",
    "period_for",
    "render_digest_text",
]

UPCOMING_DAYS = 30
# A late digest covers everything since the previous one, but never more than this.
MAX_CATCH_UP = dt.timedelta(days=31)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WEEKDAY_NAMES = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)


class Frequency(enum.StrEnum):
    """How often a guild gets its digest."""

    DAILY = "daily"
    WEEKLY = "weekly"
    OFF = "off"


@dataclass(frozen=True, slots=True)
class DigestSchedule:
    """When a guild's digest is posted, in the guild's local time."""

    frequency: Frequency
    hour: int = 9
    minute: int = 0
    weekday: int | None = None  # 0 = Monday; weekly schedules only

    def __post_init__(self) -> None:
        if not (0 <= self.hour <= 23 and 0 <= self.minute <= 59):
            raise ValueError(f"bad time {self.hour}:{self.minute}")
        if (self.frequency is Frequency.WEEKLY) != (self.weekday is not None):
            raise ValueError("a weekday is needed for (and only for) weekly schedules")
        if self.weekday is not None and not 0 <= self.weekday <= 6:
            raise ValueError(f"bad weekday {self.weekday}")

    @property
    def enabled(self) -> bool:
        """False for "off"."""
        return self.frequency is not Frequency.OFF

    @property
    def time(self) -> dt.time:
        """The local time of day it runs at."""
        return dt.time(self.hour, self.minute)

    def to_setting(self) -> str:
        """The stored form: "daily:09:00", "weekly:mon:09:00" or "off"."""
        if self.frequency is Frequency.OFF:
            return "off"
        hhmm = f"{self.hour:02d}:{self.minute:02d}"
        if self.frequency is Frequency.DAILY:
            return f"daily:{hhmm}"
        assert self.weekday is not None
        return f"weekly:{WEEKDAYS[self.weekday]}:{hhmm}"

    def describe(self) -> str:
        """For people: "every Monday at 09:00", "every day at 17:30", "off"."""
        if self.frequency is Frequency.OFF:
            return "off"
        hhmm = f"{self.hour:02d}:{self.minute:02d}"
        if self.frequency is Frequency.DAILY:
            return f"every day at {hhmm}"
        assert self.weekday is not None
        return f"every {_WEEKDAY_NAMES[self.weekday]} at {hhmm}"

    def cron_fields(self) -> dict[str, str | int]:
        """Keyword arguments for APScheduler's ``CronTrigger(timezone=tz, **fields)``:
        day_of_week, hour and minute. Raises ValueError for "off"."""
        if self.frequency is Frequency.OFF:
            raise ValueError("an 'off' digest schedule has no cron fields")
        day = "*" if self.weekday is None else WEEKDAYS[self.weekday]
        return {"day_of_week": day, "hour": self.hour, "minute": self.minute}

    def runs_on(self, day: dt.date) -> bool:
        """Whether a digest is scheduled on local calendar *day*."""
        if self.frequency is Frequency.OFF:
            return False
        return self.weekday is None or day.weekday() == self.weekday

    def occurrence(self, day: dt.date, tz: ZoneInfo) -> dt.datetime:
        """The instant (aware UTC) of the scheduled local time on *day* in *tz*.

        A local time skipped by a DST jump resolves one hour later; a repeated one resolves to
        its first occurrence (fold=0)."""
        return dt.datetime.combine(day, self.time, tzinfo=tz).astimezone(dt.UTC)

    def key(self, day: dt.date) -> str:
        """The period key of the run on local *day*: "2025-03-10T09:00"."""
        return f"{day.isoformat()}T{self.hour:02d}:{self.minute:02d}"


DEFAULT_SCHEDULE = DigestSchedule(Frequency.WEEKLY, 9, 0, 0)
OFF = DigestSchedule(Frequency.OFF)


def _day_words() -> dict[str, int]:
    words = {"tues": 1, "weds": 2, "thur": 3, "thurs": 3}
    for number, name in enumerate(_WEEKDAY_NAMES):
        full = name.lower()
        for word in (full, full + "s", full[:3]):
            words[word] = number
    return words


_DAY_WORDS = _day_words()
_DAILY_WORDS = {"daily", "day", "days", "everyday", "nightly"}
_WEEKLY_WORDS = {"weekly", "week"}
_OFF_WORDS = {"off", "none", "never", "no", "disable", "disabled", "stop"}
_FILLER = {"every", "each", "at", "on", "a", "the"}
_TOKEN = re.compile(r"(\d{1,2})(?:[:.h]?(\d{2}))?(?!\d)|([a-z]+)")
_SEPARATORS = re.compile(r"[\s,.:;/\-]+")
_HELP = (
    'Type "daily 09:00", "weekly monday 09:00" (any weekday, 24-hour time or like 5:30pm) '
    'or "off". Times are in the server\'s timezone.'
)


def _refuse(text: str, why: str) -> InvalidInput:
    shown = text.strip()[:60]
    return InvalidInput(f'Could not read "{shown}" as a digest schedule: {why}. {_HELP}')


def parse_schedule(text: str) -> DigestSchedule:
    """Read a schedule as a person types it ("daily 9:00", "weekly fri 17:30", "every monday
    at 9am", "off") or as it is stored ("weekly:mon:09:00"). InvalidInput says what to type."""
    cleaned = text.strip().lower().replace("a.m.", "am").replace("p.m.", "pm")
    if not cleaned:
        raise _refuse(text, "it is empty")
    tokens: list[tuple[str, str | None, str | None]] = []
    pos = 0
    for match in _TOKEN.finditer(cleaned):
        if _SEPARATORS.sub("", cleaned[pos : match.start()]):
            raise _refuse(text, f'"{cleaned[pos : match.start()].strip()}" is not understood')
        tokens.append((match.group(0), match.group(1), match.group(2)))
        pos = match.end()
    if _SEPARATORS.sub("", cleaned[pos:]):
        raise _refuse(text, f'"{cleaned[pos:].strip()}" is not understood')

    frequency: Frequency | None = None
    weekday: int | None = None
    hour: int | None = None
    minute = 0
    meridiem: str | None = None
    for whole, hours, minutes in tokens:
        if hours is not None:
            if hour is not None:
                raise _refuse(text, "it has more than one time")
            hour, minute = int(hours), int(minutes or 0)
            continue
        word = whole
        if word in _OFF_WORDS:
            if len(tokens) > 1:
                raise _refuse(text, '"off" goes alone')
            return OFF
        if word in _FILLER:
            continue
        if word in ("am", "pm"):
            meridiem = word[0]
        elif word in _DAILY_WORDS:
            frequency = _set_once(frequency, Frequency.DAILY, text)
        elif word in _WEEKLY_WORDS:
            frequency = _set_once(frequency, Frequency.WEEKLY, text)
        elif word in _DAY_WORDS:
            if weekday is not None and weekday != _DAY_WORDS[word]:
                raise _refuse(text, "it names more than one weekday (one digest a week)")
            weekday = _DAY_WORDS[word]
        else:
            raise _refuse(text, f'"{word}" is not a weekday, "daily", "weekly" or a time')
    if hour is None:
        raise _refuse(text, "it has no time of day")
    if meridiem is not None:
        if not 1 <= hour <= 12:
            raise _refuse(text, f"{hour}{meridiem}m is not a time")
        hour = hour % 12 + (12 if meridiem == "p" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise _refuse(text, f"{hour}:{minute:02d} is not a time of day")
    if frequency is None:
        frequency = Frequency.WEEKLY if weekday is not None else Frequency.DAILY
    if frequency is Frequency.DAILY and weekday is not None:
        raise _refuse(text, "a daily digest has no weekday")
    if frequency is Frequency.WEEKLY and weekday is None:
        raise _refuse(text, "a weekly digest needs a weekday")
    return DigestSchedule(frequency, hour, minute, weekday)


def _set_once(current: Frequency | None, value: Frequency, text: str) -> Frequency:
    if current is not None and current is not value:
        raise _refuse(text, 'choose either "daily" or "weekly"')
    return value


def parse_when_empty(text: str) -> str:
    """What to post for a period where nothing happened: "short" (one line) or "skip"."""
    cleaned = text.strip().lower()
    if cleaned in ("short", "one line", "line", "brief"):
        return "short"
    if cleaned in ("skip", "nothing", "none", "off"):
        return "skip"
    raise InvalidInput(
        'When nothing happened, choose "short" (post one line) or "skip" (post nothing).'
    )


class DigestPeriod(NamedTuple):
    """A digest period: [start, end), named by the local wall time that closes it."""

    start: dt.datetime
    end: dt.datetime
    key: str


def period_for(schedule: DigestSchedule, tz: ZoneInfo, now: dt.datetime) -> DigestPeriod | None:
    """The latest period closed at or before *now*: its end is the most recent scheduled local
    time <= now, its start the one before. None when the schedule is off."""
    if not schedule.enabled:
        return None
    day = now.astimezone(tz).date() + dt.timedelta(days=1)
    found: list[tuple[dt.date, dt.datetime]] = []
    for _ in range(40):
        if schedule.runs_on(day):
            at = schedule.occurrence(day, tz)
            if at <= now:
                found.append((day, at))
                if len(found) == 2:
                    break
        day -= dt.timedelta(days=1)
    (end_day, end), (_, start) = found
    return DigestPeriod(start, end, schedule.key(end_day))


def next_run_after(schedule: DigestSchedule, tz: ZoneInfo, now: dt.datetime) -> dt.datetime | None:
    """The first scheduled instant strictly after *now* (None when off)."""
    if not schedule.enabled:
        return None
    day = now.astimezone(tz).date() - dt.timedelta(days=1)
    for _ in range(40):
        if schedule.runs_on(day):
            at = schedule.occurrence(day, tz)
            if at > now:
                return at
        day += dt.timedelta(days=1)
    raise AssertionError("unreachable: a schedule runs at least weekly")


# --------------------------------------------------------------------------- the digest


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One launch named in a digest section."""

    launch_id: int
    product: str
    vendor: str
    at: dt.datetime | None = None  # when it happened (changes in the period)
    day: dt.date | None = None  # shipped_on / cancelled_on / the promised last day
    days_late: int | None = None
    window: str | None = None  # the promised window (the new one, for re-announcements)
    previous_window: str | None = None  # re-announcements
    slip_count: int = 0
    deadline_at: dt.datetime | None = None
    actor: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "launch_id": self.launch_id,
            "product": self.product,
            "vendor": self.vendor,
            "at": self.at.isoformat() if self.at else None,
            "day": self.day.isoformat() if self.day else None,
            "days_late": self.days_late,
            "window": self.window,
            "previous_window": self.previous_window,
            "slip_count": self.slip_count,
            "deadline_at": self.deadline_at.isoformat() if self.deadline_at else None,
            "actor": self.actor,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DigestEntry:
        """Inverse of :meth:`to_json`."""
        return cls(
            launch_id=int(data["launch_id"]),
            product=str(data["product"]),
            vendor=str(data["vendor"]),
            at=_datetime_or_none(data.get("at")),
            day=dt.date.fromisoformat(data["day"]) if data.get("day") else None,
            days_late=data.get("days_late"),
            window=data.get("window"),
            previous_window=data.get("previous_window"),
            slip_count=int(data.get("slip_count") or 0),
            deadline_at=_datetime_or_none(data.get("deadline_at")),
            actor=data.get("actor"),
        )


def _datetime_or_none(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


_SECTIONS = ("slipped", "shipped", "cancelled", "reannounced", "upcoming", "still_late")


@dataclass(frozen=True, slots=True)
class Digest:
    """One digest: the changes of a period, what is due soon, and the record so far."""

    guild_id: int
    timezone: str
    schedule: str  # the setting it was made for ("weekly:mon:09:00"), or "" for a preview
    period_start: dt.datetime
    period_end: dt.datetime
    period_key: str | None  # None for a preview
    slipped: tuple[DigestEntry, ...] = ()  # missed their window in the period
    shipped: tuple[DigestEntry, ...] = ()  # days_late 0 = on time
    cancelled: tuple[DigestEntry, ...] = ()
    reannounced: tuple[DigestEntry, ...] = ()
    upcoming: tuple[DigestEntry, ...] = ()  # deadlines in the next UPCOMING_DAYS days
    still_late: tuple[DigestEntry, ...] = ()  # slipped earlier and still out (not a change)
    on_time_rate: float | None = None  # over the scored launches (tracker.stats' rules)
    scored: int = 0
    late: bool = False  # posted after its scheduled time (the bot was down)
    user_id: int | None = None  # set on a subscriber's DM digest

    @property
    def changes(self) -> int:
        """How many things happened in the period."""
        return len(self.slipped) + len(self.shipped) + len(self.cancelled) + len(self.reannounced)

    @property
    def empty(self) -> bool:
        """Nothing happened in the period and no deadline is coming in the next 30 days."""
        return self.changes == 0 and not self.upcoming

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: the ``digest`` field of an outbox Message."""
        data: dict[str, Any] = {
            "v": 1,
            "guild_id": self.guild_id,
            "timezone": self.timezone,
            "schedule": self.schedule,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "period_key": self.period_key,
            "on_time_rate": self.on_time_rate,
            "scored": self.scored,
            "late": self.late,
            "user_id": self.user_id,
            "empty": self.empty,
        }
        for name in _SECTIONS:
            data[name] = [entry.to_json() for entry in getattr(self, name)]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Digest:
        """Inverse of :meth:`to_json` (``Digest.from_json(message.digest)``)."""
        sections = {
            name: tuple(DigestEntry.from_json(e) for e in data.get(name) or ())
            for name in _SECTIONS
        }
        return cls(
            guild_id=int(data["guild_id"]),
            timezone=str(data["timezone"]),
            schedule=str(data.get("schedule") or ""),
            period_start=dt.datetime.fromisoformat(data["period_start"]),
            period_end=dt.datetime.fromisoformat(data["period_end"]),
            period_key=data.get("period_key"),
            on_time_rate=data.get("on_time_rate"),
            # Digests queued before the score's rules were rewritten said "resolved".
            scored=int(data.get("scored", data.get("resolved")) or 0),
            late=bool(data.get("late")),
            user_id=data.get("user_id"),
            **sections,
        )


def _entry(launch: Launch, **fields: Any) -> DigestEntry:
    return DigestEntry(
        launch_id=launch.id,
        product=launch.product,
        vendor=launch.vendor,
        slip_count=launch.slip_count,
        **fields,
    )


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def build_digest(
    guild: GuildConfig,
    launches: Sequence[Launch],
    events_in_period: Iterable[LaunchEvent],
    today: dt.date,
    now: dt.datetime,
    *,
    period: DigestPeriod | None = None,
    late: bool = False,
    user_id: int | None = None,
    schedule: str | None = None,
    upcoming_days: int = UPCOMING_DAYS,
) -> Digest:
    """Assemble a digest from a guild's *launches* and the history rows of the period.

    Each launch appears at most once per section (its latest event of that kind). Events of
    launches not in *launches* are ignored, which is how a subscriber's DM digest is limited to
    their launches. *today* is the guild's local day (for running lateness); *now* anchors the
    "due in the next *upcoming_days* days" list. Without *period* the digest covers
    [earliest event, now) and has no key (a preview)."""
    by_id = {launch.id: launch for launch in launches}
    events = sorted(
        (e for e in events_in_period if e.launch_id in by_id), key=lambda e: (e.at, e.id)
    )
    sections: dict[EventKind, dict[int, DigestEntry]] = {
        EventKind.SLIPPED: {},
        EventKind.SHIPPED: {},
        EventKind.CANCELLED: {},
        EventKind.REANNOUNCED: {},
    }
    for event in events:
        if event.kind not in sections and event.kind is not EventKind.REVIVED:
            continue
        launch = by_id[event.launch_id]
        data = event.data
        if event.kind is EventKind.SLIPPED:
            due = data.get("due_at")
            # If it was re-announced afterwards, the window it missed is the one replaced then.
            later = next(
                (
                    e
                    for e in events
                    if e.launch_id == launch.id
                    and e.kind is EventKind.REANNOUNCED
                    and (e.at, e.id) > (event.at, event.id)
                ),
                None,
            )
            missed = later.data.get("from_window") if later is not None else None
            entry = _entry(
                launch,
                at=event.at,
                day=None if later is not None else launch.window_end,
                days_late=_int_or_none(data.get("days_late")),
                window=str(missed) if missed else launch.window_phrase,
                deadline_at=dt.datetime.fromisoformat(due) if isinstance(due, str) else None,
                actor=event.actor,
            )
        elif event.kind is EventKind.SHIPPED:
            entry = _entry(
                launch,
                at=event.at,
                day=launch.shipped_on,
                days_late=stats.days_late(launch, today),
                window=launch.window_phrase,
                actor=event.actor,
            )
        elif event.kind is EventKind.CANCELLED:
            entry = _entry(
                launch,
                at=event.at,
                day=launch.cancelled_on,
                days_late=launch.days_late,
                window=launch.window_phrase,
                actor=event.actor,
            )
        else:
            deadline = data.get("deadline_at")
            entry = dataclasses.replace(
                _entry(
                    launch,
                    at=event.at,
                    window=str(data.get("window") or launch.window_phrase),
                    previous_window=data.get("from_window"),
                    deadline_at=(
                        dt.datetime.fromisoformat(deadline) if isinstance(deadline, str) else None
                    ),
                    actor=event.actor,
                ),
                slip_count=_int_or_none(data.get("slip_count")) or launch.slip_count,
            )
        # A revival is a new promise: it is listed with the re-announcements.
        section = sections[EventKind.REANNOUNCED if event.kind is EventKind.REVIVED else event.kind]
        section.pop(launch.id, None)  # keep the latest, in time order
        section[launch.id] = entry

    horizon = now + dt.timedelta(days=upcoming_days)
    upcoming = sorted(
        (
            launch
            for launch in launches
            if launch.state is LaunchState.UPCOMING and now <= launch.deadline_at < horizon
        ),
        key=lambda x: (x.deadline_at, x.id),
    )
    record = stats.compute_stats(launches, today)
    start = period.start if period else (events[0].at if events else now)
    return Digest(
        guild_id=guild.guild_id,
        timezone=guild.timezone,
        schedule=schedule if schedule is not None else "",
        period_start=start,
        period_end=period.end if period else now,
        period_key=period.key if period else None,
        slipped=tuple(sections[EventKind.SLIPPED].values()),
        shipped=tuple(sections[EventKind.SHIPPED].values()),
        cancelled=tuple(sections[EventKind.CANCELLED].values()),
        reannounced=tuple(sections[EventKind.REANNOUNCED].values()),
        upcoming=tuple(
            _entry(
                launch,
                day=launch.window_end,
                window=launch.window_phrase,
                deadline_at=launch.deadline_at,
            )
            for launch in upcoming
        ),
        still_late=tuple(
            DigestEntry(
                launch_id=f.launch_id,
                product=f.product,
                vendor=f.vendor,
                day=f.first_window_end,
                days_late=f.days_late,
                window=by_id[f.launch_id].window_phrase,
                slip_count=f.slip_count,
            )
            for f in record.still_late
        ),
        on_time_rate=record.on_time_rate,
        scored=record.scored,
        late=late,
        user_id=user_id,
    )


# --------------------------------------------------------------------------- plain text


def _name(entry: DigestEntry) -> str:
    return f"#{entry.launch_id} {entry.product} ({entry.vendor})"


def _period_words(digest: Digest) -> str:
    try:
        tz: dt.tzinfo = ZoneInfo(digest.timezone)
    except (ValueError, OSError):
        tz = dt.UTC
    start = digest.period_start.astimezone(tz)
    end = digest.period_end.astimezone(tz)
    return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} {end.tzname()}"


def render_digest_text(digest: Digest, *, limit: int = 10) -> str:
    """A plain-text rendering (console, demo, and the wording for Discord embeds). Each section
    lists at most *limit* launches and says how many more there are. An empty digest is one
    line."""
    if digest.empty:
        still = (
            f" {plural(len(digest.still_late), 'launch')} still late." if digest.still_late else ""
        )
        return (
            f"Nothing changed since the last digest and no deadline in the next "
            f"{UPCOMING_DAYS} days.{still}"
        )
    title = "Your slipwatch digest" if digest.user_id is not None else "slipwatch digest"
    lines = [f"{title}: {_period_words(digest)}"]
    if digest.late:
        lines.append("(Posted late: the bot was offline at the scheduled time.)")

    def section(heading: str, entries: Sequence[DigestEntry], fmt: Any) -> None:
        if not entries:
            return
        lines.append(f"{heading} ({len(entries)}):")
        lines.extend(f"  - {fmt(e)}" for e in entries[:limit])
        if len(entries) > limit:
            lines.append(f"  ... and {len(entries) - limit} more")

    section(
        "Slipped",
        digest.slipped,
        lambda e: (
            f'{_name(e)} missed "{e.window}"' + (f" (by {e.day.isoformat()})" if e.day else "")
        ),
    )
    section(
        "Shipped",
        digest.shipped,
        lambda e: (
            f"{_name(e)} shipped {lateness(e.days_late or 0)}"
            + (f" ({e.day.isoformat()})" if e.day else "")
        ),
    )
    section(
        "Cancelled",
        digest.cancelled,
        lambda e: f"{_name(e)} cancelled" + (f" ({e.day.isoformat()})" if e.day else ""),
    )
    section(
        "Re-announced",
        digest.reannounced,
        lambda e: (
            f'{_name(e)}: "{e.previous_window}" -> "{e.window}"'
            + (f" (slip #{e.slip_count})" if e.slip_count else "")
        ),
    )
    section(
        f"Due in the next {UPCOMING_DAYS} days",
        digest.upcoming,
        lambda e: f'{_name(e)}: "{e.window}" (by {e.day.isoformat() if e.day else "?"})',
    )
    section(
        "Still late",
        digest.still_late,
        lambda e: f"{_name(e)}: {plural(e.days_late or 0, 'day')} late (first promise)",
    )
    if digest.on_time_rate is not None:
        lines.append(
            f"On time so far: {digest.on_time_rate:.0%} of "
            f"{plural(digest.scored, 'scored launch')}."
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------- the service


@dataclass(frozen=True, slots=True)
class DigestReport:
    """What one digest sweep did."""

    posted: int = 0  # channel digests queued
    dms: int = 0  # DM digests queued
    skipped: int = 0  # empty periods with digest_when_empty = "skip"
    no_channel: int = 0
    baselines: int = 0
    failed: int = 0


def _handled(
    previous: DigestRun | None,
    period: DigestPeriod,
    schedule: DigestSchedule,
    tz: ZoneInfo,
) -> bool:
    return (
        previous is not None
        and previous.period_key == period.key
        and previous.schedule == schedule.to_setting()
        and previous.timezone == tz.key
    )


def _matches(sub: Subscription, launch: Launch) -> bool:
    if sub.scope is SubscriptionScope.ALL:
        return True
    if sub.scope is SubscriptionScope.VENDOR:
        return launch.vendor.casefold() == sub.target
    return sub.target == str(launch.id)


class DigestService:
    """Posts each guild's digest once per period through the outbox, on the engine's timer.

    Wire it with :meth:`attach` (``engine.add_due_source(service.due, service.sweep)``)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        late_tolerance: dt.timedelta = deadlines.LATE_TOLERANCE,
        retry_after: dt.timedelta = dt.timedelta(minutes=5),
    ) -> None:
        self.store = store
        self.clock = clock
        self.late_tolerance = late_tolerance
        self.retry_after = retry_after
        self.last_report = DigestReport()
        self._warned: set[tuple[int, str, str]] = set()

    def attach(self, engine: Engine) -> None:
        """Share the engine's one timer."""
        engine.add_due_source(self.due, self.sweep)

    def _plan(
        self, guild_id: int, setting: str, timezone: str
    ) -> tuple[DigestSchedule, ZoneInfo] | None:
        """A guild's schedule and zone; None when off or unreadable (logged once)."""
        try:
            schedule = parse_schedule(setting)
            tz = deadlines.zone(timezone)
        except InvalidInput:
            marker = (guild_id, setting, timezone)
            if marker not in self._warned:
                self._warned.add(marker)
                log.warning(
                    "guild %s: unusable digest schedule %r or timezone %r; no digests",
                    guild_id,
                    setting,
                    timezone,
                )
            return None
        return (schedule, tz) if schedule.enabled else None

    async def due(self) -> dt.datetime | None:
        """The next time a digest needs handling across all guilds: a stored, indexed time per
        guild (now, when some guild's time is not computed yet); None when no guild has
        digests. The cost does not grow with the number of guilds."""
        uncomputed, earliest = await self.store.read.digests.next_digest_due()
        if uncomputed:
            return self.clock.now()
        return earliest

    async def sweep(self, now: dt.datetime) -> None:
        """Engine hook: handle every guild whose latest scheduled time has passed unhandled."""
        self.last_report = await self.run(now)

    async def run(self, now: dt.datetime, *, batch: int = 200) -> DigestReport:
        """Handle up to *batch* guilds that are due at *now* (and only those) and say what was
        done. More than that waits for the next sweep, which :meth:`due` asks for at once: a
        first start over 100,000 guilds never holds deadline alerts back behind digests."""
        counts = dict.fromkeys(("posted", "no_channel", "skipped", "baseline"), 0)
        dms = failed = 0
        guilds = await self.store.read.digests.due_digest_guilds(now, batch)
        for guild in guilds:
            try:
                result = await self._handle(guild.guild_id, now)
            except Exception:
                failed += 1
                log.exception("digest for guild %s failed; retrying later", guild.guild_id)
                async with self.store.transaction() as tx:
                    await tx.digests.set_digest_due(guild.guild_id, now + self.retry_after)
                continue
            if result is not None:
                outcome, sent_dms = result
                counts[outcome] += 1
                dms += sent_dms
        report = DigestReport(
            posted=counts["posted"],
            dms=dms,
            skipped=counts["skipped"],
            no_channel=counts["no_channel"],
            baselines=counts["baseline"],
            failed=failed,
        )
        if report.posted or report.dms:
            log.info("queued %d channel digests and %d DM digests", report.posted, report.dms)
        return report

    async def _handle(self, gid: int, now: dt.datetime) -> tuple[str, int] | None:
        """Handle the guild's waiting period, if any, and store when its next digest is due,
        in one transaction; None if there was nothing to post."""
        async with self.store.transaction() as tx:
            # Everything is read again under the write lock: the settings may have changed and
            # another sweep may have handled the period meanwhile.
            config = await tx.guilds.get_guild(gid)
            plan = self._plan(gid, config.digest_schedule, config.timezone)
            if plan is None:
                # Unreadable (logged once): look again in a day rather than at every sweep.
                await tx.digests.set_digest_due(gid, now + dt.timedelta(days=1))
                return None
            schedule, tz = plan
            nxt = next_run_after(schedule, tz, now)
            assert nxt is not None
            await tx.digests.set_digest_due(gid, nxt)
            setting = schedule.to_setting()
            period = period_for(schedule, tz, now)
            assert period is not None
            previous = await tx.digests.last_digest_run(gid)
            if previous is not None and previous.period_key == period.key:
                if _handled(previous, period, schedule, tz):
                    return None
                # The schedule changed within a period that was already handled: count the
                # next periods under the new schedule.
                await tx.digests.set_digest_run_schedule(previous.id, setting, tz.key)
                return "baseline", 0
            if previous is None or (previous.schedule, previous.timezone) != (setting, tz.key):
                # A new guild or a changed schedule: start counting from here, post nothing.
                await tx.digests.insert_digest_run(
                    guild_id=gid,
                    period_key=period.key,
                    period_start=period.start,
                    period_end=period.end,
                    outcome="baseline",
                    late=False,
                    dm_count=0,
                    schedule=setting,
                    timezone=tz.key,
                    now=now,
                )
                return "baseline", 0
            late = now - period.end > self.late_tolerance
            start = period.start
            if previous.period_end < start:  # periods were missed: cover them too
                start = max(previous.period_end, period.end - MAX_CATCH_UP)
            covered = DigestPeriod(start, period.end, period.key)
            events = await tx.events.guild_events_between(gid, start, period.end)
            launches = await tx.launches.all_launches(gid)
            today = deadlines.local_today(now, tz)
            # Off the event loop: a server with 20,000 launches takes a while to sum up.
            digest = await asyncio.to_thread(
                build_digest,
                config,
                launches,
                events,
                today,
                now,
                period=covered,
                late=late,
                schedule=setting,
            )
            channel = config.digest_channel_id or config.alert_channel_id
            if channel is None:
                outcome = "no_channel"
            elif digest.empty and config.digest_when_empty == "skip":
                outcome = "skipped"
            else:
                outcome = "posted"
                await self._enqueue(
                    tx,
                    gid,
                    DestinationKind.CHANNEL,
                    channel,
                    f"digest:{gid}:{period.key}",
                    digest,
                    now,
                )
            dm_count = 0
            by_user: dict[int, list[Subscription]] = {}
            for sub in await tx.subscriptions.digest_subscriptions(gid):
                by_user.setdefault(sub.user_id, []).append(sub)
            for user_id, subs in by_user.items():
                mine = [x for x in launches if any(_matches(s, x) for s in subs)]
                if not mine:
                    continue
                personal = await asyncio.to_thread(
                    build_digest,
                    config,
                    mine,
                    events,
                    today,
                    now,
                    period=covered,
                    late=late,
                    user_id=user_id,
                    schedule=setting,
                )
                if personal.changes == 0:
                    continue  # DMs only when something happened to their launches
                key = f"digest:{gid}:{period.key}:u{user_id}"
                if await self._enqueue(tx, gid, DestinationKind.USER, user_id, key, personal, now):
                    dm_count += 1
            await tx.digests.insert_digest_run(
                guild_id=gid,
                period_key=period.key,
                period_start=start,
                period_end=period.end,
                outcome=outcome,
                late=late,
                dm_count=dm_count,
                schedule=setting,
                timezone=tz.key,
                now=now,
            )
        return outcome, dm_count

    @staticmethod
    async def _enqueue(
        tx: Session,
        guild_id: int,
        dest_kind: DestinationKind,
        dest_id: int,
        key: str,
        digest: Digest,
        now: dt.datetime,
    ) -> bool:
        broken = await tx.destinations.is_broken(dest_kind, dest_id)
        return await tx.outbox.enqueue(
            guild_id=guild_id,
            dest_kind=dest_kind,
            dest_id=dest_id,
            idem_key=key,
            nonce=nonce_for(key),
            payload=Message(alerts=(), digest=digest.to_json()),
            now=now,
            state=OutboxState.HELD if broken else OutboxState.PENDING,
        )

    # ------------------------------------------------------------------ for commands

    async def schedule_of(self, guild_id: int) -> DigestSchedule:
        """A guild's digest schedule (the default one when its setting is unreadable)."""
        config = await self.store.read.guilds.get_guild(guild_id)
        try:
            return parse_schedule(config.digest_schedule)
        except InvalidInput:
            return DEFAULT_SCHEDULE

    async def next_run(self, guild_id: int) -> dt.datetime | None:
        """When the guild's next digest is scheduled (None when off)."""
        config = await self.store.read.guilds.get_guild(guild_id)
        plan = self._plan(guild_id, config.digest_schedule, config.timezone)
        if plan is None:
            return None
        return next_run_after(plan[0], plan[1], self.clock.now())

    async def preview(self, guild_id: int, *, days: int | None = None) -> Digest:
        """The digest so far: changes since the guild's last scheduled digest time (or the last
        *days* days; 7 when digests are off), upcoming deadlines and the record. Posts nothing:
        for /slips summary."""
        now = self.clock.now()
        config = await self.store.read.guilds.get_guild(guild_id)
        plan = self._plan(guild_id, config.digest_schedule, config.timezone)
        tz = plan[1] if plan else _zone_or_utc(config.timezone)
        period = period_for(plan[0], plan[1], now) if plan and days is None else None
        start = period.end if period else now - dt.timedelta(days=days or 7)
        events = await self.store.read.events.guild_events_between(
            guild_id, start, now + dt.timedelta(milliseconds=1)
        )
        launches = await self.store.read.launches.all_launches(guild_id)
        digest = await asyncio.to_thread(
            build_digest, config, launches, events, deadlines.local_today(now, tz), now, schedule=""
        )
        return dataclasses.replace(digest, period_start=start, period_end=now)

    async def history(self, guild_id: int, limit: int = 10) -> list[DigestRun]:
        """The guild's recent digest periods, newest first (for /alerts digest status)."""
        return await self.store.read.digests.digest_runs(guild_id, limit)


def _zone_or_utc(name: str) -> ZoneInfo:
    try:
        return deadlines.zone(name)
    except InvalidInput:
        return ZoneInfo("UTC")

"""When a guild's digest is posted: the setting people type, and the periods it cuts time into.

A guild's digest setting is one string, ``GuildConfig.digest_schedule``: "daily:HH:MM",
"weekly:<mon..sun>:HH:MM" or "off", in the guild's timezone. A digest period runs from one
posting time to the next; it is named by the local wall time that closes it ("2025-03-10T09:00"),
so DST never moves it off local time nor makes it fire twice: each local day has exactly one
posting instant (a time that does not exist on the spring-forward day is taken one hour later, as
zoneinfo resolves it; a time that happens twice on the fall-back day is taken the first time).

Pure calendar arithmetic; no timer here. The digest service stores each guild's next posting
time and the engine's one timer wakes for it (see tracker.digests.service).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from dataclasses import dataclass
from typing import NamedTuple
from zoneinfo import ZoneInfo

from tracker.errors import InvalidInput

__all__ = [
    "DEFAULT_SCHEDULE",
    "OFF",
    "WEEKDAYS",
    "DigestPeriod",
    "DigestSchedule",
    "Frequency",
    "next_run_after",
    "parse_schedule",
    "parse_when_empty",
    "period_for",
]

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

    @property
    def hhmm(self) -> str:
        """The local time of day as "09:00"."""
        return f"{self.hour:02d}:{self.minute:02d}"

    def to_setting(self) -> str:
        """The stored form: "daily:09:00", "weekly:mon:09:00" or "off"."""
        if self.frequency is Frequency.OFF:
            return "off"
        if self.weekday is None:
            return f"daily:{self.hhmm}"
        return f"weekly:{WEEKDAYS[self.weekday]}:{self.hhmm}"

    def describe(self) -> str:
        """For people: "every Monday at 09:00", "every day at 17:30", "off"."""
        if self.frequency is Frequency.OFF:
            return "off"
        if self.weekday is None:
            return f"every day at {self.hhmm}"
        return f"every {_WEEKDAY_NAMES[self.weekday]} at {self.hhmm}"

    def cron_fields(self) -> dict[str, str | int]:
        """The same times as keyword arguments for APScheduler's
        ``CronTrigger(timezone=tz, **fields)``: day_of_week, hour and minute. Raises ValueError
        for "off".

        Digests are not run by cron triggers (a guild's next posting time is a stored row that
        the engine's one timer wakes for); this is the cross-check that :func:`next_run_after`
        agrees with APScheduler's own calendar arithmetic, DST included."""
        if self.frequency is Frequency.OFF:
            raise ValueError("an 'off' digest schedule has no cron fields")
        day = "*" if self.weekday is None else WEEKDAYS[self.weekday]
        return {"day_of_week": day, "hour": self.hour, "minute": self.minute}

    def runs_on(self, day: dt.date) -> bool:
        """Whether a digest is posted on local calendar *day*."""
        if self.frequency is Frequency.OFF:
            return False
        return self.weekday is None or day.weekday() == self.weekday

    def occurrence(self, day: dt.date, tz: ZoneInfo) -> dt.datetime:
        """The instant (aware UTC) of the posting time on local *day* in *tz*.

        A local time skipped by a DST jump resolves one hour later; a repeated one resolves to
        its first occurrence (fold=0)."""
        return dt.datetime.combine(day, self.time, tzinfo=tz).astimezone(dt.UTC)

    def key(self, day: dt.date) -> str:
        """The period key of the run on local *day*: "2025-03-10T09:00"."""
        return f"{day.isoformat()}T{self.hhmm}"


DEFAULT_SCHEDULE = DigestSchedule(Frequency.WEEKLY, 9, 0, 0)
OFF = DigestSchedule(Frequency.OFF)

# --------------------------------------------------------------------------- the typed setting


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

# One token of a typed setting: the whole text, and the hours and minutes of a time.
_Token = tuple[str, str | None, str | None]


@dataclass(slots=True)
class _Reading:
    """What the words of a typed setting said so far."""

    frequency: Frequency | None = None
    weekday: int | None = None
    hour: int | None = None
    minute: int = 0
    meridiem: str | None = None  # "a" or "p"


def _refuse(text: str, why: str) -> InvalidInput:
    shown = text.strip()[:60]
    return InvalidInput(f'Could not read "{shown}" as a digest schedule: {why}. {_HELP}')


def parse_schedule(text: str) -> DigestSchedule:
    """Read a schedule as a person types it ("daily 9:00", "weekly fri 17:30", "every monday
    at 9am", "off") or as it is stored ("weekly:mon:09:00"). InvalidInput says what to type."""
    cleaned = text.strip().lower().replace("a.m.", "am").replace("p.m.", "pm")
    if not cleaned:
        raise _refuse(text, "it is empty")
    reading = _read_words(_tokens(cleaned, text), text)
    if reading is None:
        return OFF
    hour, minute = _time_of_day(reading, text)
    frequency = reading.frequency
    if frequency is None:
        frequency = Frequency.WEEKLY if reading.weekday is not None else Frequency.DAILY
    if frequency is Frequency.DAILY and reading.weekday is not None:
        raise _refuse(text, "a daily digest has no weekday")
    if frequency is Frequency.WEEKLY and reading.weekday is None:
        raise _refuse(text, "a weekly digest needs a weekday")
    return DigestSchedule(frequency, hour, minute, reading.weekday)


def _tokens(cleaned: str, text: str) -> list[_Token]:
    """The words and times of *cleaned*; anything between them but separators is refused."""
    tokens: list[_Token] = []
    pos = 0
    for match in _TOKEN.finditer(cleaned):
        if _SEPARATORS.sub("", cleaned[pos : match.start()]):
            raise _refuse(text, f'"{cleaned[pos : match.start()].strip()}" is not understood')
        tokens.append((match.group(0), match.group(1), match.group(2)))
        pos = match.end()
    if _SEPARATORS.sub("", cleaned[pos:]):
        raise _refuse(text, f'"{cleaned[pos:].strip()}" is not understood')
    return tokens


def _read_words(tokens: list[_Token], text: str) -> _Reading | None:
    """What the tokens say, in order (the first problem is the one reported); None for "off"."""
    reading = _Reading()
    for word, hours, minutes in tokens:
        if hours is not None:
            if reading.hour is not None:
                raise _refuse(text, "it has more than one time")
            reading.hour, reading.minute = int(hours), int(minutes or 0)
        elif word in _OFF_WORDS:
            if len(tokens) > 1:
                raise _refuse(text, '"off" goes alone')
            return None
        elif word in _FILLER:
            continue
        elif word in ("am", "pm"):
            reading.meridiem = word[0]
        elif word in _DAILY_WORDS:
            reading.frequency = _set_once(reading.frequency, Frequency.DAILY, text)
        elif word in _WEEKLY_WORDS:
            reading.frequency = _set_once(reading.frequency, Frequency.WEEKLY, text)
        elif word in _DAY_WORDS:
            if reading.weekday is not None and reading.weekday != _DAY_WORDS[word]:
                raise _refuse(text, "it names more than one weekday (one digest a week)")
            reading.weekday = _DAY_WORDS[word]
        else:
            raise _refuse(text, f'"{word}" is not a weekday, "daily", "weekly" or a time')
    return reading


def _time_of_day(reading: _Reading, text: str) -> tuple[int, int]:
    """The 24-hour time the reading names ("5:30pm" -> 17:30)."""
    hour, minute = reading.hour, reading.minute
    if hour is None:
        raise _refuse(text, "it has no time of day")
    if reading.meridiem is not None:
        if not 1 <= hour <= 12:
            raise _refuse(text, f"{hour}{reading.meridiem}m is not a time")
        hour = hour % 12 + (12 if reading.meridiem == "p" else 0)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise _refuse(text, f"{hour}:{minute:02d} is not a time of day")
    return hour, minute


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


# --------------------------------------------------------------------------- periods


class DigestPeriod(NamedTuple):
    """A digest period: [start, end), named by the local wall time that closes it."""

    start: dt.datetime
    end: dt.datetime
    key: str


def period_for(schedule: DigestSchedule, tz: ZoneInfo, now: dt.datetime) -> DigestPeriod | None:
    """The latest period closed at or before *now*: its end is the most recent posting time
    <= now, its start the one before. None when the schedule is off."""
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
    """The first posting time strictly after *now* (None when off)."""
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

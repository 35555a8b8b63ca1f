"""The event-log CSV: a launch history as a journalist keeps it, one row per event.

    product,vendor,date,event,window,announcer,source,quote,evidence

``event`` is announced | reannounced | revived | shipped | cancelled | note; ``date`` is
YYYY-MM-DD or YYYY-MM (a month-only day counts from the month's first day); ``window`` is the
phrase as announced, read by tracker.windows with the row's date as the announcement day
(required for announced, reannounced and revived); ``evidence`` is official (default), reported
or rumour. A cancellation may be undated (an empty date: "quietly dropped"). The rows of one
launch (same product and vendor, case-insensitive) are in date order and the first is
"announced".

:func:`replay` is pure: it checks every row (each problem names its line and column) and
replays each launch's rows through the same rules as the lifecycle (a slip only when the window
end moves later, revival only from cancelled, lateness against the first promise), giving the
launch as it stands at *now* and its history. Nothing in it is news: open launches already past
their deadline are stored as slipped with only their future milestones pending, so an import
posts nothing for history that is already over.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import enum
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tracker import deadlines
from tracker.models import (
    EventKind,
    Evidence,
    GuildConfig,
    Launch,
    LaunchEvent,
    LaunchState,
    Precision,
)
from tracker.windows import Window, WindowError, parse_window

__all__ = [
    "COLUMNS",
    "LogIssue",
    "LogRow",
    "ReplayedLaunch",
    "is_event_log",
    "read_log",
    "replay",
]

COLUMNS = (
    "product",
    "vendor",
    "date",
    "event",
    "window",
    "announcer",
    "source",
    "quote",
    "evidence",
)
ACTOR = "import"
MAX_TEXT = {"product": 100, "vendor": 60, "announcer": 100, "quote": 1000, "source": 500}
MAX_WINDOW = 200
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")


class LogEvent(enum.StrEnum):
    """The events a row can record."""

    ANNOUNCED = "announced"
    REANNOUNCED = "reannounced"
    REVIVED = "revived"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    NOTE = "note"


_NEEDS_WINDOW = (LogEvent.ANNOUNCED, LogEvent.REANNOUNCED, LogEvent.REVIVED)


@dataclass(frozen=True, slots=True)
class LogIssue:
    """One problem, at a line of the file (the header is line 1) and a column."""

    line: int
    column: str | None
    message: str

    def __str__(self) -> str:
        where = f"Line {self.line}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class LogRow:
    """One well-formed row."""

    line: int
    product: str
    vendor: str
    day: dt.date | None  # None: an undated cancellation
    precision: Precision
    event: LogEvent
    window: str | None
    announcer: str | None
    source: str | None
    quote: str | None
    evidence: Evidence

    @property
    def key(self) -> tuple[str, str]:
        """Which launch the row belongs to."""
        return (self.product.casefold(), self.vendor.casefold())


@dataclass(frozen=True, slots=True)
class ReplayedLaunch:
    """A launch rebuilt from its rows (id 0 until stored) with its history (ids 0)."""

    line: int  # of its "announced" row
    launch: Launch
    events: tuple[LaunchEvent, ...]


def is_event_log(text: str) -> bool:
    """True when the first line is this format's header (the columns above, in any order)."""
    first = text.removeprefix("\ufeff").lstrip("\r\n").split("\n", 1)[0]
    try:
        header = next(csv.reader([first]))
    except (csv.Error, StopIteration):
        return False
    names = [h.strip().lower() for h in header]
    return sorted(names) == sorted(COLUMNS)


def _clean(value: str | None) -> str | None:
    text = " ".join((value or "").split())
    return text or None


def _day(text: str) -> tuple[dt.date, Precision]:
    month = _MONTH.fullmatch(text)
    if month:
        return dt.date(int(month[1]), int(month[2]), 1), Precision.MONTH
    return dt.date.fromisoformat(text), Precision.DAY


def read_log(text: str) -> tuple[list[LogRow], list[LogIssue]]:
    """Every row of an event-log file, or the problems of the rows that are not well formed."""
    reader = csv.DictReader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    rows: list[LogRow] = []
    issues: list[LogIssue] = []
    if reader.fieldnames is None:
        return rows, [LogIssue(1, None, "the file is empty")]
    reader.fieldnames = [name.strip().lower() for name in reader.fieldnames]
    try:
        records = list(reader)
    except csv.Error as exc:
        return rows, [LogIssue(reader.line_num, None, f"the CSV cannot be read: {exc}")]
    line = 1
    for record in records:
        line += 1
        found: list[LogIssue] = []

        def bad(column: str, message: str, line: int = line, found: list[LogIssue] = found) -> None:
            found.append(LogIssue(line, column, message))

        if None in record:
            bad("evidence", "the row has more cells than the header")
        values: dict[str, str | None] = {}
        for name in COLUMNS:
            value = _clean(record.get(name))
            if value is not None and name in MAX_TEXT and len(value) > MAX_TEXT[name]:
                bad(name, f"{len(value)} characters long; at most {MAX_TEXT[name]}")
            values[name] = value
        for name in ("product", "vendor"):
            if values[name] is None:
                bad(name, f"{name} is missing")
        event: LogEvent | None = None
        event_text = (values["event"] or "").lower()
        try:
            event = LogEvent(event_text)
        except ValueError:
            choices = ", ".join(e.value for e in LogEvent)
            bad("event", f'"{values["event"] or ""}" is not one of {choices}')
        day: dt.date | None = None
        precision = Precision.DAY
        if values["date"] is None:
            if event is not LogEvent.CANCELLED:
                bad("date", "the date is missing (only a cancellation may be undated)")
        else:
            try:
                day, precision = _day(values["date"])
            except ValueError:
                bad("date", f'"{values["date"]}" is not a date like 2025-02-17 or 2025-02')
        window = values["window"]
        if event in _NEEDS_WINDOW and window is None:
            bad("window", f"an {event} row needs the window as announced")
        elif window is not None and len(window) > MAX_WINDOW:
            bad("window", f"{len(window)} characters long; at most {MAX_WINDOW}")
        evidence = Evidence.OFFICIAL
        if values["evidence"] is not None:
            try:
                evidence = Evidence(values["evidence"].lower())
            except ValueError:
                bad("evidence", f'"{values["evidence"]}" is not official, reported or rumour')
        source = values["source"]
        if source is not None and not re.fullmatch(r"https?://[^\s/]+\S*", source):
            bad("source", f'"{source[:40]}" is not a web link (https://...)')
        if found:
            issues.extend(found)
            continue
        assert event is not None and values["product"] and values["vendor"]
        rows.append(
            LogRow(
                line=line,
                product=values["product"],
                vendor=values["vendor"],
                day=day,
                precision=precision,
                event=event,
                window=window,
                announcer=values["announcer"],
                source=source,
                quote=values["quote"],
                evidence=evidence,
            )
        )
    if not rows and not issues:
        issues.append(LogIssue(1, None, "the file has a header but no rows"))
    return rows, issues


def promised_window(window: Window, announced_on: dt.date) -> Window:
    """*window* as a promise made on *announced_on*: it cannot start before that day
    ("later this year" said in June starts in June)."""
    if window.start < announced_on <= window.end:
        return dataclasses.replace(window, start=announced_on)
    return window


def _at(day: dt.date) -> dt.datetime:
    """When a dated event is put in the history: midday UTC of its day."""
    return dt.datetime.combine(day, dt.time(12), dt.UTC)


class _Replay:
    """The state of one launch while its rows are replayed."""

    def __init__(self, first: LogRow, launch: Launch, event: LaunchEvent) -> None:
        self.line = first.line
        self.launch = launch
        self.events = [event]
        self.last_day = first.day

    def add(self, row: LogRow, kind: EventKind, data: dict[str, Any], note: str | None) -> None:
        day = row.day or self.last_day
        assert day is not None
        self.events.append(
            LaunchEvent(
                id=0,
                launch_id=0,
                guild_id=self.launch.guild_id,
                kind=kind,
                at=_at(day),
                actor=ACTOR,
                source_url=row.source,
                note=note,
                data={**data, "evidence": row.evidence.value, "line": row.line},
            )
        )


def replay(
    rows: Sequence[LogRow], config: GuildConfig, now: dt.datetime
) -> tuple[list[ReplayedLaunch], list[LogIssue]]:
    """Rebuild each launch of *rows* for the guild *config* as it stands at *now*."""
    tz = deadlines.zone(config.timezone)
    today = deadlines.local_today(now, tz)
    launches: dict[tuple[str, str], _Replay] = {}
    issues: list[LogIssue] = []
    broken: set[tuple[str, str]] = set()

    def window_of(row: LogRow) -> Any:
        assert row.window is not None and row.day is not None
        try:
            return promised_window(parse_window(row.window, row.day), row.day)
        except WindowError as exc:
            issues.append(LogIssue(row.line, "window", str(exc)))
            return None

    for row in rows:
        if row.key in broken:
            continue  # one problem per launch: the rest of its rows depend on it
        before = len(issues)
        current = launches.get(row.key)
        if row.day is not None and row.day > today:
            issues.append(LogIssue(row.line, "date", f"{row.day} is in the future"))
        elif current is None:
            if row.event is not LogEvent.ANNOUNCED:
                issues.append(
                    LogIssue(
                        row.line,
                        "event",
                        f"the first row of {row.product} ({row.vendor}) must be announced, "
                        f"not {row.event}",
                    )
                )
            else:
                _announce(row, config, tz, launches, window_of)
        else:
            if row.day is not None and current.last_day is not None and row.day < current.last_day:
                issues.append(
                    LogIssue(
                        row.line,
                        "date",
                        f"{row.day} is before the previous row of {row.product} "
                        f"({current.last_day}); rows of a launch go in date order",
                    )
                )
            else:
                _apply(row, current, config, tz, window_of, issues)
        if len(issues) > before:
            broken.add(row.key)
    done: list[ReplayedLaunch] = []
    for key, state in launches.items():
        if key in broken:
            continue
        done.append(
            ReplayedLaunch(state.line, _settle(state.launch, config, tz, now), tuple(state.events))
        )
    done.sort(key=lambda r: r.line)
    issues.sort(key=lambda i: i.line)
    return done, issues


def _announce(
    row: LogRow,
    config: GuildConfig,
    tz: Any,
    launches: dict[tuple[str, str], _Replay],
    window_of: Any,
) -> None:
    window = window_of(row)
    if window is None:
        return
    assert row.day is not None
    stamp = _at(row.day)
    launch = Launch(
        id=0,
        guild_id=config.guild_id,
        product=row.product,
        vendor=row.vendor,
        announcer=row.announcer,
        source_url=row.source,
        quote=row.quote,
        announced_on=row.day,
        window_phrase=window.phrase,
        window_start=window.start,
        window_end=window.end,
        window_rule=window.rule,
        timezone=None,
        deadline_at=deadlines.deadline_for(window.end, tz, config.grace_days),
        state=LaunchState.UPCOMING,
        slip_count=0,
        revision=0,
        shipped_on=None,
        cancelled_on=None,
        days_late=None,
        next_due_at=None,
        created_at=stamp,
        updated_at=stamp,
        first_window_end=window.end,
        evidence=row.evidence,
        announced_precision=row.precision,
    )
    event = LaunchEvent(
        id=0,
        launch_id=0,
        guild_id=config.guild_id,
        kind=EventKind.CREATED,
        at=stamp,
        actor=ACTOR,
        source_url=row.source,
        note=row.quote,
        data={
            "window": window.phrase,
            "window_start": window.start.isoformat(),
            "window_end": window.end.isoformat(),
            "rule": window.rule,
            "announced_on": row.precision.show(row.day),
            "evidence": row.evidence.value,
            "line": row.line,
        },
    )
    launches[row.key] = _Replay(row, launch, event)


def _apply(
    row: LogRow,
    state: _Replay,
    config: GuildConfig,
    tz: Any,
    window_of: Any,
    issues: list[LogIssue],
) -> None:
    launch = state.launch
    name = f"{launch.product} ({launch.vendor})"

    def refuse(message: str) -> None:
        issues.append(LogIssue(row.line, "event", message))

    if row.event is LogEvent.ANNOUNCED:
        refuse(f"{name} was already announced on line {state.line}; use reannounced")
        return
    if row.event in (LogEvent.REANNOUNCED, LogEvent.SHIPPED, LogEvent.CANCELLED) and (
        launch.state.resolved
    ):
        hint = " (use revived to bring it back)" if launch.state is LaunchState.CANCELLED else ""
        refuse(f"{name} was already {launch.state.value}, so it cannot be {row.event}{hint}")
        return
    if row.event is LogEvent.REVIVED and launch.state is not LaunchState.CANCELLED:
        refuse(f"{name} is {launch.state.value}, not cancelled, so it cannot be revived")
        return
    if row.day is not None and row.day < launch.announced_on:
        issues.append(LogIssue(row.line, "date", f"{row.day} is before the announcement"))
        return
    if row.event in (LogEvent.REANNOUNCED, LogEvent.REVIVED):
        window = window_of(row)
        if window is None:
            return
        assert row.day is not None
        later = window.end > launch.window_end
        updated = dataclasses.replace(
            launch,
            window_phrase=window.phrase,
            window_start=window.start,
            window_end=window.end,
            window_rule=window.rule,
            deadline_at=deadlines.deadline_for(window.end, tz, config.grace_days),
            state=LaunchState.UPCOMING,
            slip_count=launch.slip_count + (1 if later else 0),
            quote=row.quote or launch.quote,
            source_url=row.source or launch.source_url,
            cancelled_on=None,
            outcome_precision=Precision.DAY,
            updated_at=_at(row.day),
        )
        kind = EventKind.REANNOUNCED if row.event is LogEvent.REANNOUNCED else EventKind.REVIVED
        data: dict[str, Any] = {
            "from_window": launch.window_phrase,
            "from_window_end": launch.window_end.isoformat(),
            "window": window.phrase,
            "window_end": window.end.isoformat(),
            "deadline_at": updated.deadline_at.isoformat(),
            "announced_on": row.precision.show(row.day),
            "slip_count": updated.slip_count,
        }
        if kind is EventKind.REVIVED:
            data["cancelled_on"] = launch.cancelled_on.isoformat() if launch.cancelled_on else None
        state.add(row, kind, data, row.quote)
    elif row.event is LogEvent.SHIPPED:
        assert row.day is not None
        late = (row.day - launch.first_window_end).days
        updated = dataclasses.replace(
            launch,
            state=LaunchState.SHIPPED,
            shipped_on=row.day,
            outcome_precision=row.precision,
            days_late=late,
            updated_at=_at(row.day),
        )
        state.add(
            row,
            EventKind.SHIPPED,
            {"shipped_on": row.precision.show(row.day), "days_late": late},
            row.quote,
        )
    elif row.event is LogEvent.CANCELLED:
        updated = dataclasses.replace(
            launch,
            state=LaunchState.CANCELLED,
            cancelled_on=row.day,
            outcome_precision=row.precision,
            days_late=None,
            updated_at=_at(row.day) if row.day else launch.updated_at,
        )
        shown = row.precision.show(row.day) if row.day else None
        state.add(row, EventKind.CANCELLED, {"cancelled_on": shown}, row.quote)
    else:
        if row.quote is None and row.source is None:
            issues.append(LogIssue(row.line, "quote", "a note needs a quote or a source"))
            return
        updated = launch
        state.add(row, EventKind.NOTE, {}, row.quote)
    state.launch = dataclasses.replace(updated, revision=updated.revision + 1)
    if row.day is not None:
        state.last_day = row.day


def _settle(launch: Launch, config: GuildConfig, tz: Any, now: dt.datetime) -> Launch:
    """The launch as it stands at *now*: an open one past its deadline is slipped, and only
    what is still ahead is scheduled (an import is not news)."""
    if launch.state.resolved:
        return dataclasses.replace(launch, next_due_at=None)
    state = LaunchState.SLIPPED if now >= launch.deadline_at else LaunchState.UPCOMING
    items = deadlines.due_items(
        state=state,
        deadline_at=launch.deadline_at,
        window_end=launch.window_end,
        tz=tz,
        reminder_offsets=config.reminder_offsets,
        late_milestones=config.late_milestones,
    )
    nxt = deadlines.next_after(items, now)
    return dataclasses.replace(launch, state=state, next_due_at=nxt.at if nxt else None)

"""Replaying an event log: each launch's rows through the lifecycle's rules, as it stands now.

Pure. A slip counts only when the window end moves later, revival only from cancelled, lateness
against the first promise. Nothing replayed is news: open launches already past their deadline
are stored as slipped with only their future milestones pending, so an import posts nothing for
history that is already over.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from tracker import deadlines
from tracker.eventlog.rows import LogEvent, LogIssue, LogRow
from tracker.models import EventKind, GuildConfig, Launch, LaunchEvent, LaunchState, Precision
from tracker.windows import Window, WindowError, parse_window

__all__ = ["ACTOR", "ReplayedLaunch", "promised_window", "replay"]

ACTOR = "import"


@dataclass(frozen=True, slots=True)
class ReplayedLaunch:
    """A launch rebuilt from its rows (id 0 until stored) with its history (ids 0)."""

    line: int  # of its "announced" row
    launch: Launch
    events: tuple[LaunchEvent, ...]


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

    def add(self, row: LogRow, kind: EventKind, data: dict[str, Any]) -> None:
        """Append the row's event to the history (an undated row takes the previous row's day)."""
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
                note=row.quote,
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
    for row in rows:
        if row.key in broken:
            continue  # one problem per launch: the rest of its rows depend on it
        before = len(issues)
        current = launches.get(row.key)
        misplaced = _misplaced(row, current, today)
        if misplaced is not None:
            issues.append(misplaced)
        elif current is None:
            started = _announce(row, config, tz, issues)
            if started is not None:
                launches[row.key] = started
        else:
            _apply(row, current, config, tz, issues)
        if len(issues) > before:
            broken.add(row.key)
    done = [
        ReplayedLaunch(state.line, _settle(state.launch, config, tz, now), tuple(state.events))
        for key, state in launches.items()
        if key not in broken
    ]
    done.sort(key=lambda r: r.line)
    issues.sort(key=lambda i: i.line)
    return done, issues


def _misplaced(row: LogRow, current: _Replay | None, today: dt.date) -> LogIssue | None:
    """A row in the future, a launch's first row that is not "announced", or a row dated
    before the launch's previous one."""
    if row.day is not None and row.day > today:
        return LogIssue(row.line, "date", f"{row.day} is in the future")
    if current is None:
        if row.event is LogEvent.ANNOUNCED:
            return None
        return LogIssue(
            row.line,
            "event",
            f"the first row of {row.product} ({row.vendor}) must be announced, not {row.event}",
        )
    if row.day is not None and current.last_day is not None and row.day < current.last_day:
        return LogIssue(
            row.line,
            "date",
            f"{row.day} is before the previous row of {row.product} "
            f"({current.last_day}); rows of a launch go in date order",
        )
    return None


def _window_of(row: LogRow, issues: list[LogIssue]) -> Window | None:
    """The row's window as a promise made on its day, or None with the problem added."""
    assert row.window is not None and row.day is not None
    try:
        return promised_window(parse_window(row.window, row.day), row.day)
    except WindowError as exc:
        issues.append(LogIssue(row.line, "window", str(exc)))
        return None


def _announce(
    row: LogRow, config: GuildConfig, tz: ZoneInfo, issues: list[LogIssue]
) -> _Replay | None:
    """A launch started by its "announced" row, with its CREATED event."""
    window = _window_of(row, issues)
    if window is None:
        return None
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
    return _Replay(row, launch, event)


def _apply(
    row: LogRow, state: _Replay, config: GuildConfig, tz: ZoneInfo, issues: list[LogIssue]
) -> None:
    """Replay one later row of a launch (its lifecycle permitting) and add its event."""
    launch = state.launch
    refused = _refusal(row, state)
    if refused is not None:
        issues.append(refused)
        return
    if row.event in (LogEvent.REANNOUNCED, LogEvent.REVIVED):
        window = _window_of(row, issues)
        if window is None:
            return
        updated = _redate(row, state, window, config, tz)
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
            row, EventKind.SHIPPED, {"shipped_on": row.precision.show(row.day), "days_late": late}
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
        state.add(row, EventKind.CANCELLED, {"cancelled_on": shown})
    else:
        if row.quote is None and row.source is None:
            issues.append(LogIssue(row.line, "quote", "a note needs a quote or a source"))
            return
        updated = launch
        state.add(row, EventKind.NOTE, {})
    state.launch = dataclasses.replace(updated, revision=updated.revision + 1)
    if row.day is not None:
        state.last_day = row.day


def _refusal(row: LogRow, state: _Replay) -> LogIssue | None:
    """Why the launch's lifecycle does not allow the row, if it does not."""
    launch = state.launch
    name = f"{launch.product} ({launch.vendor})"
    if row.event is LogEvent.ANNOUNCED:
        message = f"{name} was already announced on line {state.line}; use reannounced"
    elif row.event in (LogEvent.REANNOUNCED, LogEvent.SHIPPED, LogEvent.CANCELLED) and (
        launch.state.resolved
    ):
        hint = " (use revived to bring it back)" if launch.state is LaunchState.CANCELLED else ""
        message = f"{name} was already {launch.state.value}, so it cannot be {row.event}{hint}"
    elif row.event is LogEvent.REVIVED and launch.state is not LaunchState.CANCELLED:
        message = f"{name} is {launch.state.value}, not cancelled, so it cannot be revived"
    elif row.day is not None and row.day < launch.announced_on:
        return LogIssue(row.line, "date", f"{row.day} is before the announcement")
    else:
        return None
    return LogIssue(row.line, "event", message)


def _redate(
    row: LogRow, state: _Replay, window: Window, config: GuildConfig, tz: ZoneInfo
) -> Launch:
    """A re-announcement or revival: the new window (a slip when it ends later), and its event."""
    launch = state.launch
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
    state.add(row, kind, data)
    return updated


def _settle(launch: Launch, config: GuildConfig, tz: ZoneInfo, now: dt.datetime) -> Launch:
    """The launch as it stands at *now*: an open one past its deadline is slipped, and only
    the due items still ahead are pending (an import is not news)."""
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

"""Planning an import: every raw record checked for the target guild and turned into the launch
it will be stored as (with its history), or into problems numbered by row.

Imported launches keep their state, outcome dates, slip counts, revision, timestamps and full
history; their deadline and next due item are recomputed for the target guild's settings (its
timezone, grace and reminders), exactly as the lifecycle would compute them now.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from tracker import deadlines, eventlog
from tracker.errors import InvalidInput
from tracker.launches import MAX_ANNOUNCER, MAX_PRODUCT, MAX_QUOTE, MAX_VENDOR, clean_url
from tracker.models import Evidence, GuildConfig, Launch, LaunchState, Precision
from tracker.records import HistoryEntry
from tracker.transfer.reading import MAX_IMPORT_ROWS, NOT_AN_OBJECT
from tracker.transfer.validation import (
    MAX_SOURCE_URL,
    RowReader,
    read_events,
)

__all__ = [
    "ImportIssue",
    "ImportPlanner",
    "PlannedLaunch",
    "launch_key",
    "plan_event_log",
    "plan_import",
]

MAX_WINDOW_PHRASE = 200
IMPORTED_RULE = "imported"


@dataclass(frozen=True, slots=True)
class ImportIssue:
    """One problem with one row (row numbers count launches from 1, without the CSV header;
    an event log's issues name the file's line, header included, and the column)."""

    row: int
    message: str
    column: str | None = None
    unit: str = "Row"

    def __str__(self) -> str:
        where = f"{self.unit} {self.row}" + (f", column {self.column}" if self.column else "")
        return f"{where}: {self.message}"


@dataclass(frozen=True, slots=True)
class PlannedLaunch:
    """A validated row: the launch as it will be stored (id 0 until inserted) and its history."""

    row: int
    launch: Launch
    events: tuple[HistoryEntry, ...]


def launch_key(product: str, vendor: str, announced_on: dt.date) -> tuple[str, str, dt.date]:
    """What makes two launches look like the same one to an import: same product and vendor
    (case-insensitive) announced the same day."""
    return (product.casefold(), vendor.casefold(), announced_on)


class ImportPlanner:
    """Plans an import a part at a time (:meth:`plan`), keeping only the planned launches it
    hands back, the problems and the counts: a big file is never held as records whole.

    *existing* are the target guild's launch keys (:func:`launch_key`); a row that looks like
    one of them, or like an earlier row, is warned about (it would be added again)."""

    def __init__(
        self,
        config: GuildConfig,
        now: dt.datetime,
        existing: Iterable[tuple[str, str, dt.date]] = (),
    ) -> None:
        self.config = config
        self.now = now
        self.seen = set(existing)
        self.rows = 0  # rows read so far
        self.valid = 0  # rows that make a launch
        self.events = 0  # history rows among them
        self.errors: list[ImportIssue] = []  # any error means nothing may be written
        self.warnings: list[ImportIssue] = []

    def plan(self, rows: Iterable[Mapping[str, Any]]) -> list[PlannedLaunch]:
        """Check the next *rows* of the file; the launches the valid ones make."""
        planned: list[PlannedLaunch] = []
        for raw in rows:
            self.rows += 1
            number = self.rows
            plan, problems = plan_row(number, raw, self.config, self.now)
            self.errors.extend(ImportIssue(number, p) for p in problems)
            if plan is None:
                continue
            launch = plan.launch
            key = launch_key(launch.product, launch.vendor, launch.announced_on)
            if key in self.seen:
                self.warnings.append(
                    ImportIssue(
                        number,
                        f"{launch.product} ({launch.vendor}) announced {launch.announced_on} is "
                        "already there; it would be added again",
                    )
                )
            self.seen.add(key)
            self.valid += 1
            self.events += len(plan.events)
            planned.append(plan)
        return planned


def plan_import(
    rows: Sequence[Mapping[str, Any]],
    config: GuildConfig,
    now: dt.datetime,
    existing: Iterable[Launch] = (),
) -> tuple[list[PlannedLaunch], list[ImportIssue], list[ImportIssue]]:
    """Validate every row for the guild *config* at *now*.

    Returns the planned launches, the errors (any error means nothing may be written) and
    warnings (a launch that looks like one already in the guild, or earlier in the file: same
    product, vendor and announcement day; it would be added again)."""
    planner = ImportPlanner(
        config, now, (launch_key(x.product, x.vendor, x.announced_on) for x in existing)
    )
    planned = planner.plan(rows)
    return planned, planner.errors, planner.warnings


def plan_event_log(
    text: str, config: GuildConfig, now: dt.datetime
) -> tuple[int, list[PlannedLaunch], list[ImportIssue], list[ImportIssue]]:
    """An event-log file replayed for the guild *config* at *now* (tracker.eventlog): how many
    rows it has, the launches it makes, and the problems (line and column of each)."""
    rows, problems = eventlog.read_log(text)
    if len(rows) + len(problems) > MAX_IMPORT_ROWS * 10:
        raise InvalidInput(f"The file has too many rows; at most {MAX_IMPORT_ROWS * 10}.")
    replayed, more = eventlog.replay(rows, config, now) if not problems else ([], [])
    issues = [
        ImportIssue(p.line, p.message, column=p.column, unit="Line") for p in [*problems, *more]
    ]
    planned = [
        PlannedLaunch(
            r.line,
            r.launch,
            tuple(
                HistoryEntry(e.kind, e.at, e.actor, e.source_url, e.note, e.data) for e in r.events
            ),
        )
        for r in replayed
    ]
    count = len(rows) + len({p.line for p in problems})
    return count, planned, issues, []


def plan_row(
    number: int, raw: Mapping[str, Any], config: GuildConfig, now: dt.datetime
) -> tuple[PlannedLaunch | None, list[str]]:
    """Row *number* as the launch it will be stored as, or None and every problem with it."""
    if NOT_AN_OBJECT in raw:
        return None, ["must be an object with the launch's fields"]
    row = RowReader(raw)
    cells = _read_cells(row, config, now)
    events = read_events(raw.get("events"), row.fail)
    _check_dates(row, cells)
    if row.problems:
        return None, row.problems
    return PlannedLaunch(number, _launch(cells, config, now), tuple(events)), []


@dataclass(frozen=True, slots=True)
class _Cells:
    """What one row says about its launch, typed; None where a cell is empty or invalid."""

    product: str | None
    vendor: str | None
    announcer: str | None
    quote: str | None
    source_url: str | None
    announced_on: dt.date | None
    window_end: dt.date | None
    window_start: dt.date | None
    window_phrase: str | None
    window_rule: str
    zone_name: str | None
    tz: ZoneInfo | None
    state: LaunchState | None
    slip_count: int | None
    revision: int | None
    shipped_on: dt.date | None
    cancelled_on: dt.date | None
    days_late: int | None
    created_at: dt.datetime
    updated_at: dt.datetime
    first_window_end: dt.date | None
    evidence: Evidence
    announced_precision: Precision
    outcome_precision: Precision


def _read_cells(row: RowReader, config: GuildConfig, now: dt.datetime) -> _Cells:
    """Every launch field of the row, in the order its problems are reported."""
    product = row.text("product", maximum=MAX_PRODUCT, required=True)
    vendor = row.text("vendor", maximum=MAX_VENDOR, required=True)
    announcer = row.text("announcer", maximum=MAX_ANNOUNCER)
    quote = row.text("quote", maximum=MAX_QUOTE)
    source_url = _source_url(row)
    announced_on = row.day("announced_on", required=True)
    window_end = row.day("window_end", required=True)
    window_start = row.day("window_start") or window_end
    window_phrase = row.text("window_phrase", maximum=MAX_WINDOW_PHRASE)
    window_rule = row.text("window_rule", maximum=100) or IMPORTED_RULE
    zone_name = row.text("timezone", maximum=100)
    tz = _zone(row, zone_name or config.timezone)
    state = _state(row)
    slip_count = row.integer("slip_count")
    revision = row.integer("revision")
    shipped_on = row.day("shipped_on")
    cancelled_on = row.day("cancelled_on")
    days_late = row.integer("days_late", minimum=-100_000)
    created_at = row.instant("created_at") or now
    return _Cells(
        product=product,
        vendor=vendor,
        announcer=announcer,
        quote=quote,
        source_url=source_url,
        announced_on=announced_on,
        window_end=window_end,
        window_start=window_start,
        window_phrase=window_phrase,
        window_rule=window_rule,
        zone_name=zone_name,
        tz=tz,
        state=state,
        slip_count=slip_count,
        revision=revision,
        shipped_on=shipped_on,
        cancelled_on=cancelled_on,
        days_late=days_late,
        created_at=created_at,
        updated_at=row.instant("updated_at") or created_at,
        # Files exported before the first promise was kept: the current window is all there is.
        first_window_end=row.day("first_window_end") or window_end,
        evidence=row.choice("evidence", Evidence, Evidence.OFFICIAL),
        announced_precision=row.choice("announced_precision", Precision, Precision.DAY),
        outcome_precision=row.choice("outcome_precision", Precision, Precision.DAY),
    )


def _source_url(row: RowReader) -> str | None:
    source = row.text("source_url", maximum=MAX_SOURCE_URL)
    if source is not None:
        try:
            source = clean_url(source)
        except InvalidInput as exc:
            row.fail(f"source_url: {exc}")
    return source


def _zone(row: RowReader, name: str) -> ZoneInfo | None:
    try:
        return deadlines.zone(name)
    except InvalidInput as exc:
        row.fail(f"timezone: {exc}")
        return None


def _state(row: RowReader) -> LaunchState | None:
    state_text = row.text("state", maximum=20)
    if state_text is None:
        return LaunchState.UPCOMING
    try:
        return LaunchState(state_text.strip().lower())
    except ValueError:
        choices = ", ".join(s.value for s in LaunchState)
        row.fail(f"state {state_text!r} is not one of {choices}")
        return None


def _check_dates(row: RowReader, cells: _Cells) -> None:
    """The window in order, and outcome days that fit the state and follow the announcement."""
    start, end, state = cells.window_start, cells.window_end, cells.state
    if start and end and start > end:
        row.fail(f"window_start {start} is after window_end {end}")
    if state is LaunchState.SHIPPED:
        if cells.shipped_on is None and "shipped_on" not in row.unreadable:
            row.fail("a shipped launch needs shipped_on")
        if cells.cancelled_on is not None:
            row.fail("a shipped launch has no cancelled_on")
    elif state is LaunchState.CANCELLED:
        # cancelled_on may be empty: a launch quietly dropped, on a day nobody knows.
        if cells.shipped_on is not None:
            row.fail("a cancelled launch has no shipped_on")
    elif state is not None and (cells.shipped_on is not None or cells.cancelled_on is not None):
        row.fail(f"a launch that is {state.value} has no shipped_on or cancelled_on")
    for name, day in (("shipped_on", cells.shipped_on), ("cancelled_on", cells.cancelled_on)):
        if day is not None and cells.announced_on is not None and day < cells.announced_on:
            row.fail(f"{name} {day} is before announced_on {cells.announced_on}")


def _days_late(cells: _Cells) -> int | None:
    """Signed, against the first promise (tracker.stats), for a shipped launch; None for an
    upcoming or cancelled one; a slipped launch keeps the file's figure."""
    if cells.state is LaunchState.SHIPPED and cells.shipped_on and cells.first_window_end:
        # Files from before that rule held max(0, shipped_on - window_end); the dates decide,
        # the stored figure is not trusted.
        return (cells.shipped_on - cells.first_window_end).days
    if cells.state in (LaunchState.UPCOMING, LaunchState.CANCELLED):
        return None  # a cancellation has no lateness; figures are read from tracker.stats
    return cells.days_late


def _next_due_at(
    state: LaunchState,
    deadline: dt.datetime,
    window_end: dt.date,
    tz: ZoneInfo,
    config: GuildConfig,
    now: dt.datetime,
) -> dt.datetime | None:
    """When the engine next has something to do for the launch in the target guild."""
    items = deadlines.due_items(
        state=state,
        deadline_at=deadline,
        window_end=window_end,
        tz=tz,
        reminder_offsets=config.reminder_offsets,
        late_milestones=config.late_milestones,
    )
    if state is LaunchState.UPCOMING:
        nxt = deadlines.first_due(items, now)
    elif state is LaunchState.SLIPPED:
        nxt = deadlines.next_after(items, now)
    else:
        nxt = None
    return nxt.at if nxt else None


def _launch(cells: _Cells, config: GuildConfig, now: dt.datetime) -> Launch:
    """The launch a problem-free row is stored as, scheduled for the target guild."""
    product, vendor, announced_on = cells.product, cells.vendor, cells.announced_on
    window_start, window_end = cells.window_start, cells.window_end
    first_end = cells.first_window_end
    state, tz = cells.state, cells.tz
    assert product and vendor and announced_on and window_end and window_start
    assert state is not None and tz is not None and first_end is not None
    deadline = deadlines.deadline_for(window_end, tz, config.grace_days)
    return Launch(
        id=0,
        guild_id=config.guild_id,
        product=product,
        vendor=vendor,
        announcer=cells.announcer,
        source_url=cells.source_url,
        quote=cells.quote,
        announced_on=announced_on,
        window_phrase=cells.window_phrase or window_end.isoformat(),
        window_start=window_start,
        window_end=window_end,
        window_rule=cells.window_rule,
        timezone=cells.zone_name,
        deadline_at=deadline,
        state=state,
        slip_count=cells.slip_count or 0,
        revision=cells.revision or 0,
        shipped_on=cells.shipped_on,
        cancelled_on=cells.cancelled_on,
        days_late=_days_late(cells),
        next_due_at=_next_due_at(state, deadline, window_end, tz, config, now),
        created_at=cells.created_at,
        updated_at=cells.updated_at,
        first_window_end=first_end,
        evidence=cells.evidence,
        announced_precision=cells.announced_precision,
        outcome_precision=cells.outcome_precision,
    )

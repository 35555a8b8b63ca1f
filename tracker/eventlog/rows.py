"""Reading an event-log file: its header, and every row checked (each problem names its line and
column)."""

from __future__ import annotations

import csv
import datetime as dt
import enum
import io
import re
from collections.abc import Callable
from dataclasses import dataclass

from tracker.models import Evidence, Precision

__all__ = ["COLUMNS", "LogEvent", "LogIssue", "LogRow", "is_event_log", "read_log"]

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
MAX_TEXT = {"product": 100, "vendor": 60, "announcer": 100, "quote": 1000, "source": 500}
MAX_WINDOW = 200
_MONTH = re.compile(r"([0-9]{4})-([0-9]{2})")
_WEB_LINK = re.compile(r"https?://[^\s/]+\S*")


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


def is_event_log(text: str) -> bool:
    """True when the first line is this format's header (the columns above, in any order)."""
    first = text.removeprefix("\ufeff").lstrip("\r\n").split("\n", 1)[0]
    try:
        header = next(csv.reader([first]))
    except (csv.Error, StopIteration):
        return False
    names = [h.strip().lower() for h in header]
    return sorted(names) == sorted(COLUMNS)


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
    for line, record in enumerate(records, start=2):
        found: list[LogIssue] = []
        row = _read_row(record, line, found)
        if row is None:
            issues.extend(found)
        else:
            rows.append(row)
    if not rows and not issues:
        issues.append(LogIssue(1, None, "the file has a header but no rows"))
    return rows, issues


_Bad = Callable[[str, str], None]  # (column, message): records one problem of the row


def _read_row(record: dict[str | None, object], line: int, found: list[LogIssue]) -> LogRow | None:
    """The row on *line*, or None with its problems added to *found* (in column order)."""

    def bad(column: str, message: str) -> None:
        found.append(LogIssue(line, column, message))

    if None in record:
        bad("evidence", "the row has more cells than the header")
    values = _cells(record, bad)
    for name in ("product", "vendor"):
        if values[name] is None:
            bad(name, f"{name} is missing")
    event = _event(values["event"], bad)
    day, precision = _date(values["date"], event, bad)
    window = values["window"]
    if event in _NEEDS_WINDOW and window is None:
        bad("window", f"an {event} row needs the window as announced")
    elif window is not None and len(window) > MAX_WINDOW:
        bad("window", f"{len(window)} characters long; at most {MAX_WINDOW}")
    evidence = _evidence(values["evidence"], bad)
    source = values["source"]
    if source is not None and not _WEB_LINK.fullmatch(source):
        bad("source", f'"{source[:40]}" is not a web link (https://...)')
    if found:
        return None
    assert event is not None and values["product"] and values["vendor"]
    return LogRow(
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


def _cells(record: dict[str | None, object], bad: _Bad) -> dict[str, str | None]:
    """Each column's text, spaces folded (None when empty); too long is a problem."""
    values: dict[str, str | None] = {}
    for name in COLUMNS:
        raw = record.get(name)
        value = " ".join(raw.split()) if isinstance(raw, str) else ""
        if value and name in MAX_TEXT and len(value) > MAX_TEXT[name]:
            bad(name, f"{len(value)} characters long; at most {MAX_TEXT[name]}")
        values[name] = value or None
    return values


def _event(text: str | None, bad: _Bad) -> LogEvent | None:
    try:
        return LogEvent((text or "").lower())
    except ValueError:
        choices = ", ".join(e.value for e in LogEvent)
        bad("event", f'"{text or ""}" is not one of {choices}')
        return None


def _date(text: str | None, event: LogEvent | None, bad: _Bad) -> tuple[dt.date | None, Precision]:
    """The row's day and how precisely it is known (YYYY-MM counts from the month's 1st)."""
    if text is None:
        if event is not LogEvent.CANCELLED:
            bad("date", "the date is missing (only a cancellation may be undated)")
        return None, Precision.DAY
    try:
        month = _MONTH.fullmatch(text)
        if month:
            return dt.date(int(month[1]), int(month[2]), 1), Precision.MONTH
        return dt.date.fromisoformat(text), Precision.DAY
    except ValueError:
        bad("date", f'"{text}" is not a date like 2025-02-17 or 2025-02')
        return None, Precision.DAY


def _evidence(text: str | None, bad: _Bad) -> Evidence:
    if text is None:
        return Evidence.OFFICIAL
    try:
        return Evidence(text.lower())
    except ValueError:
        bad("evidence", f'"{text}" is not official, reported or rumour')
        return Evidence.OFFICIAL

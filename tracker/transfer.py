"""Export a guild's launches with their whole history, and import them (into any guild).

Formats:

- JSON: a list of launch objects, each with every launch field and an "events" list
  ({id, kind, at, actor, source_url, note, data}, oldest first);
- CSV: one row per launch, the same fields as columns, the events JSON-encoded in an "events"
  column. Empty cells are "no value".

Dates are ISO days (2025-02-17), instants ISO 8601 with their UTC offset. An import is checked
row by row first (every problem reported with its row number: the launch's position in the file,
the CSV header not counted), and written only when every row is valid, in one transaction.
Imported launches keep their state, outcome dates, slip counts, revision, timestamps and full
history; their deadline and next due item are recomputed for the target guild's settings (its
timezone, grace and reminders), exactly as the lifecycle would compute them now.
"""

from __future__ import annotations

import asyncio
import collections
import csv
import dataclasses
import datetime as dt
import enum
import io
import itertools
import json
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TextIO, TypeVar

from tracker import deadlines, eventlog
from tracker.clock import Clock
from tracker.errors import InvalidInput
from tracker.limits import Limits
from tracker.models import (
    EventKind,
    Evidence,
    GuildConfig,
    Launch,
    LaunchEvent,
    LaunchState,
    Precision,
)
from tracker.ports import Store
from tracker.service import (
    MAX_ANNOUNCER,
    MAX_PRODUCT,
    MAX_QUOTE,
    MAX_VENDOR,
    clean_url,
)
from tracker.text import plural

log = logging.getLogger(__name__)

__all__ = [
    "EVENT_FIELDS",
    "LAUNCH_FIELDS",
    "MAX_IMPORT_ROWS",
    "ExportFile",
    "ImportIssue",
    "ImportReport",
    "PlannedLaunch",
    "TransferFormat",
    "TransferService",
    "detect_format",
    "export_csv",
    "export_json",
    "launch_to_dict",
    "plan_import",
    "read_rows",
]

LAUNCH_FIELDS = (
    "id",
    "guild_id",
    "product",
    "vendor",
    "announcer",
    "source_url",
    "quote",
    "announced_on",
    "window_phrase",
    "window_start",
    "window_end",
    "window_rule",
    "timezone",
    "deadline_at",
    "state",
    "slip_count",
    "revision",
    "shipped_on",
    "cancelled_on",
    "days_late",
    "next_due_at",
    "created_at",
    "updated_at",
    "first_window_end",
    "evidence",
    "announced_precision",
    "outcome_precision",
)
EVENT_FIELDS = ("id", "kind", "at", "actor", "source_url", "note", "data")
CSV_FIELDS = (*LAUNCH_FIELDS, "events")

MAX_IMPORT_ROWS = 5000
MAX_IMPORT_CHARS = 64_000_000  # a JSON file is read whole: at most this many characters
# The newest file layout this version reads: exports of this version are schema 1 (a list of
# launches, or {"schema": 1, "launches": [...]}); a file declaring a later one is refused.
SCHEMA = 1
MAX_EVENTS_PER_LAUNCH = 1000
MAX_ISSUES = 50
MAX_WINDOW_PHRASE = 200
MAX_ACTOR = 200
MAX_EVENT_NOTE = 4000
IMPORTED_RULE = "imported"


class TransferFormat(enum.StrEnum):
    """File formats for export and import."""

    JSON = "json"
    CSV = "csv"
    EVENT_LOG = "events"  # one row per event (tracker.eventlog); import only


# --------------------------------------------------------------------------- export


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _event_to_dict(event: LaunchEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "kind": event.kind.value,
        "at": event.at.isoformat(),
        "actor": event.actor,
        "source_url": event.source_url,
        "note": event.note,
        "data": event.data,
    }


def launch_to_dict(launch: Launch, events: Sequence[LaunchEvent]) -> dict[str, Any]:
    """One launch as a JSON-ready dict with every field and its "events" list."""
    return {
        "id": launch.id,
        "guild_id": launch.guild_id,
        "product": launch.product,
        "vendor": launch.vendor,
        "announcer": launch.announcer,
        "source_url": launch.source_url,
        "quote": launch.quote,
        "announced_on": launch.announced_on.isoformat(),
        "window_phrase": launch.window_phrase,
        "window_start": launch.window_start.isoformat(),
        "window_end": launch.window_end.isoformat(),
        "window_rule": launch.window_rule,
        "timezone": launch.timezone,
        "deadline_at": launch.deadline_at.isoformat(),
        "state": launch.state.value,
        "slip_count": launch.slip_count,
        "revision": launch.revision,
        "shipped_on": _iso(launch.shipped_on),
        "cancelled_on": _iso(launch.cancelled_on),
        "days_late": launch.days_late,
        "next_due_at": _iso(launch.next_due_at),
        "created_at": launch.created_at.isoformat(),
        "updated_at": launch.updated_at.isoformat(),
        "first_window_end": launch.first_window_end.isoformat(),
        "evidence": launch.evidence.value,
        "announced_precision": launch.announced_precision.value,
        "outcome_precision": launch.outcome_precision.value,
        "events": [_event_to_dict(e) for e in sorted(events, key=lambda e: e.id)],
    }


def export_json(
    launches: Sequence[Launch], events_by_launch: Mapping[int, Sequence[LaunchEvent]]
) -> str:
    """The launches (by id) and their histories as a JSON list."""
    # One small json.dumps per launch, not one call over everything: a C call holds the GIL,
    # and this runs in a worker thread beside the event loop. Same bytes as dumping the list.
    parts = [
        json.dumps(
            launch_to_dict(launch, events_by_launch.get(launch.id, ())),
            indent=2,
            ensure_ascii=False,
        ).replace("\n", "\n  ")
        for launch in sorted(launches, key=lambda x: x.id)
    ]
    if not parts:
        return "[]\n"
    return "[\n  " + ",\n  ".join(parts) + "\n]\n"


def export_csv(
    launches: Sequence[Launch], events_by_launch: Mapping[int, Sequence[LaunchEvent]]
) -> str:
    """The launches (by id) as CSV: a header, then one row per launch; histories JSON-encoded
    in the "events" column."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_FIELDS, lineterminator="\r\n")
    writer.writeheader()
    for launch in sorted(launches, key=lambda x: x.id):
        item = launch_to_dict(launch, events_by_launch.get(launch.id, ()))
        row = {k: "" if item[k] is None else item[k] for k in LAUNCH_FIELDS}
        row["events"] = json.dumps(item["events"], ensure_ascii=False, separators=(",", ":"))
        writer.writerow({k: neutralize(v) for k, v in row.items()})
    return buffer.getvalue()


# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value: object) -> object:
    """A CSV cell that a spreadsheet will show as text: a leading apostrophe before a formula
    start (``=HYPERLINK(...)`` -> ``'=HYPERLINK(...)``), also before apostrophes already there
    so that :func:`restore` gives back exactly the original."""
    if isinstance(value, str) and value.lstrip("'").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def restore(value: str) -> str:
    """The original of a cell written by :func:`neutralize`."""
    if value.startswith("'") and value.lstrip("'").startswith(FORMULA_STARTS):
        return value[1:]
    return value


# --------------------------------------------------------------------------- reading files


def detect_format(filename: str | None, text: str) -> TransferFormat:
    """JSON or CSV, from the file name's extension, else from the first character; a CSV whose
    header is the event log's (tracker.eventlog.COLUMNS) is an event log."""
    fmt = TransferFormat.JSON if text.lstrip().startswith(("[", "{")) else TransferFormat.CSV
    if filename:
        lower = filename.lower()
        if lower.endswith(".json"):
            fmt = TransferFormat.JSON
        elif lower.endswith(".csv"):
            fmt = TransferFormat.CSV
    if fmt is TransferFormat.CSV and eventlog.is_event_log(text):
        return TransferFormat.EVENT_LOG
    return fmt


def decode(data: bytes) -> str:
    """An uploaded file's text (UTF-8, with or without a byte-order mark)."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"The file is not UTF-8 text (byte {exc.start} is not readable). "
            "Save it as UTF-8 JSON or CSV and try again."
        ) from exc


def read_rows(text: str | TextIO, fmt: TransferFormat) -> list[dict[str, Any]]:
    """The launch records of a file (its text, or a text stream read as it goes), in file
    order. InvalidInput when the file as a whole cannot be read (not JSON, no header, too many
    rows, too large, not UTF-8); row problems are left to :func:`plan_import`. A CSV stream is
    refused at the first row past MAX_IMPORT_ROWS and a JSON one past MAX_IMPORT_CHARS, so an
    oversized file is never held in memory whole."""
    stream = io.StringIO(text, newline="") if isinstance(text, str) else text
    try:
        return _read_rows(stream, fmt)
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "The file is not UTF-8 text. Save it as UTF-8 JSON or CSV and try again."
        ) from exc


def _read_rows(stream: TextIO, fmt: TransferFormat) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]]
    if fmt is TransferFormat.JSON:
        text = stream.read(MAX_IMPORT_CHARS + 1).removeprefix("\ufeff")
        if len(text) > MAX_IMPORT_CHARS:
            raise InvalidInput(
                f"The file is larger than {MAX_IMPORT_CHARS // 1_000_000} MB, more than an "
                f"export of {MAX_IMPORT_ROWS} launches. Split it and import the parts."
            )
        try:
            loaded = _load_json(text)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"The file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})."
            ) from exc
        except RecursionError:
            raise InvalidInput(
                "The file is nested too deep to be a slipwatch export (lists or objects inside "
                "each other hundreds of times)."
            ) from None
        if isinstance(loaded, dict):
            schema = loaded.get("schema")
            if isinstance(schema, int) and not isinstance(schema, bool) and schema > SCHEMA:
                raise InvalidInput(
                    f"The file was made by a newer slipwatch (schema {schema}); this one reads "
                    f"schema {SCHEMA} and older. Update slipwatch, then import it."
                )
        if isinstance(loaded, dict) and isinstance(loaded.get("launches"), list):
            loaded = loaded["launches"]
        if not isinstance(loaded, list):
            raise InvalidInput("The JSON file must be a list of launches, as /launch export makes.")
        rows = [item if isinstance(item, dict) else {"__not_an_object__": item} for item in loaded]
    else:
        header = stream.readline().removeprefix("\ufeff")
        reader = csv.DictReader(itertools.chain([header], stream))
        if not reader.fieldnames:
            raise InvalidInput("The CSV file is empty: it needs a header row, then launches.")
        missing = [f for f in ("product", "vendor") if f not in reader.fieldnames]
        if missing:
            raise InvalidInput(
                f"The CSV header has no {', '.join(missing)} column. "
                "Start from a /launch export file."
            )
        rows = []
        try:
            for record in reader:
                if len(rows) >= MAX_IMPORT_ROWS:
                    raise InvalidInput(
                        f"The file has more than {MAX_IMPORT_ROWS} launches; at most "
                        f"{MAX_IMPORT_ROWS} per import. Split it and import the parts."
                    )
                rows.append({k: restore(v) if isinstance(v, str) else v for k, v in record.items()})
        except csv.Error as exc:
            raise InvalidInput(
                f"The CSV file cannot be read (line {reader.line_num}: {exc})."
            ) from exc
    if not rows:
        raise InvalidInput("The file has no launches.")
    if len(rows) > MAX_IMPORT_ROWS:
        raise InvalidInput(
            f"The file has {len(rows)} launches; at most {MAX_IMPORT_ROWS} per import. "
            "Split it and import the parts."
        )
    return rows


def _decode_upload(data: bytes | str | TextIO) -> str | TextIO:
    return decode(data) if isinstance(data, bytes) else data


_SPACE = re.compile(r"[ \t\n\r]*")


def _load_json(text: str) -> Any:
    """json.loads, but a top-level list is decoded one item at a time: one C call over a
    5,000-launch file would hold the GIL (and so the event loop) for a quarter of a second."""
    pos = _SPACE.match(text, 0).end()  # type: ignore[union-attr]
    if not text.startswith("[", pos):
        return json.loads(text)
    decoder = json.JSONDecoder()
    items: list[Any] = []
    pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
    if text.startswith("]", pos):
        pos += 1
    else:
        while True:
            item, pos = decoder.raw_decode(text, pos)
            items.append(item)
            pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
            if text.startswith(",", pos):
                pos = _SPACE.match(text, pos + 1).end()  # type: ignore[union-attr]
                continue
            if text.startswith("]", pos):
                pos += 1
                break
            raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
    pos = _SPACE.match(text, pos).end()  # type: ignore[union-attr]
    if pos != len(text):
        raise json.JSONDecodeError("Extra data", text, pos)
    return items


# --------------------------------------------------------------------------- validation


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
class PlannedEvent:
    """One history row to insert, with its original time, actor and kind."""

    kind: EventKind
    at: dt.datetime
    actor: str
    source_url: str | None
    note: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PlannedLaunch:
    """A validated row: the launch as it will be stored (id 0 until inserted) and its history."""

    row: int
    launch: Launch
    events: tuple[PlannedEvent, ...]


_E = TypeVar("_E", bound=enum.StrEnum)


class _Row:
    """Typed access to one raw row, collecting problems instead of stopping at the first."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = raw
        self.problems: list[str] = []
        self.unreadable: set[str] = set()  # given but invalid: no follow-on complaints

    def _get(self, name: str) -> Any:
        value = self.raw.get(name)
        if isinstance(value, str) and not value.strip():
            return None
        return value

    def fail(self, message: str) -> None:
        self.problems.append(message)

    def text(self, name: str, *, maximum: int, required: bool = False) -> str | None:
        value = self._get(name)
        if value is None:
            if required:
                self.fail(f"{name} is missing")
            return None
        if not isinstance(value, str):
            self.fail(f"{name} must be text, not {json.dumps(value)[:40]}")
            return None
        if len(value) > maximum:
            self.fail(f"{name} is {len(value)} characters long; at most {maximum}")
            return None
        return value

    def day(self, name: str, *, required: bool = False) -> dt.date | None:
        value = self._get(name)
        if value is None:
            if required:
                self.fail(f"{name} is missing")
            return None
        try:
            if not isinstance(value, str):
                raise ValueError
            day = dt.date.fromisoformat(value.strip())
        except ValueError:
            self.fail(f"{name} {json.dumps(value)[:40]} is not a date like 2025-02-17")
            self.unreadable.add(name)
            return None
        if not FIRST_YEAR <= day.year <= LAST_YEAR:
            self.fail(f"{name} {day.isoformat()} is out of range ({FIRST_YEAR} to {LAST_YEAR})")
            self.unreadable.add(name)
            return None
        return day

    def choice(self, name: str, kind: type[_E], default: _E) -> _E:
        value = self._get(name)
        if value is None:
            return default
        try:
            return kind(str(value).strip().lower())
        except ValueError:
            choices = ", ".join(k.value for k in kind)
            self.fail(f"{name} {json.dumps(value)[:40]} is not one of {choices}")
            return default

    def instant(self, name: str) -> dt.datetime | None:
        value = self._get(name)
        if value is None:
            return None
        return _instant(value, name, self.fail)

    def integer(self, name: str, *, minimum: int = 0, maximum: int = 1_000_000) -> int | None:
        value = self._get(name)
        if value is None:
            return None
        if isinstance(value, str):
            try:
                value = int(value.strip())
            except ValueError:
                pass
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.fail(f"{name} {_shown(value)} is not a whole number >= {minimum}")
            return None
        if value > maximum:
            self.fail(f"{name} {_shown(value)} is too large (at most {maximum})")
            return None
        return value


MAX_DATA_DEPTH = 16
# Dates and times outside these years are refused: deadlines are computed from them, and a
# year like 9999 overflows the calendar.
FIRST_YEAR, LAST_YEAR = 1900, 2999


def _depth(value: Any) -> int:
    """How deeply lists and objects nest in *value* (iterative: no recursion limit)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _shown(value: Any) -> str:
    """A value as it appears in the file, short (huge numbers are cut, never converted)."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        return "a number with more than 30 digits"
    try:
        return json.dumps(value)[:40]
    except (ValueError, RecursionError):
        return "a value that cannot be shown"


def _instant(value: Any, name: str, fail: Callable[[str], None]) -> dt.datetime | None:
    try:
        if not isinstance(value, str):
            raise ValueError
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        fail(f"{name} {json.dumps(value)[:40]} is not a time like 2025-02-17T18:00:00+00:00")
        return None
    if parsed.tzinfo is None:
        fail(f"{name} {value!r} has no UTC offset; add one, like +00:00")
        return None
    if not FIRST_YEAR <= parsed.year <= LAST_YEAR:
        fail(f"{name} {value.strip()[:40]!r} is out of range ({FIRST_YEAR} to {LAST_YEAR})")
        return None
    return parsed.astimezone(dt.UTC)


def _events(raw: Any, fail: Callable[[str], None]) -> list[PlannedEvent]:
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            fail("events is not a JSON list")
            return []
        except RecursionError:
            fail("events is nested too deep")
            return []
    if not isinstance(raw, list):
        fail("events must be a list")
        return []
    if len(raw) > MAX_EVENTS_PER_LAUNCH:
        fail(f"{len(raw)} events; at most {MAX_EVENTS_PER_LAUNCH} per launch")
        return []
    out: list[PlannedEvent] = []
    for number, item in enumerate(raw, start=1):

        def bad(message: str, number: int = number) -> None:
            fail(f"event {number}: {message}")

        if not isinstance(item, dict):
            bad("must be an object")
            continue
        kind_text = item.get("kind")
        try:
            kind = EventKind(str(kind_text))
        except ValueError:
            choices = ", ".join(k.value for k in EventKind)
            bad(f"kind {json.dumps(kind_text)[:40]} is not one of {choices}")
            continue
        at = _instant(item.get("at"), "at", bad)
        actor = item.get("actor")
        if not isinstance(actor, str) or not actor.strip() or len(actor) > MAX_ACTOR:
            bad(f"actor must be text of 1 to {MAX_ACTOR} characters")
            continue
        source = item.get("source_url")
        note = item.get("note")
        data = item.get("data", {})
        if source is not None and (not isinstance(source, str) or len(source) > 500):
            bad("source_url must be a link of at most 500 characters")
            continue
        if note is not None and (not isinstance(note, str) or len(note) > MAX_EVENT_NOTE):
            bad(f"note must be text of at most {MAX_EVENT_NOTE} characters")
            continue
        if data is None:
            data = {}
        if not isinstance(data, dict):
            bad("data must be an object")
            continue
        if _depth(data) > MAX_DATA_DEPTH:
            bad(f"data is nested deeper than {MAX_DATA_DEPTH} levels")
            continue
        if at is None:
            continue
        out.append(PlannedEvent(kind, at, actor, source, note, data))
    return out


def _validate(
    number: int, raw: Mapping[str, Any], config: GuildConfig, now: dt.datetime
) -> tuple[PlannedLaunch | None, list[str]]:
    if "__not_an_object__" in raw:
        return None, ["must be an object with the launch's fields"]
    row = _Row(raw)
    product = row.text("product", maximum=MAX_PRODUCT, required=True)
    vendor = row.text("vendor", maximum=MAX_VENDOR, required=True)
    announcer = row.text("announcer", maximum=MAX_ANNOUNCER)
    quote = row.text("quote", maximum=MAX_QUOTE)
    source = row.text("source_url", maximum=500)
    if source is not None:
        try:
            source = clean_url(source)
        except InvalidInput as exc:
            row.fail(f"source_url: {exc}")
    announced_on = row.day("announced_on", required=True)
    window_end = row.day("window_end", required=True)
    window_start = row.day("window_start") or window_end
    phrase = row.text("window_phrase", maximum=MAX_WINDOW_PHRASE)
    rule = row.text("window_rule", maximum=100) or IMPORTED_RULE
    zone_name = row.text("timezone", maximum=100)
    tz = None
    try:
        tz = deadlines.zone(zone_name or config.timezone)
    except InvalidInput as exc:
        row.fail(f"timezone: {exc}")
    state_text = row.text("state", maximum=20)
    state: LaunchState | None = LaunchState.UPCOMING
    if state_text is not None:
        try:
            state = LaunchState(state_text.strip().lower())
        except ValueError:
            choices = ", ".join(s.value for s in LaunchState)
            row.fail(f"state {state_text!r} is not one of {choices}")
            state = None
    slip_count = row.integer("slip_count")
    revision = row.integer("revision")
    shipped_on = row.day("shipped_on")
    cancelled_on = row.day("cancelled_on")
    days_late = row.integer("days_late", minimum=-100_000)
    created_at = row.instant("created_at") or now
    updated_at = row.instant("updated_at") or created_at
    # Files exported before the first promise was kept: the current window is all there is.
    first_window_end = row.day("first_window_end") or window_end
    evidence = row.choice("evidence", Evidence, Evidence.OFFICIAL)
    announced_precision = row.choice("announced_precision", Precision, Precision.DAY)
    outcome_precision = row.choice("outcome_precision", Precision, Precision.DAY)
    events = _events(raw.get("events"), row.fail)

    if window_start and window_end and window_start > window_end:
        row.fail(f"window_start {window_start} is after window_end {window_end}")
    if state is LaunchState.SHIPPED:
        if shipped_on is None and "shipped_on" not in row.unreadable:
            row.fail("a shipped launch needs shipped_on")
        if cancelled_on is not None:
            row.fail("a shipped launch has no cancelled_on")
    elif state is LaunchState.CANCELLED:
        # cancelled_on may be empty: a launch quietly dropped, on a day nobody knows.
        if shipped_on is not None:
            row.fail("a cancelled launch has no shipped_on")
    elif state is not None and (shipped_on is not None or cancelled_on is not None):
        row.fail(f"a launch that is {state.value} has no shipped_on or cancelled_on")
    for name, day in (("shipped_on", shipped_on), ("cancelled_on", cancelled_on)):
        if day is not None and announced_on is not None and day < announced_on:
            row.fail(f"{name} {day} is before announced_on {announced_on}")
    if state is LaunchState.SHIPPED and shipped_on and first_window_end:
        # Signed, against the first promise (tracker.stats). Files from before that rule held
        # max(0, shipped_on - window_end); the dates decide, the stored figure is not trusted.
        days_late = (shipped_on - first_window_end).days

    if row.problems:
        return None, row.problems
    assert product and vendor and announced_on and window_end and window_start
    assert state is not None and tz is not None and first_window_end is not None
    if state in (LaunchState.UPCOMING, LaunchState.CANCELLED):
        days_late = None  # a cancellation has no lateness; figures are read from tracker.stats
    deadline = deadlines.deadline_for(window_end, tz, config.grace_days)
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
    launch = Launch(
        id=0,
        guild_id=config.guild_id,
        product=product,
        vendor=vendor,
        announcer=announcer,
        source_url=source,
        quote=quote,
        announced_on=announced_on,
        window_phrase=phrase or window_end.isoformat(),
        window_start=window_start,
        window_end=window_end,
        window_rule=rule,
        timezone=zone_name,
        deadline_at=deadline,
        state=state,
        slip_count=slip_count or 0,
        revision=revision or 0,
        shipped_on=shipped_on,
        cancelled_on=cancelled_on,
        days_late=days_late,
        next_due_at=nxt.at if nxt else None,
        created_at=created_at,
        updated_at=updated_at,
        first_window_end=first_window_end,
        evidence=evidence,
        announced_precision=announced_precision,
        outcome_precision=outcome_precision,
    )
    return PlannedLaunch(number, launch, tuple(events)), []


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
    planned: list[PlannedLaunch] = []
    errors: list[ImportIssue] = []
    warnings: list[ImportIssue] = []
    seen = {(x.product.casefold(), x.vendor.casefold(), x.announced_on) for x in existing}
    for number, raw in enumerate(rows, start=1):
        plan, problems = _validate(number, raw, config, now)
        errors.extend(ImportIssue(number, p) for p in problems)
        if plan is None:
            continue
        launch = plan.launch
        key = (launch.product.casefold(), launch.vendor.casefold(), launch.announced_on)
        if key in seen:
            warnings.append(
                ImportIssue(
                    number,
                    f"{launch.product} ({launch.vendor}) announced {launch.announced_on} is "
                    "already there; it would be added again",
                )
            )
        seen.add(key)
        planned.append(plan)
    return planned, errors, warnings


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
                PlannedEvent(e.kind, e.at, e.actor, e.source_url, e.note, e.data) for e in r.events
            ),
        )
        for r in replayed
    ]
    count = len(rows) + len({p.line for p in problems})
    return count, planned, issues, []


# --------------------------------------------------------------------------- the service


@dataclass(frozen=True, slots=True)
class ImportReport:
    """What an import did, or (dry run) would do."""

    format: TransferFormat
    dry_run: bool
    rows: int  # launches in the file
    would_create: int  # valid launches (all of them when there is no error)
    events: int  # history rows among them
    created: int  # launches written (0 for a dry run or when there is any error)
    launch_ids: tuple[int, ...]  # ids of the written launches, in file order
    errors: tuple[ImportIssue, ...]  # at most MAX_ISSUES
    error_count: int  # all errors, including those not listed
    warnings: tuple[ImportIssue, ...]

    @property
    def ok(self) -> bool:
        """True when every row is valid (the import can be, or was, written)."""
        return self.error_count == 0

    def summary(self) -> str:
        """One paragraph for a person."""
        if not self.ok:
            lines = [
                f"Nothing was imported: {plural(self.error_count, 'problem')} in "
                f"{plural(self.rows, 'row')}."
            ]
            lines += [f"- {issue}" for issue in self.errors]
            if self.error_count > len(self.errors):
                lines.append(f"- and {self.error_count - len(self.errors)} more")
            return "\n".join(lines)
        verb = "Would import" if self.dry_run else "Imported"
        text = (
            f"{verb} {plural(self.would_create, 'launch')} with "
            f"{plural(self.events, 'history entry')}."
        )
        if self.warnings:
            text += "\n" + "\n".join(f"- {w}" for w in self.warnings[:MAX_ISSUES])
        return text


@dataclass(frozen=True, slots=True)
class ExportFile:
    """An export ready to attach."""

    filename: str
    content: bytes
    launches: int


class TransferService:
    """Export and import for one database. *on_change* runs after an import is committed (the
    engine's poke, so that imported deadlines are armed)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        on_change: Callable[[], None] | None = None,
        *,
        limits: Limits | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self.on_change = on_change
        self.limits = limits or Limits()
        # When each server's recent imports were made (in memory: a restart forgets them).
        self._imports: dict[int, collections.deque[dt.datetime]] = {}

    async def export(self, guild_id: int, fmt: TransferFormat) -> ExportFile:
        """Every launch of the guild with its history, as a file (DamagedDatabase when the
        database file is damaged: an export of a damaged file would be silently incomplete)."""
        await self.store.quick_check()
        launches = await self.store.read.launches.all_launches(guild_id)
        events = await self.store.read.events.events_by_launch(guild_id)
        # Formatting tens of thousands of launches runs in a worker thread, off the event loop.
        write = export_json if fmt is TransferFormat.JSON else export_csv
        text = await asyncio.to_thread(write, launches, events)
        stamp = self.clock.now().strftime("%Y%m%d-%H%M")
        return ExportFile(
            filename=f"slipwatch-{guild_id}-{stamp}.{fmt.value}",
            content=text.encode("utf-8"),
            launches=len(launches),
        )

    async def check(
        self, guild_id: int, data: bytes | str | TextIO, fmt: TransferFormat
    ) -> ImportReport:
        """Dry run: validate the file for the guild and say what an import would do."""
        report, _ = await self._plan(guild_id, data, fmt, dry_run=True)
        return report

    async def import_launches(
        self, guild_id: int, data: bytes | str | TextIO, fmt: TransferFormat
    ) -> ImportReport:
        """Validate, then write every launch and its history in one transaction; writes
        nothing at all when any row is invalid (the report lists why)."""
        recent = self._recent_imports(guild_id)
        if len(recent) >= self.limits.imports_per_hour:
            wait = recent[0] + dt.timedelta(hours=1) - self.clock.now()
            minutes = max(1, math.ceil(wait.total_seconds() / 60))
            raise InvalidInput(
                f"This server made {plural(len(recent), 'import')} in the last hour, the most "
                f"it can make. Try again in {plural(minutes, 'minute')}."
            )
        report, planned = await self._plan(guild_id, data, fmt, dry_run=False)
        if not report.ok:
            return report
        recent.append(self.clock.now())
        ids: list[int] = []
        async with self.store.transaction() as tx:
            for plan in planned:
                launch_id = await tx.launches.insert_launch_record(plan.launch)
                ids.append(launch_id)
                for event in plan.events:
                    await tx.events.append_event(
                        launch_id=launch_id,
                        guild_id=guild_id,
                        kind=event.kind,
                        at=event.at,
                        actor=event.actor,
                        source_url=event.source_url,
                        note=event.note,
                        data=event.data,
                    )
        log.info("imported %d launches into guild %s", len(ids), guild_id)
        if self.on_change is not None:
            self.on_change()
        return dataclasses.replace(report, created=len(ids), launch_ids=tuple(ids))

    def _recent_imports(self, guild_id: int) -> collections.deque[dt.datetime]:
        recent = self._imports.setdefault(guild_id, collections.deque())
        hour_ago = self.clock.now() - dt.timedelta(hours=1)
        while recent and recent[0] <= hour_ago:
            recent.popleft()
        return recent

    async def _plan(
        self, guild_id: int, data: bytes | str | TextIO, fmt: TransferFormat, *, dry_run: bool
    ) -> tuple[ImportReport, list[PlannedLaunch]]:
        await self.store.quick_check()  # never plan from, or write into, a damaged file
        # Decoding, reading and checking every row is CPU work: worker threads do it.
        text = await asyncio.to_thread(_decode_upload, data)
        config = await self.store.read.guilds.get_guild(guild_id)
        existing = await self.store.read.launches.all_launches(guild_id)
        if fmt is TransferFormat.EVENT_LOG:
            if not isinstance(text, str):  # a stream (the command line): read it, capped
                text = await asyncio.to_thread(text.read, MAX_IMPORT_CHARS + 1)
                if len(text) > MAX_IMPORT_CHARS:
                    raise InvalidInput(
                        f"The file is larger than {MAX_IMPORT_CHARS // 1_000_000} MB. Split it "
                        "and import the parts."
                    )
            count, planned, errors, warnings = await asyncio.to_thread(
                plan_event_log, text, config, self.clock.now()
            )
        else:
            rows = await asyncio.to_thread(read_rows, text, fmt)
            count = len(rows)
        incoming = len(planned) if fmt is TransferFormat.EVENT_LOG else count  # launches
        cap = self.limits.launches_per_guild
        if len(existing) + incoming > cap:
            raise InvalidInput(
                f"This server tracks {plural(len(existing), 'launch')} and the file holds "
                f"{incoming} more; a server can have at most {plural(cap, 'launch')}. Remove "
                "launches you no longer need with /launch remove, or import fewer."
            )
        if fmt is not TransferFormat.EVENT_LOG:
            planned, errors, warnings = await asyncio.to_thread(
                plan_import, rows, config, self.clock.now(), existing
            )
        report = ImportReport(
            format=fmt,
            dry_run=dry_run,
            rows=count,
            would_create=len(planned),
            events=sum(len(p.events) for p in planned),
            created=0,
            launch_ids=(),
            errors=tuple(errors[:MAX_ISSUES]),
            error_count=len(errors),
            warnings=tuple(warnings),
        )
        return report, planned

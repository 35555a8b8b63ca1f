"""The export file layouts, and how an uploaded file's layout is recognised.

- JSON: a list of launch objects, each with every launch field and an "events" list
  ({id, kind, at, actor, source_url, note, data}, oldest first);
- CSV: one row per launch, the same fields as columns, the events JSON-encoded in an "events"
  column. Empty cells are "no value"; a cell a spreadsheet would run as a formula is written
  with a leading apostrophe (:func:`neutralize`) and read back without it (:func:`restore`);
- event log: one row per event (tracker.eventlog), import only.

Dates are ISO days (2025-02-17), instants ISO 8601 with their UTC offset.
"""

from __future__ import annotations

import dataclasses
import enum

from tracker import eventlog
from tracker.models import Launch, LaunchEvent

__all__ = [
    "CSV_FIELDS",
    "EVENT_FIELDS",
    "FORMULA_STARTS",
    "LAUNCH_FIELDS",
    "SCHEMA",
    "TransferFormat",
    "detect_format",
    "neutralize",
    "restore",
]


class TransferFormat(enum.StrEnum):
    """File formats for export and import."""

    JSON = "json"
    CSV = "csv"
    EVENT_LOG = "events"  # one row per event (tracker.eventlog); import only


# Every field of a launch, in the record's own order: an export holds the whole record.
LAUNCH_FIELDS = tuple(f.name for f in dataclasses.fields(Launch))
# A history row's fields; its launch and guild are the launch it is exported under.
EVENT_FIELDS = tuple(
    f.name for f in dataclasses.fields(LaunchEvent) if f.name not in ("launch_id", "guild_id")
)
CSV_FIELDS = (*LAUNCH_FIELDS, "events")
# The newest file layout this version reads: exports of this version are schema 1 (a list of
# launches, or {"schema": 1, "launches": [...]}); a file declaring a later one is refused.
SCHEMA = 1

# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


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

"""Typed reading of one imported record's cells, collecting every problem instead of stopping
at the first: plain fields through :class:`RowReader`, the history through :func:`read_events`."""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from tracker.models import EventKind
from tracker.records import HistoryEntry

__all__ = [
    "FIRST_YEAR",
    "LAST_YEAR",
    "MAX_ACTOR",
    "MAX_DATA_DEPTH",
    "MAX_EVENTS_PER_LAUNCH",
    "MAX_EVENT_NOTE",
    "RowReader",
    "read_events",
]

MAX_EVENTS_PER_LAUNCH = 1000
MAX_ACTOR = 200
MAX_EVENT_NOTE = 4000
MAX_SOURCE_URL = 500
MAX_DATA_DEPTH = 16
# Dates and times outside these years are refused: deadlines are computed from them, and a
# year like 9999 overflows the calendar.
FIRST_YEAR, LAST_YEAR = 1900, 2999

_E = TypeVar("_E", bound=enum.StrEnum)
Fail = Callable[[str], None]


class RowReader:
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
        """Record one problem with the row."""
        self.problems.append(message)

    def text(self, name: str, *, maximum: int, required: bool = False) -> str | None:
        """The text in *name*, at most *maximum* characters; None when empty or invalid."""
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
        """The ISO day in *name*, between FIRST_YEAR and LAST_YEAR; None when empty or
        invalid (an invalid one is also marked unreadable)."""
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
        """The member of *kind* named in *name* (any case); *default* when empty or invalid."""
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
        """The ISO instant in *name*, in UTC; None when empty or invalid."""
        value = self._get(name)
        if value is None:
            return None
        return _instant(value, name, self.fail)

    def integer(self, name: str, *, minimum: int = 0, maximum: int = 1_000_000) -> int | None:
        """The whole number in *name*, from *minimum* to *maximum*; None when empty or invalid."""
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


def read_events(raw: Any, fail: Fail) -> list[HistoryEntry]:
    """The history rows of a record's "events" (a list, or its JSON text in a CSV cell); each
    problem goes to *fail*, naming the event's position."""
    out: list[HistoryEntry] = []
    for number, item in enumerate(_event_list(raw, fail), start=1):

        def bad(message: str, number: int = number) -> None:
            fail(f"event {number}: {message}")

        event = _read_event(item, bad)
        if event is not None:
            out.append(event)
    return out


def _event_list(raw: Any, fail: Fail) -> list[Any]:
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
    return raw


def _read_event(item: Any, bad: Fail) -> HistoryEntry | None:
    if not isinstance(item, dict):
        bad("must be an object")
        return None
    kind_text = item.get("kind")
    try:
        kind = EventKind(str(kind_text))
    except ValueError:
        choices = ", ".join(k.value for k in EventKind)
        bad(f"kind {json.dumps(kind_text)[:40]} is not one of {choices}")
        return None
    at = _instant(item.get("at"), "at", bad)
    actor = item.get("actor")
    if not isinstance(actor, str) or not actor.strip() or len(actor) > MAX_ACTOR:
        bad(f"actor must be text of 1 to {MAX_ACTOR} characters")
        return None
    source = item.get("source_url")
    note = item.get("note")
    data = item.get("data", {})
    if source is not None and (not isinstance(source, str) or len(source) > MAX_SOURCE_URL):
        bad(f"source_url must be a link of at most {MAX_SOURCE_URL} characters")
        return None
    if note is not None and (not isinstance(note, str) or len(note) > MAX_EVENT_NOTE):
        bad(f"note must be text of at most {MAX_EVENT_NOTE} characters")
        return None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        bad("data must be an object")
        return None
    if _depth(data) > MAX_DATA_DEPTH:
        bad(f"data is nested deeper than {MAX_DATA_DEPTH} levels")
        return None
    if at is None:
        return None
    return HistoryEntry(kind, at, actor, source, note, data)


def _instant(value: Any, name: str, fail: Fail) -> dt.datetime | None:
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

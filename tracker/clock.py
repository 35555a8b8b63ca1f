"""Clocks: the engine never asks the system for the time directly, so that the demo and the
tests can run it on simulated time."""

from __future__ import annotations

import datetime as dt
from typing import Protocol


def millis(value: dt.datetime) -> int:
    """An aware datetime as integer UTC milliseconds (the storage format, and the stamp in
    idempotency keys)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: every time in slipwatch is aware UTC")
    return int(value.timestamp() * 1000)


class Clock(Protocol):
    """Anything that can tell the current aware UTC time."""

    def now(self) -> dt.datetime:
        """The current time, aware, in UTC."""
        ...


class SystemClock:
    """The real clock."""

    def now(self) -> dt.datetime:
        """The current time, aware, in UTC."""
        return dt.datetime.now(dt.UTC)


class SimClock:
    """A clock that only moves when told to (demo, tests)."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("SimClock needs an aware datetime")
        self._now = start.astimezone(dt.UTC)

    def now(self) -> dt.datetime:
        """The simulated current time."""
        return self._now

    def set(self, when: dt.datetime) -> None:
        """Jump to *when*; time never runs backwards."""
        when = when.astimezone(dt.UTC)
        if when < self._now:
            raise ValueError("a SimClock does not run backwards")
        self._now = when

    def advance(self, delta: dt.timedelta) -> None:
        """Move forward by *delta*."""
        self.set(self._now + delta)


class OffsetClock:
    """Real time shifted to start at a chosen moment, and able to jump forward: the demo's
    and the end-to-end tests' clock when retries must still flow in real time."""

    def __init__(self, start: dt.datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("OffsetClock needs an aware datetime")
        self._offset = start.astimezone(dt.UTC) - dt.datetime.now(dt.UTC)

    def now(self) -> dt.datetime:
        """Real time plus the offset."""
        return dt.datetime.now(dt.UTC) + self._offset

    def set(self, when: dt.datetime) -> None:
        """Jump to *when* (forward only); time keeps flowing from there."""
        delta = when.astimezone(dt.UTC) - self.now()
        if delta < dt.timedelta(0):
            raise ValueError("an OffsetClock does not run backwards")
        self._offset += delta

    def advance(self, delta: dt.timedelta) -> None:
        """Move forward by *delta*."""
        self.set(self.now() + delta)

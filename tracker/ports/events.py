"""The events repository as the domain sees it; storage/events.py implements it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any, Protocol

from tracker.models import (
    EventKind,
    LaunchEvent,
)
from tracker.records import (
    Followed,
    NewEvent,
    PeriodChanges,
)


class Events(Protocol):
    """Every launch's history (the event log)."""

    async def append_event(
        self,
        *,
        launch_id: int,
        guild_id: int,
        kind: EventKind,
        at: dt.datetime,
        actor: str,
        source_url: str | None = None,
        note: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        """Append one row to a launch's history (never updated afterwards)."""

    async def launch_events(self, launch_id: int) -> list[LaunchEvent]:
        """A launch's history, oldest first."""

    async def guild_events_between(
        self,
        guild_id: int,
        start: dt.datetime,
        end: dt.datetime,
        kinds: Iterable[EventKind] | None = None,
    ) -> list[LaunchEvent]:
        """A guild's history rows with start <= at < end (only of *kinds*, if given), oldest
        first."""

    async def period_changes(
        self,
        guild_id: int,
        start: dt.datetime,
        end: dt.datetime,
        listed: int,
        followed: Followed | None = None,
    ) -> PeriodChanges:
        """A digest's changes in [start, end), counted and listed by the store: per section,
        each of the guild's launches (only those *followed*, if given) once, by its latest
        event of the section's kinds in the period; the first *listed* by that event's
        (at, id), and how many launches in all (a revival counts as a re-announcement), with
        the period's re-announcements of the launches listed as slipped."""

    async def append_events(self, events: Sequence[NewEvent]) -> None:
        """Batch form of :meth:`append_event`."""

    async def events_of_launches(
        self, guild_id: int, launch_ids: Sequence[int]
    ) -> dict[int, list[LaunchEvent]]:
        """The whole history of each of a guild's launches *launch_ids*, grouped by launch, each
        list oldest first; launches without history are absent."""

    async def events_by_launch(
        self, guild_id: int, kinds: Iterable[EventKind] | None = None
    ) -> dict[int, list[LaunchEvent]]:
        """Every history row of a guild (only of *kinds*, if given), grouped by launch, each list
        oldest first. Launches without any matching event are absent."""

    async def events_for(
        self, launch_ids: Sequence[int], kinds: Iterable[EventKind]
    ) -> dict[int, list[LaunchEvent]]:
        """The history rows of *kinds* of these launches, grouped by launch, each list oldest
        first. Launches without any matching event are absent."""

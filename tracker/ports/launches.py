"""The launches repository as the domain sees it; storage/launches.py implements it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from tracker.models import (
    Evidence,
    Launch,
    LaunchState,
    Precision,
)
from tracker.records import (
    Advance,
)


class Launches(Protocol):
    """Launches and their deadlines."""

    async def insert_launch(
        self,
        *,
        guild_id: int,
        product: str,
        vendor: str,
        announcer: str | None,
        source_url: str | None,
        quote: str | None,
        announced_on: dt.date,
        window_phrase: str,
        window_start: dt.date,
        window_end: dt.date,
        window_rule: str,
        timezone: str | None,
        deadline_at: dt.datetime,
        next_due_at: dt.datetime | None,
        now: dt.datetime,
        evidence: Evidence = Evidence.OFFICIAL,
        announced_precision: Precision = Precision.DAY,
    ) -> Launch:
        """Insert an upcoming launch (its window is its first promise) and return it."""

    async def get_launch(self, launch_id: int, guild_id: int | None = None) -> Launch | None:
        """One launch by id; with *guild_id*, only if it belongs to that guild."""

    async def update_launch(
        self, launch: Launch, *, expect_revision: int, expect_state: LaunchState, now: dt.datetime
    ) -> bool:
        """Write every mutable field of *launch*, only if the stored row still has the expected
        revision and state (compare-and-set). Returns False when someone else changed it first."""

    async def insert_launch_record(self, launch: Launch) -> int:
        """Insert *launch* with every stored field as given (its id is ignored: a new one is
        assigned and returned). Used by imports, which keep states, outcomes and timestamps."""

    async def advance_due(
        self,
        launch_id: int,
        *,
        expect_due: dt.datetime,
        expect_revision: int,
        state: LaunchState,
        next_due_at: dt.datetime | None,
        days_late: int | None,
        now: dt.datetime,
    ) -> bool:
        """The sweep's conditional step: move a launch past the due item it was found at.

        Only succeeds when next_due_at and revision are still what the sweep read, so sweeping
        twice (or two sweepers) changes nothing more."""

    async def delete_launch(self, launch_id: int, guild_id: int) -> bool:
        """Remove a launch, its history and its launch subscriptions."""

    async def next_due(self) -> dt.datetime | None:
        """The earliest pending due time over all launches (one index lookup)."""

    async def due_launches(self, now: dt.datetime, limit: int) -> list[Launch]:
        """Launches whose next due item is at or before *now*, earliest first (index range scan)."""

    async def list_launches(
        self,
        guild_id: int,
        *,
        vendor: str | None = None,
        states: Sequence[LaunchState] | None = None,
        limit: int = 25,
        offset: int = 0,
    ) -> list[Launch]:
        """A guild's launches sorted by deadline, optionally filtered by vendor and state."""

    async def count_launches(
        self,
        guild_id: int,
        *,
        vendor: str | None = None,
        states: Sequence[LaunchState] | None = None,
    ) -> int:
        """How many launches :func:`list_launches` would page through."""

    async def all_launches(self, guild_id: int | None = None) -> list[Launch]:
        """Every launch (of one guild), by id."""

    async def launches_after(
        self, guild_id: int, after_id: int, limit: int, *, vendor: str | None = None
    ) -> list[Launch]:
        """One page of a guild's launches (of *vendor* only, case-insensitive, if given) by id:
        the first *limit* with an id above *after_id* (keyset paging)."""

    async def launch_keys(self, guild_id: int) -> list[tuple[str, str, dt.date]]:
        """Product, vendor and announcement day of each of a guild's launches (as stored): what
        an import's duplicate check needs, without the whole records."""

    async def search_launches(self, guild_id: int, prefix: str, limit: int = 25) -> list[Launch]:
        """Autocomplete: a guild's launches whose product or vendor starts with *prefix*."""

    async def advance_many(self, advances: Sequence[Advance], now: dt.datetime) -> int:
        """Batch form of :meth:`advance_due`. Returns how many rows changed."""

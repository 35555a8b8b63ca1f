"""The launches repository as the domain sees it; storage/launches.py implements it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Literal, Protocol

from tracker.models import (
    Evidence,
    Launch,
    LaunchState,
    Precision,
)
from tracker.records import (
    Advance,
    Followed,
    LaunchRecord,
    LaunchScope,
    NameTally,
    ScoreTally,
)


class PreparedRecords(Protocol):
    """Launch records with their histories in the store's own form (see
    :meth:`Launches.prepare_records`): how many launches they are is all the domain sees."""

    def __len__(self) -> int: ...


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
        assigned and returned), keeping states, outcomes and timestamps; an import inserts
        many at once with :meth:`insert_launch_records`."""

    async def insert_launch_records(self, records: Sequence[LaunchRecord]) -> list[int]:
        """Batch form of :meth:`insert_launch_record`, each launch's history appended with it
        (the rows one insert_launch_record and an append_event per history row would leave,
        in a few statements). Returns the new ids, in the order of *records*. The same as
        :meth:`insert_prepared` of :meth:`prepare_records`."""

    def prepare_records(self, records: Sequence[LaunchRecord]) -> PreparedRecords:
        """*records* and their histories turned into the store's rows: CPU work only (no
        statement), to be done before the transaction that inserts them (in a worker thread
        for many), so that the transaction holds the database's one writer only for the
        inserts themselves."""

    async def insert_prepared(self, prepared: PreparedRecords) -> list[int]:
        """Insert what :meth:`prepare_records` made, as :meth:`insert_launch_records` does;
        the new ids, in the order of the records."""

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

    # The score, computed by the store (tracker.stats' rules), so that no command loads a whole
    # server's launches to count them.

    async def tally(self, scope: LaunchScope, today: dt.date) -> ScoreTally:
        """The score's counts and medians over *scope* as of *today*."""

    async def tally_by(
        self, scope: LaunchScope, today: dt.date, by: Literal["vendor", "announcer"]
    ) -> list[NameTally]:
        """:meth:`tally` per stored spelling of the vendor (or announcer), in order of first
        appearance (its tally counts the launches after the rumour filter: matching = total);
        launches without an announcer are left out of the announcer tallies."""

    async def late_launches(
        self, scope: LaunchScope, today: dt.date, *, open_only: bool, limit: int | None
    ) -> list[Launch]:
        """The launches of *scope* late as of *today* (only those still out past their first
        promise, with *open_only*), most late first (ties: the earlier first window end, then
        the lower id; with *open_only*: the lower id), at most *limit* (None: all)."""

    async def newest_launches(
        self, scope: LaunchScope, since: dt.date | None, limit: int
    ) -> tuple[list[Launch], int]:
        """The *limit* most recently announced launches of *scope* announced on or after
        *since* (newest first, ties: the higher id), and how many there are in all."""

    async def names(self, guild_id: int, by: Literal["vendor", "announcer"]) -> list[str]:
        """Every stored spelling of a guild's vendors (or announcers)."""

    async def launches_by_ids(self, guild_id: int, ids: Sequence[int]) -> list[Launch]:
        """The guild's launches with these ids, by id (unknown ids are left out)."""

    async def due_soon(
        self,
        guild_id: int,
        start: dt.datetime,
        end: dt.datetime,
        listed: int,
        followed: Followed | None = None,
    ) -> tuple[list[Launch], int]:
        """The guild's upcoming launches (only those *followed*, if given) whose deadline is in
        [start, end) to the microsecond: the first *listed* by (deadline_at, id), and how many
        there are in all."""

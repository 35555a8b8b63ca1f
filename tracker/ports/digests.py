"""The digests repository as the domain sees it; storage/digests.py implements it."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from tracker.records import (
    DigestGuild,
    DigestRun,
)


class Digests(Protocol):
    """Digest runs and each server's next digest time."""

    async def insert_digest_run(
        self,
        *,
        guild_id: int,
        period_key: str,
        period_start: dt.datetime,
        period_end: dt.datetime,
        outcome: str,
        late: bool,
        dm_count: int,
        schedule: str,
        timezone: str,
        now: dt.datetime,
    ) -> bool:
        """Record a handled period; False (and nothing written) when it was already recorded."""

    async def set_digest_run_schedule(self, run_id: int, schedule: str, timezone: str) -> None:
        """Re-label a handled period with the guild's new schedule and timezone, so that the next
        periods count from it (the schedule changed after this period was handled)."""

    async def last_digest_run(self, guild_id: int) -> DigestRun | None:
        """The most recently recorded period of a guild."""

    async def digest_runs(self, guild_id: int, limit: int = 20) -> list[DigestRun]:
        """A guild's recorded periods, newest first."""

    async def next_digest_due(self) -> tuple[bool, dt.datetime | None]:
        """(whether some guild's next digest time is not computed yet, the earliest stored one)
        over guilds whose digests are not off: two index lookups, however many guilds exist."""

    async def due_digest_guilds(self, now: dt.datetime, limit: int) -> list[DigestGuild]:
        """Guilds whose digest needs handling at *now* (its time has come, or it is not computed
        yet), at most *limit*, earliest first."""

    async def set_digest_due(self, guild_id: int, due_at: dt.datetime) -> None:
        """Store when the guild's digest next needs handling."""

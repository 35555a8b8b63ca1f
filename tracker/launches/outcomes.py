"""The two endings: a launch shipped (lateness counted against its first promise) or was
cancelled. Both are refused for a launch that has already ended, and both check the day given
against the announcement the same way."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from tracker import deadlines
from tracker.errors import InvalidInput
from tracker.launches.base import TrackerBase
from tracker.launches.fields import MAX_NOTE, clean_text, clean_url
from tracker.models import EventKind, Launch, LaunchState, Precision

# Per ending: how a refusal names it ("... so it cannot be marked shipped") and what its
# free text is called.
_WORDS = {
    LaunchState.SHIPPED: ("marked shipped", "note"),
    LaunchState.CANCELLED: ("cancelled", "reason"),
}


class Outcomes(TrackerBase):
    """The part of the Tracker that records how a launch ended."""

    async def shipped(
        self,
        guild_id: int,
        launch_id: int,
        actor: str,
        *,
        on: dt.date | None = None,
        source_url: str | None = None,
        note: str | None = None,
    ) -> Launch:
        """Mark a launch shipped on *on* (default: today in its timezone; never a future day)."""
        return await self._end(
            guild_id, launch_id, actor, LaunchState.SHIPPED, on=on, source_url=source_url, note=note
        )

    async def cancelled(
        self,
        guild_id: int,
        launch_id: int,
        actor: str,
        *,
        on: dt.date | None = None,
        reason: str | None = None,
        source_url: str | None = None,
        undated: bool = False,
    ) -> Launch:
        """Mark a launch cancelled (abandoned, never coming) on *on* (default: today in its
        timezone). *undated*: it was quietly dropped and nobody knows the day (cancelled_on
        stays empty)."""
        return await self._end(
            guild_id,
            launch_id,
            actor,
            LaunchState.CANCELLED,
            on=on,
            source_url=source_url,
            note=reason,
            undated=undated,
        )

    async def _end(
        self,
        guild_id: int,
        launch_id: int,
        actor: str,
        outcome: LaunchState,
        *,
        on: dt.date | None,
        source_url: str | None,
        note: str | None,
        undated: bool = False,
    ) -> Launch:
        """Move an open launch to *outcome* on the checked day, in one transaction with its
        history row and alerts."""
        verb, what = _WORDS[outcome]
        source = clean_url(source_url)
        note = clean_text(note, what=what, maximum=MAX_NOTE)
        now = self.clock.now()
        async with self.store.transaction() as tx:
            launch = await self._find(tx, guild_id, launch_id)
            config = await tx.guilds.get_guild(guild_id)
            self._require_open(launch, verb)
            today = deadlines.local_today(now, self._zone_of(launch, config))
            day = _outcome_day(launch, outcome, on, undated, today)
            changes, data, alert_fields = _ending(launch, outcome, day)
            updated = dataclasses.replace(
                launch,
                state=outcome,
                outcome_precision=Precision.DAY,
                next_due_at=None,
                revision=launch.revision + 1,
                **changes,
            )
            await self._apply(
                tx,
                config,
                launch,
                updated,
                EventKind(outcome.value),
                actor=actor,
                source_url=source,
                note=note,
                data=data,
                now=now,
                **alert_fields,
            )
        self._changed()
        return updated


def _outcome_day(
    launch: Launch, outcome: LaunchState, on: dt.date | None, undated: bool, today: dt.date
) -> dt.date | None:
    """The day a launch ended: *on*, or *today*, or none when *undated*. Never before the
    announcement; a shipping day never in the future (a day's slack for timezones)."""
    if undated and on is not None:
        raise InvalidInput("Give a day or say it is undated, not both.")
    day = None if undated else (on or today)
    if day is not None and day < launch.announced_on:
        raise InvalidInput(
            f"{day.isoformat()} is before the announcement "
            f"({launch.announced_on.isoformat()}); check the date."
        )
    if outcome is LaunchState.SHIPPED and day is not None and day > today + dt.timedelta(days=1):
        raise InvalidInput(f"{day.isoformat()} is in the future; give the actual day.")
    return day


def _ending(
    launch: Launch, outcome: LaunchState, day: dt.date | None
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """What an ending changes on the launch, the data of its history row, and what its alert
    adds: (launch fields, event data, alert fields)."""
    if outcome is LaunchState.SHIPPED:
        assert day is not None
        # Signed and against the first promise (tracker.stats): re-dating never resets it.
        days_late = (day - launch.first_window_end).days
        return (
            {"shipped_on": day, "days_late": days_late},
            {"shipped_on": day.isoformat(), "days_late": days_late},
            {"days_late": days_late},
        )
    return (
        # A cancelled launch has no lateness (tracker.stats).
        {"cancelled_on": day, "days_late": None},
        {"cancelled_on": day.isoformat() if day else None},
        {},
    )

"""A launch given a new window: /launch delayed (a new promise for an open launch) and
/launch revived (a cancelled launch back with a new window). Both are one re-dating step: the
window is read as of the day of the new promise, the launch is upcoming again with a fresh
deadline, and a slip is counted when the window ends later than before. The score keeps
measuring the launch against its first promise (tracker.stats); re-dating never resets it.

A delay is stored as a "reannounced" event and alert (EventKind.REANNOUNCED): the stored name,
in databases and exports, of a re-announcement, which is what /launch delayed records.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from tracker import deadlines
from tracker.errors import InvalidInput, InvalidTransition
from tracker.launches.base import TrackerBase
from tracker.launches.fields import MAX_QUOTE, clean_text, clean_url
from tracker.models import EventKind, Launch, LaunchState, Precision
from tracker.windows import Window


class Redating(TrackerBase):
    """The part of the Tracker that gives launches new windows."""

    async def delayed(
        self,
        guild_id: int,
        launch_id: int,
        actor: str,
        *,
        window_phrase: str,
        announced_on: dt.date | None = None,
        source_url: str | None = None,
        quote: str | None = None,
    ) -> Launch:
        """A new promise for an open (upcoming or slipped) launch, made on *announced_on*
        (default: today in its timezone): new window, back to upcoming, slip + 1 if the window
        ends later. Recorded as EventKind.REANNOUNCED."""
        return await self._redate(
            guild_id,
            launch_id,
            actor,
            EventKind.REANNOUNCED,
            window_phrase=window_phrase,
            announced_on=announced_on,
            source_url=source_url,
            quote=quote,
        )

    # The name the probes, tests and benches call it by: a vendor re-announcing a window.
    reannounce = delayed

    async def revived(
        self,
        guild_id: int,
        launch_id: int,
        actor: str,
        *,
        window_phrase: str,
        announced_on: dt.date | None = None,
        source_url: str | None = None,
        quote: str | None = None,
    ) -> Launch:
        """A cancelled launch comes back with a new window: upcoming again, its cancellation
        kept in history, a slip when the new window ends later than the one it was cancelled
        with."""
        return await self._redate(
            guild_id,
            launch_id,
            actor,
            EventKind.REVIVED,
            window_phrase=window_phrase,
            announced_on=announced_on,
            source_url=source_url,
            quote=quote,
        )

    async def _redate(
        self,
        guild_id: int,
        launch_id: int,
        actor: str,
        kind: EventKind,
        *,
        window_phrase: str,
        announced_on: dt.date | None,
        source_url: str | None,
        quote: str | None,
    ) -> Launch:
        """The re-dating step of a delay (*kind* REANNOUNCED) or a revival (REVIVED), in one
        transaction with its history row and alerts."""
        source = clean_url(source_url)
        quote = clean_text(quote, what="quote", maximum=MAX_QUOTE)
        now = self.clock.now()
        async with self.store.transaction() as tx:
            launch = await self._find(tx, guild_id, launch_id)
            config = await tx.guilds.get_guild(guild_id)
            if kind is EventKind.REVIVED:
                _require_cancelled(launch)
            else:
                self._require_open(launch, "re-announced")
            day = announced_on or deadlines.local_today(now, self._zone_of(launch, config))
            if kind is EventKind.REVIVED:
                _require_after_cancellation(launch, day)
            window = self.read_window(window_phrase, day)
            moved = _moved(launch, kind, window, quote=quote, source_url=source)
            updated = self._rearmed(moved, config, now)
            await self._apply(
                tx,
                config,
                launch,
                updated,
                kind,
                actor=actor,
                source_url=source,
                note=quote,
                data=_event_data(launch, updated, kind, window.phrase, day),
                now=now,
                previous_window=launch.window_phrase,
                previous_deadline=launch.deadline_at,
            )
        self._changed()
        return updated


def _require_cancelled(launch: Launch) -> None:
    if launch.state is not LaunchState.CANCELLED:
        raise InvalidTransition(
            f"{launch.product} is {launch.state.value}, not cancelled, so it cannot be "
            "revived. Use /launch delayed for a new window."
        )


def _require_after_cancellation(launch: Launch, day: dt.date) -> None:
    if launch.cancelled_on is not None and day < launch.cancelled_on:
        raise InvalidInput(
            f"{day.isoformat()} is before the cancellation "
            f"({launch.cancelled_on.isoformat()}); check the date."
        )


def _moved(
    launch: Launch, kind: EventKind, window: Window, *, quote: str | None, source_url: str | None
) -> Launch:
    """*launch* upcoming again in *window* (its deadline and due time still to be worked out);
    a revival also undoes the cancellation (a delayed launch was never closed)."""
    reopened: dict[str, Any] = {}
    if kind is EventKind.REVIVED:
        reopened = {"cancelled_on": None, "outcome_precision": Precision.DAY}
    return dataclasses.replace(
        launch,
        window_phrase=window.phrase.strip(),
        window_start=window.start,
        window_end=window.end,
        window_rule=window.rule,
        state=LaunchState.UPCOMING,
        # A slip is a window that moved later; the same or an earlier one is lineage.
        slip_count=launch.slip_count + (1 if window.end > launch.window_end else 0),
        quote=quote or launch.quote,
        source_url=source_url or launch.source_url,
        days_late=None,
        revision=launch.revision + 1,
        **reopened,
    )


def _event_data(
    before: Launch, after: Launch, kind: EventKind, phrase: str, day: dt.date
) -> dict[str, Any]:
    """The history row's data: where the launch was held before (its deadline, or for a
    revival the day it was cancelled) and where it is held now."""
    if kind is EventKind.REVIVED:
        cancelled_on = before.cancelled_on
        origin = {"cancelled_on": cancelled_on.isoformat() if cancelled_on else None}
    else:
        origin = {"from_deadline": before.deadline_at.isoformat()}
    return {
        "from_window": before.window_phrase,
        "from_window_end": before.window_end.isoformat(),
        **origin,
        "window": phrase,
        "window_end": after.window_end.isoformat(),
        "deadline_at": after.deadline_at.isoformat(),
        "announced_on": day.isoformat(),
        "slip_count": after.slip_count,
    }

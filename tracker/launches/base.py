"""What every part of the Tracker shares: the store and the clock, finding a launch, working
out its deadline and next due time, and writing a change with its history row and alert."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from tracker import deadlines
from tracker.clock import Clock
from tracker.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from tracker.eventlog import promised_window
from tracker.limits import Limits
from tracker.models import (
    Alert,
    AlertKind,
    EventKind,
    GuildConfig,
    Launch,
    LaunchSnapshot,
    LaunchState,
)
from tracker.outbox import fanout
from tracker.ports import Session, Store
from tracker.windows import Window, WindowError, parse_window


class OnChange(Protocol):
    """Told of each commit that can change what is due (the engine's poke, or a cluster's
    change feed). *due*: the change only added something due then (a new launch)."""

    def __call__(self, due: dt.datetime | None = None) -> None: ...


class TrackerBase:
    """The state and the steps the Tracker's parts share. *on_change* is called after each
    commit that can change what is due (the engine uses it to sweep and re-arm)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        on_change: OnChange | None = None,
        *,
        limits: Limits | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self._on_change = on_change
        self.limits = limits or Limits()

    def set_on_change(self, callback: OnChange) -> None:
        """Wire the engine in after construction."""
        self._on_change = callback

    def _changed(self, due: dt.datetime | None = None) -> None:
        if self._on_change is not None:
            self._on_change(due)

    async def get(self, guild_id: int, launch_id: int) -> Launch:
        """A launch of this guild, or NotFound (launches of other guilds are invisible)."""
        return await self._find(self.store.read, guild_id, launch_id)

    @staticmethod
    async def _find(tx: Session, guild_id: int, launch_id: int) -> Launch:
        launch = await tx.launches.get_launch(launch_id, guild_id)
        if launch is None:
            raise NotFound(f"There is no launch #{launch_id} in this server. Try /launch list.")
        return launch

    def read_window(self, phrase: str, announced_on: dt.date) -> Window:
        """Parse a window phrase, turning WindowError into the tracker's InvalidInput. The
        stored window never starts before the promise was made ("later this year" said in
        June starts in June)."""
        try:
            return promised_window(parse_window(phrase, announced_on), announced_on)
        except WindowError as exc:
            raise InvalidInput(str(exc)) from exc

    # ------------------------------------------------------------------ timing

    @staticmethod
    def _zone_of(launch: Launch, config: GuildConfig) -> ZoneInfo:
        return deadlines.zone(launch.timezone or config.timezone)

    def _items(self, launch: Launch, config: GuildConfig) -> list[deadlines.DueItem]:
        return deadlines.due_items(
            state=launch.state,
            deadline_at=launch.deadline_at,
            window_end=launch.window_end,
            tz=self._zone_of(launch, config),
            reminder_offsets=config.reminder_offsets,
            late_milestones=config.late_milestones,
        )

    def _rearmed(self, launch: Launch, config: GuildConfig, now: dt.datetime) -> Launch:
        """*launch* with its deadline worked out again from its window, timezone and the
        guild's grace, and its next due time after *now* (a slipped launch's deadline has
        passed, so only what comes after it: reminders and milestones not yet reached)."""
        tz = self._zone_of(launch, config)
        deadline = deadlines.deadline_for(launch.window_end, tz, config.grace_days)
        moved = dataclasses.replace(launch, deadline_at=deadline)
        items = self._items(moved, config)
        if moved.state is LaunchState.SLIPPED:
            nxt = deadlines.next_after(items, now)
        else:
            nxt = deadlines.first_due(items, now)
        return dataclasses.replace(moved, next_due_at=nxt.at if nxt else None)

    # ------------------------------------------------------------------ writing a change

    @staticmethod
    def _require_open(launch: Launch, verb: str) -> None:
        if launch.state.resolved:
            when = launch.shipped_on or launch.cancelled_on
            raise InvalidTransition(
                f"{launch.product} was already {launch.state.value}"
                f"{' on ' + when.isoformat() if when else ''}, so it cannot be {verb}. "
                "Use /launch history to see what happened."
            )

    @staticmethod
    async def _commit_change(tx: Session, before: Launch, after: Launch, now: dt.datetime) -> None:
        """Compare-and-set: write *after* only if the launch is still *before*'s revision."""
        if not await tx.launches.update_launch(
            after, expect_revision=before.revision, expect_state=before.state, now=now
        ):
            raise Conflict("The launch changed at the same moment; please try again.")

    async def _alert(
        self,
        tx: Session,
        config: GuildConfig,
        launch: Launch,
        kind: AlertKind,
        key: str,
        now: dt.datetime,
        *,
        actor: str,
        note: str | None,
        source_url: str | None,
        **fields: Any,
    ) -> None:
        """Queue an alert about *launch* for the guild's channel and its subscribers; *key*
        is the idempotency key every destination's row is derived from."""
        alert = Alert(
            kind=kind,
            launch=LaunchSnapshot.of(launch, self._zone_of(launch, config).key),
            at=now,
            note=note,
            actor=actor,
            source_url=source_url,
            **fields,
        )
        pending = await fanout.destinations(tx, config, alert, key)
        await fanout.write(tx, [(p,) for p in pending], now)

    async def _apply(
        self,
        tx: Session,
        config: GuildConfig,
        before: Launch,
        after: Launch,
        event: EventKind,
        *,
        actor: str,
        source_url: str | None,
        note: str | None,
        data: dict[str, Any],
        now: dt.datetime,
        **alert_fields: Any,
    ) -> None:
        """The common tail of every outcome and re-dating: compare-and-set the launch, append
        the history row, and queue the alert (same kind as the event) for the channel and
        subscribers."""
        await self._commit_change(tx, before, after, now)
        await tx.events.append_event(
            launch_id=before.id,
            guild_id=before.guild_id,
            kind=event,
            at=now,
            actor=actor,
            source_url=source_url,
            note=note,
            data=data,
        )
        await self._alert(
            tx,
            config,
            after,
            AlertKind(event.value),
            f"L{before.id}.r{after.revision}.{event.value}",
            now,
            actor=actor,
            note=note,
            source_url=source_url,
            **alert_fields,
        )

"""The launch lifecycle: every change a person (or a probe) can make, each in one transaction.

upcoming -> slipped -> shipped | cancelled; upcoming -> shipped | cancelled; a re-announcement
(new window) returns an upcoming or slipped launch to upcoming, counting a slip when the new
deadline is later. Each change appends to launch_events and, where people should hear of it,
writes outbox rows in the same transaction. Cogs and the CLI call these functions only.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from tracker import deadlines
from tracker.clock import Clock
from tracker.errors import Conflict, InvalidInput, InvalidTransition, NotFound
from tracker.eventlog import promised_window
from tracker.limits import Limits
from tracker.models import (
    Alert,
    AlertKind,
    DestinationKind,
    EventKind,
    Evidence,
    GuildConfig,
    Launch,
    LaunchEvent,
    LaunchSnapshot,
    LaunchState,
    NewLaunch,
    Precision,
    Subscription,
    SubscriptionScope,
)
from tracker.outbox import fanout
from tracker.ports import Session, Store
from tracker.text import plural
from tracker.windows import Window, WindowError, parse_window

log = logging.getLogger(__name__)

MAX_PRODUCT = 100
MAX_VENDOR = 60
MAX_ANNOUNCER = 100
MAX_QUOTE = 1000
MAX_URL = 500
MAX_NOTE = 1000


@dataclass(frozen=True, slots=True)
class Added:
    """The result of adding a launch: what was saved and how its window was read."""

    launch: Launch
    window: Window
    timezone: str


def clean_text(value: str | None, *, what: str, maximum: int, required: bool = False) -> str | None:
    """Trim a typed value; refuse empty required ones and over-long ones with a hint."""
    if value is None:
        if required:
            raise InvalidInput(f"Please give a {what}.")
        return None
    text = " ".join(value.split())
    if not text:
        if required:
            raise InvalidInput(f"Please give a {what}.")
        return None
    if len(text) > maximum:
        raise InvalidInput(f"The {what} is {len(text)} characters long; at most {maximum}, please.")
    return text


def clean_url(value: str | None) -> str | None:
    """Accept only http(s) links with a host."""
    text = clean_text(value, what="source link", maximum=MAX_URL)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in text:
        raise InvalidInput(
            f"{text!r} is not a web link. Give the full address, like https://x.com/elonmusk/..."
        )
    return text


class Tracker:
    """Lifecycle operations on one database. *on_change* is called after each commit that can
    change what is due (the engine uses it to sweep and re-arm)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        on_change: Callable[[], None] | None = None,
        *,
        limits: Limits | None = None,
    ) -> None:
        self.store = store
        self.clock = clock
        self._on_change = on_change
        self.limits = limits or Limits()

    def set_on_change(self, callback: Callable[[], None]) -> None:
        """Wire the engine in after construction."""
        self._on_change = callback

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    # ------------------------------------------------------------------ guild settings

    async def guild(self, guild_id: int) -> GuildConfig:
        """A guild's settings (defaults if never configured)."""
        return await self.store.read.guilds.get_guild(guild_id)

    async def configure(self, guild_id: int, **changes: Any) -> GuildConfig:
        """Change guild settings and reschedule its open launches when timing settings moved."""
        if "timezone" in changes:
            deadlines.zone(changes["timezone"])
        if "grace_days" in changes and not 0 <= int(changes["grace_days"]) <= 365:
            raise InvalidInput("Grace must be between 0 and 365 days.")
        now = self.clock.now()
        async with self.store.transaction() as tx:
            before = await tx.guilds.get_guild(guild_id)
            after = dataclasses.replace(before, **changes)
            await tx.guilds.save_guild(after, now)
            timing = ("timezone", "grace_days", "reminder_offsets", "late_milestones")
            if any(getattr(before, k) != getattr(after, k) for k in timing):
                await self._reschedule_guild(tx, after, now)
        self._changed()
        return after

    async def set_alert_channel(self, guild_id: int, channel_id: int) -> tuple[GuildConfig, int]:
        """Point alerts at *channel_id*. Alerts held for a broken channel are sent there (or,
        when the same channel is set again after a fix, released). Returns (config, moved)."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            before = await tx.guilds.get_guild(guild_id)
            after = dataclasses.replace(before, alert_channel_id=channel_id)
            await tx.guilds.save_guild(after, now)
            moved = 0
            old = before.alert_channel_id
            if old is not None and old != channel_id:
                moved += await tx.destinations.retarget_held(
                    DestinationKind.CHANNEL, old, channel_id, now
                )
            moved += await tx.destinations.release_destination(
                DestinationKind.CHANNEL, channel_id, now
            )
        self._changed()
        return after, moved

    async def queue_test_alert(self, guild_id: int, key: str) -> bool:
        """Queue a sample alert to the guild's alert channel through the real outbox."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            config = await tx.guilds.get_guild(guild_id)
            if config.alert_channel_id is None:
                raise InvalidInput("No alert channel yet. Set one with /alerts channel first.")
            launches = await tx.launches.list_launches(guild_id, limit=1)
            if launches:
                launch = launches[0]
                snapshot = LaunchSnapshot.of(launch, self._zone_of(launch, config).key)
            else:
                snapshot = LaunchSnapshot(
                    id=0,
                    guild_id=guild_id,
                    product="Example Model",
                    vendor="Example Lab",
                    announcer="Example CEO",
                    source_url=None,
                    quote="It will ship by the end of the year.",
                    announced_on=now.date(),
                    window_phrase="end of the year",
                    window_end=dt.date(now.year, 12, 31),
                    deadline_at=now,
                    timezone=config.timezone,
                    state=LaunchState.UPCOMING,
                    slip_count=0,
                    shipped_on=None,
                    cancelled_on=None,
                    days_late=None,
                )
            alert = Alert(kind=AlertKind.TEST, launch=snapshot, at=now, actor="test")
            pending = fanout.Pending(
                guild_id=guild_id,
                dest_kind=DestinationKind.CHANNEL,
                dest_id=config.alert_channel_id,
                idem_key=key,
                alert=alert,
                mention_role_id=config.mention_role_id,
            )
            written = await fanout.write(tx, [(pending,)], now)
        self._changed()
        return written == 1

    async def _reschedule_guild(self, tx: Session, config: GuildConfig, now: dt.datetime) -> None:
        for launch in await tx.launches.all_launches(config.guild_id):
            if launch.state.resolved:
                continue
            tz = self._zone_of(launch, config)
            deadline = deadlines.deadline_for(launch.window_end, tz, config.grace_days)
            candidate = dataclasses.replace(launch, deadline_at=deadline)
            items = self._items(candidate, config)
            if launch.state is LaunchState.SLIPPED:
                nxt = deadlines.next_after(items, now)
            else:
                nxt = deadlines.first_due(items, now)
            updated = dataclasses.replace(
                candidate,
                next_due_at=nxt.at if nxt else None,
                revision=launch.revision + 1,
            )
            await tx.launches.update_launch(
                updated, expect_revision=launch.revision, expect_state=launch.state, now=now
            )

    # ------------------------------------------------------------------ helpers

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

    async def get(self, guild_id: int, launch_id: int) -> Launch:
        """A launch of this guild, or NotFound (launches of other guilds are invisible)."""
        launch = await self.store.read.launches.get_launch(launch_id, guild_id)
        if launch is None:
            raise NotFound(f"There is no launch #{launch_id} in this server. Try /launch list.")
        return launch

    async def _get_for_update(self, tx: Session, guild_id: int, launch_id: int) -> Launch:
        launch = await tx.launches.get_launch(launch_id, guild_id)
        if launch is None:
            raise NotFound(f"There is no launch #{launch_id} in this server. Try /launch list.")
        return launch

    async def _notify(
        self,
        tx: Session,
        config: GuildConfig,
        alert: Alert,
        idem_base: str,
        now: dt.datetime,
    ) -> None:
        pending = await fanout.destinations(tx, config, alert, idem_base)
        await fanout.write(tx, [(p,) for p in pending], now)

    # ------------------------------------------------------------------ lifecycle

    def read_window(self, phrase: str, announced_on: dt.date) -> Window:
        """Parse a window phrase, turning WindowError into the tracker's InvalidInput. The
        stored window never starts before the promise was made ("later this year" said in
        June starts in June)."""
        try:
            return promised_window(parse_window(phrase, announced_on), announced_on)
        except WindowError as exc:
            raise InvalidInput(str(exc)) from exc

    async def add(self, new: NewLaunch, actor: str) -> Added:
        """Add an upcoming launch; its deadline is armed at once."""
        product = clean_text(new.product, what="product name", maximum=MAX_PRODUCT, required=True)
        vendor = clean_text(new.vendor, what="vendor name", maximum=MAX_VENDOR, required=True)
        announcer = clean_text(new.announcer, what="announcer", maximum=MAX_ANNOUNCER)
        quote = clean_text(new.quote, what="quote", maximum=MAX_QUOTE)
        source = clean_url(new.source_url)
        if new.timezone:
            deadlines.zone(new.timezone)
        window = self.read_window(new.window_phrase, new.announced_on)
        now = self.clock.now()
        async with self.store.transaction() as tx:
            cap = self.limits.launches_per_guild
            if await tx.launches.count_launches(new.guild_id) >= cap:
                raise InvalidInput(
                    f"This server already tracks {plural(cap, 'launch')}, the most a server can "
                    "have. Remove launches you no longer need with /launch remove first."
                )
            config = await tx.guilds.get_guild(new.guild_id)
            tz_name = new.timezone or config.timezone
            tz = deadlines.zone(tz_name)
            deadline = deadlines.deadline_for(window.end, tz, config.grace_days)
            items = deadlines.due_items(
                state=LaunchState.UPCOMING,
                deadline_at=deadline,
                window_end=window.end,
                tz=tz,
                reminder_offsets=config.reminder_offsets,
                late_milestones=config.late_milestones,
            )
            first = deadlines.first_due(items, now)
            assert product is not None and vendor is not None
            launch = await tx.launches.insert_launch(
                guild_id=new.guild_id,
                product=product,
                vendor=vendor,
                announcer=announcer,
                source_url=source,
                quote=quote,
                announced_on=new.announced_on,
                window_phrase=window.phrase.strip(),
                window_start=window.start,
                window_end=window.end,
                window_rule=window.rule,
                timezone=new.timezone,
                deadline_at=deadline,
                next_due_at=first.at if first else None,
                now=now,
                evidence=new.evidence,
                announced_precision=new.announced_precision,
            )
            await tx.events.append_event(
                launch_id=launch.id,
                guild_id=launch.guild_id,
                kind=EventKind.CREATED,
                at=now,
                actor=actor,
                source_url=source,
                note=quote,
                data={
                    "window": window.phrase,
                    "window_start": window.start.isoformat(),
                    "window_end": window.end.isoformat(),
                    "rule": window.rule,
                    "deadline_at": deadline.isoformat(),
                    "evidence": new.evidence.value,
                },
            )
        self._changed()
        return Added(launch=launch, window=window, timezone=tz_name)

    async def edit(self, guild_id: int, launch_id: int, actor: str, **changes: Any) -> Launch:
        """Correct a launch's details (not its window: use re-announce for a new promise)."""
        allowed = {"product", "vendor", "announcer", "source_url", "quote", "timezone", "evidence"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidInput(f"Cannot edit {', '.join(sorted(unknown))}.")
        cleaned: dict[str, Any] = {}
        limits = {
            "product": ("product name", MAX_PRODUCT, True),
            "vendor": ("vendor name", MAX_VENDOR, True),
            "announcer": ("announcer", MAX_ANNOUNCER, False),
            "quote": ("quote", MAX_QUOTE, False),
        }
        for key, value in changes.items():
            if value is None:
                continue
            if key == "source_url":
                cleaned[key] = clean_url(value)
            elif key == "timezone":
                deadlines.zone(value)
                cleaned[key] = value
            elif key == "evidence":
                try:
                    cleaned[key] = Evidence(str(value).strip().lower())
                except ValueError:
                    raise InvalidInput("Evidence is official, reported or rumour.") from None
            else:
                what, maximum, required = limits[key]
                cleaned[key] = clean_text(value, what=what, maximum=maximum, required=required)
        if not cleaned:
            raise InvalidInput("Nothing to change: give at least one field to edit.")
        now = self.clock.now()
        async with self.store.transaction() as tx:
            launch = await self._get_for_update(tx, guild_id, launch_id)
            config = await tx.guilds.get_guild(guild_id)
            updated = dataclasses.replace(launch, revision=launch.revision + 1, **cleaned)
            if "timezone" in cleaned and not launch.state.resolved:
                tz = self._zone_of(updated, config)
                deadline = deadlines.deadline_for(updated.window_end, tz, config.grace_days)
                updated = dataclasses.replace(updated, deadline_at=deadline)
                items = self._items(updated, config)
                nxt = (
                    deadlines.next_after(items, now)
                    if updated.state is LaunchState.SLIPPED
                    else deadlines.first_due(items, now)
                )
                updated = dataclasses.replace(updated, next_due_at=nxt.at if nxt else None)
            if not await tx.launches.update_launch(
                updated, expect_revision=launch.revision, expect_state=launch.state, now=now
            ):
                raise Conflict("The launch changed at the same moment; please try again.")
            before = {k: getattr(launch, k) for k in cleaned}
            await tx.events.append_event(
                launch_id=launch.id,
                guild_id=guild_id,
                kind=EventKind.EDITED,
                at=now,
                actor=actor,
                data={"before": before, "after": cleaned},
            )
        self._changed()
        return updated

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
        """Mark a launch shipped on *on* (default: today in its timezone)."""
        source = clean_url(source_url)
        note = clean_text(note, what="note", maximum=MAX_NOTE)
        now = self.clock.now()
        async with self.store.transaction() as tx:
            launch = await self._get_for_update(tx, guild_id, launch_id)
            config = await tx.guilds.get_guild(guild_id)
            self._require_open(launch, "marked shipped")
            tz = self._zone_of(launch, config)
            day = on or deadlines.local_today(now, tz)
            if day < launch.announced_on:
                raise InvalidInput(
                    f"{day.isoformat()} is before the announcement "
                    f"({launch.announced_on.isoformat()}); check the date."
                )
            if day > deadlines.local_today(now, tz) + dt.timedelta(days=1):
                raise InvalidInput(f"{day.isoformat()} is in the future; give the actual day.")
            # Signed and against the first promise (tracker.stats): re-dating never resets it.
            days_late = (day - launch.first_window_end).days
            updated = dataclasses.replace(
                launch,
                state=LaunchState.SHIPPED,
                shipped_on=day,
                outcome_precision=Precision.DAY,
                days_late=days_late,
                next_due_at=None,
                revision=launch.revision + 1,
            )
            await self._apply(
                tx,
                config,
                launch,
                updated,
                EventKind.SHIPPED,
                actor=actor,
                source_url=source,
                note=note,
                data={"shipped_on": day.isoformat(), "days_late": days_late},
                now=now,
                days_late=days_late,
            )
        self._changed()
        return updated

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
        """Mark a launch cancelled (abandoned, never coming). *undated*: it was quietly dropped
        and nobody knows the day (cancelled_on stays empty)."""
        source = clean_url(source_url)
        reason = clean_text(reason, what="reason", maximum=MAX_NOTE)
        now = self.clock.now()
        async with self.store.transaction() as tx:
            launch = await self._get_for_update(tx, guild_id, launch_id)
            config = await tx.guilds.get_guild(guild_id)
            self._require_open(launch, "cancelled")
            tz = self._zone_of(launch, config)
            if undated and on is not None:
                raise InvalidInput("Give a day or say it is undated, not both.")
            day = None if undated else (on or deadlines.local_today(now, tz))
            if day is not None and day < launch.announced_on:
                raise InvalidInput(
                    f"{day.isoformat()} is before the announcement "
                    f"({launch.announced_on.isoformat()}); check the date."
                )
            updated = dataclasses.replace(
                launch,
                state=LaunchState.CANCELLED,
                cancelled_on=day,
                outcome_precision=Precision.DAY,
                days_late=None,  # a cancelled launch has no lateness (tracker.stats)
                next_due_at=None,
                revision=launch.revision + 1,
            )
            await self._apply(
                tx,
                config,
                launch,
                updated,
                EventKind.CANCELLED,
                actor=actor,
                source_url=source,
                note=reason,
                data={"cancelled_on": day.isoformat() if day else None},
                now=now,
            )
        self._changed()
        return updated

    async def reannounce(
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
        """A new promise for an open launch: new window, back to upcoming, slip + 1 if later."""
        source = clean_url(source_url)
        quote = clean_text(quote, what="quote", maximum=MAX_QUOTE)
        now = self.clock.now()
        async with self.store.transaction() as tx:
            launch = await self._get_for_update(tx, guild_id, launch_id)
            config = await tx.guilds.get_guild(guild_id)
            self._require_open(launch, "re-announced")
            tz = self._zone_of(launch, config)
            day = announced_on or deadlines.local_today(now, tz)
            window = self.read_window(window_phrase, day)
            deadline = deadlines.deadline_for(window.end, tz, config.grace_days)
            # A slip is a window that moved later; the same or an earlier one is only lineage.
            slipped_further = window.end > launch.window_end
            moved = dataclasses.replace(
                launch,
                window_phrase=window.phrase.strip(),
                window_start=window.start,
                window_end=window.end,
                window_rule=window.rule,
                deadline_at=deadline,
                state=LaunchState.UPCOMING,
                slip_count=launch.slip_count + (1 if slipped_further else 0),
                quote=quote or launch.quote,
                source_url=source or launch.source_url,
                days_late=None,
                revision=launch.revision + 1,
            )
            first = deadlines.first_due(self._items(moved, config), now)
            updated = dataclasses.replace(moved, next_due_at=first.at if first else None)
            await self._apply(
                tx,
                config,
                launch,
                updated,
                EventKind.REANNOUNCED,
                actor=actor,
                source_url=source,
                note=quote,
                data={
                    "from_window": launch.window_phrase,
                    "from_window_end": launch.window_end.isoformat(),
                    "from_deadline": launch.deadline_at.isoformat(),
                    "window": window.phrase,
                    "window_end": window.end.isoformat(),
                    "deadline_at": deadline.isoformat(),
                    "announced_on": day.isoformat(),
                    "slip_count": updated.slip_count,
                },
                now=now,
                previous_window=launch.window_phrase,
                previous_deadline=launch.deadline_at,
            )
        self._changed()
        return updated

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
        with. The score still measures it against its first promise."""
        source = clean_url(source_url)
        quote = clean_text(quote, what="quote", maximum=MAX_QUOTE)
        now = self.clock.now()
        async with self.store.transaction() as tx:
            launch = await self._get_for_update(tx, guild_id, launch_id)
            config = await tx.guilds.get_guild(guild_id)
            if launch.state is not LaunchState.CANCELLED:
                raise InvalidTransition(
                    f"{launch.product} is {launch.state.value}, not cancelled, so it cannot be "
                    "revived. Use /launch reannounce for a new window."
                )
            tz = self._zone_of(launch, config)
            day = announced_on or deadlines.local_today(now, tz)
            if launch.cancelled_on is not None and day < launch.cancelled_on:
                raise InvalidInput(
                    f"{day.isoformat()} is before the cancellation "
                    f"({launch.cancelled_on.isoformat()}); check the date."
                )
            window = self.read_window(window_phrase, day)
            deadline = deadlines.deadline_for(window.end, tz, config.grace_days)
            moved = dataclasses.replace(
                launch,
                window_phrase=window.phrase.strip(),
                window_start=window.start,
                window_end=window.end,
                window_rule=window.rule,
                deadline_at=deadline,
                state=LaunchState.UPCOMING,
                slip_count=launch.slip_count + (1 if window.end > launch.window_end else 0),
                quote=quote or launch.quote,
                source_url=source or launch.source_url,
                cancelled_on=None,
                days_late=None,
                outcome_precision=Precision.DAY,
                revision=launch.revision + 1,
            )
            first = deadlines.first_due(self._items(moved, config), now)
            updated = dataclasses.replace(moved, next_due_at=first.at if first else None)
            await self._apply(
                tx,
                config,
                launch,
                updated,
                EventKind.REVIVED,
                actor=actor,
                source_url=source,
                note=quote,
                data={
                    "from_window": launch.window_phrase,
                    "from_window_end": launch.window_end.isoformat(),
                    "cancelled_on": launch.cancelled_on.isoformat()
                    if launch.cancelled_on
                    else None,
                    "window": window.phrase,
                    "window_end": window.end.isoformat(),
                    "deadline_at": deadline.isoformat(),
                    "announced_on": day.isoformat(),
                    "slip_count": updated.slip_count,
                },
                now=now,
                previous_window=launch.window_phrase,
                previous_deadline=launch.deadline_at,
            )
        self._changed()
        return updated

    async def note(
        self,
        guild_id: int,
        launch_id: int,
        actor: str,
        *,
        text: str,
        source_url: str | None = None,
        notify: bool = False,
    ) -> Launch:
        """Record a note (a report, a rumour, context) in the launch's history."""
        body = clean_text(text, what="note", maximum=MAX_NOTE, required=True)
        source = clean_url(source_url)
        now = self.clock.now()
        async with self.store.transaction() as tx:
            launch = await self._get_for_update(tx, guild_id, launch_id)
            await tx.events.append_event(
                launch_id=launch.id,
                guild_id=guild_id,
                kind=EventKind.NOTE,
                at=now,
                actor=actor,
                source_url=source,
                note=body,
            )
            if notify:
                config = await tx.guilds.get_guild(guild_id)
                tz = self._zone_of(launch, config)
                alert = Alert(
                    kind=AlertKind.NOTE,
                    launch=LaunchSnapshot.of(launch, tz.key),
                    at=now,
                    note=body,
                    actor=actor,
                    source_url=source,
                )
                key = f"L{launch.id}.note{int(now.timestamp() * 1000)}"
                await self._notify(tx, config, alert, key, now)
        if notify:
            self._changed()
        return launch

    async def remove(self, guild_id: int, launch_id: int) -> Launch:
        """Delete a launch with its history (a manager's deliberate act)."""
        async with self.store.transaction() as tx:
            launch = await self._get_for_update(tx, guild_id, launch_id)
            await tx.launches.delete_launch(launch_id, guild_id)
        self._changed()
        return launch

    async def history(self, guild_id: int, launch_id: int) -> list[LaunchEvent]:
        """A launch's event log, oldest first."""
        await self.get(guild_id, launch_id)
        return await self.store.read.events.launch_events(launch_id)

    # ------------------------------------------------------------------ subscriptions

    async def subscribe(
        self,
        guild_id: int,
        user_id: int,
        scope: SubscriptionScope,
        target: str = "",
        mode: str = "instant",
    ) -> tuple[Subscription, bool]:
        """Subscribe a user to a launch (target = its id), a vendor, or all of a guild."""
        if mode not in ("instant", "digest"):
            raise InvalidInput('Choose "instant" or "digest".')
        label = None
        if scope is SubscriptionScope.LAUNCH:
            await self.get(guild_id, int(target))
        elif scope is SubscriptionScope.VENDOR:
            vendor = clean_text(target, what="vendor name", maximum=MAX_VENDOR, required=True)
            assert vendor is not None
            target = vendor.casefold()
            label = vendor  # shown as typed; matched folded
        else:
            target = ""
        async with self.store.transaction() as tx:
            return await tx.subscriptions.add_subscription(
                guild_id=guild_id,
                user_id=user_id,
                scope=scope,
                target=target,
                mode=mode,
                now=self.clock.now(),
                label=label,
            )

    async def unsubscribe(
        self, guild_id: int, user_id: int, scope: SubscriptionScope, target: str = ""
    ) -> bool:
        """Remove a subscription; False when there was none."""
        if scope is SubscriptionScope.VENDOR:
            target = target.strip().casefold()
        elif scope is SubscriptionScope.ALL:
            target = ""
        async with self.store.transaction() as tx:
            return await tx.subscriptions.remove_subscription(
                guild_id=guild_id, user_id=user_id, scope=scope, target=target
            )

    async def subscriptions(self, user_id: int) -> list[Subscription]:
        """A user's subscriptions in every guild."""
        return await self.store.read.subscriptions.user_subscriptions(user_id)

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _require_open(launch: Launch, verb: str) -> None:
        if launch.state.resolved:
            when = launch.shipped_on or launch.cancelled_on
            raise InvalidTransition(
                f"{launch.product} was already {launch.state.value}"
                f"{' on ' + when.isoformat() if when else ''}, so it cannot be {verb}. "
                "Use /launch history to see what happened."
            )

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
        """The common tail of every outcome: compare-and-set the launch, append the history
        row, and queue the alert (same kind as the event) for the channel and subscribers."""
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
        alert = Alert(
            kind=AlertKind(event.value),
            launch=LaunchSnapshot.of(after, self._zone_of(after, config).key),
            at=now,
            note=note,
            actor=actor,
            source_url=source_url,
            **alert_fields,
        )
        key = f"L{before.id}.r{after.revision}.{event.value}"
        await self._notify(tx, config, alert, key, now)

    @staticmethod
    async def _commit_change(tx: Session, before: Launch, after: Launch, now: dt.datetime) -> None:
        if not await tx.launches.update_launch(
            after, expect_revision=before.revision, expect_state=before.state, now=now
        ):
            raise Conflict("The launch changed at the same moment; please try again.")

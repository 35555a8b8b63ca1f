"""Adding a launch to the watchlist: its details cleaned, its window read, its deadline armed,
and a "created" row opening its history."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from tracker import deadlines
from tracker.errors import InvalidInput
from tracker.launches.base import TrackerBase
from tracker.launches.fields import (
    MAX_ANNOUNCER,
    MAX_PRODUCT,
    MAX_QUOTE,
    MAX_VENDOR,
    clean_text,
    clean_url,
)
from tracker.models import EventKind, GuildConfig, Launch, LaunchState, NewLaunch
from tracker.ports import Session
from tracker.text import plural
from tracker.windows import Window


@dataclass(frozen=True, slots=True)
class Added:
    """The result of adding a launch: what was saved and how its window was read."""

    launch: Launch
    window: Window
    timezone: str


class Adding(TrackerBase):
    """The part of the Tracker that adds launches."""

    async def add(self, new: NewLaunch, actor: str) -> Added:
        """Add an upcoming launch; its deadline is armed at once."""
        new = _cleaned(new)
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
            launch = await _insert(tx, config, new, window, now)
            await tx.events.append_event(
                launch_id=launch.id,
                guild_id=launch.guild_id,
                kind=EventKind.CREATED,
                at=now,
                actor=actor,
                source_url=new.source_url,
                note=new.quote,
                data={
                    "window": window.phrase,
                    "window_start": window.start.isoformat(),
                    "window_end": window.end.isoformat(),
                    "rule": window.rule,
                    "deadline_at": launch.deadline_at.isoformat(),
                    "evidence": new.evidence.value,
                },
            )
        # Only a due time was added: the engine need not look again unless it comes first.
        self._changed(launch.next_due_at)
        return Added(launch=launch, window=window, timezone=new.timezone or config.timezone)


def _cleaned(new: NewLaunch) -> NewLaunch:
    """*new* with its typed fields trimmed and checked."""
    product = clean_text(new.product, what="product name", maximum=MAX_PRODUCT, required=True)
    vendor = clean_text(new.vendor, what="vendor name", maximum=MAX_VENDOR, required=True)
    assert product is not None and vendor is not None
    return dataclasses.replace(
        new,
        product=product,
        vendor=vendor,
        announcer=clean_text(new.announcer, what="announcer", maximum=MAX_ANNOUNCER),
        quote=clean_text(new.quote, what="quote", maximum=MAX_QUOTE),
        source_url=clean_url(new.source_url),
    )


async def _insert(
    tx: Session, config: GuildConfig, new: NewLaunch, window: Window, now: dt.datetime
) -> Launch:
    """Save *new* as an upcoming launch with its deadline and first due time."""
    tz = deadlines.zone(new.timezone or config.timezone)
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
    return await tx.launches.insert_launch(
        guild_id=new.guild_id,
        product=new.product,
        vendor=new.vendor,
        announcer=new.announcer,
        source_url=new.source_url,
        quote=new.quote,
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

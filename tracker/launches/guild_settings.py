"""A server's settings: its timezone, grace and reminder timing (a change re-times its open
launches), its alert channel (held alerts follow the channel), and a test alert."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

from tracker import deadlines
from tracker.errors import InvalidInput
from tracker.launches.base import TrackerBase
from tracker.models import (
    Alert,
    AlertKind,
    DestinationKind,
    GuildConfig,
    LaunchSnapshot,
    LaunchState,
)
from tracker.outbox import fanout
from tracker.ports import Session
from tracker.probes.posts import queue_posts

# The settings that move a launch's deadline, reminders or late milestones.
_TIMING = ("timezone", "grace_days", "reminder_offsets", "late_milestones")


class GuildSettings(TrackerBase):
    """The part of the Tracker that reads and changes a server's settings."""

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
            if any(getattr(before, k) != getattr(after, k) for k in _TIMING):
                await self._reschedule_guild(tx, after, now)
        self._changed()
        return after

    async def _reschedule_guild(self, tx: Session, config: GuildConfig, now: dt.datetime) -> None:
        for launch in await tx.launches.all_launches(config.guild_id):
            if launch.state.resolved:
                continue
            updated = self._rearmed(launch, config, now)
            await tx.launches.update_launch(
                dataclasses.replace(updated, revision=launch.revision + 1),
                expect_revision=launch.revision,
                expect_state=launch.state,
                now=now,
            )

    async def set_alert_channel(self, guild_id: int, channel_id: int) -> tuple[GuildConfig, int]:
        """Point alerts at *channel_id*. Alerts held for a broken channel are sent there (or,
        when the same channel is set again after a fix, released); the probes' proposals that
        waited for a channel are queued to it. Returns (config, moved)."""
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
            # The probes' open proposals that waited for an alert channel are posted there.
            waiting = await tx.detections.unqueued_detections(1000, guild_id)
            await queue_posts(tx, waiting, now)
        self._changed()
        return after, moved

    async def queue_test_alert(self, guild_id: int, key: str) -> bool:
        """Queue a sample alert to the guild's alert channel through the real outbox: about
        the guild's first launch, or an example one when it tracks none yet."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            config = await tx.guilds.get_guild(guild_id)
            if config.alert_channel_id is None:
                raise InvalidInput("No alert channel yet. Set one with /alerts channel first.")
            launches = await tx.launches.list_launches(guild_id, limit=1)
            if launches:
                snapshot = LaunchSnapshot.of(launches[0], self._zone_of(launches[0], config).key)
            else:
                snapshot = _example_launch(config, now)
            pending = fanout.Pending(
                guild_id=guild_id,
                dest_kind=DestinationKind.CHANNEL,
                dest_id=config.alert_channel_id,
                idem_key=key,
                alert=Alert(kind=AlertKind.TEST, launch=snapshot, at=now, actor="test"),
                mention_role_id=config.mention_role_id,
            )
            written = await fanout.write(tx, [(pending,)], now)
        self._changed()
        return written == 1


def _example_launch(config: GuildConfig, now: dt.datetime) -> LaunchSnapshot:
    """The launch a test alert shows in a server that tracks none yet."""
    return LaunchSnapshot(
        id=0,
        guild_id=config.guild_id,
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

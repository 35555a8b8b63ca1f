"""Correcting a launch's details (a new timezone re-times an open launch) and removing a launch
with its history."""

from __future__ import annotations

import dataclasses
from typing import Any

from tracker.launches.base import TrackerBase
from tracker.launches.fields import clean_changes
from tracker.models import EventKind, Launch


class Editing(TrackerBase):
    """The part of the Tracker that corrects and removes launches."""

    async def edit(self, guild_id: int, launch_id: int, actor: str, **changes: Any) -> Launch:
        """Correct a launch's details (not its window: /launch delayed records a new promise)."""
        cleaned = clean_changes(changes)
        now = self.clock.now()
        async with self.store.transaction() as tx:
            launch = await self._find(tx, guild_id, launch_id)
            config = await tx.guilds.get_guild(guild_id)
            updated = dataclasses.replace(launch, revision=launch.revision + 1, **cleaned)
            if "timezone" in cleaned and not launch.state.resolved:
                updated = self._rearmed(updated, config, now)
            await self._commit_change(tx, launch, updated, now)
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

    async def remove(self, guild_id: int, launch_id: int) -> Launch:
        """Delete a launch with its history (a manager's deliberate act)."""
        async with self.store.transaction() as tx:
            launch = await self._find(tx, guild_id, launch_id)
            await tx.launches.delete_launch(launch_id, guild_id)
        self._changed()
        return launch

"""A launch's history: notes people add (a report, a rumour, context), told to subscribers when
asked, and the whole event log read back."""

from __future__ import annotations

from tracker.launches.base import TrackerBase
from tracker.launches.fields import MAX_NOTE, clean_text, clean_url
from tracker.models import AlertKind, EventKind, Launch, LaunchEvent


class History(TrackerBase):
    """The part of the Tracker that adds notes to a launch's history and reads it."""

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
        """Record a note (a report, a rumour, context) in the launch's history; with *notify*,
        alert the channel and subscribers too."""
        body = clean_text(text, what="note", maximum=MAX_NOTE, required=True)
        source = clean_url(source_url)
        now = self.clock.now()
        async with self.store.transaction() as tx:
            launch = await self._find(tx, guild_id, launch_id)
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
                key = f"L{launch.id}.note{int(now.timestamp() * 1000)}"
                await self._alert(
                    tx,
                    config,
                    launch,
                    AlertKind.NOTE,
                    key,
                    now,
                    actor=actor,
                    note=body,
                    source_url=source,
                )
        if notify:
            self._changed()
        return launch

    async def history(self, guild_id: int, launch_id: int) -> list[LaunchEvent]:
        """A launch's event log, oldest first."""
        await self.get(guild_id, launch_id)
        return await self.store.read.events.launch_events(launch_id)

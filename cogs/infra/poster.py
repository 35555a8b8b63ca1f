"""The poster of proposals: sends every pending proposal of the release probes to its server's
alert channel, woken by each new one; the probe service keeps a proposal until it is posted, so
a Discord outage or a restart loses none. The message itself (its embed and buttons) is
cogs.infra.proposals', imported at the first post: the poster starts with the engine, before
the commands and their rendering are loaded."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord

from tracker.probes import Proposal

if TYPE_CHECKING:
    from cogs.infra.bot import SlipwatchBot

log = logging.getLogger(__name__)


class ProposalPoster:
    """Posts pending proposals to the alert channel; the service keeps them until posted, so a
    Discord outage or a restart loses none."""

    def __init__(self, bot: SlipwatchBot) -> None:
        self.bot = bot
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start posting in the background (and post what was pending at start)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="slipwatch-proposals")
            self._wake.set()

    async def stop(self) -> None:
        """Stop the background task."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def on_detection(self, proposal: Proposal) -> None:
        """ProbeService callback."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.post_pending()
            except Exception:
                log.exception("posting proposals failed; retrying in 30 s")
                asyncio.get_running_loop().call_later(30.0, self._wake.set)

    async def post_pending(self) -> int:
        """Post every pending proposal whose guild has an alert channel; returns how many."""
        from cogs.infra.proposals import proposal_embed, proposal_nonce, proposal_view

        posted = 0
        for proposal in await self.bot.probes.pending_posts():
            detection = proposal.detection
            config = await self.bot.tracker.guild(detection.guild_id)
            if config.alert_channel_id is None:
                continue
            view = proposal_view(detection)
            channel = self.bot.get_partial_messageable(config.alert_channel_id)
            try:
                message = await channel.send(
                    embed=proposal_embed(proposal),
                    view=view if view is not None else discord.utils.MISSING,
                    nonce=proposal_nonce(detection.id),
                    allowed_mentions=discord.AllowedMentions.none(),
                )
            except discord.HTTPException as exc:
                log.warning("posting detection %s failed (%s)", detection.id, exc.status)
                continue
            await self.bot.probes.mark_posted(detection.guild_id, detection.id, message.id)
            posted += 1
        return posted

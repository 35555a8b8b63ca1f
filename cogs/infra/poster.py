"""The poster of proposals: sends every pending proposal of the release probes to its server's
alert channel, woken by each new one; the probe service keeps a proposal until it is posted, so
a Discord outage or a restart loses none. The message itself (its embed and buttons) is
cogs.infra.proposals', imported at the first post: the poster starts with the engine, before
the commands and their rendering are loaded.

Guilds take turns (every guild's oldest proposal first) and a guild without an alert channel is
left out, so no server's backlog holds up another's. A channel whose post failed rests: after a
passing failure (5xx, 429, a timeout) it is retried with a doubling backoff from
``retry_s`` up to ``max_retry_s``; a channel that refuses (403, 404, another 4xx) is logged once
and retried after ``refused_s``, doubling up to ``max_refused_s``, never on every wake. A
post that succeeds, or a new alert channel, starts over."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

import aiohttp
import discord

from tracker.probes import Proposal

if TYPE_CHECKING:
    from cogs.infra.bot import SlipwatchBot

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Rest:
    """A channel whose last post failed: when it may be tried again."""

    failures: int
    until: float  # the event loop's clock
    refused: bool


class ProposalPoster:
    """Posts pending proposals to the alert channel; the service keeps them until posted, so
    a Discord outage or a restart loses none."""

    retry_s = 5.0
    max_retry_s = 300.0
    refused_s = 600.0
    max_refused_s = 6 * 3600.0
    batch = 50

    def __init__(self, bot: SlipwatchBot) -> None:
        self.bot = bot
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._resting: dict[int, _Rest] = {}  # by channel id
        self._timers: set[asyncio.TimerHandle] = set()

    def start(self) -> None:
        """Start posting in the background (and post what was pending at start)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="slipwatch-proposals")
            self._wake.set()

    async def stop(self) -> None:
        """Stop the background task."""
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
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

    def resting(self) -> dict[int, float]:
        """The channels resting after a failed post: seconds until each is tried again."""
        now = asyncio.get_running_loop().time()
        return {ch: r.until - now for ch, r in self._resting.items() if r.until > now}

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.post_pending()
            except Exception:
                log.exception("posting proposals failed; retrying in 30 s")
                self._wake_in(30.0)

    def _wake_in(self, delay: float) -> None:
        loop = asyncio.get_running_loop()

        def wake() -> None:
            self._timers.discard(timer)
            self._wake.set()

        timer = loop.call_later(delay, wake)
        self._timers.add(timer)

    async def post_pending(self) -> int:
        """Post every pending proposal whose guild has an alert channel that is not resting;
        returns how many were posted."""
        posted = 0
        while True:
            skip = list(self.resting())
            batch = await self.bot.probes.pending_posts(self.batch, skip_channels=skip)
            progress = False
            for proposal in batch:
                outcome = await self._post(proposal, set(skip))
                if outcome is None:
                    continue
                progress = True
                if outcome:
                    posted += 1
                else:
                    skip = list(self.resting())
            if not progress:
                return posted

    async def _post(self, proposal: Proposal, skip: set[int]) -> bool | None:
        """Post one proposal: True when posted, False when its channel failed (and now rests),
        None when it was not tried (its channel rests, or the guild has none any more)."""
        from cogs.infra.proposals import proposal_embed, proposal_nonce, proposal_view

        detection = proposal.detection
        config = await self.bot.tracker.guild(detection.guild_id)
        channel_id = config.alert_channel_id
        if channel_id is None or channel_id in skip or channel_id in self.resting():
            return None
        view = proposal_view(detection)
        channel = self.bot.get_partial_messageable(channel_id)
        try:
            message = await channel.send(
                embed=proposal_embed(proposal),
                view=view if view is not None else discord.utils.MISSING,
                nonce=proposal_nonce(detection.id),
                allowed_mentions=discord.AllowedMentions.none(),
            )
        except discord.RateLimited as exc:
            self._rest(channel_id, detection.id, "rate limited (429)", False, exc.retry_after)
            return False
        except discord.HTTPException as exc:
            passing = exc.status == 429 or exc.status >= 500
            why = f"{exc.status}, error {exc.code}" if exc.code else str(exc.status)
            self._rest(channel_id, detection.id, f"Discord answered {why}", not passing)
            return False
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            self._rest(channel_id, detection.id, f"network: {type(exc).__name__}", False)
            return False
        self._resting.pop(channel_id, None)
        await self.bot.probes.mark_posted(detection.guild_id, detection.id, message.id)
        return True

    def _rest(
        self,
        channel_id: int,
        detection_id: int,
        why: str,
        refused: bool,
        after_s: float | None = None,
    ) -> None:
        """Rest *channel_id* after a failed post and wake the poster when it may be tried."""
        before = self._resting.get(channel_id)
        failures = 1
        if before is not None and before.refused == refused:
            failures = before.failures + 1
        if refused:
            delay = min(self.max_refused_s, self.refused_s * 2 ** (failures - 1))
        else:
            delay = min(self.max_retry_s, self.retry_s * 2 ** (failures - 1))
        if after_s is not None:
            delay = max(delay, after_s)
        loop = asyncio.get_running_loop()
        self._resting[channel_id] = _Rest(failures, loop.time() + delay, refused)
        self._wake_in(delay)
        if refused and failures == 1:
            log.warning(
                "channel %s refused proposal %s (%s); its proposals wait, tried again in %.0f s",
                channel_id,
                detection_id,
                why,
                delay,
            )
        else:
            log.info(
                "posting proposal %s in channel %s failed (%s); retry in %.1f s",
                detection_id,
                channel_id,
                why,
                delay,
            )

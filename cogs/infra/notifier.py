"""DiscordNotifier: delivers outbox rows to channels and DMs and classifies every failure."""

from __future__ import annotations

import asyncio
import io
import logging
from typing import TYPE_CHECKING

import aiohttp
import discord

from tracker.models import BrokenNotice, DestinationKind, OutboxRow
from tracker.outbox.delivery import (
    BrokenDestination,
    Delivered,
    DeliveryResult,
    Rejected,
    RetryLater,
    UnreachableUser,
)

if TYPE_CHECKING:
    from cogs.infra.bot import SlipwatchBot

log = logging.getLogger(__name__)

CANNOT_DM = 50007
MISSING_PERMISSIONS = 50013
MISSING_ACCESS = 50001
UNKNOWN_CHANNEL = 10003
UNKNOWN_USER = 10013
SEND_TIMEOUT_S = 30.0
CHART_NAME = "slipwatch-timeline.png"


class DiscordNotifier:
    """Sends one outbox row with its nonce (discord.py adds enforce_nonce), so that Discord
    itself drops a resend after a crash. Every request is paced by the bot's GlobalPacer
    (cogs/infra/pacing.py), which sits under discord.py's HTTP client."""

    def __init__(self) -> None:
        self._bot: SlipwatchBot | None = None

    def attach(self, bot: SlipwatchBot) -> None:
        """Send through *bot* (built after the services this notifier is given to)."""
        self._bot = bot

    @property
    def bot(self) -> SlipwatchBot:
        """The bot that sends; set by :meth:`attach` before anything is delivered."""
        if self._bot is None:
            raise RuntimeError("DiscordNotifier used before attach(bot)")
        return self._bot

    async def deliver(self, row: OutboxRow) -> DeliveryResult:
        """Send *row*; never raises for a delivery failure."""
        try:
            async with asyncio.timeout(SEND_TIMEOUT_S):
                if row.payload.notice is not None:
                    return await self._send_notice(row, row.payload.notice)
                if row.payload.detection is not None:
                    return await self._send_detection(row, row.payload.detection)
                if row.dest_kind is DestinationKind.CHANNEL:
                    return await self._send_channel(row)
                return await self._send_dm(row)
        except discord.Forbidden as exc:
            if exc.code == CANNOT_DM:
                return UnreachableUser(
                    "Discord refuses DMs to this user (error 50007): they closed DMs from "
                    "server members or blocked the bot."
                )
            if row.dest_kind is DestinationKind.USER:
                return UnreachableUser(f"Discord refused the DM (403, error {exc.code}).")
            return BrokenDestination(
                f"Missing permissions in <#{row.dest_id}> (403, error {exc.code}): the bot needs "
                "View Channel, Send Messages and Embed Links there."
            )
        except discord.NotFound as exc:
            if row.dest_kind is DestinationKind.USER:
                if exc.code == UNKNOWN_CHANNEL:
                    await self._forget_dm(row.dest_id)
                    return RetryLater("DM channel vanished (10003); reopening it", after_s=0.0)
                return UnreachableUser(f"Discord does not know this user (404, error {exc.code}).")
            return BrokenDestination(
                f"The alert channel <#{row.dest_id}> no longer exists (404, error {exc.code})."
            )
        except discord.RateLimited as exc:
            return RetryLater("rate limited (429)", after_s=exc.retry_after)
        except discord.HTTPException as exc:
            if exc.status == 429:
                return RetryLater("rate limited (429)")
            if exc.status >= 500:
                return RetryLater(f"Discord server error {exc.status}")
            return Rejected(f"Discord rejected the message ({exc.status}, error {exc.code})")
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            return RetryLater(f"network: {type(exc).__name__}")

    # The look of a message (its embeds and buttons, and the statistics and digests they show)
    # is imported at the first send, not before: the bot's start arms the engine first.

    async def _send_channel(self, row: OutboxRow) -> DeliveryResult:
        from cogs.infra import messages
        from cogs.infra.buttons import alert_view
        from cogs.infra.promises import promise_view

        message = row.payload
        content = None
        mentions = discord.AllowedMentions.none()
        if message.mention_role_id:
            content = f"<@&{message.mention_role_id}>"
            mentions = discord.AllowedMentions(
                everyone=False,
                users=False,
                roles=[discord.Object(message.mention_role_id)],
            )
        channel = self.bot.get_partial_messageable(row.dest_id)
        embeds = messages.message_embeds(message)
        files: list[discord.File] = []
        digest = message.digest
        if digest is not None and not digest.get("empty") and digest.get("user_id") is None:
            # A channel digest carries the timeline chart, shown inside its embed.
            chart = await self.bot.stats.chart(int(digest["guild_id"]))
            files.append(discord.File(io.BytesIO(chart.png), filename=CHART_NAME))
            embeds[0].set_image(url=f"attachment://{CHART_NAME}")
        view = promise_view(message) if message.promise else alert_view(message)
        sent = await channel.send(
            content=content,
            embeds=embeds,
            files=files,
            view=view if view is not None else discord.utils.MISSING,
            nonce=row.nonce,
            allowed_mentions=mentions,
        )
        return Delivered(message_id=sent.id)

    async def _send_detection(self, row: OutboxRow, detection_id: int) -> DeliveryResult:
        """A release probe's detection as it stands now (an auto-confirmation says so and
        has no buttons); one decided or closed before it could be posted is not posted."""
        from cogs.infra.proposals import proposal_embed, proposal_view
        from tracker.probes import DetectionState

        proposal = None
        if row.guild_id is not None:
            proposal = await self.bot.probes.proposal_of(row.guild_id, detection_id)
        if proposal is None:
            return Rejected(f"detection #{detection_id} no longer exists")
        detection = proposal.detection
        if detection.state not in (DetectionState.PROPOSED, DetectionState.AUTO_CONFIRMED):
            return Rejected(
                f"detection #{detection_id} was {detection.state.value} before it was posted"
            )
        view = proposal_view(detection)
        channel = self.bot.get_partial_messageable(row.dest_id)
        sent = await channel.send(
            embed=proposal_embed(proposal),
            view=view if view is not None else discord.utils.MISSING,
            nonce=row.nonce,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        return Delivered(message_id=sent.id)

    async def _send_dm(self, row: OutboxRow) -> DeliveryResult:
        from cogs.infra import messages

        channel_id = await self._dm_channel(row.dest_id)
        channel = self.bot.get_partial_messageable(channel_id, type=discord.ChannelType.private)
        sent = await channel.send(
            embeds=messages.message_embeds(row.payload),
            nonce=row.nonce,
            allowed_mentions=discord.AllowedMentions.none(),
        )
        return Delivered(message_id=sent.id)

    async def _send_notice(self, row: OutboxRow, notice: BrokenNotice) -> DeliveryResult:
        """Tell a guild's managers that its alert channel is broken: in the system channel
        when that is another channel, else by DM to the owner. A target that refuses for good
        passes the notice to the next; a passing failure (5xx, 429, a timeout) propagates to
        :meth:`deliver`, which retries the whole row later, first target first: the nonce
        makes a resend to a target that did take it harmless."""
        from tracker.outbox import alert_text  # imported at the first notice, as messages are

        text = alert_text.broken_notice_text(notice)
        managers = await self._managers(notice.guild_id)
        if managers is None:
            log.info(
                "guild %s is gone: nobody to tell that channel %s is broken",
                notice.guild_id,
                notice.channel_id,
            )
            return Rejected("slipwatch is no longer in this server")
        system_id, owner_id = managers
        refusals: list[str] = []
        if system_id is not None and system_id != notice.channel_id:
            channel = self.bot.get_partial_messageable(system_id)
            try:
                sent = await channel.send(
                    text, nonce=row.nonce, allowed_mentions=discord.AllowedMentions.none()
                )
                return Delivered(message_id=sent.id)
            except discord.HTTPException as exc:
                if _passing(exc):
                    raise
                refusals.append(f"the system channel refused ({exc.status}, error {exc.code})")
        if owner_id is not None:
            try:
                dm = await self._dm_channel(owner_id)
                channel = self.bot.get_partial_messageable(dm, type=discord.ChannelType.private)
                sent = await channel.send(
                    text, nonce=row.nonce, allowed_mentions=discord.AllowedMentions.none()
                )
                return Delivered(message_id=sent.id)
            except discord.NotFound as exc:
                if exc.code == UNKNOWN_CHANNEL:
                    await self._forget_dm(owner_id)
                    return RetryLater("DM channel vanished (10003); reopening it", after_s=0.0)
                refusals.append(f"the owner's DMs refused (404, error {exc.code})")
            except discord.HTTPException as exc:
                if _passing(exc):
                    raise
                refusals.append(f"the owner's DMs refused ({exc.status}, error {exc.code})")
        if system_id is None or system_id == notice.channel_id:
            refusals.insert(0, "no other system channel")
        if owner_id is None:
            refusals.append("the guild's owner is unknown")
        log.warning(
            "nobody in guild %s could be told that channel %s is broken: %s",
            notice.guild_id,
            notice.channel_id,
            "; ".join(refusals),
        )
        return Rejected("; ".join(refusals))

    async def _managers(self, guild_id: int) -> tuple[int | None, int | None] | None:
        """The guild's system channel and owner: from the gateway's cache, else (a deliverer
        whose shards do not hold this guild) from Discord's REST API; None when the bot is no
        longer in the guild."""
        guild = self.bot.get_guild(guild_id)
        if guild is not None:
            system = guild.system_channel
            return (system.id if system is not None else None), guild.owner_id
        try:
            data = await self.bot.http.get_guild(guild_id)
        except discord.HTTPException as exc:
            if _passing(exc):
                raise
            return None
        system_id = data.get("system_channel_id")
        owner_id = data.get("owner_id")
        return (
            int(system_id) if system_id else None,
            int(owner_id) if owner_id else None,
        )

    async def _dm_channel(self, user_id: int) -> int:
        dm_channels = self.bot.app.dm_channels
        known = await dm_channels.get(user_id)
        if known is not None:
            return known
        data = await self.bot.http.start_private_message(user_id)
        channel_id = int(data["id"])
        await dm_channels.remember(user_id, channel_id)
        return channel_id

    async def _forget_dm(self, user_id: int) -> None:
        await self.bot.app.dm_channels.forget(user_id)

    async def can_dm(self, user_id: int, text: str) -> str | None:
        """Send *text* as a DM now (not through the outbox); None if it arrived, else why not."""
        try:
            channel_id = await self._dm_channel(user_id)
            channel = self.bot.get_partial_messageable(channel_id, type=discord.ChannelType.private)
            await channel.send(text, allowed_mentions=discord.AllowedMentions.none())
        except discord.Forbidden:
            return "closed"
        except discord.HTTPException as exc:
            log.warning("DM check for a user failed: %s %s", exc.status, exc.code)
            return "error"
        return None


def _passing(exc: discord.HTTPException) -> bool:
    """A failure that may pass: Discord's side (5xx) or a rate limit."""
    return exc.status == 429 or exc.status >= 500

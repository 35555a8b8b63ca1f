"""/subscribe, /unsubscribe and /subscriptions: DMs for the people who want them."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.infra import render, replies
from cogs.infra.bot import SlipwatchBot
from cogs.infra.buttons import describe_subscription, subscribe_flow
from tracker.models import Launch, Subscription, SubscriptionScope

log = logging.getLogger(__name__)

LaunchOption = app_commands.Transform[Launch, replies.LaunchTransformer]
MODE_CHOICES = [
    app_commands.Choice(name="instant (a DM for every alert)", value="instant"),
    app_commands.Choice(name="digest (one DM per digest period)", value="digest"),
]


@app_commands.guild_only()
class SubscribeGroup(app_commands.Group, name="subscribe", description="Get alerts by DM"):
    """/subscribe launch|vendor|all."""

    @app_commands.command(name="launch", description="DMs about one launch")
    @app_commands.describe(launch="The launch", mode="Instant DMs or a periodic digest")
    @app_commands.choices(mode=MODE_CHOICES)
    async def subscribe_launch(
        self,
        interaction: discord.Interaction[Any],
        launch: LaunchOption,
        mode: app_commands.Choice[str] | None = None,
    ) -> None:
        await subscribe_flow(
            interaction, SubscriptionScope.LAUNCH, str(launch.id), mode.value if mode else "instant"
        )

    @app_commands.command(name="vendor", description="DMs about every launch of a vendor")
    @app_commands.describe(vendor="The vendor, e.g. xAI", mode="Instant DMs or a periodic digest")
    @app_commands.choices(mode=MODE_CHOICES)
    async def subscribe_vendor(
        self,
        interaction: discord.Interaction[Any],
        vendor: app_commands.Range[str, 1, 60],
        mode: app_commands.Choice[str] | None = None,
    ) -> None:
        await subscribe_flow(
            interaction, SubscriptionScope.VENDOR, vendor, mode.value if mode else "instant"
        )

    @app_commands.command(name="all", description="DMs about every launch in this server")
    @app_commands.describe(mode="Instant DMs or a periodic digest")
    @app_commands.choices(mode=MODE_CHOICES)
    async def subscribe_all(
        self, interaction: discord.Interaction[Any], mode: app_commands.Choice[str] | None = None
    ) -> None:
        await subscribe_flow(
            interaction, SubscriptionScope.ALL, "", mode.value if mode else "instant"
        )


@app_commands.guild_only()
class UnsubscribeGroup(app_commands.Group, name="unsubscribe", description="Stop alert DMs"):
    """/unsubscribe launch|vendor|all."""

    async def _done(
        self, interaction: discord.Interaction[Any], scope: SubscriptionScope, target: str
    ) -> None:
        bot = replies.bot_of(interaction)
        guild_id = replies.guild_id_of(interaction)
        removed = await bot.tracker.unsubscribe(guild_id, interaction.user.id, scope, target)
        what = (
            await describe_subscription(bot, guild_id, scope, target)
            if scope is not SubscriptionScope.LAUNCH or removed
            else "that launch"
        )
        if removed:
            await replies.reply(interaction, f"Unsubscribed from {what}.")
        else:
            await replies.reply(
                interaction, f"You were not subscribed to {what}. See /subscriptions."
            )

    @app_commands.command(name="launch", description="Stop DMs about one launch")
    @app_commands.describe(launch="The launch")
    async def unsubscribe_launch(
        self, interaction: discord.Interaction[Any], launch: LaunchOption
    ) -> None:
        await self._done(interaction, SubscriptionScope.LAUNCH, str(launch.id))

    @app_commands.command(name="vendor", description="Stop DMs about a vendor")
    @app_commands.describe(vendor="The vendor")
    async def unsubscribe_vendor(
        self, interaction: discord.Interaction[Any], vendor: app_commands.Range[str, 1, 60]
    ) -> None:
        await self._done(interaction, SubscriptionScope.VENDOR, vendor)

    @app_commands.command(name="all", description="Stop DMs about everything in this server")
    async def unsubscribe_all(self, interaction: discord.Interaction[Any]) -> None:
        await self._done(interaction, SubscriptionScope.ALL, "")


class SubscriptionsCog(commands.Cog):
    """Registers the groups and /subscriptions (which also works in DMs)."""

    def __init__(self, bot: SlipwatchBot) -> None:
        self.bot = bot

    async def _vendor_name(self, sub: Subscription) -> str:
        """The vendor as the user typed it; for subscriptions saved before that was kept, as
        the server's launches spell it (the stored target is folded to lower case)."""
        if sub.label:
            return sub.label
        found = await self.bot.watchlist.page(sub.guild_id, vendor=sub.target, limit=1)
        return found[0].vendor if found else sub.target

    @app_commands.command(name="subscriptions", description="Your alert subscriptions")
    async def subscriptions(self, interaction: discord.Interaction[Any]) -> None:
        subs = await self.bot.tracker.subscriptions(interaction.user.id)
        if not subs:
            await replies.reply(
                interaction, "You have no subscriptions. Try /subscribe in a server."
            )
            return
        lines = []
        for sub in subs:
            guild = self.bot.get_guild(sub.guild_id)
            where = render.safe(guild.name, 100) if guild else f"server {sub.guild_id}"
            if sub.scope is SubscriptionScope.LAUNCH:
                launch = await self.bot.watchlist.find(sub.guild_id, int(sub.target))
                what = (
                    render.launch_name(launch.product, launch.vendor)
                    if launch
                    else f"launch #{sub.target} (removed)"
                )
            elif sub.scope is SubscriptionScope.VENDOR:
                what = f"every {render.safe(await self._vendor_name(sub), 60)} launch"
            else:
                what = "every launch"
            state = (
                f"**paused**: {render.safe(sub.paused_reason, 200)} Run /subscribe again "
                "after allowing DMs."
                if sub.paused_reason
                else sub.mode
            )
            lines.append(f"• {what} in {where} · {state}")
        await replies.reply(interaction, embed=render.lines_embed("Your subscriptions", lines))


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    assert isinstance(bot, SlipwatchBot)
    bot.tree.add_command(SubscribeGroup())
    bot.tree.add_command(UnsubscribeGroup())
    await bot.add_cog(SubscriptionsCog(bot))

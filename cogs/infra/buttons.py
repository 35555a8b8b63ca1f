"""Buttons on channel alerts. They are DynamicItems with stable custom_ids ("sw:notify:12"),
so they keep working after a restart without any view being stored."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any, ClassVar, Self

import discord

from cogs.infra import render, replies
from tracker import stats as score
from tracker.errors import TrackerError
from tracker.models import AlertKind, LaunchState, Message, SubscriptionScope

if TYPE_CHECKING:
    from cogs.infra.bot import SlipwatchBot

log = logging.getLogger(__name__)


class IdButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"(?!)"):
    """A button whose custom_id is "<prefix>:<id>": the id is all the state it needs, so it
    works on any message after any restart. Subclasses give the template, prefix and look."""

    prefix: ClassVar[str]
    label: ClassVar[str]
    style: ClassVar[discord.ButtonStyle] = discord.ButtonStyle.secondary
    emoji: ClassVar[str | None] = None

    def __init__(self, item_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=self.label,
                style=self.style,
                custom_id=f"{self.prefix}:{item_id}",
                emoji=self.emoji,
            )
        )
        self.item_id = item_id

    @classmethod
    async def from_custom_id(  # type: ignore[override]
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Button[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        return cls(int(match.group(1)))


class NotifyButton(IdButton, template=r"sw:notify:(\d+)"):
    """ "Notify me": subscribes the clicker to this launch."""

    prefix = "sw:notify"
    label = "Notify me"
    style = discord.ButtonStyle.primary
    emoji = "🔔"

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await subscribe_flow(interaction, SubscriptionScope.LAUNCH, str(self.item_id))
        except TrackerError as exc:
            await replies.reply(interaction, str(exc))


class ShipButton(IdButton, template=r"sw:ship:(\d+)"):
    """ "Mark shipped" (managers): marks the launch shipped today."""

    prefix = "sw:ship"
    label = "Mark shipped"
    style = discord.ButtonStyle.success
    emoji = "✅"

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot = replies.bot_of(interaction)
        guild_id = replies.guild_id_of(interaction)
        config = await bot.tracker.guild(guild_id)
        if not replies.is_manager(interaction, config):
            await replies.reply(interaction, str(replies.NotManager()))
            return
        try:
            launch = await bot.tracker.shipped(
                guild_id, self.item_id, replies.actor_of(interaction)
            )
        except TrackerError as exc:
            await replies.reply(interaction, str(exc))
            return
        verdict = score.shipped_verdict(launch)
        await replies.reply(
            interaction,
            f"Marked {launch.product} shipped today ({verdict}). The channel and subscribers "
            "are being told.",
        )


def alert_view(message: Message) -> discord.ui.View | None:
    """Buttons for a channel alert about one open launch; none for merged or closed ones."""
    if message.merged or not message.alerts:
        return None  # merged catch-ups and digests carry no buttons
    alert = message.alerts[0]
    launch = alert.launch
    if launch.id == 0 or alert.kind is AlertKind.TEST:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(NotifyButton(launch.id))
    if launch.state in (LaunchState.UPCOMING, LaunchState.SLIPPED):
        view.add_item(ShipButton(launch.id))
    return view


DMS_CLOSED = (
    "I can't send you DMs, so you would miss the alerts. Allow them: right-click the server "
    "icon > Privacy Settings > turn on Direct Messages, then subscribe again. Nothing was saved."
)


async def describe_subscription(
    bot: SlipwatchBot, guild_id: int, scope: SubscriptionScope, target: str
) -> str:
    if scope is SubscriptionScope.LAUNCH:
        launch = await bot.tracker.get(guild_id, int(target))
        return render.launch_name(launch.product, launch.vendor)
    if scope is SubscriptionScope.VENDOR:
        return f"every {render.safe(target, 60)} launch"
    return "every launch in this server"


async def subscribe_flow(
    interaction: discord.Interaction[Any],
    scope: SubscriptionScope,
    target: str,
    mode: str = "instant",
) -> None:
    """Subscribe, after making sure the bot can DM the user (else say how to allow DMs)."""
    bot = replies.bot_of(interaction)
    guild_id = replies.guild_id_of(interaction)
    what = await describe_subscription(bot, guild_id, scope, target)
    await interaction.response.defer(ephemeral=True, thinking=True)
    subscription, created = await bot.tracker.subscribe(
        guild_id, interaction.user.id, scope, target, mode
    )
    guild_name = render.safe(interaction.guild.name if interaction.guild else "the server", 100)
    problem = await bot.notifier.can_dm(
        interaction.user.id,
        f"You will get slipwatch alerts here for {what} from {guild_name}. "
        "Use /unsubscribe in the server to stop.",
    )
    if problem is not None:
        if created:
            await bot.tracker.unsubscribe(guild_id, interaction.user.id, scope, subscription.target)
        await interaction.followup.send(DMS_CLOSED, ephemeral=True)
        return
    how = "in a digest" if mode == "digest" else "by DM"
    verb = "Subscribed" if created else "Already subscribed; settings updated"
    await interaction.followup.send(
        f"{verb}: you will hear about {what} {how}.",
        ephemeral=True,
        allowed_mentions=discord.AllowedMentions.none(),
    )

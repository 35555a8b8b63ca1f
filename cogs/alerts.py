"""/alerts (managers): where alerts go, who is pinged, when reminders and milestones fire."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.infra import render, replies
from cogs.infra.bot import SlipwatchBot
from tracker import board, deadlines
from tracker.digests import parse_schedule
from tracker.models import DestinationKind
from tracker.text import plural, plural_word

log = logging.getLogger(__name__)


def _days_listed(values: Sequence[int]) -> str:
    """ "1 day", "7 days and 1 day", "30 days, 7 days and 1 day"."""
    parts = [plural(v, "day") for v in values]
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


def channel_sentence(mention: str, moved: int) -> str:
    """The answer to /alerts channel, saying how many held alerts go there now."""
    text = f"Alerts will be posted in {mention}."
    if moved:
        text += f" {plural(moved, 'held alert')} {plural_word(moved, 'is')} being sent there now."
    return text


def reminders_sentence(offsets: Sequence[int]) -> str:
    """The answer to /alerts reminders (non-empty *offsets*)."""
    return f"Reminders {_days_listed(offsets)} before each deadline."


def milestones_sentence(values: Sequence[int]) -> str:
    """The answer to /alerts milestones (non-empty *values*)."""
    return f"Follow-ups when a launch is {_days_listed(sorted(values))} late."


# Only managers see /alerts by default (a server can widen that in its Integrations settings);
# the cog's interaction_check still refuses anyone else, manager role holders included.
@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class AlertsCog(commands.GroupCog, group_name="alerts", group_description="Alert settings"):
    """Per-server alert settings."""

    def __init__(self, bot: SlipwatchBot) -> None:
        self.bot = bot
        super().__init__()

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        await replies.require_manager(interaction)
        return True

    @app_commands.command(name="channel", description="Post alerts in this channel")
    @app_commands.describe(channel="The channel for alerts")
    async def alerts_channel(
        self, interaction: discord.Interaction[Any], channel: discord.TextChannel
    ) -> None:
        guild_id = replies.guild_id_of(interaction)
        perms = channel.permissions_for(channel.guild.me) if channel.guild.me else None
        if perms is not None and not (perms.send_messages and perms.embed_links):
            await replies.reply(
                interaction,
                f"I cannot post in {channel.mention}: give me View Channel, Send Messages and "
                "Embed Links there, then run /alerts channel again.",
            )
            return
        _, moved = await self.bot.tracker.set_alert_channel(guild_id, channel.id)
        await replies.reply(interaction, channel_sentence(channel.mention, moved))

    @app_commands.command(name="role", description="Ping a role with each channel alert")
    @app_commands.describe(role="The role to ping; leave empty for no ping")
    async def alerts_role(
        self, interaction: discord.Interaction[Any], role: discord.Role | None = None
    ) -> None:
        guild_id = replies.guild_id_of(interaction)
        await self.bot.tracker.configure(guild_id, mention_role_id=role.id if role else None)
        if role is None:
            await replies.reply(interaction, "Alerts will not ping anyone.")
        else:
            await replies.reply(interaction, f"Channel alerts will ping {role.mention}.")

    @app_commands.command(name="managers", description="Let a role manage launches and alerts")
    @app_commands.describe(role="The manager role; leave empty for Manage Server only")
    async def alerts_managers(
        self, interaction: discord.Interaction[Any], role: discord.Role | None = None
    ) -> None:
        guild_id = replies.guild_id_of(interaction)
        await self.bot.tracker.configure(guild_id, manager_role_id=role.id if role else None)
        if role is None:
            await replies.reply(
                interaction, "Only members with Manage Server can manage slipwatch."
            )
        else:
            await replies.reply(interaction, f"Members with {role.mention} can manage slipwatch.")

    @app_commands.command(name="timezone", description="The server's timezone for deadlines")
    @app_commands.describe(timezone="An IANA name, e.g. Europe/Paris")
    @app_commands.autocomplete(timezone=replies.timezone_autocomplete)
    async def alerts_timezone(self, interaction: discord.Interaction[Any], timezone: str) -> None:
        guild_id = replies.guild_id_of(interaction)
        deadlines.zone(timezone)
        await self.bot.tracker.configure(guild_id, timezone=timezone)
        await replies.reply(
            interaction,
            f"Timezone set to {render.safe(timezone, 64)}. Deadlines of launches without their "
            "own timezone moved to midnight there.",
        )

    @app_commands.command(name="grace", description="Days of grace after a window closes")
    @app_commands.describe(days="Whole days, 0 to 365")
    async def alerts_grace(
        self, interaction: discord.Interaction[Any], days: app_commands.Range[int, 0, 365]
    ) -> None:
        guild_id = replies.guild_id_of(interaction)
        await self.bot.tracker.configure(guild_id, grace_days=days)
        await replies.reply(interaction, f"Grace set to {plural(days, 'day')}; deadlines moved.")

    @app_commands.command(name="reminders", description="Reminders before each deadline")
    @app_commands.describe(days='Days before, like "7,1", or "off"')
    async def alerts_reminders(self, interaction: discord.Interaction[Any], days: str) -> None:
        guild_id = replies.guild_id_of(interaction)
        offsets = deadlines.parse_offsets(days, what="reminder days")
        await self.bot.tracker.configure(guild_id, reminder_offsets=offsets)
        if not offsets:
            await replies.reply(interaction, "Reminders are off.")
        else:
            await replies.reply(interaction, reminders_sentence(offsets))

    @app_commands.command(name="milestones", description="Follow-ups N days after a slip")
    @app_commands.describe(days='Days late, like "7,30,90", or "off"')
    async def alerts_milestones(self, interaction: discord.Interaction[Any], days: str) -> None:
        guild_id = replies.guild_id_of(interaction)
        values = deadlines.parse_offsets(days, what="milestone days")
        await self.bot.tracker.configure(guild_id, late_milestones=tuple(sorted(values)))
        if not values:
            await replies.reply(interaction, "Late milestones are off.")
        else:
            await replies.reply(interaction, milestones_sentence(values))

    @app_commands.command(name="digest", description="When and where the digest is posted")
    @app_commands.describe(
        schedule='"daily 09:00", "weekly monday 09:00" or "off" (in the server\'s timezone)',
        channel="Where to post it (default: the alert channel)",
        when_empty="A one-line digest when nothing happened, or none",
    )
    @app_commands.choices(
        when_empty=[
            app_commands.Choice(name="post one line", value="short"),
            app_commands.Choice(name="skip it", value="skip"),
        ]
    )
    async def alerts_digest(
        self,
        interaction: discord.Interaction[Any],
        schedule: app_commands.Range[str, 1, 60],
        channel: discord.TextChannel | None = None,
        when_empty: app_commands.Choice[str] | None = None,
    ) -> None:
        guild_id = replies.guild_id_of(interaction)
        plan = parse_schedule(schedule)
        changes: dict[str, Any] = {"digest_schedule": plan.to_setting()}
        if channel is not None:
            changes["digest_channel_id"] = channel.id
        if when_empty is not None:
            changes["digest_when_empty"] = when_empty.value
        config = await self.bot.tracker.configure(guild_id, **changes)
        if not plan.enabled:
            await replies.reply(interaction, "Digests are off.")
            return
        where = config.digest_channel_id or config.alert_channel_id
        place = f"<#{where}>" if where else "the alert channel (set one with /alerts channel)"
        nxt = await self.bot.digests.next_run(guild_id)
        when = f" Next: {render.ts(nxt)} ({render.ts(nxt, 'R')})." if nxt else ""
        empty = "skipped" if config.digest_when_empty == "skip" else "one line"
        await replies.reply(
            interaction,
            f"Digests {plan.describe()} ({render.safe(config.timezone, 64)}) in {place}; "
            f"an empty period gets {empty}.{when}",
        )

    @app_commands.command(name="status", description="Where alerts go and what is held")
    async def alerts_status(self, interaction: discord.Interaction[Any]) -> None:
        guild_id = replies.guild_id_of(interaction)
        status = await self.bot.watchlist.alert_status(guild_id)
        config, counts, broken, subs = (
            status.config,
            status.outbox,
            status.broken,
            status.subscriptions,
        )
        embed = discord.Embed(title="slipwatch alerts", colour=discord.Colour.blurple())
        embed.add_field(
            name="Channel",
            value=f"<#{config.alert_channel_id}>" if config.alert_channel_id else "not set",
        )
        embed.add_field(
            name="Ping",
            value=f"<@&{config.mention_role_id}>" if config.mention_role_id else "nobody",
        )
        embed.add_field(
            name="Managers",
            value=f"<@&{config.manager_role_id}>" if config.manager_role_id else "Manage Server",
        )
        embed.add_field(name="Timezone", value=render.safe(config.timezone, 64))
        embed.add_field(name="Grace", value=plural(config.grace_days, "day"))
        embed.add_field(
            name="Reminders",
            value=", ".join(f"{o}d" for o in config.reminder_offsets) or "off",
        )
        embed.add_field(
            name="Milestones",
            value=", ".join(f"{m}d late" for m in config.late_milestones) or "off",
        )
        embed.add_field(
            name="Subscriptions", value=f"{subs['active']} active, {subs['paused']} paused"
        )
        embed.add_field(
            name="Outbox",
            value=(
                f"{counts['sent']} sent, {counts['pending']} pending, {counts['held']} held, "
                f"{counts['failed']} failed, {counts['dead']} given up"
            ),
            inline=False,
        )
        problems = []
        for item in broken:
            where = (
                f"<#{item['dest_id']}>"
                if item["dest_kind"] is DestinationKind.CHANNEL
                else f"user {item['dest_id']}"
            )
            told = _notice_line(item)
            problems.append(
                f"{where}: {render.safe(item['reason'], 300)} — {item['held']} held since "
                f"{render.ts(item['since'], 'R')}.{told} Fix it, then run /alerts channel again."
            )
        if problems:
            embed.add_field(
                name="Problems", value=render.cut("\n".join(problems), 1024), inline=False
            )
            embed.colour = discord.Colour.red()
        await replies.reply(interaction, embed=render.fit(embed))

    @app_commands.command(name="public", description="Publish this server's board on the web")
    @app_commands.describe(
        state="on: publish the score, timeline and watchlist; off: make them private again",
        address="The board's address after /b/, like ai-watch (default: the server's name)",
    )
    @app_commands.choices(
        state=[
            app_commands.Choice(name="on", value="on"),
            app_commands.Choice(name="off", value="off"),
        ]
    )
    async def alerts_public(
        self,
        interaction: discord.Interaction[Any],
        state: app_commands.Choice[str],
        address: app_commands.Range[str, 3, 40] | None = None,
    ) -> None:
        guild_id = replies.guild_id_of(interaction)
        if state.value == "off":
            if await self.bot.boards.unpublish(guild_id):
                text = "This server's board is private again; its address now answers 404."
            else:
                text = "This server's board is already private."
            await replies.reply(interaction, text)
            return
        wanted = address or board.slug_from_name(
            interaction.guild.name if interaction.guild else ""
        )
        if wanted is None:
            await replies.reply(
                interaction, "Please give the board an address, like `/alerts public on ai-watch`."
            )
            return
        slug = await self.bot.boards.publish(guild_id, wanted)
        url = self.bot.board_url(slug)
        where = f"<{url}>" if url else f"`/b/{slug}`"
        text = (
            f"This server's board is public at {where}: the score, the timeline and the "
            "watchlist, with an Atom feed and a calendar of deadlines. It shows no members, "
            "subscriptions or managers. `/alerts public off` makes it private again."
        )
        if url is None:
            text += " (This bot serves no boards yet: its operator has to set SLIPWATCH_WEB.)"
        await replies.reply(interaction, text)

    @app_commands.command(name="test", description="Post a sample alert in the alert channel")
    async def alerts_test(self, interaction: discord.Interaction[Any]) -> None:
        guild_id = replies.guild_id_of(interaction)
        await self.bot.tracker.queue_test_alert(guild_id, f"test:{guild_id}:{interaction.id}")
        config = await self.bot.tracker.guild(guild_id)
        await replies.reply(
            interaction, f"A test alert is on its way to <#{config.alert_channel_id}>."
        )


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    assert isinstance(bot, SlipwatchBot)
    await bot.add_cog(AlertsCog(bot))


def _notice_line(item: dict[str, Any]) -> str:
    """Whether the managers were told that this channel broke (their notice goes through the
    outbox: sent, still being tried, or refused everywhere)."""
    if item["dest_kind"] is not DestinationKind.CHANNEL:
        return ""
    if item["notified_at"] is not None:
        return f" Managers told {render.ts(item['notified_at'], 'R')}."
    state = item["notice_state"]
    if state == "pending":
        return " The managers' notice is on its way."
    if state in ("failed", "dead"):
        why = render.safe((item["notice_error"] or "no reason given").rstrip("."), 200)
        return f" The managers could not be told: {why}."
    return ""

"""Promise discovery in Discord: /launch discover. The proposal messages and their buttons
live in cogs.infra.promises."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.infra import render, replies
from cogs.infra.promises import IgnorePromise, TrackPromise

KIND_CHOICES = [
    app_commands.Choice(name="feed: an RSS or Atom feed (URL)", value="feed"),
    app_commands.Choice(name="page: a web page's text (URL)", value="page"),
]


@app_commands.command(name="discover", description="Watch a vendor's feed or page for promises")
@app_commands.describe(
    vendor="Whose promises, e.g. xAI",
    target="The feed or page address, e.g. https://x.ai/news/rss.xml",
    kind="feed (default) or page",
)
@app_commands.choices(kind=KIND_CHOICES)
@replies.manager_only
async def launch_discover(
    interaction: discord.Interaction[Any],
    vendor: app_commands.Range[str, 1, 60],
    target: app_commands.Range[str, 1, 500],
    kind: app_commands.Choice[str] | None = None,
) -> None:
    bot = replies.bot_of(interaction)
    found = await bot.discovery.add(
        replies.guild_id_of(interaction),
        vendor,
        kind.value if kind else "feed",
        target,
        actor=replies.actor_of(interaction),
    )
    await replies.reply(
        interaction,
        f"Watching {render.safe(found.target, 300)} for {render.safe(found.vendor, 60)}'s "
        f"promises every {found.interval_minutes} minutes (#{found.id}). What it says now is "
        "the baseline; each new entry that promises a window is proposed in the alert channel.",
        ephemeral=False,
    )


async def setup(bot: commands.Bot) -> None:
    """Extension entry point: adds discover to the /launch group."""
    group = bot.tree.get_command("launch")
    assert isinstance(group, app_commands.Group), "load cogs.launch before cogs.discover"
    group.add_command(launch_discover)
    bot.add_dynamic_items(TrackPromise, IgnorePromise)


async def teardown(bot: commands.Bot) -> None:
    """Extension exit point."""
    group = bot.tree.get_command("launch")
    if isinstance(group, app_commands.Group):
        group.remove_command("discover")

"""/launch shipped, cancelled, revived and delayed: how a launch's story ends, or goes on with a
new promise. The commands join the /launch group (so this loads after cogs.launch)."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.infra import render, replies
from cogs.infra import window_choice as chooser
from tracker import stats as score
from tracker.models import Launch
from tracker.quotes import QuotedWindow

LaunchOption = app_commands.Transform[Launch, replies.LaunchTransformer]


@app_commands.command(name="shipped", description="Mark a launch shipped")
@app_commands.describe(
    launch="The launch", on="The day it shipped, YYYY-MM-DD (default today)", source="A link"
)
@replies.manager_only
async def launch_shipped(
    interaction: discord.Interaction[Any],
    launch: LaunchOption,
    on: str | None = None,
    source: app_commands.Range[str, 1, 500] | None = None,
) -> None:
    bot = replies.bot_of(interaction)
    day = replies.parse_day(on, what="on")
    updated = await bot.tracker.shipped(
        launch.guild_id, launch.id, replies.actor_of(interaction), on=day, source_url=source
    )
    await replies.reply(
        interaction,
        f"Marked {render.launch_name(updated.product, updated.vendor)} shipped on "
        f"{updated.shipped_on:%Y-%m-%d}: {score.shipped_verdict(updated)}.",
        ephemeral=False,
    )


@app_commands.command(name="cancelled", description="Mark a launch cancelled")
@app_commands.describe(
    launch="The launch",
    reason="Why, in a sentence",
    source="A link",
    on="The day it was cancelled, YYYY-MM-DD (default today)",
    undated="It was quietly dropped and nobody knows the day",
)
@replies.manager_only
async def launch_cancelled(
    interaction: discord.Interaction[Any],
    launch: LaunchOption,
    reason: app_commands.Range[str, 1, 1000] | None = None,
    source: app_commands.Range[str, 1, 500] | None = None,
    on: str | None = None,
    undated: bool = False,
) -> None:
    bot = replies.bot_of(interaction)
    updated = await bot.tracker.cancelled(
        launch.guild_id,
        launch.id,
        replies.actor_of(interaction),
        on=replies.parse_day(on, what="on"),
        reason=reason,
        source_url=source,
        undated=undated,
    )
    when = f" on {updated.cancelled_on:%Y-%m-%d}" if updated.cancelled_on else " (day unknown)"
    await replies.reply(
        interaction,
        f"Marked {render.launch_name(updated.product, updated.vendor)} cancelled{when}.",
        ephemeral=False,
    )


@app_commands.command(name="revived", description="A cancelled launch is back with a new window")
@app_commands.describe(
    launch="The cancelled launch",
    window='The new promised window, e.g. "in the coming weeks" (optional with a quote)',
    announced_on="When it was revived, YYYY-MM-DD (default today)",
    source="A link to the new promise",
    quote="The new promise, word for word",
)
@replies.manager_only
async def launch_revived(
    interaction: discord.Interaction[Any],
    launch: LaunchOption,
    window: app_commands.Range[str, 1, 200] | None = None,
    announced_on: str | None = None,
    source: app_commands.Range[str, 1, 500] | None = None,
    quote: app_commands.Range[str, 1, 1000] | None = None,
) -> None:
    bot = replies.bot_of(interaction)
    actor = replies.actor_of(interaction)
    day = replies.parse_day(announced_on, what="announced_on")
    read_on = day or await replies.guild_today(bot, launch.guild_id)

    async def revive(answering: discord.Interaction[Any], choice: QuotedWindow | None) -> None:
        phrase = choice.phrase if choice else window
        assert phrase is not None
        updated = await bot.tracker.revived(
            launch.guild_id,
            launch.id,
            actor,
            window_phrase=phrase,
            announced_on=day,
            source_url=source,
            quote=quote,
        )
        slip = chooser.slip_note(launch.slip_count, updated.slip_count)
        text = (
            f"Revived #{updated.id} {render.launch_name(updated.product, updated.vendor)}: "
            f"new deadline {render.ts(updated.deadline_at)} ({slip}). Its score still counts "
            f"from the first promise, {updated.first_window_end:%Y-%m-%d}."
        )
        embed = None
        if quote and choice:
            embed = discord.Embed(
                colour=discord.Colour.blurple(),
                description=render.cut(chooser.read_from(quote, choice), render.DESCRIPTION),
            )
        await chooser.answer(interaction, answering, text, embed)

    await chooser.with_window(
        interaction,
        window=window,
        quote=quote,
        day=read_on,
        product=launch.product,
        held="is now held to",
        act=revive,
    )


@app_commands.command(name="delayed", description="Record a re-announcement with a new window")
@app_commands.describe(
    launch="The launch",
    window='The new promised window, e.g. "Q1 2025" (optional with a quote)',
    source="A link to the new promise",
    quote="The new promise, word for word",
)
@replies.manager_only
async def launch_delayed(
    interaction: discord.Interaction[Any],
    launch: LaunchOption,
    window: app_commands.Range[str, 1, 200] | None = None,
    source: app_commands.Range[str, 1, 500] | None = None,
    quote: app_commands.Range[str, 1, 1000] | None = None,
) -> None:
    bot = replies.bot_of(interaction)
    actor = replies.actor_of(interaction)
    today = await replies.guild_today(bot, launch.guild_id)

    async def redate(answering: discord.Interaction[Any], choice: QuotedWindow | None) -> None:
        phrase = choice.phrase if choice else window
        assert phrase is not None
        updated = await bot.tracker.delayed(
            launch.guild_id,
            launch.id,
            actor,
            window_phrase=phrase,
            source_url=source,
            quote=quote,
        )
        config = await bot.tracker.guild(launch.guild_id)
        embed = render.launch_embed(updated, updated.timezone or config.timezone, today)
        if quote and choice:
            embed.description = render.cut(chooser.read_from(quote, choice), render.DESCRIPTION)
        note = chooser.slip_note(launch.slip_count, updated.slip_count)
        text = (
            f"Re-announced #{updated.id}: new deadline {render.ts(updated.deadline_at)} ({note})."
        )
        await chooser.answer(interaction, answering, text, embed)

    await chooser.with_window(
        interaction,
        window=window,
        quote=quote,
        day=today,
        product=launch.product,
        held="is now held to",
        act=redate,
    )


async def setup(bot: commands.Bot) -> None:
    """Extension entry point: adds the lifecycle commands to the /launch group."""
    group = bot.tree.get_command("launch")
    assert isinstance(group, app_commands.Group), "load cogs.launch before cogs.lifecycle"
    group.add_command(launch_shipped)
    group.add_command(launch_cancelled)
    group.add_command(launch_revived)
    group.add_command(launch_delayed)


async def teardown(bot: commands.Bot) -> None:
    """Extension exit point."""
    group = bot.tree.get_command("launch")
    if isinstance(group, app_commands.Group):
        group.remove_command("shipped")
        group.remove_command("cancelled")
        group.remove_command("revived")
        group.remove_command("delayed")

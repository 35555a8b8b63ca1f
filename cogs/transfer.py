"""/launch export and /launch import: the watchlist with its full history, as JSON or CSV."""

from __future__ import annotations

import io
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.infra import render, replies
from tracker.text import plural
from tracker.transfer import TransferFormat, detect_format

log = logging.getLogger(__name__)

MAX_IMPORT_BYTES = 5 * 1024 * 1024
FORMAT_CHOICES = [
    app_commands.Choice(name="JSON (one object per launch, with its history)", value="json"),
    app_commands.Choice(name="CSV (one row per launch; history as JSON in a column)", value="csv"),
]


@app_commands.command(name="export", description="Download every launch with its history")
@app_commands.describe(format="JSON or CSV")
@app_commands.choices(format=FORMAT_CHOICES)
@replies.manager_only
async def launch_export(
    interaction: discord.Interaction[Any], format: app_commands.Choice[str] | None = None
) -> None:
    bot = replies.bot_of(interaction)
    fmt = TransferFormat(format.value if format else "json")
    # Deferred first: a server's whole history can take more than a second to write out.
    await interaction.response.defer(ephemeral=True, thinking=True)
    export = await bot.transfer.export(replies.guild_id_of(interaction), fmt)
    await replies.reply(
        interaction,
        f"{plural(export.launches, 'launch')}, every field and the full history.",
        file=discord.File(io.BytesIO(export.content), filename=export.filename),
    )


@app_commands.command(name="import", description="Add launches from an export (JSON or CSV)")
@app_commands.describe(
    file="A file made by /launch export or `python bot.py export`",
    dry_run="Only check the file and report (default: yes)",
)
@replies.manager_only
async def launch_import(
    interaction: discord.Interaction[Any], file: discord.Attachment, dry_run: bool = True
) -> None:
    bot = replies.bot_of(interaction)
    if file.size > MAX_IMPORT_BYTES:
        await replies.reply(
            interaction,
            f"That file is {file.size // 1024} KiB; imports take at most "
            f"{MAX_IMPORT_BYTES // 1024 // 1024} MiB. Split it and import the parts.",
        )
        return
    await interaction.response.defer(ephemeral=True, thinking=True)
    data = await file.read()
    guild_id = replies.guild_id_of(interaction)
    text = data.decode("utf-8-sig", errors="replace")
    fmt = detect_format(file.filename, text)
    if dry_run:
        report = await bot.transfer.check(guild_id, data, fmt)
    else:
        report = await bot.transfer.import_launches(guild_id, data, fmt)
    summary = report.summary()
    if dry_run and report.ok:
        summary += "\nNothing was written. Run /launch import again with dry_run: False to import."
    await interaction.followup.send(
        render.cut(summary, render.CONTENT),
        ephemeral=True,
        allowed_mentions=discord.AllowedMentions.none(),
    )


async def setup(bot: commands.Bot) -> None:
    """Extension entry point: adds export/import to the /launch group."""
    group = bot.tree.get_command("launch")
    assert isinstance(group, app_commands.Group), "load cogs.launch before cogs.transfer"
    group.add_command(launch_export)
    group.add_command(launch_import)


async def teardown(bot: commands.Bot) -> None:
    """Extension exit point."""
    group = bot.tree.get_command("launch")
    if isinstance(group, app_commands.Group):
        group.remove_command("export")
        group.remove_command("import")

"""/launch export and /launch import: the watchlist with its full history, as JSON or CSV (an
export larger than Discord takes in the server comes gzip-compressed, and imports read it)."""

from __future__ import annotations

import io
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.infra import render, replies
from tracker.text import plural
from tracker.transfer import ExportFile, TransferFormat, mib, smaller_export_advice

log = logging.getLogger(__name__)

# An upload as Discord sends it: a gzip file is unpacked after, capped by the tracker.
MAX_IMPORT_BYTES = 5 * 1024 * 1024
TOO_LARGE = 40005  # Discord's "Request entity too large"
FORMAT_CHOICES = [
    app_commands.Choice(name="JSON (one object per launch, with its history)", value="json"),
    app_commands.Choice(name="CSV (one row per launch; history as JSON in a column)", value="csv"),
]


@app_commands.command(name="export", description="Download every launch with its history")
@app_commands.describe(format="JSON or CSV", vendor="Only this vendor's launches")
@app_commands.choices(format=FORMAT_CHOICES)
@replies.manager_only
async def launch_export(
    interaction: discord.Interaction[Any],
    format: app_commands.Choice[str] | None = None,
    vendor: app_commands.Range[str, 1, 60] | None = None,
) -> None:
    bot = replies.bot_of(interaction)
    fmt = TransferFormat(format.value if format else "json")
    # Deferred first: a server's whole history can take more than a second to write out.
    await interaction.response.defer(ephemeral=True, thinking=True)
    guild_id = replies.guild_id_of(interaction)
    limit = interaction.filesize_limit
    export = await bot.transfer.export(guild_id, fmt, vendor=vendor, max_bytes=limit)
    text = f"{plural(export.launches, 'launch')}, every field and the full history."
    if export.compressed:
        text += (
            f" The file is {mib(export.size)}, more than the {mib(limit)} Discord takes here, "
            f"so it comes compressed with gzip ({mib(len(export.content))}); /launch import "
            "reads it as it is."
        )
    try:
        await replies.reply(
            interaction,
            text,
            file=discord.File(io.BytesIO(export.content), filename=export.filename),
        )
    except discord.HTTPException as exc:
        if exc.code != TOO_LARGE:
            raise
        # Discord's limit for the server fell under the one the interaction announced.
        await replies.reply(interaction, refused_upload(export, guild_id, vendor))


def refused_upload(export: ExportFile, guild_id: int, vendor: str | None) -> str:
    """What to do when Discord refused an export's file as too large."""
    return (
        f"Discord refused the file ({mib(len(export.content))}) as too large for this "
        "server. " + smaller_export_advice(guild_id, vendor)
    )


@app_commands.command(name="import", description="Add launches from an export (JSON or CSV)")
@app_commands.describe(
    file="A file made by /launch export or `python bot.py export` (also as .gz)",
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
            f"That file is {mib(file.size)}; imports take at most "
            f"{mib(MAX_IMPORT_BYTES)} (a .gz file: compressed). Split it and "
            "import the parts.",
        )
        return
    await interaction.response.defer(ephemeral=True, thinking=True)
    guild_id = replies.guild_id_of(interaction)
    upload = await bot.transfer.read_upload(file.filename, await file.read())
    if dry_run:
        report = await bot.transfer.check(guild_id, upload.data, upload.format)
    else:
        report = await bot.transfer.import_launches(guild_id, upload.data, upload.format)
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

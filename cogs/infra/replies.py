"""What every cog shares: the manager check, option transformers, date parsing, replies."""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands

from cogs.infra import render
from tracker import deadlines
from tracker.errors import NotFound
from tracker.models import GuildConfig, Launch

if TYPE_CHECKING:
    from cogs.infra.bot import SlipwatchBot

log = logging.getLogger(__name__)


class NotManager(app_commands.CheckFailure):
    """The user may not manage launches or alerts here."""

    def __init__(self) -> None:
        super().__init__(
            "Only managers can do that: you need the Manage Server permission or the "
            "server's slipwatch manager role."
        )


class BadOption(app_commands.AppCommandError):
    """An option could not be read; the message says what to type instead."""


def bot_of(interaction: discord.Interaction[Any]) -> SlipwatchBot:
    """The typed bot behind an interaction."""
    return cast("SlipwatchBot", interaction.client)


def guild_id_of(interaction: discord.Interaction[Any]) -> int:
    """The guild of an interaction (commands using it are guild_only)."""
    if interaction.guild_id is None:
        raise BadOption("This command works in a server, not in DMs.")
    return interaction.guild_id


def is_manager(interaction: discord.Interaction[Any], config: GuildConfig) -> bool:
    """Manage Server (or Administrator), or the guild's configured manager role."""
    perms = interaction.permissions
    if perms.manage_guild or perms.administrator:
        return True
    user = interaction.user
    if config.manager_role_id is not None and isinstance(user, discord.Member):
        return any(role.id == config.manager_role_id for role in user.roles)
    return False


async def require_manager(interaction: discord.Interaction[Any]) -> GuildConfig:
    """The guild's settings, or NotManager."""
    bot = bot_of(interaction)
    config = await bot.tracker.guild(guild_id_of(interaction))
    if not is_manager(interaction, config):
        raise NotManager()
    return config


async def manager_only_predicate(interaction: discord.Interaction[Any]) -> bool:
    """True for a manager; NotManager (answered by the tree's error handler) for anyone else."""
    await require_manager(interaction)
    return True


# The app_commands check on every command that changes a server's watchlist: Discord shows the
# command to everyone (/launch mixes reading and managing subcommands, and default_permissions
# applies to a whole top-level command), so the bot checks; a refusal is answered by the tree's
# error handler with NotManager's sentence.
manager_only = app_commands.check(manager_only_predicate)


def actor_of(interaction: discord.Interaction[Any]) -> str:
    """How a person is recorded in history: name and id."""
    return f"{interaction.user.name} ({interaction.user.id})"


def parse_day(text: str | None, *, what: str) -> dt.date | None:
    """A YYYY-MM-DD option, or BadOption saying what to type."""
    if text is None or not text.strip():
        return None
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise BadOption(
            f"Could not read {text.strip()[:40]!r} as a date for {what}. "
            "Type it as YYYY-MM-DD, like 2025-02-17."
        ) from None


async def guild_today(bot: SlipwatchBot, guild_id: int) -> dt.date:
    """Today's date in the guild's timezone."""
    config = await bot.tracker.guild(guild_id)
    return deadlines.local_today(bot.clock.now(), deadlines.zone(config.timezone))


class LaunchTransformer(app_commands.Transformer):
    """A launch option: autocompleted from this guild's own launches (at most 25), accepting
    the chosen id, "#12", or an exact product name."""

    async def transform(self, interaction: discord.Interaction[Any], value: str) -> Launch:
        bot = bot_of(interaction)
        guild_id = guild_id_of(interaction)
        text = value.strip().lstrip("#")
        if text.isdigit():
            launch = await bot.watchlist.find(guild_id, int(text))
            if launch is not None:
                return launch
        matches = [
            launch
            for launch in await bot.watchlist.search(guild_id, value.strip(), 25)
            if launch.product.casefold() == value.strip().casefold()
        ]
        if len(matches) == 1:
            return matches[0]
        raise NotFound(
            f"No launch {render.cut(value, 60)!r} in this server. Pick one from the list as "
            "you type, or see /launch list."
        )

    async def autocomplete(  # type: ignore[override]
        self, interaction: discord.Interaction[Any], value: str
    ) -> list[app_commands.Choice[str]]:
        bot = bot_of(interaction)
        if interaction.guild_id is None:
            return []
        launches = await bot.watchlist.search(interaction.guild_id, value.strip(), 25)
        return [
            app_commands.Choice(
                name=render.cut(f"{l.product} ({l.vendor}) · {l.state.value} · #{l.id}", 100),
                value=str(l.id),
            )
            for l in launches  # noqa: E741
        ]


async def timezone_autocomplete(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """IANA zone names containing what was typed (at most 25)."""
    needle = current.strip().casefold().replace(" ", "_")
    zones = [z for z in deadlines.known_zones() if needle in z.casefold()]
    zones.sort(key=lambda z: (not z.casefold().startswith(needle), len(z), z))
    return [app_commands.Choice(name=z, value=z) for z in zones[:25]]


async def reply(
    interaction: discord.Interaction[Any],
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
    ephemeral: bool = True,
    view: discord.ui.View | None = None,
    file: discord.File | None = None,
) -> None:
    """Answer an interaction (or follow up when it was already answered); mentions off."""
    kwargs: dict[str, Any] = {
        "ephemeral": ephemeral,
        "allowed_mentions": discord.AllowedMentions.none(),
    }
    if content is not None:
        kwargs["content"] = render.cut(content, render.CONTENT)
    if embed is not None:
        kwargs["embed"] = embed
    if view is not None:
        kwargs["view"] = view
    if file is not None:
        kwargs["file"] = file
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)

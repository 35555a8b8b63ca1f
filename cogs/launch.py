"""/launch: add, edit, show, list, remove, history (cogs.lifecycle adds shipped, cancelled,
revived and delayed; cogs.probes, cogs.discover and cogs.transfer add theirs)."""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.infra import render, replies
from cogs.infra import window_choice as chooser
from cogs.infra.bot import SlipwatchBot
from tracker import stats as score
from tracker.models import Evidence, Launch, LaunchState, NewLaunch
from tracker.quotes import QuotedWindow

log = logging.getLogger(__name__)

LaunchOption = app_commands.Transform[Launch, replies.LaunchTransformer]
PAGE_SIZE = 10
STATE_CHOICES = [
    app_commands.Choice(name="upcoming", value="upcoming"),
    app_commands.Choice(name="slipped", value="slipped"),
    app_commands.Choice(name="shipped", value="shipped"),
    app_commands.Choice(name="cancelled", value="cancelled"),
    app_commands.Choice(name="open (upcoming or slipped)", value="open"),
]
EVIDENCE_CHOICES = [
    app_commands.Choice(name="official: the vendor said it", value="official"),
    app_commands.Choice(name="reported: the press reported the vendor's words", value="reported"),
    app_commands.Choice(name="rumour: left out of the score unless asked for", value="rumour"),
]


def _states(value: str | None) -> list[LaunchState] | None:
    if value is None:
        return None
    if value == "open":
        return [LaunchState.UPCOMING, LaunchState.SLIPPED]
    return [LaunchState(value)]


class ListView(discord.ui.View):
    """Previous / next buttons for /launch list, usable by the person who asked."""

    def __init__(
        self,
        bot: SlipwatchBot,
        owner_id: int,
        guild_id: int,
        vendor: str | None,
        states: list[LaunchState] | None,
        total: int,
    ) -> None:
        super().__init__(timeout=600)
        self.bot = bot
        self.owner_id = owner_id
        self.guild_id = guild_id
        self.vendor = vendor
        self.states = states
        self.total = total
        self.page = 0
        self.pages = max(1, -(-total // PAGE_SIZE))
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= self.pages - 1

    async def embed(self) -> discord.Embed:
        launches = await self.bot.watchlist.page(
            self.guild_id,
            vendor=self.vendor,
            states=self.states,
            limit=PAGE_SIZE,
            offset=self.page * PAGE_SIZE,
        )
        title = f"Launches ({self.total})"
        if self.vendor:
            title += f" by {render.safe(self.vendor, 60)}"
        today = await replies.guild_today(self.bot, self.guild_id)
        embed = render.lines_embed(title, [render.list_line(x, today) for x in launches])
        embed.set_footer(text=f"page {self.page + 1} of {self.pages} · sorted by deadline")
        return embed

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.owner_id:
            await replies.reply(interaction, "These buttons belong to whoever ran /launch list.")
            return False
        return True

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.page = max(0, self.page - 1)
        self._sync_buttons()
        await interaction.response.edit_message(embed=await self.embed(), view=self)

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.page = min(self.pages - 1, self.page + 1)
        self._sync_buttons()
        await interaction.response.edit_message(embed=await self.embed(), view=self)


class ConfirmRemove(discord.ui.View):
    """ "Remove" / "Keep" for /launch remove."""

    def __init__(self, bot: SlipwatchBot, owner_id: int, launch: Launch) -> None:
        super().__init__(timeout=120)
        self.bot = bot
        self.owner_id = owner_id
        self.launch = launch

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.owner_id:
            await replies.reply(interaction, "Only whoever ran /launch remove can confirm it.")
            return False
        return True

    @discord.ui.button(label="Remove", style=discord.ButtonStyle.danger)
    async def confirm(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        launch = await self.bot.tracker.remove(self.launch.guild_id, self.launch.id)
        self.stop()
        await interaction.response.edit_message(
            content=f"Removed #{launch.id} {render.launch_name(launch.product, launch.vendor)} "
            "and its history.",
            view=None,
        )

    @discord.ui.button(label="Keep", style=discord.ButtonStyle.secondary)
    async def keep(
        self, interaction: discord.Interaction[Any], button: discord.ui.Button[Any]
    ) -> None:
        self.stop()
        await interaction.response.edit_message(content="Kept it; nothing was removed.", view=None)


@app_commands.guild_only()
class LaunchCog(commands.GroupCog, group_name="launch", group_description="Announced launches"):
    """The watchlist."""

    def __init__(self, bot: SlipwatchBot) -> None:
        self.bot = bot
        super().__init__()

    @app_commands.command(name="add", description="Add an announced launch to the watchlist")
    @app_commands.describe(
        product="What was promised, e.g. Grok 3",
        vendor="Who makes it, e.g. xAI",
        window='The promised window as said, e.g. "end of 2024" (optional with a quote)',
        announced_on="When it was promised, YYYY-MM-DD (default today)",
        announcer="Who promised it, e.g. Elon Musk",
        source="A link to the promise",
        quote="The promise, word for word",
        timezone="The launch's timezone (default the server's), e.g. America/Los_Angeles",
        evidence="How sure is it? Official (default), reported or rumour",
    )
    @app_commands.autocomplete(timezone=replies.timezone_autocomplete)
    @app_commands.choices(evidence=EVIDENCE_CHOICES)
    @replies.manager_only
    async def launch_add(
        self,
        interaction: discord.Interaction[Any],
        product: app_commands.Range[str, 1, 100],
        vendor: app_commands.Range[str, 1, 60],
        window: app_commands.Range[str, 1, 200] | None = None,
        announced_on: str | None = None,
        announcer: app_commands.Range[str, 1, 100] | None = None,
        source: app_commands.Range[str, 1, 500] | None = None,
        quote: app_commands.Range[str, 1, 1000] | None = None,
        timezone: str | None = None,
        evidence: app_commands.Choice[str] | None = None,
    ) -> None:
        guild_id = replies.guild_id_of(interaction)
        day = replies.parse_day(announced_on, what="announced_on") or await replies.guild_today(
            self.bot, guild_id
        )
        actor = replies.actor_of(interaction)

        async def add(answering: discord.Interaction[Any], choice: QuotedWindow | None) -> None:
            phrase = choice.phrase if choice else window
            assert phrase is not None
            added = await self.bot.tracker.add(
                NewLaunch(
                    guild_id=guild_id,
                    product=product,
                    vendor=vendor,
                    window_phrase=phrase,
                    announced_on=day,
                    announcer=announcer,
                    source_url=source,
                    quote=quote,
                    timezone=timezone,
                    evidence=Evidence(evidence.value) if evidence else Evidence.OFFICIAL,
                ),
                actor=actor,
            )
            launch = added.launch
            day_now = await replies.guild_today(self.bot, guild_id)
            embed = render.launch_embed(launch, added.timezone, day_now)
            read = (
                chooser.read_from(quote, choice)
                if quote and choice
                else f'Read "{render.safe(phrase, 200)}" as {added.window.start:%Y-%m-%d} – '
                f"{added.window.end:%Y-%m-%d} (rule: {added.window.rule})."
            )
            embed.description = render.cut(
                f"{read} The deadline is {render.ts(launch.deadline_at)}, "
                f"{render.ts(launch.deadline_at, 'R')}. "
                "If that is not what was promised, fix it with /launch delayed.",
                render.DESCRIPTION,
            )
            text = f"Added #{launch.id} to the watchlist."
            await chooser.answer(interaction, answering, text, embed)

        await chooser.with_window(
            interaction,
            window=window,
            quote=quote,
            day=day,
            product=product,
            held="is held to",
            act=add,
        )

    @app_commands.command(name="edit", description="Correct a launch's details")
    @app_commands.describe(
        launch="The launch to edit",
        product="New product name",
        vendor="New vendor",
        announcer="New announcer",
        source="New source link",
        quote="New quote",
        timezone="New timezone (moves the deadline)",
        evidence="Official, reported or rumour",
    )
    @app_commands.autocomplete(timezone=replies.timezone_autocomplete)
    @app_commands.choices(evidence=EVIDENCE_CHOICES)
    @replies.manager_only
    async def launch_edit(
        self,
        interaction: discord.Interaction[Any],
        launch: LaunchOption,
        product: app_commands.Range[str, 1, 100] | None = None,
        vendor: app_commands.Range[str, 1, 60] | None = None,
        announcer: app_commands.Range[str, 1, 100] | None = None,
        source: app_commands.Range[str, 1, 500] | None = None,
        quote: app_commands.Range[str, 1, 1000] | None = None,
        timezone: str | None = None,
        evidence: app_commands.Choice[str] | None = None,
    ) -> None:
        updated = await self.bot.tracker.edit(
            launch.guild_id,
            launch.id,
            replies.actor_of(interaction),
            product=product,
            vendor=vendor,
            announcer=announcer,
            source_url=source,
            quote=quote,
            timezone=timezone,
            evidence=evidence.value if evidence else None,
        )
        config = await self.bot.tracker.guild(launch.guild_id)
        today = await replies.guild_today(self.bot, updated.guild_id)
        embed = render.launch_embed(updated, updated.timezone or config.timezone, today)
        await replies.reply(interaction, f"Updated #{updated.id}.", embed=embed, ephemeral=False)

    @app_commands.command(name="show", description="Show one launch")
    @app_commands.describe(launch="The launch to show")
    async def launch_show(
        self, interaction: discord.Interaction[Any], launch: LaunchOption
    ) -> None:
        config = await self.bot.tracker.guild(launch.guild_id)
        today = await replies.guild_today(self.bot, launch.guild_id)
        events = await self.bot.tracker.history(launch.guild_id, launch.id)
        embed = render.launch_embed(
            launch,
            launch.timezone or config.timezone,
            today,
            lineage=score.lineage(launch, events, today),
        )
        await replies.reply(interaction, embed=embed, ephemeral=True)

    @app_commands.command(name="list", description="List launches, sorted by deadline")
    @app_commands.describe(vendor="Only this vendor", state="Only launches in this state")
    @app_commands.choices(state=STATE_CHOICES)
    async def launch_list(
        self,
        interaction: discord.Interaction[Any],
        vendor: app_commands.Range[str, 1, 60] | None = None,
        state: app_commands.Choice[str] | None = None,
    ) -> None:
        guild_id = replies.guild_id_of(interaction)
        states = _states(state.value if state else None)
        total = await self.bot.watchlist.count(guild_id, vendor=vendor, states=states)
        if total == 0:
            hint = "No launches match." if (vendor or state) else "The watchlist is empty."
            await replies.reply(interaction, f"{hint} Add one with /launch add.")
            return
        view = ListView(self.bot, interaction.user.id, guild_id, vendor, states, total)
        await replies.reply(
            interaction,
            embed=await view.embed(),
            view=view if view.pages > 1 else None,
            ephemeral=True,
        )

    @app_commands.command(name="remove", description="Remove a launch and its history")
    @app_commands.describe(launch="The launch to remove")
    @replies.manager_only
    async def launch_remove(
        self, interaction: discord.Interaction[Any], launch: LaunchOption
    ) -> None:
        view = ConfirmRemove(self.bot, interaction.user.id, launch)
        await replies.reply(
            interaction,
            f"Remove #{launch.id} {render.launch_name(launch.product, launch.vendor)} and its "
            "whole history? This cannot be undone.",
            view=view,
        )

    @app_commands.command(name="history", description="What happened to a launch, in order")
    @app_commands.describe(launch="The launch")
    async def launch_history(
        self, interaction: discord.Interaction[Any], launch: LaunchOption
    ) -> None:
        events = await self.bot.tracker.history(launch.guild_id, launch.id)
        embed = render.lines_embed(
            f"History of #{launch.id} {render.launch_name(launch.product, launch.vendor)}",
            [render.history_line(e) for e in events],
        )
        await replies.reply(interaction, embed=embed)


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    assert isinstance(bot, SlipwatchBot)
    await bot.add_cog(LaunchCog(bot))

"""/launch: add, edit, show, list, remove, history, shipped, cancelled, delayed."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.infra import render, replies
from cogs.infra.bot import SlipwatchBot
from tracker import quotes
from tracker import stats as score
from tracker.errors import InvalidInput, TrackerError
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


Chosen = Callable[[discord.Interaction[Any], QuotedWindow], Awaitable[None]]


class WindowChoice(discord.ui.View):
    """A select menu of the windows a quote promises; the manager who asked picks one."""

    def __init__(self, owner_id: int, choices: list[QuotedWindow], chosen: Chosen) -> None:
        super().__init__(timeout=600)
        self.owner_id = owner_id
        self.choices = choices
        self.chosen = chosen
        menu: discord.ui.Select[WindowChoice] = discord.ui.Select(
            custom_id="sw:quote-window",
            placeholder="The window the launch is held to",
            options=[
                discord.SelectOption(
                    label=render.cut(choice.window.phrase, 100),
                    value=str(index),
                    description=f"{choice.window.start:%Y-%m-%d} – {choice.window.end:%Y-%m-%d}",
                )
                for index, choice in enumerate(choices)
            ],
        )
        menu.callback = self._picked  # type: ignore[method-assign]
        self.menu = menu
        self.add_item(menu)

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        if interaction.user.id != self.owner_id:
            await replies.reply(interaction, "Only whoever gave the quote can choose its window.")
            return False
        return True

    async def _picked(self, interaction: discord.Interaction[Any]) -> None:
        choice = self.choices[int(self.menu.values[0])]
        try:
            await self.chosen(interaction, choice)
        except TrackerError as exc:
            await replies.reply(interaction, str(exc))
            return
        self.stop()


def quote_choices_embed(quote: str, choices: list[QuotedWindow]) -> discord.Embed:
    """The quote with every window it promises in bold, one field per window."""
    embed = discord.Embed(title="Which window is the promise?", colour=discord.Colour.blurple())
    embed.description = render.quoted(quote, None, render.DESCRIPTION)
    for index, choice in enumerate(choices[: render.FIELDS], start=1):
        window = choice.window
        embed.add_field(
            name=render.cut(f"{index}. {window.phrase}", render.FIELD_NAME),
            value=render.cut(
                f"{render.quoted(quote, choice.span, 700)}\n"
                f"{window.start:%Y-%m-%d} – {window.end:%Y-%m-%d} (rule: {window.rule})",
                render.FIELD_VALUE,
            ),
            inline=False,
        )
    return render.fit(embed)


def _read_from(quote: str, choice: QuotedWindow) -> str:
    """How the phrase was read, for a reply's description."""
    window = choice.window
    return (
        f"{render.quoted(quote, choice.span, 1500)}\n"
        f'Read "{render.safe(choice.window.phrase, 200)}" as {window.start:%Y-%m-%d} – '
        f"{window.end:%Y-%m-%d} (rule: {window.rule})."
    )


def _window_or_quote(window: str | None, quote: str | None, day: Any) -> list[QuotedWindow]:
    """[] when the window was typed; else the windows the quote promises (InvalidInput if
    there is neither, or the quote promises none)."""
    if window is not None:
        return []
    if quote is None:
        raise InvalidInput(
            'Give the window ("end of next year", "Q3 next year", "in 6 weeks") or a quote '
            "that states it."
        )
    return quotes.windows_in_quote(quote, day)


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

        async def add(answer: discord.Interaction[Any], choice: QuotedWindow | None) -> None:
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
                _read_from(quote, choice)
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
            if choice is not None and answer is not interaction:
                await answer.response.edit_message(content=text, embed=embed, view=None)
            else:
                await replies.reply(answer, text, embed=embed, ephemeral=False)

        choices = _window_or_quote(window, quote, day)
        if len(choices) > 1:
            assert quote is not None
            view = WindowChoice(interaction.user.id, choices, add)
            await replies.reply(
                interaction,
                f"The quote promises {len(choices)} windows: choose the one "
                f"{render.safe(product, 100)} is held to.",
                embed=quote_choices_embed(quote, choices),
                view=view,
                ephemeral=False,
            )
            return
        await add(interaction, choices[0] if choices else None)

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

    @app_commands.command(name="shipped", description="Mark a launch shipped")
    @app_commands.describe(
        launch="The launch", on="The day it shipped, YYYY-MM-DD (default today)", source="A link"
    )
    @replies.manager_only
    async def launch_shipped(
        self,
        interaction: discord.Interaction[Any],
        launch: LaunchOption,
        on: str | None = None,
        source: app_commands.Range[str, 1, 500] | None = None,
    ) -> None:
        day = replies.parse_day(on, what="on")
        updated = await self.bot.tracker.shipped(
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
        self,
        interaction: discord.Interaction[Any],
        launch: LaunchOption,
        reason: app_commands.Range[str, 1, 1000] | None = None,
        source: app_commands.Range[str, 1, 500] | None = None,
        on: str | None = None,
        undated: bool = False,
    ) -> None:
        updated = await self.bot.tracker.cancelled(
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

    @app_commands.command(
        name="revived", description="A cancelled launch is back with a new window"
    )
    @app_commands.describe(
        launch="The cancelled launch",
        window='The new promised window, e.g. "in the coming weeks" (optional with a quote)',
        announced_on="When it was revived, YYYY-MM-DD (default today)",
        source="A link to the new promise",
        quote="The new promise, word for word",
    )
    @replies.manager_only
    async def launch_revived(
        self,
        interaction: discord.Interaction[Any],
        launch: LaunchOption,
        window: app_commands.Range[str, 1, 200] | None = None,
        announced_on: str | None = None,
        source: app_commands.Range[str, 1, 500] | None = None,
        quote: app_commands.Range[str, 1, 1000] | None = None,
    ) -> None:
        actor = replies.actor_of(interaction)
        day = replies.parse_day(announced_on, what="announced_on")
        read_on = day or await replies.guild_today(self.bot, launch.guild_id)

        async def revive(answer: discord.Interaction[Any], choice: QuotedWindow | None) -> None:
            phrase = choice.phrase if choice else window
            assert phrase is not None
            updated = await self.bot.tracker.revived(
                launch.guild_id,
                launch.id,
                actor,
                window_phrase=phrase,
                announced_on=day,
                source_url=source,
                quote=quote,
            )
            slip = (
                f"slip #{updated.slip_count}"
                if updated.slip_count > launch.slip_count
                else "not later than before, so not counted as a slip"
            )
            text = (
                f"Revived #{updated.id} {render.launch_name(updated.product, updated.vendor)}: "
                f"new deadline {render.ts(updated.deadline_at)} ({slip}). Its score still counts "
                f"from the first promise, {updated.first_window_end:%Y-%m-%d}."
            )
            embed = None
            if quote and choice:
                embed = discord.Embed(
                    colour=discord.Colour.blurple(),
                    description=render.cut(_read_from(quote, choice), render.DESCRIPTION),
                )
            if choice is not None and answer is not interaction:
                await answer.response.edit_message(content=text, embed=embed, view=None)
            elif embed is not None:
                await replies.reply(answer, text, embed=embed, ephemeral=False)
            else:
                await replies.reply(answer, text, ephemeral=False)

        choices = _window_or_quote(window, quote, read_on)
        if len(choices) > 1:
            assert quote is not None
            view = WindowChoice(interaction.user.id, choices, revive)
            await replies.reply(
                interaction,
                f"The quote promises {len(choices)} windows: choose the one "
                f"{render.safe(launch.product, 100)} is now held to.",
                embed=quote_choices_embed(quote, choices),
                view=view,
                ephemeral=False,
            )
            return
        await revive(interaction, choices[0] if choices else None)

    @app_commands.command(name="delayed", description="Record a re-announcement with a new window")
    @app_commands.describe(
        launch="The launch",
        window='The new promised window, e.g. "Q1 2025" (optional with a quote)',
        source="A link to the new promise",
        quote="The new promise, word for word",
    )
    @replies.manager_only
    async def launch_delayed(
        self,
        interaction: discord.Interaction[Any],
        launch: LaunchOption,
        window: app_commands.Range[str, 1, 200] | None = None,
        source: app_commands.Range[str, 1, 500] | None = None,
        quote: app_commands.Range[str, 1, 1000] | None = None,
    ) -> None:
        actor = replies.actor_of(interaction)
        today = await replies.guild_today(self.bot, launch.guild_id)

        async def reannounce(answer: discord.Interaction[Any], choice: QuotedWindow | None) -> None:
            phrase = choice.phrase if choice else window
            assert phrase is not None
            updated = await self.bot.tracker.delayed(
                launch.guild_id,
                launch.id,
                actor,
                window_phrase=phrase,
                source_url=source,
                quote=quote,
            )
            config = await self.bot.tracker.guild(launch.guild_id)
            embed = render.launch_embed(updated, updated.timezone or config.timezone, today)
            if quote and choice:
                embed.description = render.cut(_read_from(quote, choice), render.DESCRIPTION)
            note = (
                f"slip #{updated.slip_count}"
                if updated.slip_count > launch.slip_count
                else "not later than before, so not counted as a slip"
            )
            text = (
                f"Re-announced #{updated.id}: new deadline {render.ts(updated.deadline_at)} "
                f"({note})."
            )
            if choice is not None and answer is not interaction:
                await answer.response.edit_message(content=text, embed=embed, view=None)
            else:
                await replies.reply(answer, text, embed=embed, ephemeral=False)

        choices = _window_or_quote(window, quote, today)
        if len(choices) > 1:
            assert quote is not None
            view = WindowChoice(interaction.user.id, choices, reannounce)
            await replies.reply(
                interaction,
                f"The quote promises {len(choices)} windows: choose the one "
                f"{render.safe(launch.product, 100)} is now held to.",
                embed=quote_choices_embed(quote, choices),
                view=view,
                ephemeral=False,
            )
            return
        await reannounce(interaction, choices[0] if choices else None)


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    assert isinstance(bot, SlipwatchBot)
    await bot.add_cog(LaunchCog(bot))

"""Choosing the promised window: typed, or read from the quote; when the quote promises several,
the manager who gave it picks one from a menu. /launch add, revived and delayed share this."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import discord

from cogs.infra import render, replies
from tracker import quotes
from tracker.errors import InvalidInput, TrackerError
from tracker.quotes import QuotedWindow

# What to do with the window: the interaction to answer, and the quoted window (None: typed).
Chosen = Callable[[discord.Interaction[Any], QuotedWindow | None], Awaitable[None]]


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


def read_from(quote: str, choice: QuotedWindow) -> str:
    """How the phrase was read, for a reply's description."""
    window = choice.window
    return (
        f"{render.quoted(quote, choice.span, 1500)}\n"
        f'Read "{render.safe(choice.window.phrase, 200)}" as {window.start:%Y-%m-%d} – '
        f"{window.end:%Y-%m-%d} (rule: {window.rule})."
    )


def window_or_quote(window: str | None, quote: str | None, day: Any) -> list[QuotedWindow]:
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


async def with_window(
    interaction: discord.Interaction[Any],
    *,
    window: str | None,
    quote: str | None,
    day: Any,
    product: str,
    held: str,
    act: Chosen,
) -> None:
    """Run *act* with the window typed (choice None), with the one window the quote promises,
    or, when the quote promises several, with the one the manager picks from a menu (then
    *act* answers the menu's interaction). *held* ends the menu's question: "is held to"."""
    choices = window_or_quote(window, quote, day)
    if len(choices) > 1:
        assert quote is not None
        await replies.reply(
            interaction,
            f"The quote promises {len(choices)} windows: choose the one "
            f"{render.safe(product, 100)} {held}.",
            embed=quote_choices_embed(quote, choices),
            view=WindowChoice(interaction.user.id, choices, act),
            ephemeral=False,
        )
        return
    await act(interaction, choices[0] if choices else None)


async def answer(
    asked: discord.Interaction[Any],
    answering: discord.Interaction[Any],
    text: str,
    embed: discord.Embed | None,
) -> None:
    """The public answer: in place of the menu when the window was picked from it (so the menu
    goes away), else a reply to the command."""
    if answering is not asked:
        await answering.response.edit_message(content=text, embed=embed, view=None)
    elif embed is not None:
        await replies.reply(answering, text, embed=embed, ephemeral=False)
    else:
        await replies.reply(answering, text, ephemeral=False)


def slip_note(before: int, after: int) -> str:
    """How a re-dating counts: a new slip, or not later than the last promise."""
    return f"slip #{after}" if after > before else "not later than before, so not counted as a slip"

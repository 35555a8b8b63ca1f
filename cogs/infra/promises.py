"""Discovered promises in Discord: the proposal message (the sentence with the window in bold,
the window, the entry's link) with persistent "Track it" / "Ignore" buttons, and the modal
"Track it" opens. The messages are outbox rows (tracker.discovery); this module renders them."""

from __future__ import annotations

import logging
from typing import Any

import discord

from cogs.infra import render, replies
from cogs.infra.buttons import IdButton
from tracker.errors import TrackerError
from tracker.models import Message
from tracker.promises import PromiseProposal

log = logging.getLogger(__name__)


def promise_view(message: Message) -> discord.ui.View | None:
    """ "Track it" and "Ignore" under a proposal; nothing under a summary."""
    promise = message.promise
    if promise is None or promise.get("kind") != "proposal":
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(TrackPromise(int(promise["id"])))
    view.add_item(IgnorePromise(int(promise["id"])))
    return view


class TrackModal(discord.ui.Modal):
    """The product name (from the entry's title) and the window, both editable."""

    def __init__(self, proposal: PromiseProposal) -> None:
        super().__init__(title="Track this promise", custom_id=f"sw:promise-modal:{proposal.id}")
        self.proposal = proposal
        self.product: discord.ui.TextInput[TrackModal] = discord.ui.TextInput(
            label="Product",
            custom_id="product",
            default=proposal.promised.product[:100],
            min_length=1,
            max_length=100,
        )
        self.window: discord.ui.TextInput[TrackModal] = discord.ui.TextInput(
            label="Window",
            custom_id="window",
            default=proposal.promised.window_phrase[:200],
            min_length=1,
            max_length=200,
        )
        self.add_item(self.product)
        self.add_item(self.window)

    async def on_submit(self, interaction: discord.Interaction[Any]) -> None:
        bot = replies.bot_of(interaction)
        guild_id = replies.guild_id_of(interaction)
        try:
            added = await bot.discovery.track(
                guild_id,
                self.proposal.id,
                self.product.value,
                self.window.value,
                actor=replies.actor_of(interaction),
            )
        except TrackerError as exc:
            await replies.reply(interaction, str(exc))
            return
        launch = added.launch
        await interaction.response.send_message(
            f"Tracking #{launch.id} {render.launch_name(launch.product, launch.vendor)}: "
            f'"{render.safe(added.window.phrase, 200)}" read as {added.window.start:%Y-%m-%d} – '
            f"{added.window.end:%Y-%m-%d}; the deadline is {render.ts(launch.deadline_at)}.",
            allowed_mentions=discord.AllowedMentions.none(),
        )
        await _close(interaction, f"Tracked as #{launch.id}.")


async def _close(interaction: discord.Interaction[Any], note: str) -> None:
    """Take the buttons off the proposal message and say what became of it."""
    message = interaction.message
    if message is None:
        return
    try:
        await message.edit(content=note, view=None)
    except discord.HTTPException as exc:
        log.info("could not update a proposal message (%s)", exc.status)


async def _manager(interaction: discord.Interaction[Any]) -> bool:
    bot = replies.bot_of(interaction)
    config = await bot.tracker.guild(replies.guild_id_of(interaction))
    if not replies.is_manager(interaction, config):
        await replies.reply(interaction, str(replies.NotManager()))
        return False
    return True


class TrackPromise(IdButton, template=r"sw:promise-track:(\d+)"):
    """ "Track it": opens the modal (managers)."""

    prefix = "sw:promise-track"
    label = "Track it"
    style = discord.ButtonStyle.success

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        if not await _manager(interaction):
            return
        bot = replies.bot_of(interaction)
        try:
            proposal = await bot.discovery.open_proposal(
                replies.guild_id_of(interaction), self.item_id
            )
        except TrackerError as exc:
            await replies.reply(interaction, str(exc))
            return
        await interaction.response.send_modal(TrackModal(proposal))


class IgnorePromise(IdButton, template=r"sw:promise-ignore:(\d+)"):
    """ "Ignore": closes the proposal (managers)."""

    prefix = "sw:promise-ignore"
    label = "Ignore"

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        if not await _manager(interaction):
            return
        bot = replies.bot_of(interaction)
        try:
            await bot.discovery.ignore(
                replies.guild_id_of(interaction), self.item_id, actor=replies.actor_of(interaction)
            )
        except TrackerError as exc:
            await replies.reply(interaction, str(exc))
            return
        await interaction.response.edit_message(content="Ignored.", view=None)

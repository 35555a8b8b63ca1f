"""Proposals in Discord: the message a probe's detection becomes (with persistent "Confirm
shipped" / "Not yet" buttons) and what pressing them does. The messages are outbox rows
(tracker.probes.proposals), sent by cogs.infra.notifier."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord

from cogs.infra import render, replies
from cogs.infra.buttons import IdButton
from tracker import stats
from tracker.errors import TrackerError
from tracker.models import Launch
from tracker.probes import Detection, DetectionState, Proposal

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


def proposal_embed(proposal: Proposal) -> discord.Embed:
    """What a probe saw, where and when: a release ("may have been released", or "marked
    shipped automatically") or a promise of a new window (a proposed re-dating)."""
    detection = proposal.detection
    name = render.launch_name(proposal.product, proposal.vendor)
    if detection.is_promise:
        title = f"🔎 {name}: a new window was announced"
    elif detection.state is DetectionState.AUTO_CONFIRMED:
        title = f"🔎 {name} was released: marked shipped automatically"
    else:
        title = f"🔎 {name} may have been released"
    embed = discord.Embed(
        title=render.cut(title, render.TITLE),
        colour=discord.Colour.teal(),
        url=render.safe_url(detection.url),
    )
    embed.add_field(name="Seen", value=render.safe(detection.title, 1000) or "—", inline=False)
    if detection.matched and detection.matched != detection.title:
        embed.add_field(name="Matched", value=render.safe(detection.matched, 1000), inline=False)
    if detection.is_promise and detection.window_phrase and detection.window_end:
        embed.add_field(
            name="New window",
            value=render.cut(
                f"{render.safe(detection.window_phrase, 200)} (ends "
                f"{detection.window_end:%Y-%m-%d})",
                1024,
            ),
            inline=False,
        )
    embed.add_field(
        name="Where",
        value=render.cut(
            f"{proposal.probe.kind.value}: {render.safe(proposal.probe.target)}", 1024
        ),
        inline=False,
    )
    embed.add_field(name="When", value=render.ts(detection.detected_at), inline=True)
    if detection.published_at:
        embed.add_field(name="Source date", value=render.ts(detection.published_at, "D"))
    if detection.url and render.safe_url(detection.url):
        embed.add_field(name="Evidence", value=render.cut(detection.url, 1024), inline=False)
    if detection.state is DetectionState.PROPOSED and detection.is_promise:
        embed.description = (
            "The source promises a new window. A manager can move the launch to it (a "
            "re-announcement; lateness still counts from the first promise) or ignore it."
        )
    elif detection.state is DetectionState.PROPOSED:
        embed.description = (
            "A manager can confirm it (the launch is marked shipped on the source's date, else "
            "the detection day, with this evidence as source) or say not yet (the probe keeps "
            "watching)."
        )
    embed.set_footer(text=f"slipwatch · detection #{detection.id} · launch #{detection.launch_id}")
    return render.fit(embed)


def proposal_view(detection: Detection) -> discord.ui.View | None:
    """The buttons of an open proposal: "Confirm shipped" / "Not yet" for a release, "Move
    the deadline" / "Ignore" for a promise; None once decided."""
    if detection.state is not DetectionState.PROPOSED:
        return None
    view = discord.ui.View(timeout=None)
    if detection.is_promise:
        view.add_item(RedateDetection(detection.id))
        view.add_item(IgnoreDetection(detection.id))
    else:
        view.add_item(ConfirmDetection(detection.id))
        view.add_item(RejectDetection(detection.id))
    return view


class ConfirmDetection(IdButton, template=r"sw:pconfirm:(\d+)"):
    """ "Confirm shipped" on a proposal (managers)."""

    prefix = "sw:pconfirm"
    label = "Confirm shipped"
    style = discord.ButtonStyle.success

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _decide(interaction, self.item_id, confirm=True)


class RejectDetection(IdButton, template=r"sw:preject:(\d+)"):
    """ "Not yet" on a proposal (managers)."""

    prefix = "sw:preject"
    label = "Not yet"

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _decide(interaction, self.item_id, confirm=False)


class RedateDetection(IdButton, template=r"sw:predate:(\d+)"):
    """ "Move the deadline" on a promise (managers): re-announce with the source's window."""

    prefix = "sw:predate"
    label = "Move the deadline"
    style = discord.ButtonStyle.primary

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _decide(interaction, self.item_id, confirm=True)


class IgnoreDetection(IdButton, template=r"sw:pignore:(\d+)"):
    """ "Ignore" on a promise (managers)."""

    prefix = "sw:pignore"
    label = "Ignore"

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await _decide(interaction, self.item_id, confirm=False)


BUTTONS = (ConfirmDetection, RejectDetection, RedateDetection, IgnoreDetection)


def decided_text(detection: Detection, launch: Launch | None) -> str:
    """What the manager who decided a proposal is told."""
    if launch is None:
        if detection.is_promise:
            return "Ignored; the probe keeps watching."
        return "Noted as not yet; the probe keeps watching for something new."
    name = render.launch_name(launch.product, launch.vendor)
    if detection.is_promise:
        slips = f"; slip #{launch.slip_count}" if launch.slip_count else ""
        return (
            f"Re-dated: {name} is now due by {launch.window_end:%Y-%m-%d} "
            f"({render.safe(launch.window_phrase, 100)}){slips}."
        )
    verdict = stats.shipped_verdict(launch)
    return f"Confirmed: {name} shipped on {launch.shipped_on:%Y-%m-%d} ({verdict})."


async def _decide(
    interaction: discord.Interaction[Any], detection_id: int, *, confirm: bool
) -> None:
    bot = replies.bot_of(interaction)
    guild_id = replies.guild_id_of(interaction)
    config = await bot.tracker.guild(guild_id)
    if not replies.is_manager(interaction, config):
        await replies.reply(interaction, str(replies.NotManager()))
        return
    actor = replies.actor_of(interaction)
    try:
        if confirm:
            launch = await bot.probes.confirm(guild_id, detection_id, actor)
            detection = await bot.probes.get_detection(guild_id, detection_id)
            text = decided_text(detection, launch)
        else:
            detection = await bot.probes.reject(guild_id, detection_id, actor)
            text = decided_text(detection, None)
    except TrackerError as exc:
        await replies.reply(interaction, str(exc))
        return
    await interaction.response.edit_message(view=None)
    await interaction.followup.send(text, ephemeral=True)

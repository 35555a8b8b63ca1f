"""Release detection in Discord: /launch watch|probes|unwatch, and the proposal messages with
"Confirm shipped" / "Not yet" buttons (persistent custom ids)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs import common, render
from cogs.buttons import IdButton
from storage import repo
from tracker.errors import TrackerError
from tracker.models import Launch
from tracker.probes import DetectionState, Probe, Proposal

if TYPE_CHECKING:
    from cogs.app import SlipwatchBot

log = logging.getLogger(__name__)

LaunchOption = app_commands.Transform[Launch, common.LaunchTransformer]
KIND_CHOICES = [
    app_commands.Choice(name=name, value=value)
    for value, name in (
        ("models", "models: an OpenAI-compatible model list (base URL)"),
        ("anthropic-models", "anthropic-models: Anthropic's model list (base URL)"),
        ("huggingface", "huggingface: a model repository (org/name)"),
        ("github", "github: releases or tags of a repository (owner/repo)"),
        ("feed", "feed: an RSS or Atom feed (URL)"),
        ("page", "page: a web page's text (URL)"),
    )
]


def proposal_nonce(detection_id: int) -> str:
    """The same proposal always carries the same nonce, so a re-post is deduplicated."""
    return hashlib.sha256(f"proposal:{detection_id}".encode()).hexdigest()[:25]


def proposal_embed(proposal: Proposal) -> discord.Embed:
    """What a probe saw, where and when."""
    detection = proposal.detection
    name = render.launch_name(proposal.product, proposal.vendor)
    if detection.state is DetectionState.AUTO_CONFIRMED:
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
    if detection.state is DetectionState.PROPOSED:
        embed.description = (
            "A manager can confirm it (the launch is marked shipped on the detection day with "
            "this evidence as source) or say not yet (the probe keeps watching)."
        )
    embed.set_footer(text=f"slipwatch · detection #{detection.id} · launch #{detection.launch_id}")
    return render.fit(embed)


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


async def _decide(
    interaction: discord.Interaction[Any], detection_id: int, *, confirm: bool
) -> None:
    bot = common.bot_of(interaction)
    guild_id = common.guild_id_of(interaction)
    config = await repo.get_guild(bot.db.read, guild_id)
    if not common.is_manager(interaction, config):
        await common.reply(interaction, str(common.NotManager()))
        return
    actor = common.actor_of(interaction)
    try:
        if confirm:
            launch = await bot.probes.confirm(guild_id, detection_id, actor)
            late = launch.days_late or 0
            verdict = "on time" if late == 0 else f"{late} days late"
            text = (
                f"Confirmed: {render.launch_name(launch.product, launch.vendor)} shipped on "
                f"{launch.shipped_on:%Y-%m-%d} ({verdict})."
            )
        else:
            await bot.probes.reject(guild_id, detection_id, actor)
            text = "Noted as not yet; the probe keeps watching for something new."
    except TrackerError as exc:
        await common.reply(interaction, str(exc))
        return
    await interaction.response.edit_message(view=None)
    await interaction.followup.send(text, ephemeral=True)


class ProposalPoster:
    """Posts pending proposals to the alert channel; the service keeps them until posted, so a
    Discord outage or a restart loses none."""

    def __init__(self, bot: SlipwatchBot) -> None:
        self.bot = bot
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start posting in the background (and post what was pending at start)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="slipwatch-proposals")
            self._wake.set()

    async def stop(self) -> None:
        """Stop the background task."""
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def on_detection(self, proposal: Proposal) -> None:
        """ProbeService callback."""
        self._wake.set()

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            try:
                await self.post_pending()
            except Exception:
                log.exception("posting proposals failed; retrying in 30 s")
                asyncio.get_running_loop().call_later(30.0, self._wake.set)

    async def post_pending(self) -> int:
        """Post every pending proposal whose guild has an alert channel; returns how many."""
        posted = 0
        for proposal in await self.bot.probes.pending_posts():
            detection = proposal.detection
            config = await repo.get_guild(self.bot.db.read, detection.guild_id)
            if config.alert_channel_id is None:
                continue
            view = None
            if detection.state is DetectionState.PROPOSED:
                view = discord.ui.View(timeout=None)
                view.add_item(ConfirmDetection(detection.id))
                view.add_item(RejectDetection(detection.id))
            channel = self.bot.get_partial_messageable(config.alert_channel_id)
            try:
                await self.bot.notifier.pacer.acquire()
                message = await channel.send(
                    embed=proposal_embed(proposal),
                    view=view,
                    nonce=proposal_nonce(detection.id),
                    allowed_mentions=discord.AllowedMentions.none(),
                )
            except discord.HTTPException as exc:
                log.warning("posting detection %s failed (%s)", detection.id, exc.status)
                continue
            await self.bot.probes.mark_posted(detection.guild_id, detection.id, message.id)
            posted += 1
        return posted


def probe_line(probe: Probe) -> str:
    """One line of /launch probes."""
    if not probe.enabled:
        state = f"**disabled**: {render.safe(probe.disabled_reason or probe.last_error or '', 200)}"
    elif probe.consecutive_failures:
        state = (
            f"failing ({probe.consecutive_failures}x): {render.safe(probe.last_error or '', 200)}"
        )
    elif probe.last_checked_at is None:
        state = "not checked yet"
    else:
        state = f"ok, last check {render.ts(probe.last_checked_at, 'R')}"
    next_check = f", next {render.ts(probe.next_check_at, 'R')}" if probe.enabled else ""
    pattern = f" `{render.safe(probe.pattern, 80)}`" if probe.pattern else ""
    auto = " · auto-confirm" if probe.auto_confirm else ""
    return render.cut(
        f"`#{probe.id}` {probe.kind.value} {render.safe(probe.target, 200)}{pattern} · every "
        f"{probe.interval_minutes} min{auto} · {state}{next_check}",
        600,
    )


@app_commands.command(name="watch", description="Watch an official source for this launch")
@app_commands.describe(
    launch="The launch",
    kind="What kind of source",
    target="Base URL, org/name, owner/repo, or a feed or page URL",
    pattern='What to look for, e.g. "grok-3*" (wildcards * and ?)',
    auto_confirm="Mark shipped automatically on detection (default: ask managers)",
    interval="Minutes between checks (5 to 10080, default 30)",
    api_key_env="Name of the bot's environment variable holding the API key (SLIPWATCH_KEY_...)",
)
@app_commands.choices(kind=KIND_CHOICES)
async def launch_watch(
    interaction: discord.Interaction[Any],
    launch: LaunchOption,
    kind: app_commands.Choice[str],
    target: app_commands.Range[str, 1, 500],
    pattern: app_commands.Range[str, 1, 200] | None = None,
    auto_confirm: bool = False,
    interval: app_commands.Range[int, 5, 10080] | None = None,
    api_key_env: app_commands.Range[str, 1, 64] | None = None,
) -> None:
    await common.require_manager(interaction)
    bot = common.bot_of(interaction)
    await interaction.response.defer(ephemeral=True, thinking=True)
    probe = await bot.probes.add_probe(
        launch.guild_id,
        launch.id,
        kind.value,
        target,
        pattern,
        auto_confirm,
        interval,
        api_key_env,
        actor=common.actor_of(interaction),
    )
    await interaction.followup.send(
        f"Watching for {render.launch_name(launch.product, launch.vendor)}: probe #{probe.id}, "
        f"{probe.kind.value} {render.safe(probe.target, 200)}, every {probe.interval_minutes} "
        f"minutes{' (auto-confirm)' if probe.auto_confirm else ''}. The first check runs now.",
        ephemeral=True,
        allowed_mentions=discord.AllowedMentions.none(),
    )


@app_commands.command(name="probes", description="The probes watching a launch")
@app_commands.describe(launch="The launch")
async def launch_probes(interaction: discord.Interaction[Any], launch: LaunchOption) -> None:
    bot = common.bot_of(interaction)
    probes = await bot.probes.list_probes(launch.guild_id, launch.id)
    if not probes:
        await common.reply(
            interaction,
            f"Nothing watches {render.launch_name(launch.product, launch.vendor)}. "
            "Add a probe with /launch watch.",
        )
        return
    embed = render.lines_embed(
        f"Probes for {render.launch_name(launch.product, launch.vendor)}",
        [probe_line(p) for p in probes],
    )
    await common.reply(interaction, embed=embed)


@app_commands.command(name="unwatch", description="Stop a probe")
@app_commands.describe(probe="The probe number, from /launch probes")
async def launch_unwatch(
    interaction: discord.Interaction[Any], probe: app_commands.Range[int, 1]
) -> None:
    await common.require_manager(interaction)
    bot = common.bot_of(interaction)
    removed = await bot.probes.remove_probe(common.guild_id_of(interaction), probe)
    await common.reply(interaction, f"Probe #{removed.id} stopped and removed.")


async def setup(bot: commands.Bot) -> None:
    """Extension entry point: adds watch/probes/unwatch to the /launch group."""
    group = bot.tree.get_command("launch")
    assert isinstance(group, app_commands.Group), "load cogs.launch before cogs.probes"
    for command in (launch_watch, launch_probes, launch_unwatch):
        group.add_command(command)
    bot.add_dynamic_items(ConfirmDetection, RejectDetection)


async def teardown(bot: commands.Bot) -> None:
    """Extension exit point."""
    group = bot.tree.get_command("launch")
    if isinstance(group, app_commands.Group):
        for name in ("watch", "probes", "unwatch"):
            group.remove_command(name)


__all__ = ["ProposalPoster", "TrackerError"]

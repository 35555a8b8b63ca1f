"""Release detection in Discord: /launch watch|probes|unwatch. The proposal messages and their
buttons live in cogs.infra.proposals."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.infra import render, replies
from cogs.infra.proposals import BUTTONS, proposal_view
from tracker.models import Launch
from tracker.probes import Detection, DetectionState, Probe
from tracker.probes.service import FirstCheck

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)

LaunchOption = app_commands.Transform[Launch, replies.LaunchTransformer]
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
    if probe.prereleases:
        auto += " · beta (pre-releases count)"
    return render.cut(
        f"`#{probe.id}` {probe.kind.value} {render.safe(probe.target, 200)}{pattern} · every "
        f"{probe.interval_minutes} min{auto} · {state}{next_check}",
        600,
    )


def first_check_text(check: FirstCheck) -> tuple[str, Detection | None]:
    """What /launch watch says the first poll found, and the release to offer to confirm."""
    if check.error is not None:
        return (
            f"The first check failed: {render.safe(check.error, 300)}. The probe tries again "
            f"{render.ts(check.probe.next_check_at, 'R')}; see /launch probes.",
            None,
        )
    if check.releases:
        newest = check.releases[0]
        seen_at = newest.detected_at
        if newest.published_at is not None and newest.published_at <= seen_at:
            seen_at = newest.published_at  # the source's own date, unless it is in the future
        day = seen_at.strftime("%Y-%m-%d")
        seen = f"already out: '{render.safe(newest.title, 300)}' on {day}"
        more = len(check.releases) - 1
        also = (
            f" ({more} more {'release' if more == 1 else 'releases'} go to the alert channel)"
            if more
            else ""
        )
        if newest.state is DetectionState.AUTO_CONFIRMED:
            return f"The first check found it {seen}, and marked it shipped (auto-confirm).", None
        return f"The first check found it {seen} - mark it shipped?{also}", newest
    nothing = "The first check found no release yet"
    promised = next((d for d in check.promises if d.window_phrase), None)
    if promised is not None:
        nothing += f"; the source promises it {render.safe(promised.window_phrase or '', 100)}"
    elif check.promises:
        nothing += "; the source says it is coming"
    return f"{nothing}. Next check {render.ts(check.probe.next_check_at, 'R')}.", None


@app_commands.command(name="watch", description="Watch an official source for this launch")
@app_commands.describe(
    launch="The launch",
    kind="What kind of source",
    target="Base URL, org/name, owner/repo, or a feed or page URL",
    pattern="Default: the product name. E.g. grok-3 or grok-3* (models), v2.* (github), Grok 3",
    auto_confirm="Mark shipped automatically when a release is seen (never on a promise)",
    interval="Minutes between checks (5 to 10080, default 30)",
    api_key_env="Name of the bot's environment variable holding the API key (SLIPWATCH_KEY_...)",
    beta="This launch is a beta: pre-releases (v2.0.0-rc.1, grok-3-beta) count as released",
)
@app_commands.choices(kind=KIND_CHOICES)
@replies.manager_only
async def launch_watch(
    interaction: discord.Interaction[Any],
    launch: LaunchOption,
    kind: app_commands.Choice[str],
    target: app_commands.Range[str, 1, 500],
    pattern: app_commands.Range[str, 1, 200] | None = None,
    auto_confirm: bool = False,
    interval: app_commands.Range[int, 5, 10080] | None = None,
    api_key_env: app_commands.Range[str, 1, 64] | None = None,
    beta: bool = False,
) -> None:
    bot = replies.bot_of(interaction)
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
        prereleases=beta,
        actor=replies.actor_of(interaction),
    )
    check = await bot.probes.first_check(launch.guild_id, probe.id)
    found, offer = first_check_text(check)
    looking = (
        f", looking for \u201c{render.safe(probe.pattern, 100)}\u201d" if probe.pattern else ""
    )
    flags = [f for f, on in (("auto-confirm", probe.auto_confirm), ("beta", beta)) if on]
    shown = f" ({', '.join(flags)})" if flags else ""
    text = (
        f"Watching for {render.launch_name(launch.product, launch.vendor)}: probe #{probe.id}, "
        f"{probe.kind.value} {render.safe(probe.target, 200)}{looking}, every "
        f"{probe.interval_minutes} minutes{shown}. {found}"
    )
    view = proposal_view(offer) if offer is not None else None
    await interaction.followup.send(
        render.cut(text, 2000),
        ephemeral=True,
        view=view if view is not None else discord.utils.MISSING,
        allowed_mentions=discord.AllowedMentions.none(),
    )
    if offer is not None and offer.posted_at is None:
        # Shown here with its buttons: not posted again in the alert channel.
        await bot.probes.mark_posted(launch.guild_id, offer.id)


@app_commands.command(name="probes", description="The probes watching a launch")
@app_commands.describe(launch="The launch")
async def launch_probes(interaction: discord.Interaction[Any], launch: LaunchOption) -> None:
    bot = replies.bot_of(interaction)
    probes = await bot.probes.list_probes(launch.guild_id, launch.id)
    if not probes:
        await replies.reply(
            interaction,
            f"Nothing watches {render.launch_name(launch.product, launch.vendor)}. "
            "Add a probe with /launch watch.",
        )
        return
    embed = render.lines_embed(
        f"Probes for {render.launch_name(launch.product, launch.vendor)}",
        [probe_line(p) for p in probes],
    )
    await replies.reply(interaction, embed=embed)


@app_commands.command(name="unwatch", description="Stop a probe")
@app_commands.describe(probe="The probe number, from /launch probes")
@replies.manager_only
async def launch_unwatch(
    interaction: discord.Interaction[Any], probe: app_commands.Range[int, 1]
) -> None:
    bot = replies.bot_of(interaction)
    removed = await bot.probes.remove_probe(replies.guild_id_of(interaction), probe)
    await replies.reply(interaction, f"Probe #{removed.id} stopped and removed.")


async def setup(bot: commands.Bot) -> None:
    """Extension entry point: adds watch/probes/unwatch to the /launch group."""
    group = bot.tree.get_command("launch")
    assert isinstance(group, app_commands.Group), "load cogs.launch before cogs.probes"
    commands_: tuple[app_commands.Command[Any, ..., None], ...] = (
        launch_watch,
        launch_probes,
        launch_unwatch,
    )
    for command in commands_:
        group.add_command(command)
    bot.add_dynamic_items(*BUTTONS)


async def teardown(bot: commands.Bot) -> None:
    """Extension exit point."""
    group = bot.tree.get_command("launch")
    if isinstance(group, app_commands.Group):
        for name in ("watch", "probes", "unwatch"):
            group.remove_command(name)

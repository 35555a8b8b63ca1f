"""/slips: the score. Summary (the digest, now), statistics, leaderboard and the timeline chart."""

from __future__ import annotations

import io
import logging
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs.infra import messages, render, replies
from cogs.infra.bot import SlipwatchBot
from tracker import stats as score
from tracker.stats.report import days_words, percent_words
from tracker.text import plural

log = logging.getLogger(__name__)

# Launches still out that /slips stats names (the field says how many there are in all).
STILL_LATE_LISTED = 10

BY_CHOICES = [
    app_commands.Choice(name="vendor", value="vendor"),
    app_commands.Choice(name="announcer", value="announcer"),
]


def stats_embed(result: score.Stats) -> discord.Embed:
    """/slips stats as an embed; the footer states the rules of the score."""
    scope = " · ".join(
        part
        for part in (
            f"vendor {render.safe(result.vendor, 60)}" if result.vendor else "",
            f"announcer {render.safe(result.announcer, 60)}" if result.announcer else "",
        )
        if part
    )
    embed = discord.Embed(
        title=render.cut("Track record" + (f": {scope}" if scope else ""), render.TITLE),
        colour=discord.Colour.blurple(),
    )
    parts = [
        f"{plural(result.total, 'launch')}: {result.scored} scored, "
        f"{result.not_yet_due} not yet due."
    ]
    if result.rumours_left_out:
        parts.append(
            f"{plural(result.rumours_left_out, 'rumour')} left out (evidence:all counts them)."
        )
    elif result.evidence == "all":
        parts.append("Rumours included.")
    embed.description = " ".join(parts)
    embed.add_field(
        name="On time", value=f"{percent_words(result.on_time_rate)} ({result.on_time})"
    )
    embed.add_field(name="Shipped late", value=str(result.shipped_late))
    embed.add_field(name="Still out, overdue", value=str(result.overdue_open))
    embed.add_field(name="Cancelled", value=str(result.cancelled))
    embed.add_field(name="Median late", value=days_words(result.median_days_late))
    multiplier = (
        "—"
        if result.time_multiplier is None
        else f"×{result.time_multiplier:.2f} (median of {result.time_multiplier_count})"
    )
    embed.add_field(name="Time multiplier", value=multiplier)
    embed.add_field(
        name="Kept the latest promise",
        value=f"{percent_words(result.kept_latest_rate)} ({result.kept_latest})",
    )
    embed.add_field(name="Slips", value=str(result.slips))
    if result.worst is not None:
        worst = result.worst
        embed.add_field(
            name="Worst slip",
            value=render.cut(
                f"{render.launch_name(worst.product, worst.vendor)}: {worst.words()}", 1024
            ),
            inline=False,
        )
    if result.still_late:
        lines = [
            f"• {render.launch_name(f.product, f.vendor)}: {f.words()}"
            for f in result.still_late[:STILL_LATE_LISTED]
        ]
        if result.overdue_open > STILL_LATE_LISTED:
            lines.append(f"…and {result.overdue_open - STILL_LATE_LISTED} more")
        embed.add_field(
            name=f"Still out past the first promise ({result.overdue_open})",
            value=render.cut("\n".join(lines), 1024),
            inline=False,
        )
    embed.set_footer(text=render.cut(score.RULES, render.FOOTER))
    return render.fit(embed)


def board_embed(board: score.Leaderboard) -> discord.Embed:
    """/slips leaderboard as an embed."""
    lines = [
        f"**{e.rank}.** {render.safe(e.name, 60)} · {percent_words(e.on_time_rate)} on time "
        f"({e.on_time}/{e.scored}) · median {days_words(e.median_days_late)} late"
        for e in board.entries
    ]
    if not lines:
        lines = [
            f"No {board.by} has {board.min_scored} or more scored launches yet. "
            "Try a lower minimum."
        ]
    embed = render.lines_embed(
        f"Leaderboard by {board.by} (at least {board.min_scored} scored)", lines
    )
    if board.too_few:
        names = ", ".join(render.safe(n, 40) for n in board.too_few[:20])
        embed.add_field(name="Not enough scored launches yet", value=render.cut(names, 1024))
    embed.set_footer(text=render.cut(score.RULES, render.FOOTER))
    return render.fit(embed)


EVIDENCE_CHOICES = [
    app_commands.Choice(name="official and reported (default)", value="counted"),
    app_commands.Choice(name="all, rumours included", value="all"),
]


def _evidence(choice: app_commands.Choice[str] | None) -> score.EvidenceFilter:
    return "all" if choice is not None and choice.value == "all" else "counted"


class SlipsCog(commands.GroupCog, group_name="slips", group_description="The score"):
    """Statistics that keep the score."""

    def __init__(self, bot: SlipwatchBot) -> None:
        self.bot = bot
        self.stats = bot.stats
        super().__init__()

    @app_commands.command(name="summary", description="The digest, now")
    @app_commands.describe(public="Post it for everyone (default: only you see it)")
    @app_commands.guild_only()
    async def slips_summary(
        self, interaction: discord.Interaction[Any], public: bool = False
    ) -> None:
        guild_id = replies.guild_id_of(interaction)
        # Deferred first: over thousands of launches the answer can take more than a second.
        await interaction.response.defer(ephemeral=not public, thinking=True)
        digest = await self.bot.digests.preview(guild_id)
        await replies.reply(interaction, embed=messages.digest_embed(digest), ephemeral=not public)

    @app_commands.command(name="stats", description="On-time rate, days late, time multiplier")
    @app_commands.describe(
        vendor="Only this vendor",
        announcer="Only this announcer",
        evidence="Count rumours too (default: official and reported only)",
    )
    @app_commands.choices(evidence=EVIDENCE_CHOICES)
    @app_commands.guild_only()
    async def slips_stats(
        self,
        interaction: discord.Interaction[Any],
        vendor: app_commands.Range[str, 1, 60] | None = None,
        announcer: app_commands.Range[str, 1, 100] | None = None,
        evidence: app_commands.Choice[str] | None = None,
    ) -> None:
        guild_id = replies.guild_id_of(interaction)
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.stats.stats(
            guild_id,
            vendor=vendor,
            announcer=announcer,
            evidence=_evidence(evidence),
            still_late=STILL_LATE_LISTED,
        )
        if result.total == 0 and result.rumours_left_out == 0:
            await replies.reply(
                interaction,
                "No launches match." if (vendor or announcer) else "The watchlist is empty.",
            )
            return
        await replies.reply(interaction, embed=stats_embed(result))

    @app_commands.command(name="leaderboard", description="Who keeps their promises")
    @app_commands.describe(
        by="Rank vendors or announcers",
        minimum="Scored launches needed",
        evidence="Count rumours too (default: official and reported only)",
    )
    @app_commands.choices(by=BY_CHOICES, evidence=EVIDENCE_CHOICES)
    @app_commands.guild_only()
    async def slips_leaderboard(
        self,
        interaction: discord.Interaction[Any],
        by: app_commands.Choice[str] | None = None,
        minimum: app_commands.Range[int, 1, 1000] = score.DEFAULT_MIN_SCORED,
        evidence: app_commands.Choice[str] | None = None,
    ) -> None:
        guild_id = replies.guild_id_of(interaction)
        group: score.GroupBy = "vendor"
        if by is not None and by.value == "announcer":
            group = "announcer"
        await interaction.response.defer(ephemeral=True, thinking=True)
        board = await self.stats.leaderboard(
            guild_id, by=group, min_scored=minimum, evidence=_evidence(evidence)
        )
        await replies.reply(interaction, embed=board_embed(board))

    @app_commands.command(name="chart", description="Promised vs. delivered, as a timeline")
    @app_commands.describe(vendor="Only this vendor", since="Announced on or after, YYYY-MM-DD")
    @app_commands.guild_only()
    async def slips_chart(
        self,
        interaction: discord.Interaction[Any],
        vendor: app_commands.Range[str, 1, 60] | None = None,
        since: str | None = None,
    ) -> None:
        guild_id = replies.guild_id_of(interaction)
        start = replies.parse_day(since, what="since")
        await interaction.response.defer(thinking=True)
        chart = await self.stats.chart(guild_id, vendor=vendor, since=start)
        if chart.launches == 0:
            await interaction.followup.send(
                "No launches to draw" + (" for that filter." if (vendor or since) else "."),
                allowed_mentions=discord.AllowedMentions.none(),
            )
            return
        await interaction.followup.send(
            file=discord.File(io.BytesIO(chart.png), filename="slipwatch-timeline.png"),
            allowed_mentions=discord.AllowedMentions.none(),
        )


async def setup(bot: commands.Bot) -> None:
    """Extension entry point."""
    assert isinstance(bot, SlipwatchBot)
    await bot.add_cog(SlipsCog(bot))

"""What the outbox's messages look like in Discord: alerts (one, or a merged burst), digests
and promise proposals, as embeds built from cogs.infra.render's pieces."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import discord

from cogs.infra.render import (
    COLOURS,
    DESCRIPTION,
    FIELD_VALUE,
    TITLE,
    cut,
    fit,
    launch_name,
    quoted,
    safe,
    safe_url,
    ts,
)
from tracker.digests import UPCOMING_DAYS, Digest, DigestEntry
from tracker.models import Alert, AlertKind, Message
from tracker.outbox import alert_text
from tracker.text import lateness, plural

EMOJI = {
    AlertKind.REMINDER: "⏳",
    AlertKind.SLIPPED: "🚨",
    AlertKind.MILESTONE: "🚨",
    AlertKind.SHIPPED: "✅",
    AlertKind.CANCELLED: "🪦",
    AlertKind.REANNOUNCED: "🔁",
    AlertKind.REVIVED: "🧟",
    AlertKind.NOTE: "📝",
    AlertKind.TEST: "🧪",
}


def alert_title(alert: Alert) -> str:
    """The headline (the console's words) with an emoji and user text escaped."""
    name = launch_name(alert.launch.product, alert.launch.vendor)
    return f"{EMOJI[alert.kind]} {alert_text.headline(alert, name=name)}"


def alert_embed(alert: Alert) -> discord.Embed:
    """One alert as an embed: what happened, the promise, the deadline, the score."""
    launch = alert.launch
    embed = discord.Embed(
        title=cut(alert_title(alert), TITLE),
        colour=COLOURS[alert.kind],
        url=safe_url(alert.source_url or launch.source_url),
    )
    lines: list[str] = []
    if alert.kind is AlertKind.TEST:
        lines.append("This is how alerts will look in this channel. Nothing has happened.")
    if alert.added_late:
        lines.append(f"This was due {ts(alert.at, 'f')}: it was added after its deadline.")
    elif alert.detected_late:
        lines.append(
            f"Detected late: this was due {ts(alert.at, 'f')}, while slipwatch was offline."
        )
    if alert.kind is AlertKind.REANNOUNCED and alert.previous_window:
        previous = f'Previously promised "{safe(alert.previous_window, 300)}"'
        if alert.previous_deadline:
            previous += f" (deadline {ts(alert.previous_deadline, 'D')})"
        lines.append(previous + ".")
    if alert.note:
        lines.append(safe(alert.note, 1000))
    if lines:
        embed.description = cut("\n".join(lines), DESCRIPTION)
    embed.add_field(
        name="Promised",
        value=cut(f'"{safe(launch.window_phrase, 300)}" (by {launch.window_end:%Y-%m-%d})', 1024),
        inline=True,
    )
    embed.add_field(
        name="Deadline",
        value=f"{ts(launch.deadline_at)} ({ts(launch.deadline_at, 'R')})",
        inline=True,
    )
    announced = f"{launch.announced_on:%Y-%m-%d}"
    if launch.announcer:
        announced += f" by {safe(launch.announcer, 200)}"
    embed.add_field(name="Announced", value=cut(announced, FIELD_VALUE), inline=True)
    if alert.days_late is not None and alert.kind is not AlertKind.SHIPPED:
        embed.add_field(name="Days late", value=str(alert.days_late), inline=True)
    if alert.kind is AlertKind.SHIPPED and launch.shipped_on:
        embed.add_field(
            name="Shipped",
            value=f"{launch.shipped_on:%Y-%m-%d} ({lateness(alert.days_late or 0)})",
            inline=True,
        )
    if alert.kind is AlertKind.CANCELLED and launch.cancelled_on:
        embed.add_field(name="Cancelled", value=f"{launch.cancelled_on:%Y-%m-%d}", inline=True)
    first = launch.first_window_end
    if first is not None and first != launch.window_end:
        embed.add_field(name="First promise", value=f"{first:%Y-%m-%d}", inline=True)
    embed.add_field(name="Slips", value=str(launch.slip_count), inline=True)
    embed.add_field(name="Evidence", value=launch.evidence.value, inline=True)
    source = safe_url(alert.source_url or launch.source_url)
    if source:
        embed.add_field(name="Source", value=cut(source, FIELD_VALUE), inline=False)
    if launch.quote:
        embed.add_field(
            name="The promise", value=cut(f"> {safe(launch.quote)}", FIELD_VALUE), inline=False
        )
    footer = f"slipwatch · launch #{launch.id}" if launch.id else "slipwatch"
    embed.set_footer(text=footer)
    return fit(embed)


def merged_embed(message: Message) -> discord.Embed:
    """Many alerts at once (a catch-up, or a burst into one channel), as one embed listing
    each."""
    alerts = message.alerts
    late = all(alert.detected_late for alert in alerts)
    embed = discord.Embed(
        title=f"{len(alerts)} alerts" + (" while slipwatch was offline" if late else " at once"),
        colour=discord.Colour.red(),
    )
    lines: list[str] = []
    used = 0
    for index, alert in enumerate(alerts):
        line = f"• {alert_title(alert)} (due {ts(alert.at, 'f')})"
        line = cut(line, 300)
        if used + len(line) + 40 > DESCRIPTION:
            lines.append(f"…and {len(alerts) - index} more: see /launch list.")
            break
        lines.append(line)
        used += len(line) + 1
    embed.description = "\n".join(lines)
    embed.set_footer(text="slipwatch · detected late" if late else "slipwatch")
    return fit(embed)


def message_embeds(message: Message) -> list[discord.Embed]:
    """The embeds of one outbox message."""
    if message.digest is not None:
        return [digest_embed(Digest.from_json(message.digest))]
    if message.promise is not None:
        return [promise_embed(message.promise)]
    if message.merged:
        return [merged_embed(message)]
    return [alert_embed(message.alerts[0])]


def promise_embed(promise: dict[str, Any]) -> discord.Embed:
    """A proposal (or the line summing up proposals over the per-poll cap)."""
    vendor = safe(str(promise.get("vendor", "")), 60)
    if promise.get("kind") == "summary":
        count = int(promise.get("count", 0))
        titles = [safe(str(t), 150) for t in promise.get("titles", [])]
        embed = discord.Embed(
            title=cut(f"🔭 {plural(count, 'more promise')} from {vendor}", TITLE),
            colour=discord.Colour.dark_teal(),
            description=cut(
                f"{plural(count, 'more new entry')} of "
                f"{safe(str(promise.get('target', '')), 300)} promise a window; only "
                "the first ones of a check are proposed one by one."
                + ("\n" + "\n".join(f"• {t}" for t in titles) if titles else ""),
                DESCRIPTION,
            ),
        )
        return fit(embed)
    span = promise.get("span") or [0, 0]
    product = safe(str(promise.get("product", "")), 100)
    embed = discord.Embed(
        title=cut(f"🔭 New promise from {vendor}: {product}", TITLE),
        colour=discord.Colour.teal(),
        url=safe_url(promise.get("url")),
        description=quoted(str(promise.get("sentence", "")), (int(span[0]), int(span[1])), 1500),
    )
    embed.add_field(
        name="Window",
        value=cut(
            f'"{safe(str(promise.get("window_phrase", "")), 200)}": '
            f"{promise.get('window_start')} – {promise.get('window_end')}",
            FIELD_VALUE,
        ),
        inline=False,
    )
    title = safe(str(promise.get("title", "")), 300)
    url = safe_url(promise.get("url"))
    embed.add_field(
        name="Entry",
        value=cut(f"[{title}]({url})" if url else title or "—", FIELD_VALUE),
        inline=False,
    )
    embed.set_footer(
        text="A manager can track it (the launch is added with this entry as its source) "
        f"or ignore it. · promise #{promise.get('id')}"
    )
    return fit(embed)


def digest_embed(digest: Digest) -> discord.Embed:
    """A digest as one embed: a field per section, Discord timestamps for what is due."""
    title = "Your slipwatch digest" if digest.user_id is not None else "slipwatch digest"
    embed = discord.Embed(title=title, colour=discord.Colour.blurple())
    start, end = digest.period_start, digest.period_end
    head = f"{ts(start, 'f')} → {ts(end, 'f')}" if digest.period_key else f"until {ts(end, 'f')}"
    if digest.late:
        head += "\nPosted late: slipwatch was offline at the scheduled time."
    if digest.empty:
        head += f"\nNothing changed and no deadline in the next {UPCOMING_DAYS} days."
    embed.description = cut(head, DESCRIPTION)

    def name(entry: DigestEntry) -> str:
        return f"{safe(entry.product, 80)} ({safe(entry.vendor, 40)})"

    def when(entry: DigestEntry) -> str:
        return f" ({entry.day:%Y-%m-%d})" if entry.day else ""

    def shipped(entry: DigestEntry) -> str:
        late = entry.days_late or 0
        verdict = "on time" if late == 0 else f"{plural(late, 'day')} late"
        return f"{name(entry)}: {verdict}{when(entry)}"

    def reannounced(entry: DigestEntry) -> str:
        slip = f" (slip #{entry.slip_count})" if entry.slip_count else ""
        return (
            f'{name(entry)}: "{safe(entry.previous_window, 60)}" → "{safe(entry.window, 60)}"{slip}'
        )

    def upcoming(entry: DigestEntry) -> str:
        due = f"{ts(entry.deadline_at, 'R')}" if entry.deadline_at else "soon"
        return f'{name(entry)}: "{safe(entry.window, 60)}", deadline {due}'

    sections: list[tuple[str, str, Callable[[DigestEntry], str]]] = [
        ("🚨 Slipped", "slipped", lambda e: f'{name(e)} missed "{safe(e.window, 60)}"'),
        ("✅ Shipped", "shipped", shipped),
        ("🪦 Cancelled", "cancelled", lambda e: f"{name(e)}{when(e)}"),
        ("🔁 Re-announced", "reannounced", reannounced),
        (f"⏳ Due in the next {UPCOMING_DAYS} days", "upcoming", upcoming),
        (
            "🐌 Still late",
            "still_late",
            lambda e: f"{name(e)}: {plural(e.days_late or 0, 'day')} late",
        ),
    ]
    for heading, section, fmt in sections:
        # A digest keeps a section's first entries (tracker.digests.LISTED, more than a field
        # can show) and its total: the lines stop inside what was kept.
        entries: tuple[DigestEntry, ...] = getattr(digest, section)
        total = digest.count(section)
        if not total:
            continue
        lines: list[str] = []
        used = 0
        for index, entry in enumerate(entries):
            line = "• " + cut(fmt(entry), 200)
            if used + len(line) + 30 > FIELD_VALUE:
                lines.append(f"…and {total - index} more")
                break
            lines.append(line)
            used += len(line) + 1
        else:
            if total > len(entries):
                lines.append(f"…and {total - len(entries)} more")
        embed.add_field(name=f"{heading} ({total})", value="\n".join(lines), inline=False)
    if digest.on_time_rate is not None:
        embed.add_field(
            name="On time so far",
            value=(f"{digest.on_time_rate:.0%} of {plural(digest.scored, 'scored launch')}"),
            inline=False,
        )
    embed.set_footer(text="slipwatch · /slips stats for the full record")
    return fit(embed)

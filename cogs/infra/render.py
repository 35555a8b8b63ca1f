"""Discord renderings: embeds for alerts and launches, with user text escaped and every piece
cut to Discord's limits before it is sent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import discord
from discord.utils import escape_markdown, escape_mentions, format_dt

from tracker import stats as score
from tracker.digests import UPCOMING_DAYS, Digest, DigestEntry
from tracker.models import Alert, AlertKind, Launch, LaunchEvent, LaunchState, Message
from tracker.outbox import alert_text
from tracker.text import lateness, plural

# Discord's limits (https://discord.com/developers/docs/resources/message#embed-object-limits).
CONTENT = 2000
TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
EMBED_TOTAL = 6000
EMBEDS = 10

COLOURS = {
    AlertKind.REMINDER: discord.Colour.gold(),
    AlertKind.SLIPPED: discord.Colour.red(),
    AlertKind.MILESTONE: discord.Colour.dark_red(),
    AlertKind.SHIPPED: discord.Colour.green(),
    AlertKind.CANCELLED: discord.Colour.dark_grey(),
    AlertKind.REANNOUNCED: discord.Colour.orange(),
    AlertKind.REVIVED: discord.Colour.orange(),
    AlertKind.NOTE: discord.Colour.blurple(),
    AlertKind.TEST: discord.Colour.blurple(),
}
STATE_COLOURS = {
    LaunchState.UPCOMING: discord.Colour.blue(),
    LaunchState.SLIPPED: discord.Colour.red(),
    LaunchState.SHIPPED: discord.Colour.green(),
    LaunchState.CANCELLED: discord.Colour.dark_grey(),
}


def cut(text: str, limit: int) -> str:
    """Cut *text* to at most *limit* characters, marking the cut with an ellipsis."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def safe(text: str | None, limit: int | None = None) -> str:
    """Escape markdown and mentions in user text (then cut it when *limit* is given)."""
    if not text:
        return ""
    escaped = escape_mentions(escape_markdown(text))
    return cut(escaped, limit) if limit is not None else escaped


def quoted(quote: str, span: tuple[int, int] | None = None, limit: int = FIELD_VALUE) -> str:
    """A quote as a Discord block quote, the phrase at ``span`` in bold, cut to ``limit``."""
    if span is None:
        return cut("> " + safe(" ".join(quote.split())), limit)
    start, end = span
    before, phrase, after = quote[:start], quote[start:end], quote[end:]
    text = f"{safe(before)}**{safe(phrase)}**{safe(after)}"
    text = "> " + " ".join(text.split())
    if len(text) <= limit:
        return text
    # Too long: keep the bold phrase and what is closest to it.
    bold = f"**{safe(phrase)}**"
    room = max(0, (limit - len(bold) - 10) // 2)  # escaping may double what is kept
    head = safe(" ".join(before.split())[-(room // 2) :]) if room else ""
    tail = safe(" ".join(after.split())[: room // 2]) if room else ""
    return cut(f"> …{head}{bold}{tail}…", limit)


def safe_url(url: str | None) -> str | None:
    """Only http(s) links are shown as links; anything else is not a link at all."""
    if url and url.startswith(("http://", "https://")) and len(url) <= 500:
        return url
    return None


def ts(when: dt.datetime, style: str = "F") -> str:
    """A Discord timestamp: every reader sees it in their own zone."""
    return format_dt(when, style)  # type: ignore[arg-type]


def launch_name(product: str, vendor: str) -> str:
    """ "Grok 3 (xAI)", escaped."""
    return f"{safe(product)} ({safe(vendor)})"


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


def launch_embed(
    launch: Launch, tz_name: str, today: dt.date, lineage: str | None = None
) -> discord.Embed:
    """A launch card for /launch show and /launch add; lateness as of *today* (the guild's
    day), against the first promise."""
    embed = discord.Embed(
        title=cut(f"#{launch.id} {launch_name(launch.product, launch.vendor)}", TITLE),
        colour=STATE_COLOURS[launch.state],
        url=safe_url(launch.source_url),
    )
    embed.add_field(name="State", value=score.state_words(launch, today), inline=True)
    embed.add_field(
        name="Promised",
        value=cut(
            f'"{safe(launch.window_phrase, 300)}"\n'
            f"{launch.window_start:%Y-%m-%d} – {launch.window_end:%Y-%m-%d}",
            FIELD_VALUE,
        ),
        inline=True,
    )
    embed.add_field(
        name="Deadline",
        value=f"{ts(launch.deadline_at)}\n{ts(launch.deadline_at, 'R')}",
        inline=True,
    )
    announced = f"{launch.announced_on:%Y-%m-%d}"
    if launch.announcer:
        announced += f" by {safe(launch.announcer, 200)}"
    embed.add_field(name="Announced", value=cut(announced, FIELD_VALUE), inline=True)
    if launch.first_window_end != launch.window_end:
        embed.add_field(
            name="First promise", value=f"{launch.first_window_end:%Y-%m-%d}", inline=True
        )
    embed.add_field(name="Slips", value=str(launch.slip_count), inline=True)
    embed.add_field(name="Evidence", value=launch.evidence.value, inline=True)
    embed.add_field(name="Timezone", value=safe(tz_name, 100), inline=True)
    if lineage:
        embed.add_field(name="Lineage", value=cut(safe(lineage), FIELD_VALUE), inline=False)
    if launch.source_url and safe_url(launch.source_url):
        embed.add_field(name="Source", value=cut(launch.source_url, FIELD_VALUE), inline=False)
    if launch.quote:
        embed.add_field(
            name="The promise", value=cut(f"> {safe(launch.quote)}", FIELD_VALUE), inline=False
        )
    embed.set_footer(text=f"rule: {launch.window_rule}")
    return fit(embed)


def list_line(launch: Launch, today: dt.date) -> str:
    """One line of /launch list (lateness as of *today*, against the first promise)."""
    return cut(
        f"`#{launch.id}` **{launch_name(launch.product, launch.vendor)}** · "
        f'"{safe(launch.window_phrase, 80)}" · {score.state_words(launch, today)}'
        f"{score.evidence_words(launch)} · deadline {ts(launch.deadline_at, 'D')}",
        400,
    )


def history_line(event: LaunchEvent) -> str:
    """One line of /launch history."""
    what = event.kind.value
    data = event.data
    if event.kind.value == "created":
        what = f'added, window "{safe(str(data.get("window", "")), 100)}"'
        if data.get("evidence") not in (None, "official"):
            what += f" ({safe(str(data['evidence']), 20)})"
    elif event.kind.value in ("reannounced", "revived"):
        verb = "re-announced" if event.kind.value == "reannounced" else "revived"
        what = (
            f'{verb}: "{safe(str(data.get("from_window", "")), 80)}" → '
            f'"{safe(str(data.get("window", "")), 80)}"'
        )
        old_end, new_end = data.get("from_window_end"), data.get("window_end")
        # Only a window that moved later is a slip (older rows lack from_window_end).
        if data.get("slip_count") and (old_end is None or str(new_end) > str(old_end)):
            what += f" (slip #{data.get('slip_count')})"
    elif event.kind.value == "shipped":
        late = data.get("days_late")
        what = f"shipped on {data.get('shipped_on')}"
        if isinstance(late, int):
            what += f" ({lateness(late)} against the first promise)"
    elif event.kind.value == "cancelled":
        day = data.get("cancelled_on")
        what = f"cancelled on {day}" if day else "cancelled (day unknown)"
    elif event.kind.value == "reminder":
        what = f"reminder sent ({data.get('item')})"
    elif event.kind.value == "slipped":
        what = "missed its window"
        if data.get("added_late"):
            what += " (added after its deadline)"
        elif data.get("detected_late"):
            what += " (detected late)"
    elif event.kind.value == "milestone":
        late = data.get("days_late")
        what = f"{plural(late, 'day')} late" if isinstance(late, int) else "late"
    line = f"{ts(event.at, 'd')} **{what}** by {safe(event.actor, 80)}"
    if event.note:
        line += f" — {safe(event.note, 200)}"
    if event.source_url and safe_url(event.source_url):
        line += f" ([source]({event.source_url}))"
    return cut(line, 600)


def fit(embed: discord.Embed) -> discord.Embed:
    """Enforce every embed limit, shortening the longest parts first if the total is over."""
    if embed.title:
        embed.title = cut(embed.title, TITLE)
    if embed.description:
        embed.description = cut(embed.description, DESCRIPTION)
    fields = embed.fields[:FIELDS]
    embed.clear_fields()
    for f in fields:
        embed.add_field(
            name=cut(f.name or "\u200b", FIELD_NAME),
            value=cut(f.value or "\u200b", FIELD_VALUE),
            inline=bool(f.inline),
        )
    while len(embed) > EMBED_TOTAL and embed.description and len(embed.description) > 100:
        embed.description = cut(embed.description, len(embed.description) - 500)
    while len(embed) > EMBED_TOTAL and embed.fields:
        embed.remove_field(len(embed.fields) - 1)
    return embed


def lines_embed(
    title: str, lines: list[str], *, colour: discord.Colour | None = None
) -> discord.Embed:
    """An embed whose description is as many of *lines* as fit, then "…and N more"."""
    embed = discord.Embed(title=cut(title, TITLE), colour=colour or discord.Colour.blurple())
    out: list[str] = []
    used = 0
    for index, line in enumerate(lines):
        if used + len(line) + 40 > DESCRIPTION:
            out.append(f"…and {len(lines) - index} more.")
            break
        out.append(line)
        used += len(line) + 1
    embed.description = "\n".join(out) if out else "Nothing yet."
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

    sections: list[tuple[str, tuple[DigestEntry, ...], Callable[[DigestEntry], str]]] = [
        ("🚨 Slipped", digest.slipped, lambda e: f'{name(e)} missed "{safe(e.window, 60)}"'),
        ("✅ Shipped", digest.shipped, shipped),
        ("🪦 Cancelled", digest.cancelled, lambda e: f"{name(e)}{when(e)}"),
        ("🔁 Re-announced", digest.reannounced, reannounced),
        (f"⏳ Due in the next {UPCOMING_DAYS} days", digest.upcoming, upcoming),
        (
            "🐌 Still late",
            digest.still_late,
            lambda e: f"{name(e)}: {plural(e.days_late or 0, 'day')} late",
        ),
    ]
    for heading, entries, fmt in sections:
        if not entries:
            continue
        lines: list[str] = []
        used = 0
        for index, entry in enumerate(entries):
            line = "• " + cut(fmt(entry), 200)
            if used + len(line) + 30 > FIELD_VALUE:
                lines.append(f"…and {len(entries) - index} more")
                break
            lines.append(line)
            used += len(line) + 1
        embed.add_field(name=f"{heading} ({len(entries)})", value="\n".join(lines), inline=False)
    if digest.on_time_rate is not None:
        embed.add_field(
            name="On time so far",
            value=(f"{digest.on_time_rate:.0%} of {plural(digest.scored, 'scored launch')}"),
            inline=False,
        )
    embed.set_footer(text="slipwatch · /slips stats for the full record")
    return fit(embed)

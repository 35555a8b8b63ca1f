"""Discord renderings: embeds for alerts and launches, with user text escaped and every piece
cut to Discord's limits before it is sent."""

from __future__ import annotations

import datetime as dt

import discord
from discord.utils import escape_markdown, escape_mentions, format_dt

from tracker import stats as score
from tracker.models import AlertKind, Launch, LaunchEvent, LaunchState
from tracker.text import cut as cut  # one cut for the bot's text and Discord's limits
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

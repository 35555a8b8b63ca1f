"""Words for alerts, shared by the console (demo) and Discord renderers.

Everything here is plain text; the Discord layer escapes user text and applies Discord's limits.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from tracker.models import Alert, AlertKind, BrokenNotice, LaunchSnapshot, Message
from tracker.text import lateness, plural


def headline(alert: Alert, name: str | None = None) -> str:
    """One line saying what happened, e.g. "Grok 3 (xAI) missed its window". *name* replaces
    "product (vendor)" (the Discord renderer passes an escaped one)."""
    launch = alert.launch
    name = name if name is not None else f"{launch.product} ({launch.vendor})"
    match alert.kind:
        case AlertKind.REMINDER:
            days = alert.days_before or 0
            return f"{name}: deadline in {plural(days, 'day')}"
        case AlertKind.SLIPPED:
            return f"{name} missed its window"
        case AlertKind.MILESTONE:
            return f"{name} is {plural(alert.milestone or 0, 'day')} late"
        case AlertKind.SHIPPED:
            return f"{name} shipped {lateness(alert.days_late or 0)}"
        case AlertKind.CANCELLED:
            return f"{name} was cancelled"
        case AlertKind.REANNOUNCED:
            if launch.slip_count:
                return f"{name} was re-announced (slip #{launch.slip_count})"
            return f"{name} was re-announced"
        case AlertKind.REVIVED:
            return f"{name} is back from cancellation"
        case AlertKind.NOTE:
            return f"{name}: note"
        case AlertKind.TEST:
            return f"Test alert: {name}"
    return name  # pragma: no cover - every kind is matched above


@dataclass(frozen=True, slots=True)
class Fact:
    """A labelled line of an alert (an embed field in Discord)."""

    label: str
    value: str


def facts(alert: Alert, tz: ZoneInfo | None = None) -> list[Fact]:
    """The labelled details of an alert, in reading order; dates shown in *tz* (default the
    launch's zone). The Discord renderer uses timestamps instead of these date texts."""
    launch = alert.launch
    zone = tz or ZoneInfo(launch.timezone)
    out = [
        Fact("Promised", f'"{launch.window_phrase}" (by {launch.window_end.isoformat()})'),
        Fact("Deadline", format_local(launch.deadline_at, zone)),
    ]
    announced = launch.announced_on.isoformat()
    if launch.announcer:
        announced += f" by {launch.announcer}"
    out.append(Fact("Announced", announced))
    if alert.kind is AlertKind.REANNOUNCED and alert.previous_window:
        out.append(Fact("Previously", f'"{alert.previous_window}"'))
    if alert.days_late is not None and alert.kind is not AlertKind.SHIPPED:
        out.append(Fact("Days late", str(alert.days_late)))
    if alert.kind is AlertKind.SHIPPED and launch.shipped_on:
        out.append(Fact("Shipped on", launch.shipped_on.isoformat()))
    if alert.kind is AlertKind.CANCELLED and launch.cancelled_on:
        out.append(Fact("Cancelled on", launch.cancelled_on.isoformat()))
    if launch.slip_count:
        out.append(Fact("Slips", str(launch.slip_count)))
    if alert.note:
        out.append(Fact("Note", alert.note))
    if launch.quote:
        out.append(Fact("Quote", f'"{launch.quote}"'))
    source = alert.source_url or launch.source_url
    if source:
        out.append(Fact("Source", source))
    if alert.added_late:
        out.append(
            Fact("Added late", f"due {format_local(alert.at, zone)}; added after its deadline")
        )
    elif alert.detected_late:
        out.append(Fact("Detected late", f"due {format_local(alert.at, zone)}; the bot was down"))
    return out


def format_local(when: dt.datetime, tz: ZoneInfo) -> str:
    """ "2025-01-01 00:00 UTC" style text in *tz*."""
    local = when.astimezone(tz)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def render_text(message: Message) -> str:
    """A console rendering of one outbox message (one alert, a merged catch-up, a digest, a
    promise, the managers' notice of a broken channel)."""
    if message.notice is not None:
        return broken_notice_text(message.notice)
    if message.detection is not None:
        return f"A release probe's detection (#{message.detection})"
    if message.digest is not None:
        from tracker.digests import Digest, render_digest_text

        return render_digest_text(Digest.from_json(message.digest))
    if message.promise is not None:
        return promise_text(message.promise)
    if message.merged:
        late = all(a.detected_late for a in message.alerts)
        lines = [f"{len(message.alerts)} alerts{' while the bot was away' if late else ''}:"]
        lines += [f"  - {headline(a)}" for a in message.alerts]
        return "\n".join(lines)
    alert = message.alerts[0]
    lines = [headline(alert)]
    lines += [f"    {f.label}: {f.value}" for f in facts(alert)]
    return "\n".join(lines)


def broken_notice_text(notice: BrokenNotice) -> str:
    """What a guild's managers read when its alert channel refuses alerts (*reason* is the
    notifier's own wording, with no user text in it)."""
    return (
        f"slipwatch cannot post alerts in <#{notice.channel_id}>: {notice.reason}\n"
        "Alerts are being held, not lost. Fix the channel's permissions (or pick another "
        "channel) and run `/alerts channel` again; `/alerts status` shows what is held."
    )


def promise_text(promise: dict[str, object]) -> str:
    """A console rendering of a discovered promise (or of the line summing up the rest)."""
    vendor = promise.get("vendor", "")
    if promise.get("kind") == "summary":
        count = int(str(promise.get("count", 0)))
        return f"{plural(count, 'more promise')} from {vendor} in {promise.get('target', '')}"
    return "\n".join(
        [
            f"New promise from {vendor}: {promise.get('product', '')}",
            f'    Window: "{promise.get("window_phrase", "")}" ({promise.get("window_start")} '
            f"to {promise.get('window_end')})",
            f"    Said: {promise.get('sentence', '')}",
            f"    Entry: {promise.get('url') or promise.get('title', '')}",
        ]
    )


def snapshot_line(launch: LaunchSnapshot) -> str:
    """A one-line summary of a launch."""
    return f"#{launch.id} {launch.product} ({launch.vendor}), {launch.state.value}"

"""A digest in plain text: the console, the demo, and the wording Discord embeds reuse."""

from __future__ import annotations

from collections.abc import Callable

from tracker.deadlines import zone_or_utc
from tracker.digests.content import LISTED, UPCOMING_DAYS, Digest, DigestEntry
from tracker.text import lateness, plural

__all__ = ["render_digest_text"]


def _name(entry: DigestEntry) -> str:
    return f"#{entry.launch_id} {entry.product} ({entry.vendor})"


def _on(entry: DigestEntry) -> str:
    return f" ({entry.day.isoformat()})" if entry.day else ""


def _slipped(e: DigestEntry) -> str:
    return f'{_name(e)} missed "{e.window}"' + (f" (by {e.day.isoformat()})" if e.day else "")


def _shipped(e: DigestEntry) -> str:
    return f"{_name(e)} shipped {lateness(e.days_late or 0)}{_on(e)}"


def _cancelled(e: DigestEntry) -> str:
    return f"{_name(e)} cancelled{_on(e)}"


def _reannounced(e: DigestEntry) -> str:
    slip = f" (slip #{e.slip_count})" if e.slip_count else ""
    return f'{_name(e)}: "{e.previous_window}" -> "{e.window}"{slip}'


def _upcoming(e: DigestEntry) -> str:
    return f'{_name(e)}: "{e.window}" (by {e.day.isoformat() if e.day else "?"})'


def _still_late(e: DigestEntry) -> str:
    return f"{_name(e)}: {plural(e.days_late or 0, 'day')} late (first promise)"


# Each section in the order it is shown: heading, the Digest field, one launch's line.
_SECTIONS: tuple[tuple[str, str, Callable[[DigestEntry], str]], ...] = (
    ("Slipped", "slipped", _slipped),
    ("Shipped", "shipped", _shipped),
    ("Cancelled", "cancelled", _cancelled),
    ("Re-announced", "reannounced", _reannounced),
    (f"Due in the next {UPCOMING_DAYS} days", "upcoming", _upcoming),
    ("Still late", "still_late", _still_late),
)


def _period_words(digest: Digest) -> str:
    tz = zone_or_utc(digest.timezone)
    start = digest.period_start.astimezone(tz)
    end = digest.period_end.astimezone(tz)
    return f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} {end.tzname()}"


def render_digest_text(digest: Digest, *, limit: int = 10) -> str:
    """A plain-text rendering (console, demo, and the wording for Discord embeds). Each section
    lists at most *limit* launches (at most LISTED, what a digest keeps) and says how many
    more there are. An empty digest is one line."""
    if limit > LISTED:
        raise ValueError(f"a digest keeps only {LISTED} entries a section")
    if digest.empty:
        late = digest.count("still_late")
        still = f" {plural(late, 'launch')} still late." if late else ""
        return (
            f"Nothing changed since the last digest and no deadline in the next "
            f"{UPCOMING_DAYS} days.{still}"
        )
    title = "Your slipwatch digest" if digest.user_id is not None else "slipwatch digest"
    lines = [f"{title}: {_period_words(digest)}"]
    if digest.late:
        lines.append("(Posted late: the bot was offline at the scheduled time.)")
    for heading, field, line_of in _SECTIONS:
        entries: tuple[DigestEntry, ...] = getattr(digest, field)
        total = digest.count(field)
        if not total:
            continue
        lines.append(f"{heading} ({total}):")
        lines.extend(f"  - {line_of(e)}" for e in entries[:limit])
        if total > limit:
            lines.append(f"  ... and {total - limit} more")
    if digest.on_time_rate is not None:
        lines.append(
            f"On time so far: {digest.on_time_rate:.0%} of "
            f"{plural(digest.scored, 'scored launch')}."
        )
    return "\n".join(lines)

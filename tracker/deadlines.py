"""Deadlines and due items: pure calendar arithmetic, no I/O.

A launch's due items are an ordered list: reminders before the deadline, the deadline itself,
and late milestones after it. The database stores only the earliest pending one
(``next_due_at``); the rest are recomputed from the launch and its guild's settings.
"""

from __future__ import annotations

import datetime as dt
import enum
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from tracker.errors import InvalidInput
from tracker.models import LaunchState

# A due item handled more than this long after its time was detected late (bot was down).
LATE_TOLERANCE = dt.timedelta(seconds=60)


class DueKind(enum.StrEnum):
    """What a due item is."""

    REMINDER = "reminder"
    DEADLINE = "deadline"
    MILESTONE = "milestone"


@dataclass(frozen=True, slots=True, order=True)
class DueItem:
    """One scheduled moment of a launch."""

    at: dt.datetime
    kind: DueKind
    value: int = 0  # days before (reminder) or days late (milestone)

    @property
    def key(self) -> str:
        """Stable short name used in idempotency keys."""
        return f"{self.kind.value}{self.value}" if self.value else self.kind.value


def zone(name: str) -> ZoneInfo:
    """The IANA zone *name*, or InvalidInput with a hint."""
    try:
        if not name or name != name.strip() or ".." in name:
            raise ValueError(name)
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise InvalidInput(
            f"Unknown timezone {name!r}. Use an IANA name such as Europe/Paris, "
            "America/Los_Angeles or Asia/Jakarta."
        ) from exc


def zone_or_utc(name: str) -> ZoneInfo:
    """The IANA zone *name*, or UTC when it is unknown here (a stored setting whose zone this
    machine's tz database lacks): for reading, where refusing would hide a whole page."""
    try:
        return zone(name)
    except InvalidInput:
        return ZoneInfo("UTC")


def known_zones() -> list[str]:
    """All IANA zone names available here, sorted (for autocomplete)."""
    return sorted(available_timezones())


@functools.lru_cache(maxsize=8192)
def local_midnight(day: dt.date, tz: ZoneInfo) -> dt.datetime:
    """The start of *day* in *tz*, as aware UTC.

    Where midnight does not exist (a DST jump at 00:00), zoneinfo resolves it forward, which is
    the first instant of that day. Cached: a sweep of a thousand launches asks for the same
    few days again and again."""
    local = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    return local.astimezone(dt.UTC)


def deadline_for(window_end: dt.date, tz: ZoneInfo, grace_days: int) -> dt.datetime:
    """The start of the day after *window_end* in *tz*, plus *grace_days* whole days, in UTC."""
    return local_midnight(window_end + dt.timedelta(days=1 + grace_days), tz)


def due_items(
    *,
    state: LaunchState,
    deadline_at: dt.datetime,
    window_end: dt.date,
    tz: ZoneInfo,
    reminder_offsets: Sequence[int],
    late_milestones: Sequence[int],
) -> list[DueItem]:
    """Every scheduled moment of a launch in its current state, in time order.

    Reminders exist only while upcoming; the deadline only while upcoming; milestones ("N days
    late" at the start of window_end + N days, local time) while upcoming or slipped, and only
    those after the deadline (a long grace period swallows the early ones)."""
    if state.resolved:
        return []
    items: list[DueItem] = []
    if state is LaunchState.UPCOMING:
        for offset in sorted(set(reminder_offsets)):
            if offset > 0:
                items.append(
                    DueItem(deadline_at - dt.timedelta(days=offset), DueKind.REMINDER, offset)
                )
        items.append(DueItem(deadline_at, DueKind.DEADLINE))
    for days in sorted(set(late_milestones)):
        at = local_midnight(window_end + dt.timedelta(days=days), tz)
        if days > 0 and at > deadline_at:
            items.append(DueItem(at, DueKind.MILESTONE, days))
    items.sort()
    return items


def first_due(items: Sequence[DueItem], now: dt.datetime) -> DueItem | None:
    """The item a new or rescheduled launch should wait for.

    Reminders already in the past are skipped; a deadline already past is due at once (so the
    slip is reported), as is the latest milestone already past for a slipped launch."""
    past = [i for i in items if i.at <= now]
    future = [i for i in items if i.at > now]
    deadline_past = [i for i in past if i.kind is DueKind.DEADLINE]
    if deadline_past:
        return deadline_past[-1]
    return future[0] if future else None


def next_after(items: Sequence[DueItem], now: dt.datetime) -> DueItem | None:
    """The first item strictly after *now*."""
    for item in items:
        if item.at > now:
            return item
    return None


def pick_due(items: Sequence[DueItem], cursor: dt.datetime, now: dt.datetime) -> DueItem | None:
    """Of the items due between *cursor* and *now*, the one worth telling people about.

    After downtime several may be due at once: the deadline wins over reminders (a reminder for a
    deadline that already passed is noise), and only the latest milestone or reminder is sent."""
    due = [i for i in items if cursor <= i.at <= now]
    if not due:
        return None
    for kind in (DueKind.DEADLINE, DueKind.MILESTONE, DueKind.REMINDER):
        of_kind = [i for i in due if i.kind is kind]
        if of_kind:
            return of_kind[-1]
    return None


def days_between(later: dt.date, earlier: dt.date) -> int:
    """Whole days from *earlier* to *later*."""
    return (later - earlier).days


def local_today(now: dt.datetime, tz: ZoneInfo) -> dt.date:
    """The calendar day *now* falls on in *tz*."""
    return now.astimezone(tz).date()


def parse_offsets(text: str, *, what: str, maximum: int = 3650) -> tuple[int, ...]:
    """Parse "7,1" / "off" into sorted unique positive day counts (InvalidInput otherwise)."""
    cleaned = text.strip().lower()
    if cleaned in {"off", "none", "no", "0", ""}:
        return ()
    values: set[int] = set()
    for part in cleaned.replace(" ", ",").split(","):
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= maximum:
            raise InvalidInput(
                f"Could not read {text!r} as {what}. Type whole days separated by commas, "
                f'like "7,1", or "off".'
            )
        values.add(int(part))
    if len(values) > 10:
        raise InvalidInput(f"At most 10 {what}, please.")
    return tuple(sorted(values, reverse=True))

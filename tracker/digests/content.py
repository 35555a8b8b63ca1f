"""What a digest says: the changes of a period, the deadlines coming up, and the record so far.

Pure. A digest keeps, per section, only the first :data:`LISTED` entries a message can show,
and the section's total: :func:`assemble_bounded` makes one from what the store counted and
listed (the service's way: a big server's period names thousands of launches, and holding them
all as objects stalled the event loop in garbage collection). :func:`build_digest` assembles
the complete digest from a guild's launches and the history rows of the period: the reference
the bounded one is tested against (``build_digest(...).bounded()``). A digest travels through
the outbox as JSON (:meth:`Digest.to_json`, format 2 with the totals; format 1, which listed
every entry, is still read), so what was posted can always be read back and rendered again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from tracker import stats
from tracker.digests.posting_times import DigestPeriod
from tracker.models import EventKind, GuildConfig, Launch, LaunchEvent, LaunchState
from tracker.records import PeriodChanges

__all__ = [
    "DIGEST_KINDS",
    "LISTED",
    "UPCOMING_DAYS",
    "Digest",
    "DigestEntry",
    "assemble_digest",
    "build_digest",
    "due_soon",
]

UPCOMING_DAYS = 30
# The entries a digest keeps per section. A Discord embed field holds 1024 characters, and the
# embed stops a section at the line that would leave fewer than 30 of them; the shortest line
# there is ("• " + " ()": an empty product and vendor) is 5 characters and a newline, so at
# most 165 lines of a section are ever shown. Keeping more than that means the embed always
# stops inside what was kept, and says "…and N more" from the total exactly as it would with
# every entry; the plain text shows 10 a section (at most LISTED).
LISTED = 200
# The history kinds a digest reports (a revival is listed with the re-announcements).
DIGEST_KINDS = (
    EventKind.SLIPPED,
    EventKind.SHIPPED,
    EventKind.CANCELLED,
    EventKind.REANNOUNCED,
    EventKind.REVIVED,
)


@dataclass(frozen=True, slots=True)
class DigestEntry:
    """One launch named in a digest section."""

    launch_id: int
    product: str
    vendor: str
    at: dt.datetime | None = None  # when it happened (changes in the period)
    day: dt.date | None = None  # shipped_on / cancelled_on / the promised last day
    days_late: int | None = None
    window: str | None = None  # the promised window (the new one, for re-announcements)
    previous_window: str | None = None  # re-announcements
    slip_count: int = 0
    deadline_at: dt.datetime | None = None
    actor: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "launch_id": self.launch_id,
            "product": self.product,
            "vendor": self.vendor,
            "at": self.at.isoformat() if self.at else None,
            "day": self.day.isoformat() if self.day else None,
            "days_late": self.days_late,
            "window": self.window,
            "previous_window": self.previous_window,
            "slip_count": self.slip_count,
            "deadline_at": self.deadline_at.isoformat() if self.deadline_at else None,
            "actor": self.actor,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DigestEntry:
        """Inverse of :meth:`to_json`."""
        return cls(
            launch_id=int(data["launch_id"]),
            product=str(data["product"]),
            vendor=str(data["vendor"]),
            at=_datetime_or_none(data.get("at")),
            day=dt.date.fromisoformat(data["day"]) if data.get("day") else None,
            days_late=data.get("days_late"),
            window=data.get("window"),
            previous_window=data.get("previous_window"),
            slip_count=int(data.get("slip_count") or 0),
            deadline_at=_datetime_or_none(data.get("deadline_at")),
            actor=data.get("actor"),
        )


def _totals(sections: Mapping[str, Sequence[Any]], totals: Sequence[int]) -> tuple[int, ...] | None:
    """A digest's section totals (in _SECTIONS' order), or None when every section holds all
    of its entries (a complete digest)."""
    if all(len(sections[name]) == total for name, total in zip(_SECTIONS, totals, strict=True)):
        return None
    return tuple(totals)


def _datetime_or_none(value: object) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) and value else None


_SECTIONS = ("slipped", "shipped", "cancelled", "reannounced", "upcoming", "still_late")


@dataclass(frozen=True, slots=True)
class Digest:
    """One digest: the changes of a period, what is due soon, and the record so far."""

    guild_id: int
    timezone: str
    schedule: str  # the setting it was made for ("weekly:mon:09:00"), or "" for a preview
    period_start: dt.datetime
    period_end: dt.datetime
    period_key: str | None  # None for a preview
    slipped: tuple[DigestEntry, ...] = ()  # missed their window in the period
    shipped: tuple[DigestEntry, ...] = ()  # days_late 0 = on time
    cancelled: tuple[DigestEntry, ...] = ()
    reannounced: tuple[DigestEntry, ...] = ()
    upcoming: tuple[DigestEntry, ...] = ()  # deadlines in the next UPCOMING_DAYS days
    still_late: tuple[DigestEntry, ...] = ()  # slipped earlier and still out (not a change)
    on_time_rate: float | None = None  # over the scored launches (tracker.stats' rules)
    scored: int = 0
    late: bool = False  # posted after its scheduled time (the bot was down)
    user_id: int | None = None  # set on a subscriber's DM digest
    # Each section's size, in _SECTIONS' order, when the sections keep only their first
    # entries (a bounded digest); None: the sections are complete.
    totals: tuple[int, ...] | None = None

    def count(self, section: str) -> int:
        """How many launches a section names in all ("slipped", ..., "still_late"), including
        those not kept."""
        if self.totals is not None:
            return self.totals[_SECTIONS.index(section)]
        return len(getattr(self, section))

    @property
    def changes(self) -> int:
        """How many things happened in the period."""
        return sum(self.count(name) for name in _SECTIONS[:4])

    @property
    def empty(self) -> bool:
        """Nothing happened in the period and no deadline is coming in the next 30 days."""
        return self.changes == 0 and self.count("upcoming") == 0

    def bounded(self, listed: int = LISTED) -> Digest:
        """The same digest keeping only the first *listed* entries of each section (and every
        section's total): it renders exactly as this one when *listed* >= LISTED."""
        kept = {name: getattr(self, name)[:listed] for name in _SECTIONS}
        totals = _totals(kept, [self.count(name) for name in _SECTIONS])
        return dataclasses.replace(self, totals=totals, **kept)

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict: the ``digest`` field of an outbox Message."""
        data: dict[str, Any] = {
            "v": 2,
            "guild_id": self.guild_id,
            "timezone": self.timezone,
            "schedule": self.schedule,
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat(),
            "period_key": self.period_key,
            "on_time_rate": self.on_time_rate,
            "scored": self.scored,
            "late": self.late,
            "user_id": self.user_id,
            "empty": self.empty,
        }
        for name in _SECTIONS:
            data[name] = [entry.to_json() for entry in getattr(self, name)]
        data["counts"] = {name: self.count(name) for name in _SECTIONS}
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Digest:
        """Inverse of :meth:`to_json` (``Digest.from_json(message.digest)``). Format 1, still
        queued in outboxes, listed every entry: its totals are the lists' lengths."""
        sections = {
            name: tuple(DigestEntry.from_json(e) for e in data.get(name) or ())
            for name in _SECTIONS
        }
        counts = data.get("counts")
        totals = (
            _totals(sections, [int(counts.get(name, len(sections[name]))) for name in _SECTIONS])
            if isinstance(counts, dict)
            else None
        )
        return cls(
            guild_id=int(data["guild_id"]),
            timezone=str(data["timezone"]),
            schedule=str(data.get("schedule") or ""),
            period_start=dt.datetime.fromisoformat(data["period_start"]),
            period_end=dt.datetime.fromisoformat(data["period_end"]),
            period_key=data.get("period_key"),
            on_time_rate=data.get("on_time_rate"),
            # Digests queued before the score's rules were rewritten said "resolved".
            scored=int(data.get("scored", data.get("resolved")) or 0),
            late=bool(data.get("late")),
            user_id=data.get("user_id"),
            totals=totals,
            **sections,
        )


def build_digest(
    guild: GuildConfig,
    launches: Sequence[Launch],
    events_in_period: Iterable[LaunchEvent],
    today: dt.date,
    now: dt.datetime,
    *,
    period: DigestPeriod | None = None,
    late: bool = False,
    user_id: int | None = None,
    schedule: str | None = None,
    upcoming_days: int = UPCOMING_DAYS,
) -> Digest:
    """Assemble a digest from a guild's *launches* and the history rows of the period.

    Each launch appears at most once per section (its latest event of that kind). Events of
    launches not in *launches* are ignored, which is how a subscriber's DM digest is limited to
    their launches. *today* is the guild's local day (for running lateness); *now* anchors the
    "due in the next *upcoming_days* days" list. Without *period* the digest covers
    [earliest event, now) and has no key (a preview)."""
    by_id = {launch.id: launch for launch in launches}
    record = stats.compute_stats(launches, today)
    return assemble_digest(
        guild,
        by_id,
        events_in_period,
        today,
        now,
        record=record,
        still_late=[by_id[f.launch_id] for f in record.still_late],
        upcoming=due_soon(launches, now, upcoming_days),
        period=period,
        late=late,
        user_id=user_id,
        schedule=schedule,
    )


def assemble_digest(
    guild: GuildConfig,
    changed: Mapping[int, Launch],
    events_in_period: Iterable[LaunchEvent],
    today: dt.date,
    now: dt.datetime,
    *,
    record: stats.Stats,
    still_late: Sequence[Launch],
    upcoming: Sequence[Launch],
    period: DigestPeriod | None = None,
    late: bool = False,
    user_id: int | None = None,
    schedule: str | None = None,
) -> Digest:
    """:func:`build_digest` from its parts: the launches the period's events are about
    (*changed*, by id: events of other launches are ignored), the record so far (*record*,
    its still-late list complete) with the launches it lists as still late (*still_late*, in
    its order), and the launches due soon (*upcoming*, soonest first)."""
    events = sorted(
        (e for e in events_in_period if e.launch_id in changed), key=lambda e: (e.at, e.id)
    )
    sections = _changes(events, changed, today)
    start = period.start if period else (events[0].at if events else now)
    return Digest(
        guild_id=guild.guild_id,
        timezone=guild.timezone,
        schedule=schedule if schedule is not None else "",
        period_start=start,
        period_end=period.end if period else now,
        period_key=period.key if period else None,
        slipped=tuple(sections[EventKind.SLIPPED].values()),
        shipped=tuple(sections[EventKind.SHIPPED].values()),
        cancelled=tuple(sections[EventKind.CANCELLED].values()),
        reannounced=tuple(sections[EventKind.REANNOUNCED].values()),
        upcoming=tuple(
            _entry(x, day=x.window_end, window=x.window_phrase, deadline_at=x.deadline_at)
            for x in upcoming
        ),
        still_late=tuple(
            _still_late(figure, launch)
            for figure, launch in zip(record.still_late, still_late, strict=True)
        ),
        on_time_rate=record.on_time_rate,
        scored=record.scored,
        late=late,
        user_id=user_id,
    )


def _changes(
    events: Sequence[LaunchEvent], by_id: Mapping[int, Launch], today: dt.date
) -> dict[EventKind, dict[int, DigestEntry]]:
    """The period's changes by section, each launch once per section (its latest, in time
    order). *events* are in time order and only of launches in *by_id*."""
    sections: dict[EventKind, dict[int, DigestEntry]] = {
        EventKind.SLIPPED: {},
        EventKind.SHIPPED: {},
        EventKind.CANCELLED: {},
        EventKind.REANNOUNCED: {},
    }
    # Each launch's re-announcements in the period, in time order: a slip looks up the next
    # one of its own launch here (scanning every event for each slip was quadratic: 16 s for
    # 10,000 slips).
    reannounced: dict[int, list[LaunchEvent]] = {}
    for event in events:
        if event.kind is EventKind.REANNOUNCED:
            reannounced.setdefault(event.launch_id, []).append(event)
    for event in events:
        launch = by_id[event.launch_id]
        entry = _change(event, launch, reannounced.get(launch.id, ()), today)
        if entry is None:
            continue
        # A revival is a new promise: it is listed with the re-announcements.
        section = sections[EventKind.REANNOUNCED if event.kind is EventKind.REVIVED else event.kind]
        section.pop(launch.id, None)  # keep the latest, in time order
        section[launch.id] = entry
    return sections


def _change(
    event: LaunchEvent, launch: Launch, reannounced: Sequence[LaunchEvent], today: dt.date
) -> DigestEntry | None:
    """One change's entry (None for a kind a digest does not list); *reannounced*: the
    launch's re-announcements in the period, in time order."""
    if event.kind is EventKind.SLIPPED:
        return _slipped(launch, event, reannounced)
    if event.kind is EventKind.SHIPPED:
        return _entry(
            launch,
            at=event.at,
            day=launch.shipped_on,
            days_late=stats.days_late(launch, today),
            window=launch.window_phrase,
            actor=event.actor,
        )
    if event.kind is EventKind.CANCELLED:
        return _entry(
            launch,
            at=event.at,
            day=launch.cancelled_on,
            days_late=launch.days_late,
            window=launch.window_phrase,
            actor=event.actor,
        )
    if event.kind in (EventKind.REANNOUNCED, EventKind.REVIVED):
        return _redated(launch, event)
    return None


def assemble_bounded(
    guild: GuildConfig,
    changes: PeriodChanges,
    launches: Mapping[int, Launch],
    today: dt.date,
    now: dt.datetime,
    *,
    record: stats.Stats,
    still_late: Sequence[Launch],
    upcoming: Sequence[Launch],
    upcoming_total: int,
    period: DigestPeriod | None = None,
    late: bool = False,
    user_id: int | None = None,
    schedule: str | None = None,
) -> Digest:
    """A bounded digest from what the store counted and listed: the period's *changes* (each
    section's first events and total), the launches those events are about (*launches*, by
    id), the record so far (*record*: its still-late list the first ones, overdue_open all of
    them) with the launches it lists (*still_late*, in its order), and the first launches due
    soon (*upcoming*, soonest first) of *upcoming_total*. Equal to
    ``build_digest(...).bounded()`` over the same data (without *period*, a preview's, it
    starts at the earliest listed change)."""

    def entries(events: Sequence[LaunchEvent]) -> tuple[DigestEntry, ...]:
        made = (
            _change(e, launches[e.launch_id], changes.reannouncements.get(e.launch_id, ()), today)
            for e in events[:LISTED]
            if e.launch_id in launches
        )
        return tuple(entry for entry in made if entry is not None)

    listed = (changes.slipped, changes.shipped, changes.cancelled, changes.reannounced)
    firsts = [s.events[0].at for s in listed if s.events]
    start = period.start if period else (min(firsts) if firsts else now)
    sections = {
        "slipped": entries(changes.slipped.events),
        "shipped": entries(changes.shipped.events),
        "cancelled": entries(changes.cancelled.events),
        "reannounced": entries(changes.reannounced.events),
        "upcoming": tuple(
            _entry(x, day=x.window_end, window=x.window_phrase, deadline_at=x.deadline_at)
            for x in upcoming[:LISTED]
        ),
        "still_late": tuple(
            _still_late(figure, launch)
            for figure, launch in zip(record.still_late[:LISTED], still_late[:LISTED], strict=True)
        ),
    }
    return Digest(
        guild_id=guild.guild_id,
        timezone=guild.timezone,
        schedule=schedule if schedule is not None else "",
        period_start=start,
        period_end=period.end if period else now,
        period_key=period.key if period else None,
        on_time_rate=record.on_time_rate,
        scored=record.scored,
        late=late,
        user_id=user_id,
        **sections,
        totals=_totals(
            sections,
            [
                changes.slipped.total,
                changes.shipped.total,
                changes.cancelled.total,
                changes.reannounced.total,
                upcoming_total,
                record.overdue_open,
            ],
        ),
    )


def _slipped(launch: Launch, event: LaunchEvent, reannounced: Sequence[LaunchEvent]) -> DigestEntry:
    """A launch that missed its window in the period; if it was re-announced afterwards, the
    window it missed is the one replaced then (*reannounced*: its re-announcements in the
    period, in time order)."""
    later = next((e for e in reannounced if (e.at, e.id) > (event.at, event.id)), None)
    missed = later.data.get("from_window") if later is not None else None
    return _entry(
        launch,
        at=event.at,
        day=None if later is not None else launch.window_end,
        days_late=_int_or_none(event.data.get("days_late")),
        window=str(missed) if missed else launch.window_phrase,
        deadline_at=_datetime_or_none(event.data.get("due_at")),
        actor=event.actor,
    )


def _redated(launch: Launch, event: LaunchEvent) -> DigestEntry:
    """A re-announcement or revival: the new window, the one it replaced, the slip count then."""
    data = event.data
    return dataclasses.replace(
        _entry(
            launch,
            at=event.at,
            window=str(data.get("window") or launch.window_phrase),
            previous_window=data.get("from_window"),
            deadline_at=_datetime_or_none(data.get("deadline_at")),
            actor=event.actor,
        ),
        slip_count=_int_or_none(data.get("slip_count")) or launch.slip_count,
    )


def due_soon(launches: Iterable[Launch], now: dt.datetime, days: int) -> list[Launch]:
    """Upcoming launches whose deadline falls in the next *days* days, soonest first."""
    horizon = now + dt.timedelta(days=days)
    return sorted(
        (
            launch
            for launch in launches
            if launch.state is LaunchState.UPCOMING and now <= launch.deadline_at < horizon
        ),
        key=lambda x: (x.deadline_at, x.id),
    )


def _still_late(figure: stats.LaunchFigure, launch: Launch) -> DigestEntry:
    """A launch still out past its first promise, as the score counts it."""
    return DigestEntry(
        launch_id=figure.launch_id,
        product=figure.product,
        vendor=figure.vendor,
        day=figure.first_window_end,
        days_late=figure.days_late,
        window=launch.window_phrase,
        slip_count=figure.slip_count,
    )


def _entry(launch: Launch, **fields: Any) -> DigestEntry:
    return DigestEntry(
        launch_id=launch.id,
        product=launch.product,
        vendor=launch.vendor,
        slip_count=launch.slip_count,
        **fields,
    )


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None

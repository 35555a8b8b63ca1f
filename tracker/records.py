"""Records the store returns besides the core models: digest runs, boards, and the rows the
engine writes in bulk."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tracker.models import (
    DestinationKind,
    EventKind,
    Launch,
    LaunchEvent,
    LaunchState,
    Message,
    OutboxState,
)


@dataclass(frozen=True, slots=True)
class DigestRun:
    """One handled digest period of one guild (see migration 002)."""

    id: int
    guild_id: int
    period_key: str
    period_start: dt.datetime
    period_end: dt.datetime
    outcome: str  # one of DIGEST_OUTCOMES
    late: bool
    dm_count: int
    schedule: str
    timezone: str
    created_at: dt.datetime


@dataclass(frozen=True, slots=True)
class DigestGuild:
    """What the digest timer needs to know about one guild."""

    guild_id: int
    timezone: str
    schedule: str  # GuildConfig.digest_schedule as stored


@dataclass(frozen=True, slots=True)
class PublicBoard:
    """A server's published board."""

    guild_id: int
    slug: str
    created_at: dt.datetime
    updated_at: dt.datetime


@dataclass(frozen=True, slots=True)
class BoardStamp:
    """What a board's content depends on in the database: the newest history row a reader can
    see (reminders and milestones change nothing shown), the number of launches (a deletion
    leaves no history), and when the server's settings or its board last changed.
    *changed_at* is the last write to any of the server's launches: never earlier than the
    last visible change (an imported history row carries its own old time), sometimes later."""

    changed_at: dt.datetime
    launches: int
    last_event_id: int
    settings_at: dt.datetime


@dataclass(frozen=True, slots=True)
class Advance:
    """The engine's move of one due launch, applied only if the stored row still has the due
    time and revision the engine read (compare-and-set)."""

    launch_id: int
    expect_due: dt.datetime
    expect_revision: int
    state: LaunchState
    next_due_at: dt.datetime | None
    days_late: int | None


@dataclass(frozen=True, slots=True)
class NewEvent:
    """A history row to append (the store assigns its id)."""

    launch_id: int
    guild_id: int
    kind: EventKind
    at: dt.datetime
    actor: str
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One history row of a launch that is stored whole (an import): what happened, when, by
    whom, and its source, note and data, as they were; the store adds the launch's id and
    guild."""

    kind: EventKind
    at: dt.datetime
    actor: str
    source_url: str | None
    note: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True)
class LaunchRecord:
    """A launch to store with every field as given (its id is assigned by the store) and its
    history, oldest first."""

    launch: Launch
    events: Sequence[HistoryEntry]


@dataclass(frozen=True, slots=True)
class SentMark:
    """A delivery the destination confirmed, to record on its outbox row."""

    row_id: int
    message_id: int | None
    at: dt.datetime


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A message to queue in the outbox; a repeated *idem_key* is ignored."""

    guild_id: int | None
    dest_kind: DestinationKind
    dest_id: int
    idem_key: str
    nonce: str
    message: Message
    state: OutboxState = OutboxState.PENDING


@dataclass(frozen=True, slots=True)
class LaunchScope:
    """Which of a guild's launches a figure is computed over. Names are stored spellings,
    matched exactly (tracker.stats folds what a person typed into them); None: any."""

    guild_id: int
    vendors: tuple[str, ...] | None = None
    announcers: tuple[str, ...] | None = None
    rumours: bool = True  # False: launches with evidence "rumour" are left out
    followed: Followed | None = None  # only the launches a subscriber follows


@dataclass(frozen=True, slots=True)
class Followed:
    """The launches a digest subscriber follows: those whose vendor is one of these stored
    spellings (exactly), or whose id is one of these. Nothing, when both are empty."""

    vendors: tuple[str, ...] = ()
    launch_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ChangeSection:
    """One section of a digest period's changes as the store counts it: how many distinct
    launches it names, and the latest event of the first of them (at most the number asked
    for), in the order of those events' (at, id)."""

    total: int
    events: tuple[LaunchEvent, ...] = ()


@dataclass(frozen=True, slots=True)
class PeriodChanges:
    """A digest period's changes, bounded: each section (slipped, shipped, cancelled,
    re-announced: a revival counts as a re-announcement), and the re-announcements in the
    period of the launches listed as slipped, by launch, oldest first (the window a slipped
    launch missed is the one its next re-announcement replaced)."""

    slipped: ChangeSection
    shipped: ChangeSection
    cancelled: ChangeSection
    reannounced: ChangeSection
    reannouncements: dict[int, list[LaunchEvent]]

    @property
    def total(self) -> int:
        """How many changes in all (a launch counts once per section)."""
        return sum(s.total for s in (self.slipped, self.shipped, self.cancelled, self.reannounced))

    def launch_ids(self) -> list[int]:
        """The launches the listed events are about."""
        return sorted(
            {
                e.launch_id
                for section in (self.slipped, self.shipped, self.cancelled, self.reannounced)
                for e in section.events
            }
        )


@dataclass(frozen=True, slots=True)
class ScoreTally:
    """The counts of the score (tracker.stats' rules) over a scope on one day, as the store
    computes them without handing over the launches. A median is given by its middle values:
    (lo, hi), equal when the count is odd; None when there is nothing to take it over."""

    matching: int  # launches in the scope, rumours included
    total: int  # after the rumour filter
    scored: int
    on_time: int
    shipped_late: int
    overdue_open: int
    cancelled: int
    kept_latest: int
    slips: int  # over the scored launches
    late_middle: tuple[int, int] | None  # days late over shipped late + overdue open
    multiplier_middle: tuple[float, float] | None
    multiplier_count: int


@dataclass(frozen=True, slots=True)
class NameTally:
    """The score of one stored vendor (or announcer) spelling within a scope."""

    name: str
    first_id: int  # its launch with the lowest id, in the scope
    tally: ScoreTally

"""Domain records shared by the tracker and storage layers.

Every record is a frozen dataclass; timestamps are aware UTC datetimes and calendar days are
``datetime.date``. Nothing here talks to Discord or to the database.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any

UTC = dt.UTC


class LaunchState(enum.StrEnum):
    """Where a launch is in its life."""

    UPCOMING = "upcoming"
    SLIPPED = "slipped"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"

    @property
    def resolved(self) -> bool:
        """True once the launch has shipped or was cancelled."""
        return self in (LaunchState.SHIPPED, LaunchState.CANCELLED)


class Evidence(enum.StrEnum):
    """How sure the record of a promise is: the vendor said it, the press reported the vendor's
    words, or it is a rumour. Rumours are tracked and alerted like the rest but left out of
    every figure unless a reader asks for them."""

    OFFICIAL = "official"
    REPORTED = "reported"
    RUMOUR = "rumour"


class Precision(enum.StrEnum):
    """How precisely a day is known. A MONTH day is stored as the month's first day."""

    DAY = "day"
    MONTH = "month"

    def show(self, day: dt.date) -> str:
        """*day* as precisely as it is known: "2025-02-17" or "2025-02"."""
        return day.isoformat() if self is Precision.DAY else f"{day:%Y-%m}"


class AlertKind(enum.StrEnum):
    """What an alert tells its reader."""

    REMINDER = "reminder"
    SLIPPED = "slipped"
    MILESTONE = "milestone"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    REANNOUNCED = "reannounced"
    REVIVED = "revived"
    NOTE = "note"
    TEST = "test"


class EventKind(enum.StrEnum):
    """Kinds of rows in the append-only launch history."""

    CREATED = "created"
    EDITED = "edited"
    REMINDER = "reminder"
    SLIPPED = "slipped"
    MILESTONE = "milestone"
    SHIPPED = "shipped"
    CANCELLED = "cancelled"
    REANNOUNCED = "reannounced"
    REVIVED = "revived"
    NOTE = "note"


class DestinationKind(enum.StrEnum):
    """Where an outbox row goes."""

    CHANNEL = "channel"
    USER = "user"


class OutboxState(enum.StrEnum):
    """Outbox row states: pending until the notifier confirms, then sent."""

    PENDING = "pending"
    SENT = "sent"
    HELD = "held"  # destination is broken; kept until it is fixed
    FAILED = "failed"  # the destination can never take it (user closed DMs)
    DEAD = "dead"  # retried past the maximum age


class SubscriptionScope(enum.StrEnum):
    """What a subscription follows."""

    LAUNCH = "launch"
    VENDOR = "vendor"
    ALL = "all"


@dataclass(frozen=True, slots=True)
class GuildConfig:
    """A server's settings. Defaults apply to a guild the bot has never been configured in."""

    guild_id: int
    timezone: str = "UTC"
    grace_days: int = 0
    reminder_offsets: tuple[int, ...] = (7, 1)
    late_milestones: tuple[int, ...] = (7, 30, 90)
    alert_channel_id: int | None = None
    manager_role_id: int | None = None
    mention_role_id: int | None = None
    locale: str = "en"
    digest_channel_id: int | None = None
    digest_schedule: str = "weekly:mon:09:00"
    digest_when_empty: str = "short"


@dataclass(frozen=True, slots=True)
class Launch:
    """One announced launch on a guild's watchlist."""

    id: int
    guild_id: int
    product: str
    vendor: str
    announcer: str | None
    source_url: str | None
    quote: str | None
    announced_on: dt.date
    window_phrase: str
    window_start: dt.date
    window_end: dt.date
    window_rule: str
    timezone: str | None
    deadline_at: dt.datetime
    state: LaunchState
    slip_count: int
    revision: int
    shipped_on: dt.date | None
    cancelled_on: dt.date | None
    days_late: int | None  # as of the outcome (shipped: signed); read figures from tracker.stats
    next_due_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    # The window end of the first announcement: the promise lateness is measured against.
    first_window_end: dt.date
    evidence: Evidence = Evidence.OFFICIAL
    announced_precision: Precision = Precision.DAY
    # Precision of shipped_on / cancelled_on; an undated cancellation has cancelled_on None.
    outcome_precision: Precision = Precision.DAY


@dataclass(frozen=True, slots=True)
class NewLaunch:
    """What a person supplies to add a launch (before the window is resolved)."""

    guild_id: int
    product: str
    vendor: str
    window_phrase: str
    announced_on: dt.date
    announcer: str | None = None
    source_url: str | None = None
    quote: str | None = None
    timezone: str | None = None
    evidence: Evidence = Evidence.OFFICIAL
    announced_precision: Precision = Precision.DAY


@dataclass(frozen=True, slots=True)
class LaunchEvent:
    """One row of the append-only history of a launch."""

    id: int
    launch_id: int
    guild_id: int
    kind: EventKind
    at: dt.datetime
    actor: str
    source_url: str | None
    note: str | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Subscription:
    """A user's wish to be told about a launch, a vendor, or everything in a guild."""

    id: int
    guild_id: int
    user_id: int
    scope: SubscriptionScope
    target: str  # launch id as text, vendor name folded to lower case, or "" for all
    mode: str  # "instant" or "digest"
    paused_reason: str | None
    created_at: dt.datetime
    label: str | None = None  # a vendor as the user spelt it (target is folded for matching)


@dataclass(frozen=True, slots=True)
class LaunchSnapshot:
    """Everything a renderer needs to show a launch, frozen at the moment of the alert."""

    id: int
    guild_id: int
    product: str
    vendor: str
    announcer: str | None
    source_url: str | None
    quote: str | None
    announced_on: dt.date
    window_phrase: str
    window_end: dt.date
    deadline_at: dt.datetime
    timezone: str
    state: LaunchState
    slip_count: int
    shipped_on: dt.date | None
    cancelled_on: dt.date | None
    days_late: int | None
    first_window_end: dt.date | None = None  # None in alerts queued before it existed
    evidence: Evidence = Evidence.OFFICIAL

    @classmethod
    def of(cls, launch: Launch, timezone: str) -> LaunchSnapshot:
        """Freeze *launch*; *timezone* is the zone its deadline was computed in."""
        return cls(
            id=launch.id,
            guild_id=launch.guild_id,
            product=launch.product,
            vendor=launch.vendor,
            announcer=launch.announcer,
            source_url=launch.source_url,
            quote=launch.quote,
            announced_on=launch.announced_on,
            window_phrase=launch.window_phrase,
            window_end=launch.window_end,
            deadline_at=launch.deadline_at,
            timezone=timezone,
            state=launch.state,
            slip_count=launch.slip_count,
            shipped_on=launch.shipped_on,
            cancelled_on=launch.cancelled_on,
            days_late=launch.days_late,
            first_window_end=launch.first_window_end,
            evidence=launch.evidence,
        )

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (dates as ISO text)."""
        return {
            "id": self.id,
            "guild_id": self.guild_id,
            "product": self.product,
            "vendor": self.vendor,
            "announcer": self.announcer,
            "source_url": self.source_url,
            "quote": self.quote,
            "announced_on": self.announced_on.isoformat(),
            "window_phrase": self.window_phrase,
            "window_end": self.window_end.isoformat(),
            "deadline_at": self.deadline_at.isoformat(),
            "timezone": self.timezone,
            "state": self.state.value,
            "slip_count": self.slip_count,
            "shipped_on": _iso(self.shipped_on),
            "cancelled_on": _iso(self.cancelled_on),
            "days_late": self.days_late,
            "first_window_end": _iso(self.first_window_end),
            "evidence": self.evidence.value,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LaunchSnapshot:
        """Inverse of :meth:`to_json`."""
        return cls(
            id=int(data["id"]),
            guild_id=int(data["guild_id"]),
            product=str(data["product"]),
            vendor=str(data["vendor"]),
            announcer=data.get("announcer"),
            source_url=data.get("source_url"),
            quote=data.get("quote"),
            announced_on=dt.date.fromisoformat(data["announced_on"]),
            window_phrase=str(data["window_phrase"]),
            window_end=dt.date.fromisoformat(data["window_end"]),
            deadline_at=dt.datetime.fromisoformat(data["deadline_at"]),
            timezone=str(data["timezone"]),
            state=LaunchState(data["state"]),
            slip_count=int(data["slip_count"]),
            shipped_on=_date_or_none(data.get("shipped_on")),
            cancelled_on=_date_or_none(data.get("cancelled_on")),
            days_late=data.get("days_late"),
            first_window_end=_date_or_none(data.get("first_window_end")),
            evidence=Evidence(data.get("evidence") or Evidence.OFFICIAL.value),
        )


@dataclass(frozen=True, slots=True)
class Alert:
    """One thing to tell people about one launch; the outbox stores it as JSON."""

    kind: AlertKind
    launch: LaunchSnapshot
    at: dt.datetime  # when it happened (the due time for scheduled alerts)
    detected_late: bool = False  # due while the bot was really down
    added_late: bool = False  # the launch was added after this was already due
    days_late: int | None = None
    days_before: int | None = None  # reminders
    milestone: int | None = None  # late milestones: N days late
    note: str | None = None
    actor: str | None = None
    source_url: str | None = None
    previous_window: str | None = None  # re-announcements
    previous_deadline: dt.datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "kind": self.kind.value,
            "launch": self.launch.to_json(),
            "at": self.at.isoformat(),
            "detected_late": self.detected_late,
            "added_late": self.added_late,
            "days_late": self.days_late,
            "days_before": self.days_before,
            "milestone": self.milestone,
            "note": self.note,
            "actor": self.actor,
            "source_url": self.source_url,
            "previous_window": self.previous_window,
            "previous_deadline": _iso(self.previous_deadline),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Alert:
        """Inverse of :meth:`to_json`."""
        prev = data.get("previous_deadline")
        return cls(
            kind=AlertKind(data["kind"]),
            launch=LaunchSnapshot.from_json(data["launch"]),
            at=dt.datetime.fromisoformat(data["at"]),
            detected_late=bool(data.get("detected_late")),
            added_late=bool(data.get("added_late")),
            days_late=data.get("days_late"),
            days_before=data.get("days_before"),
            milestone=data.get("milestone"),
            note=data.get("note"),
            actor=data.get("actor"),
            source_url=data.get("source_url"),
            previous_window=data.get("previous_window"),
            previous_deadline=dt.datetime.fromisoformat(prev) if prev else None,
        )


@dataclass(frozen=True, slots=True)
class Message:
    """What one outbox row delivers: one alert, or several merged after a catch-up, or a
    scheduled digest (``alerts`` empty, ``digest`` set: see tracker.digest.Digest.to_json), or a
    discovered promise (``alerts`` empty, ``promise`` set)."""

    alerts: tuple[Alert, ...]
    mention_role_id: int | None = None
    digest: dict[str, Any] | None = None
    # A promise found by discovery (see tracker.discovery.PromiseProposal.to_payload).
    promise: dict[str, Any] | None = None

    @property
    def merged(self) -> bool:
        """True when several alerts share one message."""
        return len(self.alerts) > 1

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (the "digest" key only appears on digest messages)."""
        data: dict[str, Any] = {
            "alerts": [a.to_json() for a in self.alerts],
            "mention_role_id": self.mention_role_id,
        }
        if self.digest is not None:
            data["digest"] = self.digest
        if self.promise is not None:
            data["promise"] = self.promise
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        """Inverse of :meth:`to_json`."""
        return cls(
            alerts=tuple(Alert.from_json(a) for a in data["alerts"]),
            mention_role_id=data.get("mention_role_id"),
            digest=data.get("digest"),
            promise=data.get("promise"),
        )


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One message waiting for (or done with) delivery to one destination."""

    id: int
    guild_id: int | None
    dest_kind: DestinationKind
    dest_id: int
    idem_key: str
    nonce: str
    payload: Message
    state: OutboxState
    attempts: int
    next_attempt_at: dt.datetime
    last_error: str | None
    sent_message_id: int | None
    created_at: dt.datetime
    queued_at: dt.datetime
    sent_at: dt.datetime | None


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _date_or_none(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None

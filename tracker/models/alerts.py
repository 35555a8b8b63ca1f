"""What an alert tells its reader, and the message that carries one or more alerts (or a
digest, or a discovered promise) through the outbox as JSON.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

from tracker.models.launches import Evidence, Launch, LaunchState


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
class BrokenNotice:
    """The notice telling a guild's managers that its alert channel refuses alerts. It is
    addressed to the managers, not to a channel: where it goes (the guild's system channel,
    else the owner's DMs) is Discord's knowledge, resolved when it is sent."""

    guild_id: int
    channel_id: int  # the broken alert channel
    reason: str
    since: dt.datetime  # when the channel broke: one notice per breakage

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return {
            "guild_id": self.guild_id,
            "channel_id": self.channel_id,
            "reason": self.reason,
            "since": self.since.isoformat(),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BrokenNotice:
        """Inverse of :meth:`to_json`."""
        return cls(
            guild_id=int(data["guild_id"]),
            channel_id=int(data["channel_id"]),
            reason=str(data["reason"]),
            since=dt.datetime.fromisoformat(data["since"]),
        )


@dataclass(frozen=True, slots=True)
class Message:
    """What one outbox row delivers: one alert, or several merged after a catch-up, or a
    scheduled digest (``alerts`` empty, ``digest`` set: see Digest.to_json), or a discovered
    promise (``alerts`` empty, ``promise`` set), or the managers' notice of a broken alert
    channel (``alerts`` empty, ``notice`` set), or a release probe's detection (``alerts``
    empty, ``detection`` its id: the message shows the detection as it stands when sent)."""

    alerts: tuple[Alert, ...]
    mention_role_id: int | None = None
    digest: dict[str, Any] | None = None
    # A promise found by discovery (see tracker.promises.PromiseProposal.to_payload).
    promise: dict[str, Any] | None = None
    notice: BrokenNotice | None = None
    detection: int | None = None

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
        if self.notice is not None:
            data["notice"] = self.notice.to_json()
        if self.detection is not None:
            data["detection"] = self.detection
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Message:
        """Inverse of :meth:`to_json`."""
        return cls(
            alerts=tuple(Alert.from_json(a) for a in data["alerts"]),
            mention_role_id=data.get("mention_role_id"),
            digest=data.get("digest"),
            promise=data.get("promise"),
            notice=BrokenNotice.from_json(data["notice"]) if data.get("notice") else None,
            detection=int(data["detection"]) if data.get("detection") is not None else None,
        )


def _iso(value: dt.date | dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _date_or_none(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None

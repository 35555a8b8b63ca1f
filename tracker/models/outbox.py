"""Outbox records: a message waiting for (or done with) delivery to one channel or user."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass

from tracker.models.alerts import Message


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

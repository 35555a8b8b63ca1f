"""The append-only history of a launch: one row per change, never edited."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Any


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

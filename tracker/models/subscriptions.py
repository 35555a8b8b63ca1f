"""Who wants to be told about what: a launch, a vendor, or everything in a server."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass


class SubscriptionScope(enum.StrEnum):
    """What a subscription follows."""

    LAUNCH = "launch"
    VENDOR = "vendor"
    ALL = "all"


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

"""Domain records shared by the tracker and storage layers, one module per kind of record:

- launches: a launch on a watchlist, its state, evidence and date precision, and what a person
  supplies to add one;
- events: the append-only history of a launch;
- guilds: a server's settings;
- subscriptions: who wants to be told about what;
- alerts: what an alert says (a frozen snapshot of the launch) and the message that carries it;
- outbox: a message waiting for delivery to one channel or user.

Every record is a frozen dataclass; timestamps are aware UTC datetimes and calendar days are
``datetime.date``. Nothing here talks to Discord or to the database. Import from here
(``from tracker.models import Launch``); the modules are the map, not the address.
"""

from __future__ import annotations

from tracker.models.alerts import Alert, AlertKind, BrokenNotice, LaunchSnapshot, Message
from tracker.models.events import EventKind, LaunchEvent
from tracker.models.guilds import GuildConfig
from tracker.models.launches import Evidence, Launch, LaunchState, NewLaunch, Precision
from tracker.models.outbox import DestinationKind, OutboxRow, OutboxState
from tracker.models.subscriptions import Subscription, SubscriptionScope

__all__ = [
    "Alert",
    "AlertKind",
    "BrokenNotice",
    "DestinationKind",
    "EventKind",
    "Evidence",
    "GuildConfig",
    "Launch",
    "LaunchEvent",
    "LaunchSnapshot",
    "LaunchState",
    "Message",
    "NewLaunch",
    "OutboxRow",
    "OutboxState",
    "Precision",
    "Subscription",
    "SubscriptionScope",
]

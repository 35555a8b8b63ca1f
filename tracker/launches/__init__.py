"""Launches and their lifecycle: every change a person (or a probe) can make, each in one
transaction.

upcoming -> slipped -> shipped | cancelled; upcoming -> shipped | cancelled; a new window
(/launch delayed) returns an upcoming or slipped launch to upcoming, and /launch revived a
cancelled one, counting a slip when the window ends later. Each change appends to the launch's
history and, where people should hear of it, writes outbox rows in the same transaction. The
engine moves launches from upcoming to slipped (tracker.engine); everything else is here.

- fields: the limits and checks on what a person types (names, quotes, links, edits);
- base: what every part shares (finding a launch, re-timing it, writing a change with its
  history row and alert);
- guild_settings: a server's timezone, grace, reminders and alert channel;
- adding: a new launch, its window read and its deadline armed;
- editing: correcting a launch's details, removing a launch;
- outcomes: shipped or cancelled;
- redating: delayed (a new promise) or revived (a cancelled launch back);
- history: notes, and the event log read back;
- subscribing: who hears of which launches;
- service: the Tracker, all of the above in one object.
"""

from __future__ import annotations

from tracker.launches.adding import Added
from tracker.launches.fields import (
    MAX_ANNOUNCER,
    MAX_NOTE,
    MAX_PRODUCT,
    MAX_QUOTE,
    MAX_URL,
    MAX_VENDOR,
    clean_text,
    clean_url,
)
from tracker.launches.service import Tracker

__all__ = [
    "MAX_ANNOUNCER",
    "MAX_NOTE",
    "MAX_PRODUCT",
    "MAX_QUOTE",
    "MAX_URL",
    "MAX_VENDOR",
    "Added",
    "Tracker",
    "clean_text",
    "clean_url",
]

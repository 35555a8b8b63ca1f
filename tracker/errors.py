"""Domain errors: each message is shown to a person as it is, so it says what to do instead."""

from __future__ import annotations


class TrackerError(Exception):
    """A request the tracker refuses; ``str(error)`` is a short answer for a person."""


class NotFound(TrackerError):
    """The launch (or other record) does not exist in this guild."""


class InvalidTransition(TrackerError):
    """The launch is not in a state that allows this change."""


class InvalidInput(TrackerError):
    """An option a person typed cannot be used."""


class Conflict(TrackerError):
    """Someone else changed the launch at the same moment; try again."""


class StorageProblem(TrackerError):
    """The database cannot do what was asked (disk full, busy, damaged); nothing was written.
    The message says the real cause and what the operator can do."""


class DiskFull(StorageProblem):
    """The disk (or the database's size limit) is full."""


class DatabaseBusy(StorageProblem):
    """Another process held the database's write lock for longer than the busy timeout."""


class DamagedDatabase(StorageProblem):
    """The database file is damaged; reading or writing it could lose more."""

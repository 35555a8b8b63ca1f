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

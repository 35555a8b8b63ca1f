"""The Tracker: every change a person (or a probe) can make to a server's launches, each in one
transaction, put together from one part per capability."""

from __future__ import annotations

from tracker.launches.adding import Adding
from tracker.launches.editing import Editing
from tracker.launches.guild_settings import GuildSettings
from tracker.launches.history import History
from tracker.launches.outcomes import Outcomes
from tracker.launches.redating import Redating
from tracker.launches.subscribing import Subscribing


class Tracker(GuildSettings, Adding, Editing, Outcomes, Redating, History, Subscribing):
    """Launches and their lifecycle on one store: built once by tracker.app and called by the
    cogs, the CLI, the probes and discovery. *on_change* is called after each commit that can
    change what is due (the engine uses it to sweep and re-arm)."""

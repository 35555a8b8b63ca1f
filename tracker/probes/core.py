"""What every part of ``ProbeService`` shares: its settings, its running totals, the callbacks
the Discord layer sets, and the state the parts (polling, proposals) read through ``self``.

``ProbeService`` is one class built from one module per responsibility (the mixin layout of
Red-DiscordBot's large cogs): ``ProbeCore`` here, ``ProbeProposals`` (detections and the
decisions on them, proposals.py), ``ProbePolling`` (rounds and their outcomes, polling.py) and
the public API (service.py). Each part declares here what it expects the others to hold.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from tracker.clock import Clock
from tracker.ports import Store
from tracker.probes import ProbeDisabled, Proposal, kinds
from tracker.probes.fetch import Fetcher
from tracker.probes.reader import BodyReader
from tracker.probes.rounds import BackgroundRounds
from tracker.service import Tracker

AUTO_ACTOR = "slipwatch (probe)"

DetectionCallback = Callable[[Proposal], Awaitable[None]]
DisabledCallback = Callable[[ProbeDisabled], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ProbeSettings:
    """Tuning of release detection."""

    default_interval_minutes: int = 30
    min_interval_minutes: int = 5
    max_interval_minutes: int = 7 * 24 * 60
    jitter: float = 0.1  # each poll lands up to this fraction of its delay later (spreads load)
    failure_limit: int = 10  # consecutive failures before a probe is turned off
    max_backoff: dt.timedelta = dt.timedelta(hours=24)
    min_retry_after: dt.timedelta = dt.timedelta(seconds=60)
    batch: int = 500
    max_probes_per_launch: int = 10
    max_probes_per_guild: int = 25  # Limits.probes_per_guild
    max_proposals_per_poll: int = 5  # Limits.proposals_per_poll: posted one by one
    endpoints: kinds.Endpoints = field(default_factory=kinds.Endpoints)


@dataclass
class ProbeStats:
    """Running totals (tests and the benchmark read them)."""

    parses: int = 0
    parsed_bytes: int = 0


class ProbeCore:
    """The state of a ``ProbeService`` (set by its ``__init__``)."""

    store: Store
    clock: Clock
    tracker: Tracker
    fetcher: Fetcher
    settings: ProbeSettings
    reader: BodyReader
    stats: ProbeStats
    on_detection: DetectionCallback | None
    on_disabled: DisabledCallback | None
    rounds: BackgroundRounds
    _on_change: Callable[[], None] | None
    _rng: random.Random

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

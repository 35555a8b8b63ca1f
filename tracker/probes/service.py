"""ProbeService: the API the Discord layer calls for release detection.

Polling shares the engine's one timer: ``attach(engine)`` registers ``due`` (the earliest
``next_check_at`` of an enabled probe, one index lookup) and a sweep that starts a background
round of due probes and returns at once (rounds.py), so that slow sites never hold up deadline
alerts. What a round does is in polling.py; each probe's outcome is written in one transaction.

A proposal's post is an outbox row written with the detection (posts.py), so a Discord outage
or a crash loses none; after the commit, ``on_detection`` is told of it. ``confirm`` marks the
launch shipped (on the source's date when it gives one) with the evidence URL as its source
(``Tracker.shipped``), or re-dates it for a promise; ``reject`` ("Not yet", "Ignore") keeps the
evidence known so it is not proposed again and the probe keeps watching (proposals.py).

The class is assembled from one module per responsibility (see core.py): this module holds
adding, listing and removing probes and the wiring; it also names every public record of the
service, so ``from tracker.probes.service import ...`` is the one import callers need.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracker.clock import Clock
from tracker.errors import InvalidInput, InvalidTransition, NotFound
from tracker.models import Launch
from tracker.ports import Session, Store
from tracker.probes import Detection, DetectionState, Probe, ProbeKind, kinds
from tracker.probes.core import (
    AUTO_ACTOR,
    DetectionCallback,
    DisabledCallback,
    ProbeSettings,
    ProbeStats,
)
from tracker.probes.fetch import Fetcher
from tracker.probes.netguard import BlockedTarget
from tracker.probes.polling import ProbePolling, ProbeRound, _Tally
from tracker.probes.posts import queue_posts
from tracker.probes.reader import BodyReader
from tracker.probes.rounds import BackgroundRounds
from tracker.service import Tracker

if TYPE_CHECKING:
    from tracker.engine import Engine

__all__ = [
    "AUTO_ACTOR",
    "DetectionCallback",
    "DisabledCallback",
    "FirstCheck",
    "ProbeRound",
    "ProbeService",
    "ProbeSettings",
    "ProbeStats",
    "_Tally",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class FirstCheck:
    """What a new probe's first poll found, for the /launch watch reply: the releases it
    proposed (or confirmed by itself), newest first, and the promises it read."""

    probe: Probe
    error: str | None  # why the first poll failed, when it did
    releases: list[Detection]
    promises: list[Detection]


class ProbeService(ProbePolling):
    """Create, list and remove probes; poll them; turn what they see into proposals."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        tracker: Tracker,
        fetcher: Fetcher,
        settings: ProbeSettings | None = None,
        *,
        on_detection: DetectionCallback | None = None,
        on_disabled: DisabledCallback | None = None,
        on_change: Callable[[], None] | None = None,
        rng: random.Random | None = None,
        reader: BodyReader | None = None,
    ) -> None:
        """*reader* reads answers in worker processes; without one the service starts its own
        and stops it in :meth:`stop`."""
        self.store = store
        self.clock = clock
        self.tracker = tracker
        self.fetcher = fetcher
        self.settings = settings or ProbeSettings()
        self.on_detection = on_detection
        self.on_disabled = on_disabled
        self._on_change = on_change
        self._rng = rng or random.Random()
        self._own_reader = reader is None
        self.reader = reader or BodyReader()
        self.rounds = BackgroundRounds(
            "probes", lambda: self.store.read.probes.next_probe_due(), self.sweep, self._changed
        )
        self.stats = ProbeStats()

    # ------------------------------------------------------------------ wiring

    def attach(self, engine: Engine) -> None:
        """Share the engine's one timer: *due* and a background sweep, and poke the engine
        after changes (new probe, round finished)."""
        engine.add_due_source(self.due, self.start_sweep)
        if self._on_change is None:
            self._on_change = engine.poke

    async def due(self) -> dt.datetime | None:
        """The earliest next check of an enabled probe; None while a background round runs
        (the round pokes the engine when it ends)."""
        return await self.rounds.due()

    @property
    def running(self) -> bool:
        """A background round is in progress."""
        return self.rounds.running

    async def start_sweep(self, now: dt.datetime) -> None:
        """The engine's hook: start a background round if probes are due; returns at once."""
        await self.rounds.start(now)

    async def wait_idle(self, limit_s: float = 30.0) -> None:
        """Wait until no background round runs (tests, shutdown)."""
        await self.rounds.wait_idle(limit_s)

    async def stop(self) -> None:
        """Cancel a running background round (its finished probes are already recorded) and
        stop the reader's workers when the service started them."""
        await self.rounds.stop()
        if self._own_reader:
            await self.reader.aclose()

    # ------------------------------------------------------------------ probes

    async def add_probe(
        self,
        guild_id: int,
        launch_id: int,
        kind: str | ProbeKind,
        target: str,
        pattern: str | None = None,
        auto_confirm: bool = False,
        interval_minutes: int | None = None,
        api_key_env: str | None = None,
        *,
        prereleases: bool = False,
        actor: str = "unknown",
    ) -> Probe:
        """Watch *target* for *launch_id*. Validates everything (the address is refused when it
        is not a public http(s) address) and raises InvalidInput with what to type instead;
        NotFound for a launch of another guild; InvalidTransition for a resolved launch. The
        first check is due at once. Without a pattern, the launch's product name is the
        pattern; with *prereleases* the launch is a beta and pre-releases count as released."""
        probe_kind = kinds.parse_kind(kind)
        launch = await self._open_launch(guild_id, launch_id)
        normalized, url = kinds.parse_target(probe_kind, target)
        clean_pattern = kinds.parse_pattern(probe_kind, pattern, default=launch.product)
        key_env = kinds.check_key_env(probe_kind, api_key_env)
        minutes = self._interval(interval_minutes)
        if key_env is not None:
            self._check_key(probe_kind, key_env, url)
        if url is not None:
            try:
                await self.fetcher.guard.validate_target(url)
            except BlockedTarget as exc:
                raise InvalidInput(str(exc)) from exc
        now = self.clock.now()
        async with self.store.transaction() as tx:
            await self._check_room(tx, guild_id, launch, probe_kind, normalized, clean_pattern)
            probe = await tx.probes.insert_probe(
                guild_id=guild_id,
                launch_id=launch_id,
                kind=probe_kind,
                target=normalized,
                pattern=clean_pattern,
                auto_confirm=auto_confirm,
                interval_minutes=minutes,
                api_key_env=key_env,
                next_check_at=now,
                created_by=actor[:100],
                now=now,
                prereleases=prereleases,
            )
        log.info("probe %d (%s) added to launch %d", probe.id, probe.kind.value, launch_id)
        self._changed()
        return probe

    async def _check_room(
        self,
        tx: Session,
        guild_id: int,
        launch: Launch,
        kind: ProbeKind,
        target: str,
        pattern: str,
    ) -> None:
        """The new probe is not there yet, and the launch and the server have room for it."""
        s = self.settings
        existing = await tx.probes.find_probe(launch.id, kind, target, pattern)
        if existing is not None:
            raise InvalidInput(
                f"{launch.product} already has that probe (#{existing.id}); see /launch probes."
            )
        if await tx.probes.count_probes(guild_id, launch.id) >= s.max_probes_per_launch:
            raise InvalidInput(
                f"A launch can have at most {s.max_probes_per_launch} probes; remove one "
                "with /launch unwatch first."
            )
        if await tx.probes.count_probes(guild_id) >= s.max_probes_per_guild:
            raise InvalidInput(
                f"This server has {s.max_probes_per_guild} probes, the most it can have; "
                "remove some with /launch unwatch first."
            )

    async def _open_launch(self, guild_id: int, launch_id: int) -> Launch:
        """The launch a probe is added to or turned back on for: it must still be open."""
        launch = await self.tracker.get(guild_id, launch_id)
        if launch.state.resolved:
            raise InvalidTransition(
                f"{launch.product} is already {launch.state.value}; probes watch open launches."
            )
        return launch

    def _interval(self, interval_minutes: int | None) -> int:
        """The minutes between checks asked for (the default when none), within the limits."""
        s = self.settings
        minutes = s.default_interval_minutes if interval_minutes is None else interval_minutes
        if not s.min_interval_minutes <= minutes <= s.max_interval_minutes:
            raise InvalidInput(
                f"Check every {s.min_interval_minutes} to {s.max_interval_minutes} minutes "
                f"(default {s.default_interval_minutes})."
            )
        return minutes

    def _check_key(self, kind: ProbeKind, key_env: str, url: str | None) -> None:
        """The API key must be set, and may only go to the hosts it is bound to (KeyHosts);
        the fetcher checks again at every request and redirect."""
        if not self.fetcher.has_env(key_env):
            raise InvalidInput(
                f"{key_env} is not set in the bot's environment. Ask the bot's operator to add "
                f"{key_env}=<the key> to the bot's .env and restart it, then try again."
            )
        endpoints = self.settings.endpoints
        key_url = url or (
            endpoints.github_api if kind is ProbeKind.GITHUB else endpoints.huggingface
        )
        refusal = self.fetcher.key_refusal(key_env, key_url)
        if refusal is not None:
            raise InvalidInput(refusal)

    async def first_check(self, guild_id: int, probe_id: int) -> FirstCheck:
        """Run a new probe's first poll now (unless a round already did) and say what it
        found. Proposals found here are not posted by the poll: the caller offers the newest
        release (when it is still proposed) and marks it posted; the other releases are queued
        for the alert channel here. Launches it marked shipped by itself are posted as usual."""
        async with self.rounds.lock:
            probe = await self.get_probe(guild_id, probe_id)
            if probe.last_checked_at is None and probe.enabled:
                launches = await self.store.read.probes.resolved_launches([probe.launch_id])
                await self._poll(probe, launches.get(probe.launch_id), _Tally(), emit=False)
        probe = await self.get_probe(guild_id, probe_id)
        seen = await self.store.read.detections.list_detections(
            guild_id, probe_id=probe_id, limit=50
        )
        shown = (DetectionState.PROPOSED, DetectionState.AUTO_CONFIRMED)
        releases = [d for d in seen if not d.is_promise and d.state in shown]
        for detection in releases:
            if detection.state is DetectionState.AUTO_CONFIRMED and detection.posted_at is None:
                await self._emit(detection)
        releases.sort(key=lambda d: (d.published_at or d.detected_at, d.id), reverse=True)
        others = [
            d for d in releases[1:] if d.state is DetectionState.PROPOSED and d.posted_at is None
        ]
        if others:
            async with self.store.transaction() as tx:
                await queue_posts(tx, others, self.clock.now())
            self._changed()
        return FirstCheck(
            probe=probe,
            error=probe.last_error if probe.consecutive_failures else None,
            releases=releases,
            promises=[d for d in seen if d.is_promise],
        )

    async def list_probes(self, guild_id: int, launch_id: int | None = None) -> list[Probe]:
        """A guild's probes (of one launch), oldest first."""
        return await self.store.read.probes.list_probes(guild_id, launch_id)

    async def get_probe(self, guild_id: int, probe_id: int) -> Probe:
        """One probe of this guild, or NotFound."""
        probe = await self.store.read.probes.get_probe(probe_id, guild_id)
        if probe is None:
            raise NotFound(f"There is no probe #{probe_id} in this server. Try /launch probes.")
        return probe

    async def remove_probe(self, guild_id: int, probe_id: int) -> Probe:
        """Stop and delete a probe (with its detections); NotFound for another guild's."""
        async with self.store.transaction() as tx:
            probe = await tx.probes.get_probe(probe_id, guild_id)
            if probe is None or not await tx.probes.delete_probe(probe_id, guild_id):
                raise NotFound(f"There is no probe #{probe_id} in this server. Try /launch probes.")
        log.info("probe %d removed", probe_id)
        self._changed()
        return probe

    async def resume_probe(self, guild_id: int, probe_id: int) -> Probe:
        """Turn a probe that was turned off (too many failures) back on; it checks at once."""
        probe = await self.get_probe(guild_id, probe_id)
        if probe.enabled:
            raise InvalidInput(f"Probe #{probe_id} is already on.")
        await self._open_launch(guild_id, probe.launch_id)
        async with self.store.transaction() as tx:
            await tx.probes.enable_probe(probe_id, guild_id, self.clock.now())
        self._changed()
        return await self.get_probe(guild_id, probe_id)

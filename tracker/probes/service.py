"""ProbeService: the API the Discord layer calls for release detection.

Polling shares the engine's one timer: ``attach(engine)`` registers ``due`` (the earliest
``next_check_at`` of an enabled probe, one index lookup) and a sweep that starts a background
round of due probes and returns at once, so that slow sites never hold up deadline alerts.
While a round runs, the probes ask the timer for nothing; when it ends they poke the engine,
which re-arms at the next probe due. A round polls with bounded concurrency and per-host pacing
(see fetch.py); each probe's outcome is written in one transaction.

A new piece of evidence becomes a detection (unique per probe and evidence key: the source's
own item, such as a model id, a tag, a feed entry or a page's sentence, so it is proposed once).
A release is proposed as "shipped" (and confirmed by the probe itself with auto_confirm); a
promise of a new window is proposed as a re-dating, never confirmed automatically; promises
that say nothing new are remembered as the baseline. After the commit, ``on_detection`` is
called with a ``Proposal``; the same proposals stay listed by ``pending_posts()`` until
``mark_posted()``, so a proposal that could not be posted (crash, Discord down) is posted
later. ``confirm`` marks the launch shipped (on the source's date when it gives one) with the
evidence URL as its source (``Tracker.shipped``), or re-dates it for a promise;
``reject`` ("Not yet", "Ignore") keeps the evidence known so it is not proposed again and the
probe keeps watching.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from tracker import deadlines
from tracker.clock import Clock, millis
from tracker.errors import InvalidInput, InvalidTransition, NotFound
from tracker.models import Alert, AlertKind, DestinationKind, Launch, LaunchSnapshot
from tracker.outbox import fanout
from tracker.ports import Session, Store
from tracker.probes import (
    Detection,
    DetectionState,
    Probe,
    ProbeDisabled,
    ProbeKind,
    Proposal,
    kinds,
)
from tracker.probes.classify import Verdict
from tracker.probes.fetch import Fetcher, FetchError
from tracker.probes.netguard import BlockedTarget
from tracker.probes.reader import BodyReader, Unreadable
from tracker.service import MAX_NOTE, Tracker, clean_url
from tracker.text import plural

if TYPE_CHECKING:
    from tracker.engine import Engine

log = logging.getLogger(__name__)

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


@dataclass(frozen=True, slots=True)
class ProbeRound:
    """What one sweep of due probes did."""

    polled: int = 0
    unchanged: int = 0  # every request answered 304
    failed: int = 0
    disabled: int = 0
    proposed: int = 0
    auto_confirmed: int = 0
    parsed_bytes: int = 0


@dataclass(frozen=True, slots=True)
class FirstCheck:
    """What a new probe's first poll found, for the /launch watch reply: the releases it
    proposed (or confirmed by itself), newest first, and the promises it read."""

    probe: Probe
    error: str | None  # why the first poll failed, when it did
    releases: list[Detection]
    promises: list[Detection]


@dataclass
class ProbeStats:
    """Running totals (tests and the benchmark read them)."""

    parses: int = 0
    parsed_bytes: int = 0


@dataclass
class _Tally:
    polled: int = 0
    unchanged: int = 0
    failed: int = 0
    disabled: int = 0
    proposed: int = 0
    auto_confirmed: int = 0
    parsed_bytes: int = 0


@dataclass(frozen=True, slots=True)
class _Checked:
    evidence: list[kinds.Evidence]
    validators: list[tuple[str, str | None, str | None]]
    status: str
    unchanged: bool


class ProbeService:
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
        self._round_lock = asyncio.Lock()
        self._background: asyncio.Task[None] | None = None
        self.stats = ProbeStats()

    # ------------------------------------------------------------------ wiring

    def attach(self, engine: Engine) -> None:
        """Share the engine's one timer: *due* and a background sweep, and poke the engine
        after changes (new probe, round finished)."""
        engine.add_due_source(self.due, self.start_sweep)
        if self._on_change is None:
            self._on_change = engine.poke

    def _changed(self) -> None:
        if self._on_change is not None:
            self._on_change()

    async def due(self) -> dt.datetime | None:
        """The earliest next check of an enabled probe; None while a background round runs
        (the round pokes the engine when it ends)."""
        if self.running:
            return None
        return await self.store.read.probes.next_probe_due()

    @property
    def running(self) -> bool:
        """A background round is in progress."""
        return self._background is not None and not self._background.done()

    async def start_sweep(self, now: dt.datetime) -> None:
        """The engine's hook: start a background round if probes are due; returns at once."""
        if self.running:
            return
        nxt = await self.store.read.probes.next_probe_due()
        if nxt is None or nxt > now:
            return
        self._background = asyncio.create_task(self._background_round(now), name="slipwatch-probes")

    async def _background_round(self, now: dt.datetime) -> None:
        try:
            await self.sweep(now)
        except Exception:
            log.exception("probe round failed")
        finally:
            self._background = None
            self._changed()

    async def wait_idle(self, limit_s: float = 30.0) -> None:
        """Wait until no background round runs (tests, shutdown)."""
        async with asyncio.timeout(limit_s):
            while self._background is not None:
                await asyncio.shield(self._background)

    async def stop(self) -> None:
        """Cancel a running background round (its finished probes are already recorded) and
        stop the reader's workers when the service started them."""
        task = self._background
        if task is not None:
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass
            self._background = None
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
        launch = await self.tracker.get(guild_id, launch_id)
        if launch.state.resolved:
            raise InvalidTransition(
                f"{launch.product} is already {launch.state.value}; probes watch open launches."
            )
        normalized, url = kinds.parse_target(probe_kind, target)
        clean_pattern = kinds.parse_pattern(probe_kind, pattern, default=launch.product)
        key_env = kinds.check_key_env(probe_kind, api_key_env)
        s = self.settings
        minutes = s.default_interval_minutes if interval_minutes is None else interval_minutes
        if not s.min_interval_minutes <= minutes <= s.max_interval_minutes:
            raise InvalidInput(
                f"Check every {s.min_interval_minutes} to {s.max_interval_minutes} minutes "
                f"(default {s.default_interval_minutes})."
            )
        if key_env is not None and not self.fetcher.has_env(key_env):
            raise InvalidInput(
                f"{key_env} is not set in the bot's environment. Ask the bot's operator to add "
                f"{key_env}=<the key> to the bot's .env and restart it, then try again."
            )
        if key_env is not None:
            # The key goes only to the hosts it is bound to (KeyHosts); the fetcher checks
            # again at every request and redirect.
            endpoints = s.endpoints
            key_url = url or (
                endpoints.github_api if probe_kind is ProbeKind.GITHUB else endpoints.huggingface
            )
            refusal = self.fetcher.key_refusal(key_env, key_url)
            if refusal is not None:
                raise InvalidInput(refusal)
        if url is not None:
            try:
                await self.fetcher.guard.validate_target(url)
            except BlockedTarget as exc:
                raise InvalidInput(str(exc)) from exc
        now = self.clock.now()
        async with self.store.transaction() as tx:
            existing = await tx.probes.find_probe(launch_id, probe_kind, normalized, clean_pattern)
            if existing is not None:
                raise InvalidInput(
                    f"{launch.product} already has that probe (#{existing.id}); see /launch probes."
                )
            if await tx.probes.count_probes(guild_id, launch_id) >= s.max_probes_per_launch:
                raise InvalidInput(
                    f"A launch can have at most {s.max_probes_per_launch} probes; remove one "
                    "with /launch unwatch first."
                )
            if await tx.probes.count_probes(guild_id) >= s.max_probes_per_guild:
                raise InvalidInput(
                    f"This server has {s.max_probes_per_guild} probes, the most it can have; "
                    "remove some with /launch unwatch first."
                )
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

    async def first_check(self, guild_id: int, probe_id: int) -> FirstCheck:
        """Run a new probe's first poll now (unless a round already did) and say what it
        found. Proposals found here are not announced through ``on_detection``: the caller
        shows them and then calls :meth:`mark_posted`; if it cannot, they stay in
        :meth:`pending_posts`. Launches it marked shipped by itself are announced as usual."""
        async with self._round_lock:
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
        launch = await self.tracker.get(guild_id, probe.launch_id)
        if launch.state.resolved:
            raise InvalidTransition(
                f"{launch.product} is already {launch.state.value}; probes watch open launches."
            )
        async with self.store.transaction() as tx:
            await tx.probes.enable_probe(probe_id, guild_id, self.clock.now())
        self._changed()
        return await self.get_probe(guild_id, probe_id)

    # ------------------------------------------------------------------ detections

    async def list_detections(
        self,
        guild_id: int,
        launch_id: int | None = None,
        states: tuple[DetectionState, ...] | None = None,
        limit: int = 25,
    ) -> list[Detection]:
        """A guild's detections, newest first (optionally of one launch, in some states)."""
        return await self.store.read.detections.list_detections(
            guild_id, launch_id=launch_id, states=states, limit=limit
        )

    async def get_detection(self, guild_id: int, detection_id: int) -> Detection:
        """One detection of this guild, or NotFound."""
        detection = await self.store.read.detections.get_detection(detection_id, guild_id)
        if detection is None:
            raise NotFound(f"There is no proposal #{detection_id} in this server.")
        return detection

    async def pending_posts(self, limit: int = 50) -> list[Proposal]:
        """Proposals (and auto-confirmations) not yet marked posted, oldest first: post them at
        start and after a failed post, then call :meth:`mark_posted`."""
        out: list[Proposal] = []
        for detection in await self.store.read.detections.unposted_detections(limit):
            proposal = await self._proposal(detection)
            if proposal is not None:
                out.append(proposal)
        return out

    async def mark_posted(
        self, guild_id: int, detection_id: int, message_id: int | None = None
    ) -> bool:
        """The Discord layer posted this proposal; False when it was already marked."""
        await self.get_detection(guild_id, detection_id)
        async with self.store.transaction() as tx:
            return await tx.detections.mark_posted(detection_id, message_id, self.clock.now())

    async def confirm(self, guild_id: int, detection_id: int, actor: str) -> Launch:
        """ "Confirm": for a release, mark the launch shipped (on the source's date when it gives
        one, else the detection date) with the evidence URL as its source; for a promise,
        re-announce the launch with the window the source gave. InvalidTransition when the
        proposal was already decided or the launch was resolved meanwhile (the proposal is
        then closed)."""
        detection = await self.get_detection(guild_id, detection_id)
        self._require_proposed(detection)
        if detection.is_promise:
            return await self._redate(detection, actor)
        launch = await self._ship(detection, actor)
        await self._close_launch(detection, DetectionState.CONFIRMED, actor)
        log.info("detection %d confirmed; launch %d shipped", detection_id, launch.id)
        return launch

    async def reject(self, guild_id: int, detection_id: int, actor: str) -> Detection:
        """ "Not yet": record a false positive. The evidence stays known (never proposed again)
        and the probe keeps watching for something new."""
        detection = await self.get_detection(guild_id, detection_id)
        self._require_proposed(detection)
        async with self.store.transaction() as tx:
            moved = await tx.detections.decide_detection(
                detection_id,
                guild_id,
                expect=DetectionState.PROPOSED,
                state=DetectionState.REJECTED,
                actor=actor,
                now=self.clock.now(),
            )
        if not moved:
            self._require_proposed(await self.get_detection(guild_id, detection_id))
        log.info("detection %d rejected", detection_id)
        return await self.get_detection(guild_id, detection_id)

    @staticmethod
    def _require_proposed(detection: Detection) -> None:
        if detection.state is DetectionState.PROPOSED:
            return
        words = {
            DetectionState.CONFIRMED: "confirmed",
            DetectionState.AUTO_CONFIRMED: "confirmed by the probe",
            DetectionState.REJECTED: 'answered "Not yet"',
            DetectionState.SUPERSEDED: "closed (the launch was resolved another way)",
            DetectionState.BASELINE: "never proposed",
        }
        by = f" by {detection.decided_by}" if detection.decided_by else ""
        if detection.state is DetectionState.SUPERSEDED:
            by = ""
        raise InvalidTransition(
            f"Proposal #{detection.id} was already {words[detection.state]}{by}. "
            "Use /launch history to see what happened."
        )

    async def _redate(self, detection: Detection, actor: str) -> Launch:
        """A promise confirmed: the launch gets the source's window (a re-announcement); its
        probes keep watching for the release."""
        if detection.window_phrase is None:
            raise InvalidInput(
                f"Proposal #{detection.id} gives no window to move the launch to; use "
                "/launch delayed with the new window instead."
            )
        try:
            source = clean_url(detection.url)
        except InvalidInput:
            source = None
        try:
            launch = await self.tracker.reannounce(
                detection.guild_id,
                detection.launch_id,
                actor,
                window_phrase=detection.window_phrase,
                announced_on=detection.window_read_on,
                source_url=source,
                quote=detection.matched[:MAX_NOTE] or None,
            )
        except InvalidTransition:
            await self._close_launch(detection, DetectionState.SUPERSEDED, actor)
            raise
        async with self.store.transaction() as tx:
            await tx.detections.decide_detection(
                detection.id,
                detection.guild_id,
                expect=DetectionState.PROPOSED,
                state=DetectionState.CONFIRMED,
                actor=actor,
                now=self.clock.now(),
            )
        log.info("detection %d confirmed; launch %d re-dated", detection.id, launch.id)
        return launch

    async def _ship(self, detection: Detection, actor: str) -> Launch:
        launch = await self.tracker.get(detection.guild_id, detection.launch_id)
        config = await self.tracker.guild(detection.guild_id)
        tz = deadlines.zone(launch.timezone or config.timezone)
        # The source's own date when it gives one (a release already out when the probe
        # started shipped then, not on the day the probe noticed it).
        seen = detection.detected_at
        if detection.published_at is not None and detection.published_at <= seen:
            seen = detection.published_at
        day = max(deadlines.local_today(seen, tz), launch.announced_on)
        try:
            source = clean_url(detection.url)
        except InvalidInput:
            source = None
        note = (
            f"Detected by probe #{detection.probe_id} ({detection.kind.value}): {detection.title}"
        )
        if len(note) > MAX_NOTE:
            note = note[: MAX_NOTE - 1] + "…"
        try:
            return await self.tracker.shipped(
                detection.guild_id, detection.launch_id, actor, on=day, source_url=source, note=note
            )
        except InvalidTransition:
            await self._close_launch(detection, DetectionState.SUPERSEDED, actor)
            raise

    async def _close_launch(self, detection: Detection, state: DetectionState, actor: str) -> None:
        """Decide *detection*, close the launch's other proposals and turn its probes off."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            await tx.detections.decide_detection(
                detection.id,
                detection.guild_id,
                expect=DetectionState.PROPOSED,
                state=state,
                actor=actor,
                now=now,
            )
            await tx.detections.supersede_proposals(
                detection.launch_id, detection.guild_id, actor, now
            )
            await tx.probes.disable_launch_probes(
                detection.launch_id, detection.guild_id, "the launch was resolved", now
            )
        self._changed()

    async def _proposal(self, detection: Detection) -> Proposal | None:
        probe = await self.store.read.probes.get_probe(detection.probe_id, detection.guild_id)
        launch = await self.store.read.launches.get_launch(detection.launch_id, detection.guild_id)
        if probe is None or launch is None:
            return None
        return Proposal(detection, probe, launch.product, launch.vendor)

    # ------------------------------------------------------------------ polling

    async def sweep(self, now: dt.datetime | None = None) -> ProbeRound:
        """Poll every enabled probe due at *now* and record the outcomes; returns when done.
        One round at a time (a second caller waits for the first)."""
        now = now or self.clock.now()
        tally = _Tally()
        async with self._round_lock:
            seen: set[int] = set()
            while True:
                batch = await self.store.read.probes.due_probes(now, self.settings.batch)
                due = [p for p in batch if p.id not in seen]
                if not due:
                    break
                seen.update(p.id for p in due)
                launches = await self.store.read.probes.resolved_launches(
                    [p.launch_id for p in due]
                )
                await asyncio.gather(
                    *(self._poll(p, launches.get(p.launch_id), tally) for p in due)
                )
                if len(batch) < self.settings.batch:
                    break
        if tally.polled:
            log.info(
                "probe round: %d polled, %d unchanged, %d failed, %d proposed",
                tally.polled,
                tally.unchanged,
                tally.failed,
                tally.proposed,
            )
        return ProbeRound(**dataclasses.asdict(tally))

    async def _poll(
        self, probe: Probe, launch: tuple[str, str] | None, tally: _Tally, emit: bool = True
    ) -> None:
        try:
            if launch is None or launch[0] in ("shipped", "cancelled"):
                now = self.clock.now()
                async with self.store.transaction() as tx:
                    await tx.probes.disable_probe(probe.id, "the launch was resolved", now)
                    await tx.detections.supersede_proposals(
                        probe.launch_id, probe.guild_id, "slipwatch", now
                    )
                return
            tally.polled += 1
            try:
                checked = await self._check(probe, tally)
            except (FetchError, kinds.ParseError, Unreadable) as exc:
                retry = exc.retry_after_s if isinstance(exc, FetchError) else None
                await self._failed(probe, str(exc), retry, tally)
                return
            await self._succeeded(probe, checked, tally, emit)
        except Exception:
            log.exception("probe %d: unexpected error", probe.id)
            try:
                await self._failed(probe, "internal error (see the bot's log)", None, tally)
            except Exception:
                log.exception("probe %d: recording the failure failed", probe.id)

    async def _check(self, probe: Probe, tally: _Tally) -> _Checked:
        stored = await self.store.read.probes.get_validators(probe.id)
        evidence: list[kinds.Evidence] = []
        validators: list[tuple[str, str | None, str | None]] = []
        statuses: list[str] = []
        today = self.clock.now().date()
        endpoints = self.settings.endpoints
        for planned in kinds.plan(probe, endpoints):
            request: kinds.PlannedRequest | None = planned
            first = True
            while request is not None:
                # Only a list's first page is asked conditionally: when it is unchanged, so is
                # the rest; when it changed, every page is read afresh.
                etag, modified = stored.get(request.name, (None, None)) if first else (None, None)
                answer = await self.fetcher.get(
                    request.url,
                    headers=request.headers,
                    api_key=request.api_key,
                    etag=etag,
                    last_modified=modified,
                    owner=probe.guild_id,
                )
                if answer.not_modified:
                    statuses.append("unchanged")
                    break
                if answer.status in request.absent:
                    statuses.append(f"not there yet ({answer.status})")
                    validators.append((request.name, None, None))
                    break
                if not answer.ok:
                    retry = answer.retry_after_s if answer.status in (429, 503) else None
                    raise FetchError(
                        _status_error(answer.status, probe),
                        kind="http",
                        status=answer.status,
                        retry_after_s=retry,
                    )
                self.stats.parses += 1
                self.stats.parsed_bytes += len(answer.body)
                tally.parsed_bytes += len(answer.body)
                # Bytes become evidence in a worker process with a hard budget (reader/).
                found, following = await self.reader.run(
                    kinds.read_answer,
                    probe,
                    request,
                    answer,
                    endpoints,
                    today,
                    owner=probe.guild_id,
                )
                evidence.extend(found)
                if first:
                    validators.append((request.name, answer.etag, answer.last_modified))
                    statuses.append("checked")
                first = False
                request = following
        unchanged = all(s == "unchanged" for s in statuses)
        status = "unchanged (304)" if unchanged else ", ".join(dict.fromkeys(statuses))
        return _Checked(evidence, validators, status, unchanged)

    def _delay(self, seconds: float) -> dt.timedelta:
        return dt.timedelta(seconds=seconds * (1.0 + self._rng.uniform(0.0, self.settings.jitter)))

    @staticmethod
    def _state_of(
        probe: Probe, ev: kinds.Evidence, launch: Launch | None, newest: kinds.Evidence | None
    ) -> DetectionState:
        """Whether a new piece of evidence is proposed or only remembered (BASELINE).

        - A release is proposed, except that a feed's or page's first poll proposes only its
          newest release (*newest*: "already out"; the older ones are history).
        - A promise is proposed, as a re-dating, only after the first poll and only when it
          gives a window that ends on another day than the launch's; otherwise it is
          remembered, so that it is never proposed later.
        """
        first = not probe.baseline_done
        if ev.veto:
            return DetectionState.BASELINE  # a remembered "not a release", never proposed
        if ev.verdict is Verdict.RELEASE:
            text_kind = probe.kind in (ProbeKind.FEED, ProbeKind.PAGE)
            if first and text_kind and ev is not newest:
                return DetectionState.BASELINE
            return DetectionState.PROPOSED
        if first or ev.window is None or launch is None or ev.window.end == launch.window_end:
            return DetectionState.BASELINE
        return DetectionState.PROPOSED

    async def _without_vetoed(
        self, probe: Probe, evidence: list[kinds.Evidence]
    ) -> list[kinds.Evidence]:
        """The evidence to record: weak evidence (a tag from the tag list) is dropped when a
        veto (its release is a draft or a pre-release) was seen now or in an earlier poll;
        vetoes become ``veto:`` markers, remembered like a baseline."""
        vetoes = {e.key for e in evidence if e.veto}
        weak = [e.key for e in evidence if e.weak and e.key not in vetoes]
        if weak:
            known = await self.store.read.detections.known_keys(
                probe.id, [f"veto:{k}" for k in weak]
            )
            vetoes.update(k.removeprefix("veto:") for k in known)
        out: list[kinds.Evidence] = []
        for ev in evidence:
            if ev.veto:
                out.append(dataclasses.replace(ev, key=f"veto:{ev.key}"))
            elif not (ev.weak and ev.key in vetoes):
                out.append(ev)
        return out

    async def _succeeded(
        self, probe: Probe, checked: _Checked, tally: _Tally, emit: bool = True
    ) -> None:
        now = self.clock.now()
        nxt = now + self._delay(probe.interval_minutes * 60.0)
        evidence = await self._without_vetoed(probe, checked.evidence)
        oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
        releases = [e for e in evidence if e.verdict is Verdict.RELEASE and not e.veto]
        # max() keeps the first of equals: the feed's own order (newest first) decides ties.
        newest = max(releases, key=lambda e: e.published_at or oldest, default=None)
        new: list[Detection] = []
        async with self.store.transaction() as tx:
            if not await tx.probes.record_success(
                probe.id, now=now, next_check_at=nxt, status=checked.status
            ):
                return  # removed or turned off while it was being polled
            for name, etag, modified in checked.validators:
                await tx.probes.save_validators(probe.id, name, etag, modified)
            launch = await tx.launches.get_launch(probe.launch_id, probe.guild_id)
            for ev in evidence:
                state = self._state_of(probe, ev, launch, newest)
                detection = await tx.detections.insert_detection(
                    probe,
                    evidence_key=ev.key,
                    title=ev.title,
                    url=ev.url,
                    matched=ev.matched,
                    published_at=ev.published_at,
                    state=state,
                    now=now,
                    verdict=ev.verdict,
                    window_phrase=ev.window.phrase if ev.window else None,
                    window_end=ev.window.end if ev.window else None,
                    window_read_on=ev.read_on if ev.window else None,
                )
                if detection is not None and state is DetectionState.PROPOSED:
                    new.append(detection)
            cap = max(1, self.settings.max_proposals_per_poll)
            if len(new) > cap:
                # One source cannot flood a channel: the rest is told in one message.
                new, extra = new[:cap], new[cap:]
                for detection in extra:
                    await tx.detections.mark_posted(detection.id, None, now)
                await self._write_summary_notice(tx, probe, extra, now)
        if checked.unchanged:
            tally.unchanged += 1
        for detection in new:
            log.info("probe %d proposed detection %d", probe.id, detection.id)
            # Only a release ever ships a launch by itself; a promise always asks a manager.
            if probe.auto_confirm and not detection.is_promise:
                detection = await self._auto_confirm(detection)
                if detection.state is not DetectionState.AUTO_CONFIRMED:
                    continue
                tally.auto_confirmed += 1
            else:
                tally.proposed += 1
            if emit:
                await self._emit(detection)

    async def _auto_confirm(self, detection: Detection) -> Detection:
        try:
            await self._ship(detection, AUTO_ACTOR)
        except InvalidTransition:
            log.info("detection %d: launch already resolved", detection.id)
            return await self.get_detection(detection.guild_id, detection.id)
        await self._close_launch(detection, DetectionState.AUTO_CONFIRMED, AUTO_ACTOR)
        log.info(
            "detection %d auto-confirmed; launch %d shipped", detection.id, detection.launch_id
        )
        return await self.get_detection(detection.guild_id, detection.id)

    async def _emit(self, detection: Detection) -> None:
        if self.on_detection is None:
            return
        proposal = await self._proposal(detection)
        if proposal is None:
            return
        try:
            await self.on_detection(proposal)
        except Exception:
            log.exception("posting detection %d failed; it stays in pending_posts()", detection.id)

    async def _failed(
        self, probe: Probe, error: str, retry_after_s: float | None, tally: _Tally
    ) -> None:
        now = self.clock.now()
        s = self.settings
        if retry_after_s is not None:
            delay = max(dt.timedelta(seconds=retry_after_s), s.min_retry_after)
        else:
            step = probe.interval_minutes * 60.0 * 2.0 ** min(probe.consecutive_failures, 30)
            delay = self._delay(min(step, s.max_backoff.total_seconds()))
        tally.failed += 1
        log.info("probe %d (%s) failed: %s", probe.id, probe.kind.value, error)
        async with self.store.transaction() as tx:
            failures, newly = await tx.probes.record_failure(
                probe.id,
                now=now,
                next_check_at=now + delay,
                error=error,
                limit=s.failure_limit,
            )
            if newly:
                await self._write_disabled_notice(tx, probe, failures, error, now)
        if not newly:
            return
        tally.disabled += 1
        log.warning("probe %d turned off after %d failures in a row", probe.id, failures)
        self._changed()
        if self.on_disabled is not None:
            launch = await self.store.read.launches.get_launch(probe.launch_id, probe.guild_id)
            current = await self.store.read.probes.get_probe(probe.id, probe.guild_id)
            if launch is not None and current is not None:
                try:
                    await self.on_disabled(
                        ProbeDisabled(current, launch.product, launch.vendor, failures, error)
                    )
                except Exception:
                    log.exception("telling the managers about probe %d failed", probe.id)

    @staticmethod
    async def _write_summary_notice(
        tx: Session, probe: Probe, extra: list[Detection], now: dt.datetime
    ) -> None:
        """The one message that sums up the proposals past the per-poll cap (outbox row to the
        guild's alert channel, in the transaction that recorded them)."""
        launch = await tx.launches.get_launch(probe.launch_id, probe.guild_id)
        config = await tx.guilds.get_guild(probe.guild_id)
        if launch is None or config.alert_channel_id is None:
            return
        seen = ", ".join(f'"{d.title[:80]}"' for d in extra[:10])
        more = f" and {plural(len(extra) - 10, 'other')}" if len(extra) > 10 else ""
        text = (
            f"Probe #{probe.id} ({probe.kind.value} {probe.target}) also saw "
            f"{plural(len(extra), 'more match')} in this check, not posted one by one: "
            f"{seen}{more}. If one of them is the release, mark it with /launch shipped."
        )
        alert = Alert(
            kind=AlertKind.NOTE,
            launch=LaunchSnapshot.of(launch, launch.timezone or config.timezone),
            at=now,
            note=text[: MAX_NOTE - 1] + "…" if len(text) > MAX_NOTE else text,
            actor="slipwatch",
        )
        pending = fanout.Pending(
            guild_id=probe.guild_id,
            dest_kind=DestinationKind.CHANNEL,
            dest_id=config.alert_channel_id,
            idem_key=f"P{probe.id}.more.{millis(now)}:c{config.alert_channel_id}",
            alert=alert,
            mention_role_id=None,
        )
        await fanout.write(tx, [(pending,)], now)

    @staticmethod
    async def _write_disabled_notice(
        tx: Session, probe: Probe, failures: int, error: str, now: dt.datetime
    ) -> None:
        """The durable "probe turned off" notice: one outbox row to the guild's alert channel,
        written in the transaction that turned the probe off (so it is told once)."""
        launch = await tx.launches.get_launch(probe.launch_id, probe.guild_id)
        config = await tx.guilds.get_guild(probe.guild_id)
        if launch is None or config.alert_channel_id is None:
            return
        text = (
            f"Probe #{probe.id} ({probe.kind.value} {probe.target}) was turned off after "
            f"{failures} failed checks in a row. Last error: {error} "
            "Fix the source and turn it back on from /launch probes, or remove it with "
            "/launch unwatch."
        )
        alert = Alert(
            kind=AlertKind.NOTE,
            launch=LaunchSnapshot.of(launch, launch.timezone or config.timezone),
            at=now,
            note=text[:MAX_NOTE],
            actor="slipwatch",
        )
        pending = fanout.Pending(
            guild_id=probe.guild_id,
            dest_kind=DestinationKind.CHANNEL,
            dest_id=config.alert_channel_id,
            idem_key=f"P{probe.id}.disabled.{millis(now)}:c{config.alert_channel_id}",
            alert=alert,
            mention_role_id=None,
        )
        await fanout.write(tx, [(pending,)], now)


def _status_error(status: int, probe: Probe) -> str:
    if status in (401, 403) and probe.api_key_env:
        return f"the server answered {status}: check the API key in {probe.api_key_env}"
    if status == 429:
        return "the server answered 429 (too many requests)"
    return f"the server answered {status}"

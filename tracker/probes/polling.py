"""Polling rounds of the release probes and what their outcomes write.

A round polls every due probe with bounded concurrency and per-host pacing (fetch.py); each
probe's outcome is written in one transaction. A new piece of evidence becomes a detection
(unique per probe and evidence key: the source's own item, such as a model id, a tag, a feed
entry or a page's sentence, so it is proposed once). A release is proposed as "shipped" (and
confirmed by the probe itself with auto_confirm); a promise of a new window is proposed as a
re-dating, never confirmed automatically; promises that say nothing new are remembered as the
baseline. A failing probe is asked again later with backoff and turned off after
``failure_limit`` failures in a row (told once, see notices.py).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass, field

from tracker.models import Launch
from tracker.ports import Session
from tracker.probes import (
    Detection,
    DetectionState,
    Probe,
    ProbeDisabled,
    ProbeKind,
    Verdict,
    kinds,
)
from tracker.probes.fetch import Fetched, FetchError
from tracker.probes.notices import write_disabled_notice, write_summary_notice
from tracker.probes.posts import queue_posts
from tracker.probes.proposals import ProbeProposals
from tracker.probes.reader import Unreadable
from tracker.probes.rounds import backoff

log = logging.getLogger(__name__)

Validators = tuple[str | None, str | None]  # (ETag, Last-Modified) of a request's first page


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


@dataclass
class _Reading:
    """What the requests of one check have found so far."""

    evidence: list[kinds.Evidence] = field(default_factory=list)
    validators: list[tuple[str, str | None, str | None]] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)


class ProbePolling(ProbeProposals):
    """The polling part of ``ProbeService``."""

    async def sweep(self, now: dt.datetime | None = None) -> ProbeRound:
        """Poll every enabled probe due at *now* and record the outcomes; returns when done.
        One round at a time (a second caller waits for the first)."""
        now = now or self.clock.now()
        tally = _Tally()
        async with self.rounds.lock:
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
        """Poll one probe (*launch*: its launch's state, when it is resolved) and record the
        outcome; nothing escapes."""
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

    # ------------------------------------------------------------------ checking

    async def _check(self, probe: Probe, tally: _Tally) -> _Checked:
        """Ask the probe's source (every planned request and the pages it leads to)."""
        stored = await self.store.read.probes.get_validators(probe.id)
        reading = _Reading()
        today = self.clock.now().date()
        for planned in kinds.plan(probe, self.settings.endpoints):
            validators = stored.get(planned.name, (None, None))
            await self._follow(probe, planned, validators, reading, tally, today)
        unchanged = all(s == "unchanged" for s in reading.statuses)
        status = "unchanged (304)" if unchanged else ", ".join(dict.fromkeys(reading.statuses))
        return _Checked(reading.evidence, reading.validators, status, unchanged)

    async def _follow(
        self,
        probe: Probe,
        planned: kinds.PlannedRequest,
        validators: Validators,
        reading: _Reading,
        tally: _Tally,
        today: dt.date,
    ) -> None:
        """One planned request and the pages it leads to. Only a list's first page is asked
        conditionally: when it is unchanged, so is the rest; when it changed, every page is
        read afresh."""
        request: kinds.PlannedRequest | None = planned
        etag, modified = validators
        first = True
        while request is not None:
            answer = await self.fetcher.get(
                request.url,
                headers=request.headers,
                api_key=request.api_key,
                etag=etag if first else None,
                last_modified=modified if first else None,
                owner=probe.guild_id,
            )
            if answer.not_modified:
                reading.statuses.append("unchanged")
                return
            if answer.status in request.absent:
                reading.statuses.append(f"not there yet ({answer.status})")
                reading.validators.append((request.name, None, None))
                return
            if not answer.ok:
                retry = answer.retry_after_s if answer.status in (429, 503) else None
                raise FetchError(
                    _status_error(answer.status, probe),
                    kind="http",
                    status=answer.status,
                    retry_after_s=retry,
                )
            found, following = await self._read(probe, request, answer, tally, today)
            reading.evidence.extend(found)
            if first:
                reading.validators.append((request.name, answer.etag, answer.last_modified))
                reading.statuses.append("checked")
            first = False
            request = following

    async def _read(
        self,
        probe: Probe,
        request: kinds.PlannedRequest,
        answer: Fetched,
        tally: _Tally,
        today: dt.date,
    ) -> tuple[list[kinds.Evidence], kinds.PlannedRequest | None]:
        """Bytes become evidence (and the next page's request) in a worker process with a hard
        budget (reader/)."""
        self.stats.parses += 1
        self.stats.parsed_bytes += len(answer.body)
        tally.parsed_bytes += len(answer.body)
        return await self.reader.run(
            kinds.read_answer,
            probe,
            request,
            answer,
            self.settings.endpoints,
            today,
            owner=probe.guild_id,
        )

    def _delay(self, seconds: float) -> dt.timedelta:
        return dt.timedelta(seconds=seconds * (1.0 + self._rng.uniform(0.0, self.settings.jitter)))

    # ------------------------------------------------------------------ success

    async def _succeeded(
        self, probe: Probe, checked: _Checked, tally: _Tally, emit: bool = True
    ) -> None:
        new = await self._record_success(probe, checked, post=emit)
        if new is None:
            return  # removed or turned off while it was being polled
        if new and emit:
            self._changed()  # the deliverer sends the posts queued with them
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

    async def _record_success(
        self, probe: Probe, checked: _Checked, *, post: bool = True
    ) -> list[Detection] | None:
        """Write a successful check in one transaction; returns the new proposals to announce
        (at most ``max_proposals_per_poll``), or None when the probe is gone or off. With
        *post*, their posts are queued in the outbox in that transaction (a release the probe
        will confirm by itself is queued when it is confirmed)."""
        now = self.clock.now()
        nxt = now + self._delay(probe.interval_minutes * 60.0)
        evidence = await self._without_vetoed(probe, checked.evidence)
        async with self.store.transaction() as tx:
            if not await tx.probes.record_success(
                probe.id, now=now, next_check_at=nxt, status=checked.status
            ):
                return None
            for name, etag, modified in checked.validators:
                await tx.probes.save_validators(probe.id, name, etag, modified)
            new = await _insert_detections(tx, probe, evidence, now)
            cap = max(1, self.settings.max_proposals_per_poll)
            if len(new) > cap:
                # One source cannot flood a channel: the rest is told in one message.
                new, extra = new[:cap], new[cap:]
                for detection in extra:
                    await tx.detections.mark_posted(detection.id, None, now)
                await write_summary_notice(tx, probe, extra, now)
            if post:
                asked = [d for d in new if d.is_promise or not probe.auto_confirm]
                await queue_posts(tx, asked, now)
        return new

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

    # ------------------------------------------------------------------ failure

    async def _failed(
        self, probe: Probe, error: str, retry_after_s: float | None, tally: _Tally
    ) -> None:
        now = self.clock.now()
        s = self.settings
        if retry_after_s is not None:
            delay = max(dt.timedelta(seconds=retry_after_s), s.min_retry_after)
        else:
            interval = probe.interval_minutes * 60.0
            delay = self._delay(backoff(interval, probe.consecutive_failures, s.max_backoff))
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
                await write_disabled_notice(tx, probe, failures, error, now)
        if not newly:
            return
        tally.disabled += 1
        log.warning("probe %d turned off after %d failures in a row", probe.id, failures)
        self._changed()
        await self._tell_disabled(probe, failures, error)

    async def _tell_disabled(self, probe: Probe, failures: int, error: str) -> None:
        """Hand a probe that was just turned off to ``on_disabled``."""
        if self.on_disabled is None:
            return
        launch = await self.store.read.launches.get_launch(probe.launch_id, probe.guild_id)
        current = await self.store.read.probes.get_probe(probe.id, probe.guild_id)
        if launch is None or current is None:
            return
        try:
            await self.on_disabled(
                ProbeDisabled(current, launch.product, launch.vendor, failures, error)
            )
        except Exception:
            log.exception("telling the managers about probe %d failed", probe.id)


async def _insert_detections(
    tx: Session, probe: Probe, evidence: list[kinds.Evidence], now: dt.datetime
) -> list[Detection]:
    """Record every new piece of evidence; returns those proposed (in the source's order)."""
    oldest = dt.datetime.min.replace(tzinfo=dt.UTC)
    releases = [e for e in evidence if e.verdict is Verdict.RELEASE and not e.veto]
    # max() keeps the first of equals: the feed's own order (newest first) decides ties.
    newest = max(releases, key=lambda e: e.published_at or oldest, default=None)
    launch = await tx.launches.get_launch(probe.launch_id, probe.guild_id)
    new: list[Detection] = []
    for ev in evidence:
        state = _state_of(probe, ev, launch, newest)
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
    return new


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


def _status_error(status: int, probe: Probe) -> str:
    if status in (401, 403) and probe.api_key_env:
        return f"the server answered {status}: check the API key in {probe.api_key_env}"
    if status == 429:
        return "the server answered 429 (too many requests)"
    return f"the server answered {status}"

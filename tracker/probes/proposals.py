"""Detections and the decisions on them: what the Discord layer lists, posts, confirms and
rejects.

A release confirmed marks the launch shipped (on the source's date when it gives one) with the
evidence URL as its source; a promise confirmed re-dates the launch to the window the source
gave. Either closes the launch's other proposals; a release also turns its probes off.
"Not yet" keeps the evidence known, so it is never proposed again.

Each proposal's post is an outbox row (tracker.probes.posts).
"""

from __future__ import annotations

import logging

from tracker import deadlines
from tracker.errors import InvalidInput, InvalidTransition, NotFound
from tracker.models import Launch
from tracker.probes import Detection, DetectionState, Proposal
from tracker.probes.core import AUTO_ACTOR, ProbeCore
from tracker.probes.posts import queue_posts
from tracker.service import MAX_NOTE, clean_url
from tracker.text import cut

log = logging.getLogger(__name__)

_ALREADY = {
    DetectionState.CONFIRMED: "confirmed",
    DetectionState.AUTO_CONFIRMED: "confirmed by the probe",
    DetectionState.REJECTED: 'answered "Not yet"',
    DetectionState.SUPERSEDED: "closed (the launch was resolved another way)",
    DetectionState.BASELINE: "never proposed",
}


class ProbeProposals(ProbeCore):
    """The detections part of ``ProbeService``."""

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

    async def proposal_of(self, guild_id: int, detection_id: int) -> Proposal | None:
        """A detection as the Discord layer shows it, or None when it or its probe or launch
        is gone."""
        detection = await self.store.read.detections.get_detection(detection_id, guild_id)
        if detection is None:
            return None
        return await self._proposal(detection)

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
        _require_proposed(detection)
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
        _require_proposed(detection)
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
            _require_proposed(await self.get_detection(guild_id, detection_id))
        log.info("detection %d rejected", detection_id)
        return await self.get_detection(guild_id, detection_id)

    async def _redate(self, detection: Detection, actor: str) -> Launch:
        """A promise confirmed: the launch gets the source's window (a re-announcement); its
        probes keep watching for the release."""
        if detection.window_phrase is None:
            raise InvalidInput(
                f"Proposal #{detection.id} gives no window to move the launch to; use "
                "/launch delayed with the new window instead."
            )
        try:
            launch = await self.tracker.reannounce(
                detection.guild_id,
                detection.launch_id,
                actor,
                window_phrase=detection.window_phrase,
                announced_on=detection.window_read_on,
                source_url=_source(detection),
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
        note = cut(
            f"Detected by probe #{detection.probe_id} ({detection.kind.value}): {detection.title}",
            MAX_NOTE,
        )
        try:
            return await self.tracker.shipped(
                detection.guild_id,
                detection.launch_id,
                actor,
                on=day,
                source_url=_source(detection),
                note=note,
            )
        except InvalidTransition:
            await self._close_launch(detection, DetectionState.SUPERSEDED, actor)
            raise

    async def _close_launch(
        self, detection: Detection, state: DetectionState, actor: str, *, post: bool = False
    ) -> None:
        """Decide *detection*, close the launch's other proposals and turn its probes off;
        with *post*, queue the detection's post in the same transaction."""
        now = self.clock.now()
        async with self.store.transaction() as tx:
            if post:
                await queue_posts(tx, [detection], now)
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

    async def _auto_confirm(self, detection: Detection) -> Detection:
        """The probe confirms a release by itself (``auto_confirm``)."""
        try:
            await self._ship(detection, AUTO_ACTOR)
        except InvalidTransition:
            log.info("detection %d: launch already resolved", detection.id)
            return await self.get_detection(detection.guild_id, detection.id)
        await self._close_launch(detection, DetectionState.AUTO_CONFIRMED, AUTO_ACTOR, post=True)
        log.info(
            "detection %d auto-confirmed; launch %d shipped", detection.id, detection.launch_id
        )
        return await self.get_detection(detection.guild_id, detection.id)

    async def _emit(self, detection: Detection) -> None:
        """Hand a proposal to ``on_detection`` (its post is an outbox row already: a failing
        callback loses nothing)."""
        if self.on_detection is None:
            return
        proposal = await self._proposal(detection)
        if proposal is None:
            return
        try:
            await self.on_detection(proposal)
        except Exception:
            log.exception("the detection callback failed for detection %d", detection.id)

    async def _proposal(self, detection: Detection) -> Proposal | None:
        probe = await self.store.read.probes.get_probe(detection.probe_id, detection.guild_id)
        launch = await self.store.read.launches.get_launch(detection.launch_id, detection.guild_id)
        if probe is None or launch is None:
            return None
        return Proposal(detection, probe, launch.product, launch.vendor)


def _require_proposed(detection: Detection) -> None:
    if detection.state is DetectionState.PROPOSED:
        return
    by = f" by {detection.decided_by}" if detection.decided_by else ""
    if detection.state is DetectionState.SUPERSEDED:
        by = ""
    raise InvalidTransition(
        f"Proposal #{detection.id} was already {_ALREADY[detection.state]}{by}. "
        "Use /launch history to see what happened."
    )


def _source(detection: Detection) -> str | None:
    """The evidence URL as a launch's source, when it is a clean one."""
    try:
        return clean_url(detection.url)
    except InvalidInput:
        return None

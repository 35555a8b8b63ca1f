"""The detections repository as the domain sees it; storage/detections.py implements it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from tracker.probes import Detection, DetectionState, Probe, Verdict


class Detections(Protocol):
    """What probes detected, and what managers decided about it."""

    async def insert_detection(
        self,
        probe: Probe,
        *,
        evidence_key: str,
        title: str,
        url: str | None,
        matched: str,
        published_at: dt.datetime | None,
        state: DetectionState,
        now: dt.datetime,
        verdict: Verdict = Verdict.RELEASE,
        window_phrase: str | None = None,
        window_end: dt.date | None = None,
        window_read_on: dt.date | None = None,
    ) -> Detection | None:
        """Record a piece of evidence once; None when this probe already knew it."""

    async def known_keys(self, probe_id: int, keys: Sequence[str]) -> set[str]:
        """Which of *keys* this probe already recorded."""

    async def get_detection(
        self, detection_id: int, guild_id: int | None = None
    ) -> Detection | None:
        """One detection by id; with *guild_id*, only if it belongs to that guild."""

    async def list_detections(
        self,
        guild_id: int,
        *,
        launch_id: int | None = None,
        probe_id: int | None = None,
        states: Sequence[DetectionState] | None = None,
        limit: int = 25,
    ) -> list[Detection]:
        """A guild's detections, newest first, optionally of one launch / probe / some states."""

    async def decide_detection(
        self,
        detection_id: int,
        guild_id: int,
        *,
        expect: DetectionState,
        state: DetectionState,
        actor: str,
        now: dt.datetime,
    ) -> bool:
        """Move a detection from *expect* to *state* (compare-and-set); False if it moved first."""

    async def supersede_proposals(
        self, launch_id: int, guild_id: int, actor: str, now: dt.datetime
    ) -> int:
        """Close the open proposals of a launch that was resolved."""

    async def unqueued_detections(self, limit: int, guild_id: int | None = None) -> list[Detection]:
        """Open proposals and auto-confirmations not posted yet, of guilds with an alert
        channel (of one guild), whose post was never queued, oldest first."""

    async def mark_posted(
        self, detection_id: int, message_id: int | None, now: dt.datetime
    ) -> bool:
        """Record that a detection was posted; False when it was already marked."""

"""The probes repository as the domain sees it; storage/probes.py implements it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from tracker.probes import Probe, ProbeKind


class Probes(Protocol):
    """Probes: sources watched for a launch's release, and their HTTP validators."""

    async def insert_probe(
        self,
        *,
        guild_id: int,
        launch_id: int,
        kind: ProbeKind,
        target: str,
        pattern: str,
        auto_confirm: bool,
        interval_minutes: int,
        api_key_env: str | None,
        next_check_at: dt.datetime,
        created_by: str,
        now: dt.datetime,
        prereleases: bool = False,
    ) -> Probe:
        """Insert an enabled probe and return it."""

    async def get_probe(self, probe_id: int, guild_id: int | None = None) -> Probe | None:
        """One probe by id; with *guild_id*, only if it belongs to that guild."""

    async def find_probe(
        self, launch_id: int, kind: ProbeKind, target: str, pattern: str
    ) -> Probe | None:
        """The probe of a launch with this kind, target and pattern (ignoring case), if any."""

    async def list_probes(self, guild_id: int, launch_id: int | None = None) -> list[Probe]:
        """A guild's probes (of one launch), by id."""

    async def count_probes(self, guild_id: int, launch_id: int | None = None) -> int:
        """How many probes a guild (or one of its launches) has."""

    async def delete_probe(self, probe_id: int, guild_id: int) -> bool:
        """Remove a probe with its validators and detections; False when there was none."""

    async def next_probe_due(self) -> dt.datetime | None:
        """The earliest next_check_at of an enabled probe (one index lookup)."""

    async def due_probes(self, now: dt.datetime, limit: int) -> list[Probe]:
        """Enabled probes due at or before *now*, earliest first (index range scan)."""

    async def resolved_launches(self, launch_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
        """For each launch id: its (state, product). Missing launches are left out."""

    async def record_success(
        self,
        probe_id: int,
        *,
        now: dt.datetime,
        next_check_at: dt.datetime,
        status: str,
    ) -> bool:
        """A poll that got an answer: failures reset, next poll armed, baseline taken.
        False when the probe was removed or disabled meanwhile (then record nothing else)."""

    async def record_failure(
        self,
        probe_id: int,
        *,
        now: dt.datetime,
        next_check_at: dt.datetime,
        error: str,
        limit: int,
    ) -> tuple[int, bool]:
        """A failed poll: count it and arm the next one; at *limit* consecutive failures the probe
        is disabled. Returns (consecutive failures, newly disabled); (0, False) when the probe is
        gone or was already disabled."""

    async def disable_probe(self, probe_id: int, reason: str, now: dt.datetime) -> bool:
        """Turn a probe off with a reason; True only for the call that turned it off."""

    async def disable_launch_probes(
        self, launch_id: int, guild_id: int, reason: str, now: dt.datetime
    ) -> int:
        """Turn off every enabled probe of a launch (it shipped or was cancelled)."""

    async def enable_probe(self, probe_id: int, guild_id: int, now: dt.datetime) -> bool:
        """Turn a disabled probe back on, due at once, with its failure count reset."""

    async def get_validators(self, probe_id: int) -> dict[str, tuple[str | None, str | None]]:
        """The stored (ETag, Last-Modified) of each of a probe's requests."""

    async def save_validators(
        self, probe_id: int, name: str, etag: str | None, last_modified: str | None
    ) -> None:
        """Remember (or forget, when both are None) the validators of one request."""

    async def clear_validators(self, probe_id: int | None = None) -> None:
        """Forget stored validators (of one probe, or all: the benchmark's unconditional round)."""

"""The discovery repository as the domain sees it; storage/discovery.py implements it."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from tracker.promises import Discovery, DiscoveryKind, Promised, PromiseProposal, ProposalState


class Discoveries(Protocol):
    """Discovery sources and the promises they proposed."""

    async def insert(
        self,
        *,
        guild_id: int,
        vendor: str,
        kind: DiscoveryKind,
        target: str,
        interval_minutes: int,
        next_check_at: dt.datetime,
        created_by: str,
        now: dt.datetime,
    ) -> Discovery | None:
        """A new discovery; None when the server already watches that source."""

    async def get(self, discovery_id: int) -> Discovery | None:
        """One discovery by id."""

    async def count(self, guild_id: int) -> int:
        """How many sources a server watches for promises."""

    async def next_due(self) -> dt.datetime | None:
        """The earliest next_check_at of an enabled discovery (one index lookup)."""

    async def due(self, now: dt.datetime, limit: int) -> list[Discovery]:
        """Enabled discoveries due at or before *now*, earliest first."""

    async def record_success(
        self,
        discovery_id: int,
        *,
        now: dt.datetime,
        next_check_at: dt.datetime,
        status: str,
        etag: str | None,
        last_modified: str | None,
    ) -> None:
        """A poll that got an answer: failures reset, validators kept, baseline taken."""

    async def record_failure(
        self, discovery_id: int, *, now: dt.datetime, next_check_at: dt.datetime, error: str
    ) -> None:
        """A poll without a usable answer: counted, retried later."""

    async def insert_proposal(
        self,
        discovery: Discovery,
        promised: Promised,
        state: ProposalState,
        now: dt.datetime,
    ) -> PromiseProposal | None:
        """Record an entry's promise once per server; None when the server already has it."""

    async def get_proposal(self, guild_id: int, proposal_id: int) -> PromiseProposal | None:
        """One proposal of one server."""

    async def decide(
        self,
        proposal_id: int,
        state: ProposalState,
        actor: str,
        now: dt.datetime,
        launch_id: int | None,
    ) -> bool:
        """Close a proposal once: False when it was no longer waiting."""

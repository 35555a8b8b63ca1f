"""The outbox repository as the domain sees it; storage/outbox.py implements it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from tracker.models import (
    DestinationKind,
    Message,
    OutboxRow,
    OutboxState,
)
from tracker.records import (
    Outgoing,
    SentMark,
)


class Outbox(Protocol):
    """The outbox: every message to send, with its delivery state."""

    async def enqueue(
        self,
        *,
        guild_id: int | None,
        dest_kind: DestinationKind,
        dest_id: int,
        idem_key: str,
        nonce: str,
        payload: Message,
        now: dt.datetime,
        state: OutboxState = OutboxState.PENDING,
    ) -> bool:
        """Queue a message; a repeated idempotency key is ignored. Returns True if inserted."""

    async def fair_keys(self, guild_ids: Sequence[int | None], now: dt.datetime) -> list[int]:
        """Delivery-order keys for new outbox rows of *guild_ids* (one per row, in order): fair
        queuing between guilds. A guild's next key is the larger of the head (the first due pending
        key: where delivery stands now) and one past its own last pending key, so its message waits
        behind at most one message of each other guild, however many those have queued. Ties go to
        the older row."""

    async def next_outbox_attempt(self) -> dt.datetime | None:
        """The earliest next_attempt_at of a pending row (one index lookup)."""

    async def due_outbox(
        self, now: dt.datetime, limit: int, busy: Sequence[int] = ()
    ) -> list[OutboxRow]:
        """Pending rows ready to send in fair order (see :func:`fair_keys`), leaving out every
        destination in *busy* (those with a message in flight)."""

    async def claim_outbox(
        self, row_ids: Sequence[int], now: dt.datetime, until: dt.datetime
    ) -> set[int]:
        """Claim these due rows for sending until *until*; returns the ids claimed (rows another
        deliverer holds, or that stopped being due, are left out). On PostgreSQL the rows are
        locked with SKIP LOCKED, so two deliverers claiming at once never get the same row."""

    async def has_claims(self) -> bool:
        """Whether any pending row is claimed (a read: most starts find none to release)."""

    async def release_claims(self, row_ids: Sequence[int] | None = None) -> int:
        """End claims: these rows' (a deliverer stopping), or every claim (a new deliverer taking
        over from one that is gone). Returns how many rows were released."""

    async def get_outbox(self, row_id: int) -> OutboxRow | None:
        """One outbox row."""

    async def all_outbox(self) -> list[OutboxRow]:
        """Every outbox row by id (tests, status pages)."""

    async def mark_sent(self, row_id: int, message_id: int | None, now: dt.datetime) -> None:
        """Record a confirmed delivery."""

    async def mark_sent_many(self, marks: Sequence[SentMark]) -> None:
        """Record several confirmed deliveries in one statement."""

    async def mark_retry(self, row_id: int, error: str, next_attempt_at: dt.datetime) -> None:
        """Record a failed attempt that will be tried again."""

    async def mark_final(self, row_id: int, state: OutboxState, error: str) -> None:
        """Record that a row will not be tried again (failed or dead)."""

    async def outbox_counts(self, guild_id: int | None = None) -> dict[str, int]:
        """Rows per state (all guilds, or one)."""

    async def enqueue_many(
        self,
        rows: Sequence[Outgoing],
        now: dt.datetime,
    ) -> int:
        """Batch form of :meth:`enqueue`; repeated keys are ignored. Returns how many were
        inserted."""

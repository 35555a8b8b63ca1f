"""Discovery sources and the promises they proposed."""

from __future__ import annotations

import datetime as dt

from storage.db import from_ms_or_none, to_ms
from storage.rows import (
    Repository,
    row_to_discovery,
    row_to_proposal,
)
from tracker.promises import Discovery, DiscoveryKind, Promised, PromiseProposal, ProposalState


class SqlDiscovery(Repository):
    """Discovery sources and the promises they proposed."""

    __slots__ = ()

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
        cur = await self._conn.execute(
            "INSERT INTO discoveries (guild_id, vendor, kind, target, interval_minutes, "
            "next_check_at, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING id",
            (
                guild_id,
                vendor,
                kind.value,
                target,
                interval_minutes,
                to_ms(next_check_at),
                created_by,
                to_ms(now),
            ),
        )
        row = await cur.fetchone()
        await cur.close()
        if row is None:
            return None
        return await self.get(int(row[0]))

    async def get(self, discovery_id: int) -> Discovery | None:
        """One discovery by id."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT * FROM discoveries WHERE id = ?", (discovery_id,)
            )
        )
        return row_to_discovery(rows[0]) if rows else None

    async def count(self, guild_id: int) -> int:
        """How many sources a server watches for promises."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT COUNT(*) FROM discoveries WHERE guild_id = ?", (guild_id,)
            )
        )
        return int(rows[0][0]) if rows else 0

    async def next_due(self) -> dt.datetime | None:
        """The earliest next_check_at of an enabled discovery (one index lookup)."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT MIN(next_check_at) FROM discoveries WHERE enabled = 1"
            )
        )
        return from_ms_or_none(rows[0][0]) if rows else None

    async def due(self, now: dt.datetime, limit: int) -> list[Discovery]:
        """Enabled discoveries due at or before *now*, earliest first."""
        rows = await self._conn.execute_fetchall(
            "SELECT * FROM discoveries WHERE enabled = 1 AND next_check_at <= ? "
            "ORDER BY next_check_at LIMIT ?",
            (to_ms(now), limit),
        )
        return [row_to_discovery(row) for row in rows]

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
        await self._conn.execute(
            "UPDATE discoveries SET last_checked_at = ?, last_status = ?, last_error = NULL, "
            "consecutive_failures = 0, baseline_done = 1, next_check_at = ?, "
            "etag = COALESCE(?, etag), last_modified = COALESCE(?, last_modified) WHERE id = ?",
            (to_ms(now), status[:100], to_ms(next_check_at), etag, last_modified, discovery_id),
        )

    async def record_failure(
        self, discovery_id: int, *, now: dt.datetime, next_check_at: dt.datetime, error: str
    ) -> None:
        """A poll without a usable answer: counted, retried later."""
        await self._conn.execute(
            "UPDATE discoveries SET last_checked_at = ?, last_status = 'failed', last_error = ?, "
            "consecutive_failures = consecutive_failures + 1, next_check_at = ? WHERE id = ?",
            (to_ms(now), error, to_ms(next_check_at), discovery_id),
        )

    async def insert_proposal(
        self,
        discovery: Discovery,
        promised: Promised,
        state: ProposalState,
        now: dt.datetime,
    ) -> PromiseProposal | None:
        """Record an entry's promise once per server; None when the server already has it."""
        cur = await self._conn.execute(
            "INSERT INTO promise_proposals (guild_id, discovery_id, entry_key, vendor, title, url, "
            "sentence, phrase_start, phrase_end, window_phrase, window_start, window_end, "
            "announced_on, product, state, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING id",
            (
                discovery.guild_id,
                discovery.id,
                promised.entry_key,
                discovery.vendor,
                promised.title,
                promised.url,
                promised.sentence,
                promised.span[0],
                promised.span[1],
                promised.window_phrase,
                promised.window_start.isoformat(),
                promised.window_end.isoformat(),
                promised.announced_on.isoformat(),
                promised.product,
                state.value,
                to_ms(now),
            ),
        )
        row = await cur.fetchone()
        await cur.close()
        if row is None:
            return None
        return await self.get_proposal(discovery.guild_id, int(row[0]))

    async def get_proposal(self, guild_id: int, proposal_id: int) -> PromiseProposal | None:
        """One proposal of one server."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT * FROM promise_proposals WHERE id = ? AND guild_id = ?",
                (proposal_id, guild_id),
            )
        )
        return row_to_proposal(rows[0]) if rows else None

    async def decide(
        self,
        proposal_id: int,
        state: ProposalState,
        actor: str,
        now: dt.datetime,
        launch_id: int | None,
    ) -> bool:
        """Close a proposal once: False when it was no longer waiting."""
        cur = await self._conn.execute(
            "UPDATE promise_proposals SET state = ?, decided_by = ?, decided_at = ?, launch_id = ? "
            "WHERE id = ? AND state = 'proposed'",
            (state.value, actor[:100], to_ms(now), launch_id, proposal_id),
        )
        changed = cur.rowcount == 1
        await cur.close()
        return changed

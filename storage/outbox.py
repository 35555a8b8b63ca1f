"""The outbox: every message to send, with its delivery state."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from storage.db import from_ms_or_none, to_ms
from storage.rows import (
    Repository,
    chunks,
    row_to_outbox,
    skip_locked,
)
from tracker.models import (
    DestinationKind,
    Message,
    OutboxRow,
    OutboxState,
)
from tracker.records import Outgoing, SentMark

# Rows per INSERT statement: 11 parameters each, well under SQLite's and PostgreSQL's limits.
INSERT_CHUNK = 500


class SqlOutbox(Repository):
    """The outbox: every message to send, with its delivery state."""

    __slots__ = ()

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
        outgoing = Outgoing(guild_id, dest_kind, dest_id, idem_key, nonce, payload, state)
        inserted = await self.enqueue_many([outgoing], now)
        return inserted == 1

    async def fair_keys(self, guild_ids: Sequence[int | None], now: dt.datetime) -> list[int]:
        """Delivery-order keys for new outbox rows of *guild_ids* (one per row, in order): fair
        queuing between guilds. A guild's next key is the larger of the head (the first due pending
        key: where delivery stands now) and one past its own last pending key, so its message waits
        behind at most one message of each other guild, however many those have queued. Ties go to
        the older row."""
        # One statement (one round trip inside the sweep's write transaction): where delivery
        # stands, the last key handed out, and one index probe per guild (outbox_guild_fair)
        # for each guild's last pending key, however many rows each holds.
        head_sql = (
            "(SELECT fair_key FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? "
            "ORDER BY fair_key LIMIT 1)"
        )
        top_sql = "(SELECT MAX(fair_key) FROM outbox WHERE state = 'pending')"
        known = sorted({g for g in guild_ids if g is not None})
        last: dict[int, int] = {}
        head: int | None = None
        top: int | None = None
        batches: list[Sequence[int]] = list(chunks(known, 400)) or [[]]
        for index, chunk in enumerate(batches):
            ends = f", {head_sql}, {top_sql}" if index == 0 else ""
            params: list[Any] = [to_ms(now)] if index == 0 else []
            if chunk:
                values = ", ".join("(?)" for _ in chunk)
                sql = (
                    "SELECT g.column1, (SELECT MAX(o.fair_key) FROM outbox o "
                    f"WHERE o.state = 'pending' AND o.guild_id = g.column1){ends} "
                    f"FROM (VALUES {values}) AS g"
                )
                params.extend(chunk)
            else:
                sql = f"SELECT NULL, NULL{ends}"
            for row in await self._conn.execute_fetchall(sql, params):
                if index == 0:
                    head, top = row[2], row[3]
                if row[0] is not None and row[1] is not None:
                    last[int(row[0])] = int(row[1])
        head = int(head) if head is not None else int(top or 0) + 1
        keys: list[int] = []
        for gid in guild_ids:
            key = max(head, last.get(gid, 0) + 1 if gid is not None else 0)
            if gid is not None:
                last[gid] = key
            keys.append(key)
        return keys

    async def next_outbox_attempt(self) -> dt.datetime | None:
        """The earliest next_attempt_at of a pending row (one index lookup)."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'"
            )
        )
        row = rows[0] if rows else None
        return from_ms_or_none(row[0]) if row else None

    async def due_outbox(
        self, now: dt.datetime, limit: int, busy: Sequence[int] = ()
    ) -> list[OutboxRow]:
        """Pending rows ready to send in fair order (see :func:`fair_keys`), leaving out every
        destination in *busy* (those with a message in flight)."""
        sql = (
            "SELECT * FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? "
            "AND (claimed_until IS NULL OR claimed_until <= ?)"
        )
        params: list[Any] = [to_ms(now), to_ms(now)]
        if busy:
            sql += f" AND dest_id NOT IN ({','.join('?' * len(busy))})"
            params.extend(busy)
        sql += " ORDER BY fair_key, id LIMIT ?"
        params.append(limit)
        rows = list(await self._conn.execute_fetchall(sql, params))
        return [row_to_outbox(r) for r in rows]

    async def claim_outbox(
        self, row_ids: Sequence[int], now: dt.datetime, until: dt.datetime
    ) -> set[int]:
        """Claim these due rows for sending until *until*; returns the ids claimed (rows another
        deliverer holds, or that stopped being due, are left out). On PostgreSQL the rows are
        locked with SKIP LOCKED, so two deliverers claiming at once never get the same row."""
        if not row_ids:
            return set()
        marks = ",".join("?" * len(row_ids))
        rows = await self._conn.execute_fetchall(
            "UPDATE outbox SET claimed_until = ? WHERE id IN (SELECT id FROM outbox "
            f"WHERE id IN ({marks}) AND state = 'pending' AND next_attempt_at <= ? "
            "AND (claimed_until IS NULL OR claimed_until <= ?)"
            f"{skip_locked(self._conn)}) RETURNING id",
            (to_ms(until), *row_ids, to_ms(now), to_ms(now)),
        )
        return {int(r[0]) for r in rows}

    async def has_claims(self) -> bool:
        """Whether any pending row is claimed (a read: most starts find none to release)."""
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT 1 FROM outbox WHERE state = 'pending' AND claimed_until IS NOT NULL LIMIT 1"
            )
        )
        return bool(rows)

    async def release_claims(self, row_ids: Sequence[int] | None = None) -> int:
        """End claims: these rows' (a deliverer stopping), or every claim (a new deliverer taking
        over from one that is gone). Returns how many rows were released."""
        if row_ids is None:
            cur = await self._conn.execute(
                "UPDATE outbox SET claimed_until = NULL "
                "WHERE claimed_until IS NOT NULL AND state = 'pending'"
            )
        elif not row_ids:
            return 0
        else:
            cur = await self._conn.execute(
                "UPDATE outbox SET claimed_until = NULL "
                f"WHERE id IN ({','.join('?' * len(row_ids))})",
                tuple(row_ids),
            )
        count = cur.rowcount
        await cur.close()
        return count

    async def get_outbox(self, row_id: int) -> OutboxRow | None:
        """One outbox row."""
        rows = list(
            await self._conn.execute_fetchall("SELECT * FROM outbox WHERE id = ?", (row_id,))
        )
        row = rows[0] if rows else None
        return row_to_outbox(row) if row else None

    async def all_outbox(self) -> list[OutboxRow]:
        """Every outbox row by id (tests, status pages)."""
        rows = list(await self._conn.execute_fetchall("SELECT * FROM outbox ORDER BY id"))
        return [row_to_outbox(r) for r in rows]

    async def mark_sent(self, row_id: int, message_id: int | None, now: dt.datetime) -> None:
        """Record a confirmed delivery."""
        await self.mark_sent_many([SentMark(row_id, message_id, now)])

    async def mark_sent_many(self, marks: Sequence[SentMark]) -> None:
        """Record several confirmed deliveries in one statement (the deliverer's group commit)."""
        if not marks:
            return
        await self._conn.executemany(
            "UPDATE outbox SET state = 'sent', attempts = attempts + 1, sent_message_id = ?, "
            "sent_at = ?, last_error = NULL WHERE id = ? AND state = 'pending'",
            [(mark.message_id, to_ms(mark.at), mark.row_id) for mark in marks],
        )

    async def mark_retry(self, row_id: int, error: str, next_attempt_at: dt.datetime) -> None:
        """Record a failed attempt that will be tried again."""
        await self._conn.execute(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, "
            "claimed_until = NULL WHERE id = ? AND state = 'pending'",
            (error[:500], to_ms(next_attempt_at), row_id),
        )

    async def mark_final(self, row_id: int, state: OutboxState, error: str) -> None:
        """Record that a row will not be tried again (failed or dead)."""
        await self._conn.execute(
            "UPDATE outbox SET state = ?, attempts = attempts + 1, last_error = ? "
            "WHERE id = ? AND state = 'pending'",
            (state.value, error[:500], row_id),
        )

    async def outbox_counts(self, guild_id: int | None = None) -> dict[str, int]:
        """Rows per state (all guilds, or one)."""
        sql = "SELECT state, COUNT(*) FROM outbox"
        params: tuple[Any, ...] = ()
        if guild_id is not None:
            sql += " WHERE guild_id = ?"
            params = (guild_id,)
        rows = list(await self._conn.execute_fetchall(sql + " GROUP BY state", params))
        counts = {s.value: 0 for s in OutboxState}
        for row in rows:
            counts[row[0]] = row[1]
        return counts

    async def enqueue_many(
        self,
        rows: Sequence[Outgoing],
        now: dt.datetime,
    ) -> int:
        """Batch form of :meth:`enqueue`; repeated keys are ignored. Returns how many were
        inserted."""
        if not rows:
            return 0
        stamp = to_ms(now)
        keys = await self.fair_keys([row.guild_id for row in rows], now)
        values = [
            (
                row.guild_id,
                row.dest_kind.value,
                row.dest_id,
                row.idem_key,
                row.nonce,
                json.dumps(row.message.to_json(), separators=(",", ":")),
                row.state.value,
                stamp,
                stamp,
                stamp,
                fair,
            )
            for row, fair in zip(rows, keys, strict=True)
        ]
        # One multi-row statement per chunk (one round trip inside the sweep's transaction);
        # RETURNING lists only the rows inserted, a repeated key being skipped.
        inserted = 0
        for start in range(0, len(values), INSERT_CHUNK):
            chunk = values[start : start + INSERT_CHUNK]
            marks = ", ".join("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)" for _ in chunk)
            returned = await self._conn.execute_fetchall(
                "INSERT INTO outbox (guild_id, dest_kind, dest_id, idem_key, nonce, payload, "
                f"state, next_attempt_at, created_at, queued_at, fair_key) VALUES {marks} "
                "ON CONFLICT DO NOTHING RETURNING id",
                [value for row in chunk for value in row],
            )
            inserted += len(list(returned))
        return inserted

"""What probes detected, and what managers decided about it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from storage.db import to_ms
from storage.rows import (
    Repository,
    row_to_detection,
)
from tracker.probes import Detection, DetectionState, Probe, Verdict


class SqlDetections(Repository):
    """What probes detected, and what managers decided about it."""

    __slots__ = ()

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
        cur = await self._conn.execute(
            "INSERT INTO probe_detections (probe_id, guild_id, launch_id, kind, "
            "evidence_key, title, url, matched, published_at, detected_at, state, auto_confirm, "
            "verdict, window_phrase, window_end, window_read_on) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT DO NOTHING RETURNING id",
            (
                probe.id,
                probe.guild_id,
                probe.launch_id,
                probe.kind.value,
                evidence_key,
                title,
                url,
                matched,
                to_ms(published_at) if published_at else None,
                to_ms(now),
                state.value,
                int(probe.auto_confirm and verdict is Verdict.RELEASE),
                verdict.value,
                window_phrase,
                window_end.isoformat() if window_end else None,
                window_read_on.isoformat() if window_read_on else None,
            ),
        )
        inserted = await cur.fetchone()
        await cur.close()
        if inserted is None:
            return None
        detection_id = int(inserted[0])
        return await self.get_detection(detection_id)

    async def known_keys(self, probe_id: int, keys: Sequence[str]) -> set[str]:
        """Which of *keys* this probe already recorded."""
        found: set[str] = set()
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            chunk = unique[start : start + 500]
            rows = await self._conn.execute_fetchall(
                "SELECT evidence_key FROM probe_detections WHERE probe_id = ? AND evidence_key IN "
                f"({','.join('?' * len(chunk))})",
                [probe_id, *chunk],
            )
            found.update(str(r[0]) for r in rows)
        return found

    async def get_detection(
        self, detection_id: int, guild_id: int | None = None
    ) -> Detection | None:
        """One detection by id; with *guild_id*, only if it belongs to that guild."""
        params: tuple[int, ...]
        if guild_id is None:
            sql, params = "SELECT * FROM probe_detections WHERE id = ?", (detection_id,)
        else:
            sql = "SELECT * FROM probe_detections WHERE id = ? AND guild_id = ?"
            params = (detection_id, guild_id)
        rows = list(await self._conn.execute_fetchall(sql, params))
        row = rows[0] if rows else None
        return row_to_detection(row) if row else None

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
        sql = "SELECT * FROM probe_detections WHERE guild_id = ?"
        params: list[Any] = [guild_id]
        if launch_id is not None:
            sql += " AND launch_id = ?"
            params.append(launch_id)
        if probe_id is not None:
            sql += " AND probe_id = ?"
            params.append(probe_id)
        if states:
            sql += f" AND state IN ({','.join('?' * len(states))})"
            params.extend(s.value for s in states)
        sql += " ORDER BY detected_at DESC, id DESC LIMIT ?"
        params.append(limit)
        rows = list(await self._conn.execute_fetchall(sql, params))
        return [row_to_detection(r) for r in rows]

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
        cur = await self._conn.execute(
            "UPDATE probe_detections SET state = ?, decided_by = ?, decided_at = ? "
            "WHERE id = ? AND guild_id = ? AND state = ?",
            (state.value, actor[:100], to_ms(now), detection_id, guild_id, expect.value),
        )
        changed = cur.rowcount == 1
        await cur.close()
        return changed

    async def supersede_proposals(
        self, launch_id: int, guild_id: int, actor: str, now: dt.datetime
    ) -> int:
        """Close the open proposals of a launch that was resolved."""
        cur = await self._conn.execute(
            "UPDATE probe_detections SET state = 'superseded', decided_by = ?, decided_at = ? "
            "WHERE launch_id = ? AND guild_id = ? AND state = 'proposed'",
            (actor[:100], to_ms(now), launch_id, guild_id),
        )
        count = cur.rowcount
        await cur.close()
        return count

    async def unqueued_detections(self, limit: int, guild_id: int | None = None) -> list[Detection]:
        """Open proposals and auto-confirmations not posted yet, of guilds with an alert
        channel (of one guild), whose post was never queued (the outbox key of
        tracker.outbox.fanout.detection_post), oldest first."""
        one = "AND d.guild_id = ? " if guild_id is not None else ""
        params = (guild_id, limit) if guild_id is not None else (limit,)
        rows = list(
            await self._conn.execute_fetchall(
                "SELECT d.* FROM probe_detections d JOIN guilds g ON g.guild_id = d.guild_id "
                "WHERE d.posted_at IS NULL AND d.state IN ('proposed', 'auto_confirmed') "
                f"AND g.alert_channel_id IS NOT NULL {one}AND NOT EXISTS (SELECT 1 FROM outbox o "
                "WHERE o.idem_key = 'detection:' || CAST(d.id AS TEXT)) ORDER BY d.id LIMIT ?",
                params,
            )
        )
        return [row_to_detection(r) for r in rows]

    async def mark_posted(
        self, detection_id: int, message_id: int | None, now: dt.datetime
    ) -> bool:
        """Record that a detection was posted; False when it was already marked."""
        cur = await self._conn.execute(
            "UPDATE probe_detections SET posted_at = ?, message_id = ? "
            "WHERE id = ? AND posted_at IS NULL",
            (to_ms(now), message_id, detection_id),
        )
        changed = cur.rowcount == 1
        await cur.close()
        return changed

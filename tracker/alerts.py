"""Turning alerts into outbox rows: who gets what, under which idempotency key and nonce."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass

import aiosqlite

from storage import repo
from tracker.models import (
    Alert,
    DestinationKind,
    GuildConfig,
    Message,
    OutboxState,
)

# More alerts than this to one destination from a catch-up sweep are merged into one message.
MERGE_THRESHOLD = 5


def nonce_for(idem_key: str) -> str:
    """A deterministic Discord nonce (25 characters, Discord's maximum) for an idempotency key.

    The same outbox row always sends the same nonce, so with enforce_nonce a resend after a
    crash is deduplicated by Discord itself."""
    return hashlib.sha256(idem_key.encode()).hexdigest()[:25]


@dataclass(frozen=True, slots=True)
class Pending:
    """One alert bound for one destination, before it is written."""

    guild_id: int
    dest_kind: DestinationKind
    dest_id: int
    idem_key: str
    alert: Alert
    mention_role_id: int | None


async def destinations(
    conn: aiosqlite.Connection, config: GuildConfig, alert: Alert, idem_base: str
) -> list[Pending]:
    """The guild's alert channel (if set) and every instant subscriber of the launch."""
    launch = alert.launch
    out: list[Pending] = []
    if config.alert_channel_id is not None:
        out.append(
            Pending(
                guild_id=config.guild_id,
                dest_kind=DestinationKind.CHANNEL,
                dest_id=config.alert_channel_id,
                idem_key=f"{idem_base}:c{config.alert_channel_id}",
                alert=alert,
                mention_role_id=config.mention_role_id,
            )
        )
    for user_id in await repo.subscribers_for(conn, launch.guild_id, launch.id, launch.vendor):
        out.append(
            Pending(
                guild_id=config.guild_id,
                dest_kind=DestinationKind.USER,
                dest_id=user_id,
                idem_key=f"{idem_base}:u{user_id}",
                alert=alert,
                mention_role_id=None,
            )
        )
    return out


def merge(pending: list[Pending], threshold: int = MERGE_THRESHOLD) -> list[tuple[Pending, ...]]:
    """Group alerts per destination; groups larger than *threshold* become one message each,
    smaller ones stay one message per alert. Order is kept."""
    by_dest: dict[tuple[DestinationKind, int], list[Pending]] = defaultdict(list)
    for p in pending:
        by_dest[(p.dest_kind, p.dest_id)].append(p)
    groups: list[tuple[Pending, ...]] = []
    for items in by_dest.values():
        if len(items) > threshold:
            groups.append(tuple(items))
        else:
            groups.extend((p,) for p in items)
    return groups


async def write(
    conn: aiosqlite.Connection, groups: list[tuple[Pending, ...]], now: dt.datetime
) -> int:
    """Write each group as one outbox row (held if its destination is broken).

    A merged row's key is derived from its members' keys, so re-running the same catch-up
    writes nothing new. Returns how many rows were inserted."""
    inserted = 0
    broken_cache: dict[tuple[DestinationKind, int], bool] = {}
    for group in groups:
        first = group[0]
        if len(group) == 1:
            key = first.idem_key
        else:
            digest = hashlib.sha256("|".join(p.idem_key for p in group).encode()).hexdigest()
            key = f"merged:{digest[:32]}"
        dest = (first.dest_kind, first.dest_id)
        if dest not in broken_cache:
            broken_cache[dest] = await repo.is_broken(conn, *dest)
        state = OutboxState.HELD if broken_cache[dest] else OutboxState.PENDING
        message = Message(
            alerts=tuple(p.alert for p in group), mention_role_id=first.mention_role_id
        )
        if await repo.enqueue(
            conn,
            guild_id=first.guild_id,
            dest_kind=first.dest_kind,
            dest_id=first.dest_id,
            idem_key=key,
            nonce=nonce_for(key),
            payload=message,
            now=now,
            state=state,
        ):
            inserted += 1
    return inserted

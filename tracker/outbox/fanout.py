"""Turning alerts into outbox rows: who gets what, under which idempotency key and nonce."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from dataclasses import dataclass

from tracker.models import (
    Alert,
    BrokenNotice,
    DestinationKind,
    GuildConfig,
    Message,
    OutboxState,
)
from tracker.ports import Session
from tracker.records import Outgoing

# More alerts than this to one destination from a catch-up sweep are merged into one message.
MERGE_THRESHOLD = 5


def nonce_for(idem_key: str) -> str:
    """A deterministic Discord nonce (25 characters, Discord's maximum) for an idempotency key.

    The same outbox row always sends the same nonce, so with enforce_nonce a resend after a
    crash is deduplicated by Discord itself."""
    return hashlib.sha256(idem_key.encode()).hexdigest()[:25]


def broken_notice(guild_id: int, channel_id: int, reason: str, since: dt.datetime) -> Outgoing:
    """The outbox row telling a guild's managers that *channel_id* broke at *since*.

    Its key names the breakage (the channel and the moment it broke), so queuing it twice
    writes one row, and a channel that is fixed and breaks again gets a new notice. It is
    addressed to the guild (dest_id = the guild's id): the notifier finds the managers when
    it sends (the guild's system channel, else the owner's DMs), and never holds it as a
    broken destination of its own."""
    stamp = int(since.timestamp() * 1000)
    key = f"broken:c{channel_id}:{stamp}"
    return Outgoing(
        guild_id=guild_id,
        dest_kind=DestinationKind.CHANNEL,
        dest_id=guild_id,
        idem_key=key,
        nonce=nonce_for(key),
        message=Message(alerts=(), notice=BrokenNotice(guild_id, channel_id, reason, since)),
    )


def channel_post(
    guild_id: int, channel_id: int, key: str, message: Message, *, held: bool = False
) -> Outgoing:
    """The outbox row posting *message* in a guild's *channel_id* under *key* (its nonce comes
    from the key), held with the channel's alerts when the channel is broken."""
    return Outgoing(
        guild_id=guild_id,
        dest_kind=DestinationKind.CHANNEL,
        dest_id=channel_id,
        idem_key=key,
        nonce=nonce_for(key),
        message=message,
        state=OutboxState.HELD if held else OutboxState.PENDING,
    )


def detection_post(
    guild_id: int, channel_id: int, detection_id: int, *, held: bool = False
) -> Outgoing:
    """The outbox row posting a release probe's detection in *channel_id* (held with the
    channel's alerts when it is broken, and moved with them when another channel is chosen).
    One key per detection: queuing it again (at start, after a crash) writes nothing."""
    message = Message(alerts=(), detection=detection_id)
    return channel_post(guild_id, channel_id, f"detection:{detection_id}", message, held=held)


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
    tx: Session, config: GuildConfig, alert: Alert, idem_base: str
) -> list[Pending]:
    """The guild's alert channel (if set) and every instant subscriber of the launch."""
    subs = await tx.subscriptions.instant_subscriptions([config.guild_id])
    return destinations_from(config, alert, idem_base, subs[config.guild_id])


def destinations_from(
    config: GuildConfig,
    alert: Alert,
    idem_base: str,
    subscriptions: list[tuple[int, str, str]],
) -> list[Pending]:
    """:func:`destinations` with the guild's active instant subscriptions already loaded
    ((user, scope, target) rows), so a sweep of many launches costs one query."""
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
    launch_key, vendor_key = str(launch.id), launch.vendor.casefold()
    users: set[int] = set()
    for user_id, scope, target in subscriptions:
        if user_id in users:
            continue
        if (
            scope == "all"
            or (scope == "launch" and target == launch_key)
            or (scope == "vendor" and target == vendor_key)
        ):
            users.add(user_id)
    for user_id in sorted(users):
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
    tx: Session,
    groups: list[tuple[Pending, ...]],
    now: dt.datetime,
    *,
    broken: set[tuple[DestinationKind, int]] | None = None,
) -> int:
    """Write each group as one outbox row (held if its destination is broken: *broken*, when
    the caller already read the broken destinations in this transaction).

    A merged row's key is derived from its members' keys, so re-running the same catch-up
    writes nothing new. Returns how many rows were inserted."""
    if not groups:
        return 0
    if broken is None:
        broken = await tx.destinations.broken_set()
    rows = []
    for group in groups:
        first = group[0]
        if len(group) == 1:
            key = first.idem_key
        else:
            digest = hashlib.sha256("|".join(p.idem_key for p in group).encode()).hexdigest()
            key = f"merged:{digest[:32]}"
        held = (first.dest_kind, first.dest_id) in broken
        message = Message(
            alerts=tuple(p.alert for p in group), mention_role_id=first.mention_role_id
        )
        rows.append(
            Outgoing(
                guild_id=first.guild_id,
                dest_kind=first.dest_kind,
                dest_id=first.dest_id,
                idem_key=key,
                nonce=nonce_for(key),
                message=message,
                state=OutboxState.HELD if held else OutboxState.PENDING,
            )
        )
    return await tx.outbox.enqueue_many(rows, now)

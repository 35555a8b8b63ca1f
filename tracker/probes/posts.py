"""The posts of release probes' detections: outbox rows to the guild's alert channel.

A proposal's row is written in the transaction that records the detection (an auto-confirmed
release's in the transaction that confirms it), held with the channel's alerts while the channel
is broken, under one key per detection and channel (tracker.outbox.fanout.detection_post). The
deliverer marks the detection posted, with its message id, when Discord took it. A guild without
an alert channel gets no row: its proposals wait, unposted, and those still open are queued when
a channel is set (/alerts channel, in its transaction). The bot's start queues, with
:func:`queue_unposted`, what an older version left unposted (it posted them itself) and what a
crash left between two transactions. Light on imports: the bot runs it as it starts."""

from __future__ import annotations

import datetime as dt
import logging

from tracker.clock import Clock
from tracker.models import DestinationKind
from tracker.outbox.fanout import detection_post
from tracker.ports import Session, Store
from tracker.probes import Detection
from tracker.records import Outgoing

log = logging.getLogger(__name__)


async def queue_posts(tx: Session, detections: list[Detection], now: dt.datetime) -> int:
    """Queue the posts of *detections* in their guilds' alert channels, in *tx* (a guild
    without one gets none; a broken channel gets them held). Returns how many rows were new."""
    rows: list[Outgoing] = []
    broken: set[tuple[DestinationKind, int]] | None = None
    for detection in detections:
        config = await tx.guilds.get_guild(detection.guild_id)
        channel = config.alert_channel_id
        if channel is None:
            continue
        if broken is None:
            broken = await tx.destinations.broken_set()
        held = (DestinationKind.CHANNEL, channel) in broken
        rows.append(detection_post(detection.guild_id, channel, detection.id, held=held))
    return await tx.outbox.enqueue_many(rows, now) if rows else 0


async def queue_unposted(store: Store, clock: Clock, batch: int = 500) -> int:
    """Queue the post of every open detection shown to nobody yet, of guilds with an alert
    channel, that is not queued for that channel already. Returns how many were queued."""
    queued = 0
    while True:
        found = await store.read.detections.unqueued_detections(batch)
        if not found:
            break
        async with store.transaction() as tx:
            count = await queue_posts(tx, found, clock.now())
        queued += count
        if count == 0:
            break
    if queued:
        log.info("queued %d proposals left unposted", queued)
    return queued

"""Outbox delivery is fair between servers: one server's flood never holds another's alert back
by more than a handful of messages, and a channel paced by Discord holds one delivery slot."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

from storage.db import open_database
from storage.session import SqlStore
from tests.harness import RecordingNotifier
from tracker.clock import SimClock
from tracker.models import DestinationKind, Message, OutboxRow
from tracker.outbox.delivery import Deliverer, DeliveryResult, DeliverySettings
from tracker.outbox.fanout import nonce_for
from tracker.records import Outgoing

UTC = dt.UTC
NOW = dt.datetime(2025, 3, 1, 12, tzinfo=UTC)
FLOODER, QUIET = 1, 2
CONCURRENCY = 16


def _row(guild: int, kind: DestinationKind, dest: int, key: str) -> Outgoing:
    return Outgoing(guild, kind, dest, key, nonce_for(key), Message(alerts=()))


class GatedNotifier(RecordingNotifier):
    """Delivers in order of arrival; deliveries to *held* destinations wait for a gate (as
    discord.py waits out an exhausted channel bucket)."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = asyncio.Event()
        self.held: set[int] = set()
        self.in_flight: dict[int, int] = {}
        self.max_in_flight: dict[int, int] = {}
        self.arrived = asyncio.Event()

    async def deliver(self, row: OutboxRow) -> DeliveryResult:
        count = self.in_flight.get(row.dest_id, 0) + 1
        self.in_flight[row.dest_id] = count
        self.max_in_flight[row.dest_id] = max(self.max_in_flight.get(row.dest_id, 0), count)
        try:
            if row.dest_id in self.held:
                await self.gate.wait()
            else:
                await asyncio.sleep(0)
            result = await super().deliver(row)
            self.arrived.set()
            return result
        finally:
            self.in_flight[row.dest_id] -= 1


async def _wait(predicate: object, limit_s: float = 60.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + limit_s
    while not predicate():  # type: ignore[operator]
        if loop.time() > end:
            raise TimeoutError("condition not reached")
        await asyncio.sleep(0.005)


async def test_a_flood_of_10000_dms_delays_another_servers_alert_by_a_few_messages(
    tmp_path: Path, db_target: str
) -> None:
    clock = SimClock(NOW)
    notifier = GatedNotifier()
    async with open_database(db_target) as db:
        async with SqlStore(db).transaction() as conn:
            flood = [
                _row(FLOODER, DestinationKind.USER, 10_000 + i, f"flood:{i}") for i in range(10_000)
            ]
            assert await conn.outbox.enqueue_many(flood, NOW) == 10_000
        deliverer = Deliverer(
            SqlStore(db), clock, notifier, DeliverySettings(concurrency=CONCURRENCY)
        )
        deliverer.start()
        deliverer.kick()
        try:
            await _wait(lambda: len(notifier.delivered) >= 300)
            async with SqlStore(db).transaction() as conn:
                assert await conn.outbox.enqueue(
                    guild_id=QUIET,
                    dest_kind=DestinationKind.CHANNEL,
                    dest_id=77,
                    idem_key="quiet:alert",
                    nonce=nonce_for("quiet:alert"),
                    payload=Message(alerts=()),
                    now=NOW,
                )
            before = len(notifier.delivered)
            deliverer.kick()
            await _wait(lambda: any(r.guild_id == QUIET for r in notifier.delivered))
        finally:
            await deliverer.stop()
        order = [r.guild_id for r in notifier.delivered]
        ahead = order.index(QUIET) - before
        # Only what was already in flight or being picked when it was queued went first: at
        # Discord's 50 requests/s that is well under a second, not the 200 s of the flood.
        assert 0 <= ahead <= 2 * CONCURRENCY
        remaining = await SqlStore(db).read.outbox.outbox_counts(FLOODER)
        assert remaining["pending"] > 9_000


async def test_a_paced_channel_holds_one_slot_and_other_servers_still_get_through(
    tmp_path: Path, db_target: str
) -> None:
    clock = SimClock(NOW)
    notifier = GatedNotifier()
    notifier.held.add(55)  # the flooder's channel: Discord makes every send wait
    async with open_database(db_target) as db:
        async with SqlStore(db).transaction() as conn:
            flood = [
                _row(FLOODER, DestinationKind.CHANNEL, 55, f"flood:{i}") for i in range(10_000)
            ]
            await conn.outbox.enqueue_many(flood, NOW)
            await conn.outbox.enqueue_many(
                [
                    _row(QUIET, DestinationKind.CHANNEL, 66, "quiet:1"),
                    _row(QUIET, DestinationKind.USER, 67, "quiet:2"),
                ],
                NOW,
            )
        deliverer = Deliverer(
            SqlStore(db), clock, notifier, DeliverySettings(concurrency=CONCURRENCY)
        )
        deliverer.start()
        deliverer.kick()
        try:
            # Both of the quiet server's messages arrive while the flooded channel is stuck.
            await _wait(lambda: len(notifier.delivered) == 2)
            assert {r.dest_id for r in notifier.delivered} == {66, 67}
            assert notifier.in_flight[55] == 1
            notifier.gate.set()
            await _wait(lambda: len(notifier.delivered) >= 202)
        finally:
            await deliverer.stop()
        assert notifier.max_in_flight[55] == 1
        # The channel's messages keep their order.
        keys = [r.idem_key for r in notifier.delivered if r.dest_id == 55]
        assert keys == [f"flood:{i}" for i in range(len(keys))]


async def test_fair_keys_interleave_servers_and_continue_where_delivery_stands(
    tmp_path: Path, db_target: str
) -> None:
    async with open_database(db_target) as db:
        async with SqlStore(db).transaction() as conn:
            await conn.outbox.enqueue_many(
                [_row(FLOODER, DestinationKind.USER, i, f"a{i}") for i in range(5)], NOW
            )
            await conn.outbox.enqueue_many(
                [_row(QUIET, DestinationKind.USER, 100 + i, f"b{i}") for i in range(2)], NOW
            )
        order = [r.idem_key for r in await SqlStore(db).read.outbox.due_outbox(NOW, 10)]
        assert order == ["a0", "b0", "a1", "b1", "a2", "a3", "a4"]
        # Delivery moves on: a0..a2 and b0 sent. A third server starts where delivery stands.
        sent = {r.idem_key: r.id for r in await SqlStore(db).read.outbox.all_outbox()}
        async with SqlStore(db).transaction() as conn:
            for key in ("a0", "b0", "a1", "b1", "a2"):
                await conn.outbox.mark_sent(sent[key], None, NOW)
            await conn.outbox.enqueue_many([_row(3, DestinationKind.USER, 900, "c0")], NOW)
        order = [r.idem_key for r in await SqlStore(db).read.outbox.due_outbox(NOW, 10)]
        assert order == ["a3", "c0", "a4"]
        # A destination with a message in flight is left out.
        busy = await SqlStore(db).read.outbox.due_outbox(NOW, 10, busy=[3])
        assert [r.idem_key for r in busy] == ["c0", "a4"]


async def test_a_send_waiting_on_its_channel_does_not_hold_back_rows_queued_later(
    tmp_path: Path, db_target: str
) -> None:
    clock = SimClock(NOW)
    notifier = GatedNotifier()
    notifier.held.add(55)
    async with open_database(db_target) as db:
        async with SqlStore(db).transaction() as conn:
            await conn.outbox.enqueue_many([_row(FLOODER, DestinationKind.CHANNEL, 55, "f")], NOW)
        deliverer = Deliverer(
            SqlStore(db), clock, notifier, DeliverySettings(concurrency=CONCURRENCY)
        )
        deliverer.start()
        deliverer.kick()
        try:
            await _wait(lambda: notifier.in_flight.get(55) == 1)
            # The sweep queues an alert for another server while channel 55 is still waiting.
            async with SqlStore(db).transaction() as conn:
                await conn.outbox.enqueue_many([_row(QUIET, DestinationKind.CHANNEL, 66, "q")], NOW)
            deliverer.kick()
            await _wait(lambda: [r.idem_key for r in notifier.delivered] == ["q"])
            assert notifier.in_flight[55] == 1
            notifier.gate.set()
            await _wait(lambda: len(notifier.delivered) == 2)
        finally:
            await deliverer.stop()

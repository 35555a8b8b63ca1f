"""Scale-out: shard settings, outbox claims that two deliverers never share, claims of a dead
deliverer released, and a bot of two processes on one PostgreSQL database (in-process here):
a command answered by one re-arms the elected other at once, and when the deliverer goes,
the other takes over and delivers what was left."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest

from bot import running_resources
from cogs.infra.bot import ShardedSlipwatchBot, SlipwatchBot
from storage.db import open_database
from storage.session import SqlStore
from tests.e2e import settings_for
from tests.harness import RecordingNotifier
from tests.loopback import LoopbackDiscord
from tests.loopback.fixtures import (
    discord_endpoints_restored,
    running_server,
    start_client,
    stop_client,
)
from tracker.clock import OffsetClock, SimClock
from tracker.models import DestinationKind, Message, OutboxState
from tracker.outbox.delivery import Deliverer, DeliverySettings
from tracker.outbox.fanout import nonce_for
from tracker.records import Outgoing
from tracker.settings import Settings, SettingsError, parse_shards

UTC = dt.UTC
NOW = dt.datetime(2025, 3, 1, 12, tzinfo=UTC)


# ------------------------------------------------------------------ settings


def test_shard_ranges_are_read_and_checked() -> None:
    assert parse_shards("0-3", 8) == (0, 1, 2, 3)
    assert parse_shards("5, 0,2-3,3", 8) == (0, 2, 3, 5)
    for spec, count, message in [
        ("0-8", 8, "--shards 0-8: shard ids run from 0 to 7 with --shard-count 8."),
        ("3-1", 8, "--shards range 3-1 runs backwards; write 1-3."),
        ("a-b", 8, "--shards takes shard ids like 0-3 or 0,2,5-7, not 'a-b'."),
        ("", 8, "--shards takes shard ids like 0-3 or 0,2,5-7, not ''."),
    ]:
        with pytest.raises(SettingsError) as caught:
            parse_shards(spec, count)
        assert str(caught.value) == message


def test_some_shards_need_a_shared_database() -> None:
    pg = Settings(db_path="postgresql://bot@db/slipwatch")
    assert pg.with_shards("4-7", 8).shard_ids == (4, 5, 6, 7)
    assert pg.with_shards("4-7", 8).shard_count == 8
    assert pg.with_shards(None, None) is pg
    lite = Settings(db_path="slipwatch.db")
    assert lite.with_shards("0-1", 2).shard_ids == (0, 1)  # all shards, one process: fine
    with pytest.raises(SettingsError, match="needs a database the other processes share"):
        lite.with_shards("0", 2)
    with pytest.raises(SettingsError, match="go together"):
        pg.with_shards("0-3", None)
    with pytest.raises(SettingsError, match="at least 1"):
        pg.with_shards("0", 0)


# ------------------------------------------------------------------ claims


async def _queue(target: str, count: int) -> None:
    async with open_database(target) as db, SqlStore(db).transaction() as conn:
        rows = [
            Outgoing(
                1, DestinationKind.USER, 100 + i, f"k{i}", nonce_for(f"k{i}"), Message(alerts=())
            )
            for i in range(count)
        ]
        await conn.outbox.enqueue_many(rows, NOW)


async def test_two_deliverers_by_mistake_never_send_one_row_twice(db_target: str) -> None:
    await _queue(db_target, 60)
    clock = SimClock(NOW)
    notifiers = [RecordingNotifier(), RecordingNotifier()]
    async with AsyncExitStack() as stack:
        deliverers = []
        for notifier in notifiers:
            db = await stack.enter_async_context(open_database(db_target))
            deliverers.append(
                Deliverer(SqlStore(db), clock, notifier, DeliverySettings(concurrency=8))
            )
        for deliverer in deliverers:
            deliverer.start()
            deliverer.kick()
        for _ in range(1000):  # until every row is recorded as sent
            states = [r.state for r in await SqlStore(db).read.outbox.all_outbox()]
            if states == [OutboxState.SENT] * 60:
                break
            await asyncio.sleep(0.01)
        for deliverer in deliverers:
            await deliverer.stop()
    sent = [row.idem_key for n in notifiers for row in n.attempts]
    assert sorted(sent) == sorted(f"k{i}" for i in range(60))  # each once, by one of them
    assert states == [OutboxState.SENT] * 60


async def test_a_dead_deliverers_claims_are_released_by_the_next(db_target: str) -> None:
    await _queue(db_target, 3)
    async with open_database(db_target) as db:
        async with SqlStore(db).transaction() as conn:
            ids = [r.id for r in await conn.outbox.due_outbox(NOW, 10)]
            # Claimed by a deliverer that then died (the claim runs for another minute).
            claimed = await conn.outbox.claim_outbox(ids[:2], NOW, NOW + dt.timedelta(minutes=1))
        assert claimed == set(ids[:2])
        assert [r.id for r in await SqlStore(db).read.outbox.due_outbox(NOW, 10)] == ids[2:]
        async with SqlStore(db).transaction() as conn:  # nobody claims a claimed row
            assert await conn.outbox.claim_outbox(ids, NOW, NOW + dt.timedelta(minutes=1)) == {
                ids[2]
            }
        notifier = RecordingNotifier()
        deliverer = Deliverer(SqlStore(db), SimClock(NOW), notifier)
        assert await deliverer.resume() == 3
        deliverer.start()
        deliverer.kick()
        for _ in range(500):
            states = [r.state for r in await SqlStore(db).read.outbox.all_outbox()]
            if states == [OutboxState.SENT] * 3:
                break
            await asyncio.sleep(0.01)
        await deliverer.stop()
        assert sorted(r.id for r in notifier.attempts) == ids
        assert states == [OutboxState.SENT] * 3


# ------------------------------------------------------------------ two processes


@asynccontextmanager
async def process(
    server: LoopbackDiscord, target: str, shard: int, clock: OffsetClock
) -> AsyncIterator[SlipwatchBot]:
    """One bot process's worth of slipwatch: shard *shard* of 2, on the shared database."""
    settings = settings_for(server, target).with_shards(str(shard), 2)
    async with running_resources(settings, clock=clock, guild_ready_timeout=0.05) as bot:
        assert isinstance(bot, ShardedSlipwatchBot)
        await start_client(server, bot, point=False, timeout=30.0)
        try:
            yield bot
        finally:
            await stop_client(bot)


async def test_two_processes_share_the_work_and_fail_over(pg_url: str) -> None:
    clock = OffsetClock(dt.datetime(2025, 1, 10, 12, tzinfo=UTC))
    with discord_endpoints_restored():
        async with (
            running_server(shard_count=2, max_concurrency=2) as server,
            AsyncExitStack() as second_process,
        ):
            guilds = [server.add_guild(name=f"G{s}", shard=s) for s in (0, 1)]
            alerts = [server.add_channel(g.id, "alerts") for g in guilds]
            async with process(server, pg_url, 0, clock) as first:
                assert first.cluster is not None and first.cluster.elected
                second = await second_process.enter_async_context(process(server, pg_url, 1, clock))
                assert second.cluster is not None and not second.cluster.elected
                assert [g.id for g in first.guilds] == [guilds[0].id]
                assert [g.id for g in second.guilds] == [guilds[1].id]
                for guild, channel in zip(guilds, alerts, strict=True):
                    await first.tracker.configure(
                        guild.id, alert_channel_id=channel, reminder_offsets=()
                    )
                await first.tree.sync()
                # Answered by the second process, alerted by the first at once (nothing else
                # is due: only the announcement can wake it).
                reply = await server.run_command(
                    guilds[1].id, alerts[1], guilds[1].owner_id, "launch add",
                    product="Grok 3", vendor="xAI", window="end of 2024",
                    announced_on="2024-07-01", timeout=20.0,
                )  # fmt: skip
                assert [i.guild_id for i in server.interactions] == [guilds[1].id]
                assert reply.response is not None
                await server.wait_for(
                    lambda: server.messages(alerts[1], kind="channel"), timeout=20
                )
                assert first.cluster.feed.received >= 1  # the second's announcement
            # The deliverer's process is gone; the second takes over and delivers what follows.
            await second.cluster.election.wait_elected(10)
            await server.run_command(
                guilds[1].id, alerts[1], guilds[1].owner_id, "launch add",
                product="Claude 3.5 Opus", vendor="Anthropic", window="end of 2024",
                announced_on="2024-06-20", timeout=20.0,
            )  # fmt: skip
            await server.wait_for(
                lambda: len(server.messages(alerts[1], kind="channel")) == 2, timeout=20
            )
            titles = [m.embeds[0]["title"] for m in server.messages(alerts[1], kind="channel")]
    assert ["Grok 3" in titles[0], "Claude 3.5 Opus" in titles[1]] == [True, True]
    assert server.gateway.identify_too_fast == []

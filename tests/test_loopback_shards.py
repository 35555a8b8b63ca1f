"""The loopback Discord shards like Discord: IDENTIFY [shard_id, shard_count], each shard sees only
its own guilds and their interactions, IDENTIFY pacing per max_concurrency, one global limit per
bot across all connections."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import aiohttp
import discord
import pytest
import pytest_asyncio

from tests.loopback import LoopbackDiscord
from tests.loopback.fixtures import (
    FAST_GUILD_READY_TIMEOUT,
    discord_endpoints_restored,
    running_server,
    start_client,
    stop_client,
)
from tests.loopback.gateway import shard_of

TOKEN = "test-token"


@pytest.fixture(autouse=True)
def _restore_discord_endpoints() -> Iterator[None]:
    with discord_endpoints_restored():
        yield


@pytest_asyncio.fixture
async def server() -> AsyncIterator[LoopbackDiscord]:
    async with running_server(token=TOKEN, shard_count=4, max_concurrency=2) as srv:
        yield srv


class ConcurrentClient(discord.AutoShardedClient):
    """Identifies without discord.py's 5 s pause: fine while every shard has its own
    rate-limit key (max_concurrency >= shard_count)."""

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None


def sharded(shard_ids: list[int]) -> discord.AutoShardedClient:
    return ConcurrentClient(
        intents=discord.Intents.default(),
        shard_ids=shard_ids,
        shard_count=4,
        guild_ready_timeout=FAST_GUILD_READY_TIMEOUT,
    )


async def raw_identify(server: LoopbackDiscord, shard: Any) -> tuple[list[str], int]:
    """IDENTIFY over a bare websocket; returns the dispatched event names (READY and its
    GUILD_CREATEs) and the close code (0 when the session was accepted)."""
    events: list[str] = []
    async with (
        aiohttp.ClientSession() as session,
        session.ws_connect(server.gateway_url) as ws,
    ):
        hello = await ws.receive_json(timeout=5)
        assert hello["op"] == 10
        await ws.send_json(
            {"op": 2, "d": {"token": TOKEN, "intents": 1, "properties": {}, "shard": shard}}
        )
        expected: int | None = None
        while expected is None or len(events) < expected + 1:
            msg = await ws.receive(timeout=5)
            if msg.type != aiohttp.WSMsgType.TEXT:
                return events, ws.close_code or 0
            frame = json.loads(msg.data)
            events.append(frame["t"])
            if frame["t"] == "READY":
                expected = len(frame["d"]["guilds"])
        return events, 0


def test_guilds_can_be_placed_on_a_shard() -> None:
    srv = LoopbackDiscord(token=TOKEN, shard_count=3)
    ids = [srv.add_guild(name=f"g{i}", shard=i % 3).id for i in range(30)]
    assert [shard_of(gid, 3) for gid in ids] == [i % 3 for i in range(30)]
    assert len(set(ids)) == 30
    with pytest.raises(ValueError, match=r"shard 3 is not in 0\.\.2"):
        srv.add_guild(name="nowhere", shard=3)


@pytest.mark.asyncio
async def test_each_process_sees_only_its_shards_guilds_and_interactions(
    server: LoopbackDiscord,
) -> None:
    server.max_concurrency = 4
    guilds = [server.add_guild(name=f"G{shard}", shard=shard) for shard in range(4)]
    for guild in guilds:
        server.add_channel(guild.id, "general")
    first, second = sharded([0, 1]), sharded([2, 3])
    seen: dict[str, list[int]] = {"first": [], "second": []}

    def recorder(name: str) -> Any:
        async def on_interaction(interaction: discord.Interaction[Any]) -> None:
            seen[name].append(interaction.guild_id or 0)

        return on_interaction

    first.event(recorder("first"))
    second.event(recorder("second"))

    await start_client(server, first)
    await start_client(server, second)
    try:
        assert sorted(g.id for g in first.guilds) == sorted(g.id for g in guilds[:2])
        assert sorted(g.id for g in second.guilds) == sorted(g.id for g in guilds[2:])
        assert sorted(s.shard for s in server.sessions if s.shard) == [
            [0, 4],
            [1, 4],
            [2, 4],
            [3, 4],
        ]
        for guild in guilds:
            channel = next(iter(guild.channels))
            await server.run_command(guild.id, channel, guild.owner_id, "ping", wait=False)
        await server.wait_for(lambda: len(seen["first"]) + len(seen["second"]) == 4)
        assert sorted(seen["first"]) == sorted(g.id for g in guilds[:2])
        assert sorted(seen["second"]) == sorted(g.id for g in guilds[2:])
        # Four shards, four rate-limit keys: nothing came too fast.
        assert server.gateway.identify_too_fast == []
    finally:
        await stop_client(first)
        await stop_client(second)


@pytest.mark.asyncio
async def test_identify_with_a_wrong_shard_count_is_closed(server: LoopbackDiscord) -> None:
    _, code = await raw_identify(server, [0, 2])
    assert code == 4011
    _, code = await raw_identify(server, [4, 4])
    assert code == 4010
    assert server.sessions == []


@pytest.mark.asyncio
async def test_identifies_of_one_rate_limit_key_within_5s_are_counted(
    server: LoopbackDiscord,
) -> None:
    # max_concurrency 2: shards 0 and 1 may start together, shard 2 shares shard 0's key.
    server.add_guild(name="on shard 0", shard=0)
    server.add_guild(name="on shard 1", shard=1)
    assert await raw_identify(server, [0, 4]) == (["READY", "GUILD_CREATE"], 0)
    assert await raw_identify(server, [1, 4]) == (["READY", "GUILD_CREATE"], 0)
    assert server.gateway.identify_too_fast == []
    assert await raw_identify(server, [2, 4]) == (["READY"], 0)
    assert [shard for shard, _ in server.gateway.identify_too_fast] == [2]


@pytest.mark.asyncio
async def test_global_limit_counts_every_connection_of_the_bot(server: LoopbackDiscord) -> None:
    server.global_rate_limit = 4
    headers = {"Authorization": f"Bot {TOKEN}"}

    async def burst() -> list[int]:
        async with aiohttp.ClientSession() as session:
            statuses = []
            for _ in range(3):
                async with session.get(f"{server.api_base}/users/@me", headers=headers) as resp:
                    statuses.append(resp.status)
            return statuses

    # Two "processes", three requests each: each is under the limit, together they are not.
    results = await asyncio.gather(burst(), burst())
    statuses = sorted(s for r in results for s in r)
    assert statuses == [200] * 4 + [429] * 2


@pytest.mark.asyncio
async def test_interaction_replies_do_not_count_against_the_global_limit(
    server: LoopbackDiscord,
) -> None:
    # Discord exempts interaction callbacks and their webhooks from the bot's global limit.
    server.global_rate_limit = 2
    headers = {"Authorization": f"Bot {TOKEN}"}
    async with aiohttp.ClientSession() as session:
        for _ in range(5):
            url = f"{server.api_base}/interactions/1/not-a-token/callback"
            async with session.post(url, json={"type": 4, "data": {"content": "hi"}}) as resp:
                assert resp.status != 429
            async with session.post(f"{server.api_base}/webhooks/1/not-a-token", json={}) as resp:
                assert resp.status != 429
        statuses = []
        for _ in range(3):
            async with session.get(f"{server.api_base}/users/@me", headers=headers) as resp:
                statuses.append(resp.status)
    assert statuses == [200, 200, 429]
    counted = [r.path for r in server.requests if r.global_limited]
    assert counted == ["/users/@me"] * 3

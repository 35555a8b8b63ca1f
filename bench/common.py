"""Shared setup for the Discord benchmarks: the loopback Discord and the real bot, in-process."""

from __future__ import annotations

import datetime as dt
import statistics
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import random  # noqa: E402

import discord  # noqa: E402

from bot import running_resources  # noqa: E402
from cogs.infra.bot import SlipwatchBot  # noqa: E402
from storage.db import SqliteDatabase  # noqa: E402
from storage.session import SqlStore  # noqa: E402
from tests.loopback import LoopbackDiscord  # noqa: E402
from tests.loopback.fixtures import (  # noqa: E402
    discord_endpoints_restored,
    running_server,
    start_client,
    stop_client,
)
from tracker.clock import Clock, SystemClock  # noqa: E402
from tracker.launches import Tracker  # noqa: E402
from tracker.limits import Limits  # noqa: E402
from tracker.models import NewLaunch  # noqa: E402
from tracker.settings import Secret, Settings  # noqa: E402

UTC = dt.UTC


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0..100), nearest-rank on sorted values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def summary(values: list[float]) -> dict[str, float]:
    """p50/p99/mean/max in milliseconds of values in seconds."""
    return {
        "p50_ms": round(percentile(values, 50) * 1000, 2),
        "p99_ms": round(percentile(values, 99) * 1000, 2),
        "mean_ms": round(statistics.fmean(values) * 1000, 2) if values else float("nan"),
        "max_ms": round(max(values) * 1000, 2) if values else float("nan"),
    }


@asynccontextmanager
async def bot_and_server(
    db_path: Path, clock: Clock, **server_options: Any
) -> AsyncIterator[tuple[LoopbackDiscord, SlipwatchBot, int, int]]:
    """A loopback Discord with one guild and an #alerts channel, and the real bot on it."""
    with discord_endpoints_restored():
        async with running_server(**server_options) as server:
            guild = server.add_guild(name="Bench")
            channel = server.add_channel(guild.id, "alerts")
            settings = Settings(
                token=Secret(server.token),
                db_path=str(db_path),
                api_base=server.api_base,
                gateway_url=server.gateway_url,
            )
            async with running_resources(settings, clock=clock, guild_ready_timeout=0.05) as bot:
                await start_client(server, bot, point=False, timeout=60.0)
                try:
                    target = discord.Object(guild.id)
                    bot.tree.copy_global_to(guild=target)
                    await bot.tree.sync(guild=target)
                    yield server, bot, guild.id, channel
                finally:
                    await stop_client(bot)


async def fill_server(db_path: Path, guild: int, channel: int, count: int) -> list[int]:
    """*count* launches with real histories, made through the service as people make them:
    a quarter shipped (early, on time or late), a quarter cancelled, the rest open."""
    rng = random.Random(11)
    async with SqliteDatabase.open(db_path) as db:
        # A bigger server than the default cap allows: the operator raised SLIPWATCH_MAX_LAUNCHES.
        tracker = Tracker(
            SqlStore(db), SystemClock(), limits=Limits(launches_per_guild=max(count, 2000))
        )
        await tracker.configure(guild, alert_channel_id=channel)
        ids = []
        for i in range(count):
            announced = dt.date(2023, 1, 1) + dt.timedelta(days=rng.randrange(0, 700))
            end = announced + dt.timedelta(days=rng.randrange(20, 200))
            added = await tracker.add(
                NewLaunch(
                    guild,
                    f"Model {i}",
                    f"Lab {i % 25}",
                    end.isoformat(),
                    announced,
                    announcer=f"CEO {i % 40}",
                ),
                "bench",
            )
            launch_id = added.launch.id
            ids.append(launch_id)
            fate = i % 4
            if fate == 0:
                shipped = min(end + dt.timedelta(days=rng.randrange(-10, 90)), dt.date(2025, 6, 1))
                await tracker.shipped(guild, launch_id, "bench", on=max(shipped, announced))
            elif fate == 1:
                await tracker.cancelled(guild, launch_id, "bench", on=end)
    return ids

"""The real slipwatch bot (in-process, on a simulated clock) against the loopback Discord."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import discord

from bot import running_resources
from cogs.infra.bot import SlipwatchBot
from tests.loopback import PERM_MANAGE_GUILD, LoopbackDiscord
from tests.loopback.fixtures import (
    discord_endpoints_restored,
    running_server,
    start_client,
    stop_client,
)
from tracker.clock import OffsetClock
from tracker.settings import Secret, Settings

UTC = dt.UTC
START = dt.datetime(2024, 12, 20, 12, tzinfo=UTC)
JAN1 = dt.datetime(2025, 1, 1, tzinfo=UTC)


@dataclass
class World:
    """One loopback Discord with two guilds, their channels and people, and the bot."""

    server: LoopbackDiscord
    bot: SlipwatchBot
    clock: OffsetClock
    guild: int
    alerts: int
    general: int
    other_guild: int
    other_channel: int
    manager: int
    member: int
    outsider: int
    owner: int
    extra: dict[str, int] = field(default_factory=dict)

    async def cmd(
        self,
        name: str,
        *,
        user: int | None = None,
        guild: int | None = None,
        where: int | None = None,
        **values: Any,
    ) -> Any:
        """Run a slash command as *user* (default the manager) and wait for its answer
        (past "thinking…" when the bot deferred)."""
        g = self.guild if guild is None else guild
        c = where or (self.general if g == self.guild else self.other_channel)
        record = await self.server.run_command(
            g, c, user or self.manager, name, timeout=10.0, **values
        )
        if record.deferred:
            await record.wait_loaded(10.0)
        return record

    async def click(self, message: Any, custom_id: str, user: int) -> Any:
        """Click a button as *user* and wait for the answer."""
        record = await self.server.click(message, custom_id, user)
        if record.deferred:
            await record.wait_loaded(10.0)
        return record

    async def advance(self, to: dt.datetime) -> None:
        """Move the simulated clock and let the engine's APScheduler job fire."""
        self.clock.set(to)
        await self.bot.engine.rearm()
        await self.bot.engine.settle(limit_s=20.0)

    async def outbox_states(self) -> list[str]:
        return [r.state.value for r in await self.bot.app.store.read.outbox.all_outbox()]

    async def launch_count(self, guild: int | None = None) -> int:
        return len(await self.bot.app.store.read.launches.all_launches(guild or self.guild))


def settings_for(
    server: LoopbackDiscord,
    db: str | Path,
    probe_allow: tuple[str, ...] = (),
    web: tuple[str, int] | None = None,
) -> Settings:
    """Settings pointing the bot at the loopback server (and serving boards on *web*)."""
    return Settings(
        token=Secret(server.token),
        db_path=str(db),
        api_base=server.api_base,
        gateway_url=server.gateway_url,
        probe_allow=probe_allow,
        web=web,
    )


@asynccontextmanager
async def world(
    db: str | Path,
    *,
    start: dt.datetime = START,
    probe_allow: tuple[str, ...] = (),
    web: tuple[str, int] | None = None,
    **server_options: Any,
) -> AsyncIterator[World]:
    """Start the loopback Discord and the real bot on a fresh database; sync its commands."""
    server_options.setdefault("global_rate_limit", 50.0)
    with discord_endpoints_restored():
        async with (
            running_server(**server_options) as server,
            _bot_in(server, db, start, probe_allow, web) as w,
        ):
            yield w


@asynccontextmanager
async def _bot_in(
    server: LoopbackDiscord,
    db: str | Path,
    start: dt.datetime,
    probe_allow: tuple[str, ...],
    web: tuple[str, int] | None = None,
) -> AsyncIterator[World]:
    owner = server.add_user("owner")
    guild = server.add_guild(name="Alpha", owner_id=owner)
    alerts = server.add_channel(guild.id, "alerts")
    general = server.add_channel(guild.id, "general")
    other = server.add_guild(name="Beta")
    other_channel = server.add_channel(other.id, "beta-general")
    manager = server.add_user("mia", guild_id=guild.id, permissions=PERM_MANAGE_GUILD)
    server.add_member(other.id, manager, permissions=PERM_MANAGE_GUILD)
    member = server.add_user("max", guild_id=guild.id, permissions=0)
    outsider = server.add_user("olga", guild_id=other.id, permissions=PERM_MANAGE_GUILD)
    clock = OffsetClock(start)
    settings = settings_for(server, db, probe_allow, web)
    async with running_resources(settings, clock=clock, guild_ready_timeout=0.05) as bot:
        await start_client(server, bot, point=False, timeout=20.0)
        try:
            for gid in (guild.id, other.id):
                target = discord.Object(gid)
                bot.tree.copy_global_to(guild=target)
                await bot.tree.sync(guild=target)
            yield World(
                server=server,
                bot=bot,
                clock=clock,
                guild=guild.id,
                alerts=alerts,
                general=general,
                other_guild=other.id,
                other_channel=other_channel,
                manager=manager,
                member=member,
                outsider=outsider,
                owner=owner,
            )
        finally:
            await stop_client(bot)


async def eventually(check: Any, *, limit_s: float = 15.0, what: str = "condition") -> Any:
    """Poll an async or sync zero-argument check until it returns something truthy."""
    loop = asyncio.get_running_loop()
    end = loop.time() + limit_s
    while True:
        value = check()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if loop.time() > end:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)

"""Plain async helpers to run a real discord.py client against a LoopbackDiscord.

Nothing here registers pytest fixtures; wire them in conftest.py, e.g.::

    @pytest_asyncio.fixture
    async def discord_server():
        async with running_server() as server:
            yield server

    @pytest.fixture(autouse=True)
    def _restore_discord_endpoints():
        with discord_endpoints_restored():
            yield
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, TypeVar

import discord
import discord.gateway
import discord.http
import yarl

from .server import LoopbackDiscord

ClientT = TypeVar("ClientT", bound=discord.Client)

# Default on_ready delay after the last GUILD_CREATE is 2 s; tests don't need to wait that long.
FAST_GUILD_READY_TIMEOUT = 0.05


def point_discord_at(server: LoopbackDiscord) -> Callable[[], None]:
    """Point discord.py's REST base and gateway at ``server``; returns a restore function."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    discord.http.Route.BASE = server.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(server.gateway_url)

    def restore() -> None:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway

    return restore


@contextlib.contextmanager
def discord_endpoints_restored() -> Iterator[None]:
    """Snapshot Route.BASE / DEFAULT_GATEWAY and put them back afterwards, whatever happened."""
    old_base = discord.http.Route.BASE
    old_gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    try:
        yield
    finally:
        discord.http.Route.BASE = old_base
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = old_gateway


@contextlib.asynccontextmanager
async def running_server(**kwargs: Any) -> AsyncIterator[LoopbackDiscord]:
    """``async with running_server(token=...) as server:`` -- started and always stopped."""
    server = LoopbackDiscord(**kwargs)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


async def start_client(
    server: LoopbackDiscord,
    client: ClientT,
    *,
    token: str | None = None,
    timeout: float = 10.0,  # noqa: ASYNC109
    point: bool = True,
) -> ClientT:
    """Log ``client`` in against ``server``, run ``connect()`` in a task and wait for on_ready.

    The connect task is kept as ``client.loopback_task`` (``stop_client`` awaits it). If the
    client dies before becoming ready, its exception is raised here.
    """
    if point:
        point_discord_at(server)
    await asyncio.wait_for(client.login(token or server.token), timeout)
    task = asyncio.create_task(client.connect(reconnect=True), name="loopback-client-connect")
    client.loopback_task = task  # type: ignore[attr-defined]
    ready = asyncio.create_task(client.wait_until_ready())
    try:
        done, _ = await asyncio.wait(
            {task, ready}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
    finally:
        ready.cancel()
    if task in done:
        await client.close()
        exc = task.exception()
        raise RuntimeError("discord client stopped before it was ready") from exc
    if not done:
        await stop_client(client)
        raise TimeoutError(f"discord client not ready within {timeout}s")
    return client


async def start_bare_client(
    server: LoopbackDiscord,
    *,
    intents: discord.Intents | None = None,
    timeout: float = 10.0,  # noqa: ASYNC109
    **options: Any,
) -> discord.Client:
    """A plain ``discord.Client`` logged in to ``server`` and past on_ready."""
    options.setdefault("guild_ready_timeout", FAST_GUILD_READY_TIMEOUT)
    client = discord.Client(intents=intents or discord.Intents.default(), **options)
    return await start_client(server, client, timeout=timeout)


async def stop_client(client: discord.Client, *, timeout: float = 5.0) -> None:  # noqa: ASYNC109
    """Close the client and wait (bounded) for its connect task to end."""
    with contextlib.suppress(Exception):
        await asyncio.wait_for(client.close(), timeout)
    task: asyncio.Task[None] | None = getattr(client, "loopback_task", None)
    if task is not None and not task.done():
        try:
            await asyncio.wait_for(task, timeout)
        except (TimeoutError, asyncio.CancelledError):
            task.cancel()
        except Exception:  # the client's own failure; already surfaced elsewhere
            pass
    elif task is not None and task.done() and not task.cancelled():
        task.exception()  # mark retrieved


@contextlib.asynccontextmanager
async def running_client(
    server: LoopbackDiscord, client: ClientT, **kwargs: Any
) -> AsyncIterator[ClientT]:
    """``async with running_client(server, bot) as bot:`` -- ready inside, closed after."""
    await start_client(server, client, **kwargs)
    try:
        yield client
    finally:
        await stop_client(client)

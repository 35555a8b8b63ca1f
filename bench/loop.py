"""Event-loop blocking at bot scale: a loop-lag probe beside every heavy operation.

    python bench/loop.py [--quick]

The real bot runs in-process on 100,000 configured servers (--quick: 10,000), one of which holds
20,000 launches with their histories (--quick: 5,000). The loopback Discord runs on a loop of its
own in another thread, so that only the bot's work is on the loop being probed. A probe task
wakes every millisecond and records how late it woke: the longest lateness is the longest time
the bot's loop was blocked. While it runs, each of these runs in turn, through the same code
Discord traffic takes: /launch list, /launch show, /launch history, /slips stats,
/slips leaderboard, /slips summary, /slips chart, the launch autocomplete, /launch export (JSON and
CSV), an import of 5,000 launches (checked, then written), the server's scheduled digest (built,
queued and posted with its chart) and a re-arm of the engine (timed alone too: the median of 200
re-arms over all servers is "rearm_ms_100k_guilds").

Prints one final JSON line: max_block_ms, worst (the operation during which it happened),
rearm_ms_100k_guilds, the longest block per operation, the longest garbage-collector pause
per operation (a pause stops the loop too, whichever thread triggered it), and the file
/launch export sent (a failed export is an error, not a timing).
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import contextlib
import datetime as dt
import gc
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import discord  # noqa: E402

from bench.common import fill_server  # noqa: E402
from bot import running_resources  # noqa: E402
from storage.bulk import insert_guilds  # noqa: E402
from storage.db import SqliteDatabase  # noqa: E402
from tests.loopback import LoopbackDiscord  # noqa: E402
from tests.loopback.fixtures import discord_endpoints_restored, point_discord_at  # noqa: E402
from tracker.clock import SystemClock  # noqa: E402
from tracker.digests import DEFAULT_SCHEDULE, next_run_after, parse_schedule, period_for  # noqa: E402
from tracker.limits import Limits  # noqa: E402
from tracker.settings import Secret, Settings  # noqa: E402
from tracker.transfer import TransferFormat  # noqa: E402

UTC = dt.UTC
SETUP = "bench setup"  # the bench's own work on the loop, not the bot's
T = TypeVar("T")


class ServerThread:
    """The loopback Discord on its own event loop in a thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = LoopbackDiscord(global_rate_limit=50.0)

    def call(self, coro: Coroutine[Any, Any, T]) -> asyncio.Future[T]:
        future: concurrent.futures.Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return asyncio.wrap_future(future)

    def stop(self) -> None:
        asyncio.run_coroutine_threadsafe(self.server.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


class Probe:
    """Wakes every millisecond; the lateness of a wake-up is time the loop was blocked."""

    def __init__(self) -> None:
        self.label = "idle"
        self.worst: dict[str, float] = {}
        self.gc_worst: dict[str, float] = {}
        self._gc_start = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            before = loop.time()
            await asyncio.sleep(0.001)
            late = loop.time() - before - 0.001
            if late > self.worst.get(self.label, 0.0):
                self.worst[self.label] = late

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())
        gc.callbacks.append(self._gc)

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        # A collection stops every thread: the longest pause per operation tells a block by
        # the collector from a block by the operation's own work.
        if phase == "start":
            self._gc_start = time.perf_counter()
            return
        pause = time.perf_counter() - self._gc_start
        if pause > self.gc_worst.get(self.label, 0.0):
            self.gc_worst[self.label] = pause

    async def stop(self) -> None:
        if self._gc in gc.callbacks:
            gc.callbacks.remove(self._gc)
        assert self._task is not None
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


async def run(guilds: int, launches: int, imports: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="slipwatch-loop-") as tmp:
        db_path = Path(tmp) / "bench.db"
        now = dt.datetime.now(UTC)
        async with SqliteDatabase.open(db_path):
            pass
        insert_guilds(
            str(db_path),
            range(1, guilds + 1),
            now,
            next_run_after(DEFAULT_SCHEDULE, ZoneInfo("UTC"), now),
        )
        side = ServerThread()
        try:
            await side.call(side.server.start())
            with discord_endpoints_restored():
                point_discord_at(side.server)
                return await _run(side, db_path, guilds, launches, imports)
        finally:
            side.stop()


async def _run(
    side: ServerThread, db_path: Path, guilds: int, launches: int, imports: int
) -> dict[str, Any]:
    server = side.server
    home = server.add_guild(name="Big")
    channel = server.add_channel(home.id, "alerts")
    other = server.add_guild(name="Importer")
    manager = server.add_user("manager", guild_id=home.id, permissions=1 << 5)
    ids = await fill_server(db_path, home.id, channel, launches)
    settings = Settings(
        token=Secret(server.token),
        db_path=str(db_path),
        api_base=server.api_base,
        gateway_url=server.gateway_url,
        limits=Limits(launches_per_guild=launches + imports, imports_per_hour=100),
    )
    probe = Probe()
    async with running_resources(settings, clock=SystemClock(), guild_ready_timeout=0.05) as bot:
        await bot.login(server.token)
        connect = asyncio.create_task(bot.connect(reconnect=False))
        for _ in range(600):
            if bot.is_ready():
                break
            await asyncio.sleep(0.1)
        target = discord.Object(home.id)
        bot.tree.copy_global_to(guild=target)
        await bot.tree.sync(guild=target)
        probe.start()
        timings: dict[str, float] = {}

        async def op(name: str, action: Callable[[], Awaitable[Any]]) -> Any:
            probe.label = name
            t0 = time.perf_counter()
            try:
                return await action()
            finally:
                timings[name] = time.perf_counter() - t0
                probe.label = "idle"

        def command(name: str, **options: Any) -> Callable[[], Awaitable[Any]]:
            async def go() -> Any:
                record = await side.call(
                    server.run_command(
                        home.id, channel, manager, name, timeout=120, options=options
                    )
                )
                # Wait for the whole answer (a deferred one follows up later).
                for _ in range(1200):
                    answer = record.message
                    if record.followups or (
                        answer is not None and (answer.embeds or answer.content or answer.files)
                    ):
                        break
                    await asyncio.sleep(0.05)
                return record

            return go

        some = str(ids[len(ids) // 2])
        await op("launch list", command("launch list"))
        await op("launch show", command("launch show", launch=some))
        await op("launch history", command("launch history", launch=some))
        await op("slips stats", command("slips stats"))
        await op("slips leaderboard", command("slips leaderboard"))
        await op("slips summary", command("slips summary"))
        await op("slips chart", command("slips chart"))
        await op(
            "autocomplete",
            lambda: side.call(
                server.autocomplete(home.id, channel, manager, "launch show", launch="Model 1")
            ),
        )
        exported = await op("launch export", command("launch export"))
        # A failed export answers too (with an error): only the file Discord took counts.
        if not exported.files:
            raise RuntimeError(f"/launch export sent no file: {exported.text!r}")
        export_file = exported.files[0]
        export_json = await op(
            "export json", lambda: bot.transfer.export(home.id, TransferFormat.JSON)
        )
        await op("export csv", lambda: bot.transfer.export(home.id, TransferFormat.CSV))

        # An import of `imports` launches into another server: checked, then written. Cutting
        # the file is the bench's own work on this loop: its block is booked apart (the probe
        # books a block under the label current when it wakes) and left out of max_block_ms.
        probe.label = SETUP
        part = _first_launches(export_json.content, imports)
        await asyncio.sleep(0.05)
        probe.label = "idle"
        await op(
            "import dry run",
            lambda: bot.transfer.check(other.id, part, TransferFormat.JSON),
        )
        report = await op(
            "import",
            lambda: bot.transfer.import_launches(other.id, part, TransferFormat.JSON),
        )
        assert report.ok and report.created == imports, report

        # The big server's scheduled digest: due now, built, queued and posted.
        await op("digest", lambda: _digest_now(bot, home.id, channel, side))
        digest_bytes = await _digest_payload_bytes(bot, home.id)

        rearms = []
        probe.label = "rearm"
        for _ in range(200):
            t0 = time.perf_counter()
            await bot.engine.rearm()
            rearms.append(time.perf_counter() - t0)
        probe.label = "idle"
        await asyncio.sleep(0.5)
        await probe.stop()
        await bot.close()
        with contextlib.suppress(Exception):
            await connect
    worst = max((k for k in probe.worst if k != SETUP), key=lambda k: probe.worst[k])
    return {
        "bench": "loop",
        "guilds": guilds,
        "server_launches": launches,
        "import_launches": imports,
        "max_block_ms": round(probe.worst[worst] * 1000, 1),
        "worst": worst,
        "rearm_ms_100k_guilds": round(statistics.median(rearms) * 1000, 3),
        "rearm_p99_ms": round(sorted(rearms)[int(len(rearms) * 0.99) - 1] * 1000, 3),
        "block_ms": {k: round(v * 1000, 1) for k, v in sorted(probe.worst.items())},
        "gc_pause_ms": {k: round(v * 1000, 1) for k, v in sorted(probe.gc_worst.items())},
        "seconds": {k: round(v, 2) for k, v in timings.items()},
        "launch_export_file": export_file.filename,
        "launch_export_bytes": export_file.size,
        "digest_outbox_payload_bytes": digest_bytes,
    }


def _first_launches(content: bytes, n: int) -> bytes:
    launches = json.loads(content)[:n]
    for launch in launches:
        launch["product"] = "Imported " + launch["product"]
    return json.dumps(launches).encode()


async def _digest_rows(bot: Any, guild: int) -> int:
    """How many channel digests of the guild are in the outbox."""
    async with bot.app.store.snapshot() as read:
        cursor = await read.conn.execute(
            "SELECT COUNT(*) FROM outbox"
            " WHERE guild_id = ? AND idem_key LIKE 'digest:%' AND dest_kind = 'channel'",
            (guild,),
        )
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


async def _digest_now(bot: Any, guild: int, channel: int, side: ServerThread) -> None:
    """Make the server's daily digest due now, as after a day of changes, and wait for it."""
    now = bot.clock.now()
    daily = parse_schedule("daily 00:00")
    await bot.tracker.configure(guild, digest_schedule=daily.to_setting(), digest_channel_id=None)
    previous = period_for(daily, ZoneInfo("UTC"), now - dt.timedelta(days=1))
    assert previous is not None
    async with bot.app.store.transaction() as conn:
        await conn.digests.insert_digest_run(
            guild_id=guild,
            period_key=previous.key,
            period_start=previous.start,
            period_end=previous.end,
            outcome="posted",
            late=False,
            dm_count=0,
            schedule=daily.to_setting(),
            timezone="UTC",
            now=now,
        )
        await conn.conn.execute("UPDATE guilds SET digest_due_at = 0 WHERE guild_id = ?", (guild,))
    before = await _digest_rows(bot, guild)
    bot.engine.poke()
    for _ in range(1200):
        # Until the digest is queued (built and in the outbox): that is the work on this loop.
        # Its delivery waits behind the alerts queued meanwhile, paced at 50 requests/s, and
        # waiting for the first new message in the channel (an alert) booked the digest's work
        # under another label.
        if await _digest_rows(bot, guild) > before:
            return
        await asyncio.sleep(0.05)
    raise TimeoutError("the digest was not queued")


async def _digest_payload_bytes(bot: Any, guild: int) -> int:
    """The size of the channel digest's outbox row (its stored JSON payload, in bytes)."""
    async with bot.app.store.transaction() as conn:
        cursor = await conn.conn.execute(
            "SELECT length(CAST(payload AS BLOB)) FROM outbox"
            " WHERE guild_id = ? AND idem_key LIKE 'digest:%' AND dest_kind = 'channel'"
            " ORDER BY id DESC LIMIT 1",
            (guild,),
        )
        row = await cursor.fetchone()
    return int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    args = parser.parse_args()
    if args.quick:
        figures = asyncio.run(run(10_000, 5_000, 1_000))
    else:
        figures = asyncio.run(run(100_000, 20_000, 5_000))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

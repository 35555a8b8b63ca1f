"""Latency at bot scale: the real bot in-process against the loopback Discord and its limits.

    python bench/latency.py [--quick]

The database holds 100,000 configured servers (each with a weekly digest, its next time stored
as a running bot leaves it) and 1,000,000 pending launches (--quick: 10,000 and 100,000). The
loopback Discord enforces Discord's per-route buckets (5 messages per 5 s per channel) and the
global 50 requests/s.

1. Alerts: 1,000 launches in 100 servers (one alert channel each) whose deadlines pass over 60
   seconds: time from each deadline to its alert's arrival at the loopback Discord. An alert
   that never arrives is counted in "alerts_missing" (it cannot improve a percentile).
2. Commands, sent while the alerts flow, in a server holding 2,000 launches (shipped, slipped,
   cancelled, upcoming, each with its history): /launch list, /launch show, /launch history,
   /slips stats, /slips leaderboard, /slips summary, /slips chart and the launch autocomplete,
   each timed from INTERACTION_CREATE to the bot's first answer (what Discord's 3 s window
   counts; /slips chart defers first and its image follows).

Prints one final JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import random
import re
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import discord  # noqa: E402

from bench.common import fill_server, percentile, summary  # noqa: E402
from bot import running_resources  # noqa: E402
from storage.bulk import BulkLaunch, insert_guilds, insert_launches  # noqa: E402
from storage.db import SqliteDatabase  # noqa: E402
from storage.session import SqlStore  # noqa: E402
from tests.loopback import LoopbackDiscord  # noqa: E402
from tests.loopback.fixtures import (  # noqa: E402
    discord_endpoints_restored,
    running_server,
    start_client,
    stop_client,
)
from tracker.clock import SystemClock  # noqa: E402
from tracker.digests import DEFAULT_SCHEDULE, next_run_after  # noqa: E402
from tracker.launches import Tracker  # noqa: E402
from tracker.settings import Secret, Settings  # noqa: E402

UTC = dt.UTC
FOOTER = re.compile(r"launch #(\d+)")
MESSAGES = re.compile(r"/channels/\d+/messages")
ALERT_GUILDS = 100
SERVER_LAUNCHES = 2000
COMMANDS = (
    "launch list",
    "launch show",
    "launch history",
    "slips stats",
    "slips leaderboard",
    "slips summary",
    "slips chart",
    "autocomplete",
)


def fill_scale(db_path: Path, guilds: int, pending: int, now: dt.datetime) -> None:
    """The other servers and their pending launches, bulk-loaded."""
    next_digest = next_run_after(DEFAULT_SCHEDULE, __import__("zoneinfo").ZoneInfo("UTC"), now)
    insert_guilds(str(db_path), range(1, guilds + 1), now, next_digest)
    rng = random.Random(3)
    for start in range(0, pending, 200_000):
        rows = []
        for i in range(start, min(pending, start + 200_000)):
            end = now.date() + dt.timedelta(days=rng.randrange(30, 3650))
            deadline = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=UTC)
            rows.append(
                BulkLaunch(
                    1 + i % guilds,
                    f"Model {i}",
                    f"Lab {i % 50}",
                    now.date(),
                    end,
                    deadline,
                    deadline - dt.timedelta(days=7),
                )
            )
        insert_launches(str(db_path), rows, now)


def insert_due(db_path: Path, rows: list[BulkLaunch], now: dt.datetime) -> int:
    """Insert the launches that fall due (beside the running bot); returns the first's id."""
    with contextlib.closing(sqlite3.connect(db_path)) as lite:
        top = lite.execute("SELECT MAX(id) FROM launches").fetchone()
    insert_launches(str(db_path), rows, now)
    return int(top[0] or 0) + 1


class Arrivals:
    """When each due launch's alert first arrived at the loopback Discord (a message create
    answered 2xx whose embed footer names it). Reads each finished request once: the wait for
    the last alert re-checks on every request the server records, and scanning every channel's
    messages each time blocked the very loop the alerts go through (tens of ms per check)."""

    def __init__(self, server: LoopbackDiscord, launch_ids: set[int]) -> None:
        self.server = server
        self.launch_ids = launch_ids
        self.first: dict[int, float] = {}
        self._done = 0  # requests before this index are finished and read
        self._read: set[int] = set()  # finished requests read past self._done

    def update(self) -> int:
        """Read the requests finished since the last call; returns how many alerts arrived."""
        requests = self.server.requests
        for index in range(self._done, len(requests)):
            request = requests[index]
            if request.status == 0 or index in self._read:
                continue  # still being answered, or read already
            self._read.add(index)
            if request.ok and request.method == "POST" and MESSAGES.fullmatch(request.path):
                for embed in (request.json or {}).get("embeds") or []:
                    match = FOOTER.search((embed.get("footer") or {}).get("text") or "")
                    launch_id = int(match.group(1)) if match else None
                    if launch_id in self.launch_ids and launch_id not in self.first:
                        self.first[launch_id] = request.time
        while self._done < len(requests) and requests[self._done].status != 0:
            self._read.discard(self._done)
            self._done += 1
        return len(self.first)


async def run(
    guilds: int, pending: int, alerts: int, spread_s: float, rounds: int
) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="slipwatch-latency-") as tmp:
        db_path = Path(tmp) / "bench.db"
        now = dt.datetime.now(UTC)
        async with SqliteDatabase.open(db_path):
            pass
        fill_scale(db_path, guilds, pending, now)
        with discord_endpoints_restored():
            async with running_server(global_rate_limit=50.0) as server:
                return await _run(server, db_path, guilds, pending, alerts, spread_s, rounds)


async def _run(
    server: LoopbackDiscord,
    db_path: Path,
    guilds: int,
    pending: int,
    alerts: int,
    spread_s: float,
    rounds: int,
) -> dict[str, object]:
    home = server.add_guild(name="Bench")
    home_channel = server.add_channel(home.id, "alerts")
    member = server.add_user("reader", guild_id=home.id, permissions=0)
    alert_guilds: list[tuple[int, int]] = []
    for g in range(ALERT_GUILDS):
        guild = server.add_guild(name=f"Alerts {g}")
        alert_guilds.append((guild.id, server.add_channel(guild.id, "alerts")))
    ids = await fill_server(db_path, home.id, home_channel, SERVER_LAUNCHES)
    async with SqliteDatabase.open(db_path) as db:
        tracker = Tracker(SqlStore(db), SystemClock())
        for gid, channel in alert_guilds:
            await tracker.configure(
                gid, alert_channel_id=channel, reminder_offsets=(), late_milestones=()
            )
    settings = Settings(
        token=Secret(server.token),
        db_path=str(db_path),
        api_base=server.api_base,
        gateway_url=server.gateway_url,
    )
    async with running_resources(settings, clock=SystemClock(), guild_ready_timeout=0.05) as bot:
        await start_client(server, bot, point=False, timeout=120.0)
        try:
            target = discord.Object(home.id)
            bot.tree.copy_global_to(guild=target)
            await bot.tree.sync(guild=target)

            # Alerts: deadlines spread over the next spread_s seconds, 100 servers.
            wall0 = dt.datetime.now(UTC)
            mono0 = time.monotonic()
            start = wall0 + dt.timedelta(seconds=3)
            rows = []
            for i in range(alerts):
                at = start + dt.timedelta(seconds=spread_s * i / alerts)
                gid, _ = alert_guilds[i % ALERT_GUILDS]
                rows.append(BulkLaunch(gid, f"Due {i}", "Lab", wall0.date(), wall0.date(), at, at))
            # Inserted in a worker thread: the bot's loop keeps running meanwhile (a synchronous
            # insert from the loop stalls the bot, and its writer with it: "database is
            # locked"). The deadlines are fixed relative to wall0 already.
            first_id = await asyncio.to_thread(insert_due, db_path, rows, wall0)
            deadlines = {
                first_id + i: (row.deadline_at - wall0).total_seconds()
                for i, row in enumerate(rows)
            }
            bot.engine.poke()
            arrivals = Arrivals(server, set(deadlines))

            # Commands while the alerts flow.
            rng = random.Random(5)
            times: dict[str, list[float]] = {name: [] for name in COMMANDS}
            for _ in range(rounds):
                for name in COMMANDS:
                    launch = str(rng.choice(ids))
                    t0 = time.monotonic()
                    if name == "autocomplete":
                        choices = await server.autocomplete(
                            home.id, home_channel, member, "launch show", launch="Model 1"
                        )
                        assert choices, "no choices"
                    else:
                        options = (
                            {"launch": launch} if name in ("launch show", "launch history") else {}
                        )
                        record = await server.run_command(
                            home.id, home_channel, member, name, timeout=30, options=options
                        )
                        assert record.acknowledged, name
                    times[name].append(time.monotonic() - t0)
                await asyncio.sleep(spread_s / rounds / 2)

            with contextlib.suppress(TimeoutError):
                await server.wait_for(lambda: arrivals.update() >= alerts, timeout=spread_s + 120)
            arrivals.update()
            latencies = [
                at - mono0 - deadlines[launch_id] for launch_id, at in arrivals.first.items()
            ]
            rejected = sum(
                1
                for r in server.requests_matching(r"POST /channels/\d+/messages")
                if r.status == 429
            )
        finally:
            await stop_client(bot)
    every = [t for values in times.values() for t in values]
    per_command = {name: round(percentile(values, 99) * 1000, 1) for name, values in times.items()}
    worst = max(per_command, key=lambda name: per_command[name])
    alert = summary(latencies)
    return {
        "bench": "latency",
        "guilds": guilds,
        "pending": pending,
        "alerts": alerts,
        "alert_channels": ALERT_GUILDS,
        "alerts_received": len(latencies),
        "alerts_missing": alerts - len(latencies),
        "alert_p50_ms": alert["p50_ms"],
        "alert_p99_ms": alert["p99_ms"],
        "alert_max_ms": alert["max_ms"],
        "rejected_429": rejected,
        "server_launches": SERVER_LAUNCHES,
        "commands": len(every),
        "command_p50_ms": round(percentile(every, 50) * 1000, 1),
        "command_p99_ms": round(percentile(every, 99) * 1000, 1),
        "worst_command": worst,
        "command_p99_ms_each": per_command,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a tenth of the scale")
    args = parser.parse_args()
    if args.quick:
        figures = asyncio.run(run(10_000, 100_000, 100, 6.0, 5))
    else:
        figures = asyncio.run(run(100_000, 1_000_000, 1000, 60.0, 25))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

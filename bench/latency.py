"""Latency benchmark against the loopback Discord, with the real bot in-process.

    python bench/latency.py [--quick]

1. Alerts: 1,000 launches whose deadlines pass over 60 seconds (no grace, no reminders): time from
   each deadline to the alert's arrival at the loopback Discord.
2. Commands: /launch list round trip (INTERACTION_CREATE sent to callback received) with 100,000
   launches in the database.
--quick runs a tenth of both sizes (and a tenth of the 60 s). Prints one final JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import random
import re
import tempfile
import time
from pathlib import Path

from common import bot_and_server, summary  # type: ignore[import-not-found]

from storage.bulk import BulkLaunch, insert_launches
from storage.db import Database
from tracker.clock import SystemClock
from tracker.service import Tracker

FOOTER = re.compile(r"launch #(\d+)")


async def prepare(db_path: Path, guild: int, channel: int, background: int) -> None:
    async with Database.open(db_path) as db:
        tracker = Tracker(db, SystemClock())
        await tracker.configure(
            guild, alert_channel_id=channel, reminder_offsets=(), late_milestones=()
        )
    rng = random.Random(3)
    now = dt.datetime.now(dt.UTC)
    rows = []
    for i in range(background):
        end = now.date() + dt.timedelta(days=rng.randrange(30, 3650))
        deadline = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=dt.UTC)
        rows.append(
            BulkLaunch(guild, f"Model {i}", f"Lab {i % 50}", now.date(), end, deadline, deadline)
        )
    insert_launches(str(db_path), rows, now)


async def run(alerts: int, spread_s: float, background: int, commands: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="slipwatch-latency-") as tmp:
        db_path = Path(tmp) / "bench.db"
        clock = SystemClock()
        async with bot_and_server(db_path, clock, global_rate_limit=50.0) as (
            server,
            bot,
            guild,
            channel,
        ):
            await prepare(db_path, guild, channel, background)

            # Commands first, on a quiet bot: /launch list over `background` launches.
            member = server.add_user("reader", guild_id=guild, permissions=0)
            command_times: list[float] = []
            for _ in range(commands):
                t0 = time.monotonic()
                record = await server.run_command(guild, channel, member, "launch list", timeout=10)
                command_times.append(time.monotonic() - t0)
                assert record.embeds, "no answer"

            # Alerts: deadlines spread over the next spread_s seconds.
            wall0 = dt.datetime.now(dt.UTC)
            mono0 = time.monotonic()
            start = wall0 + dt.timedelta(seconds=2)
            deadlines: dict[int, float] = {}
            rows = []
            for i in range(alerts):
                at = start + dt.timedelta(seconds=spread_s * i / alerts)
                rows.append(
                    BulkLaunch(guild, f"Due {i}", "Lab", wall0.date(), wall0.date(), at, at)
                )
            first_id = background + 1
            insert_launches(str(db_path), rows, wall0)
            for i, row in enumerate(rows):
                deadlines[first_id + i] = (row.deadline_at - wall0).total_seconds()
            bot.engine.poke()
            with contextlib.suppress(TimeoutError):
                await server.wait_for(
                    lambda: len(server.messages(channel, kind="channel")) >= alerts,
                    timeout=spread_s + 60,
                )
            latencies: list[float] = []
            for request in server.requests_matching(rf"POST /channels/{channel}/messages"):
                if not request.ok:
                    continue
                footer = request.json["embeds"][0]["footer"]["text"]
                match = FOOTER.search(footer)
                if match and int(match.group(1)) in deadlines:
                    arrived = request.time - mono0
                    latencies.append(arrived - deadlines[int(match.group(1))])
    alert = summary(latencies)
    command = summary(command_times)
    return {
        "bench": "latency",
        "alerts": alerts,
        "alerts_received": len(latencies),
        "alert_p50_ms": alert["p50_ms"],
        "alert_p99_ms": alert["p99_ms"],
        "alert_max_ms": alert["max_ms"],
        "launches_in_db": background + alerts,
        "commands": commands,
        "command_p50_ms": command["p50_ms"],
        "command_p99_ms": command["p99_ms"],
        "command_max_ms": command["max_ms"],
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    args = parser.parse_args()
    if args.quick:
        figures = asyncio.run(run(alerts=100, spread_s=6.0, background=10_000, commands=50))
    else:
        figures = asyncio.run(run(alerts=1000, spread_s=60.0, background=100_000, commands=200))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

"""bench/engine.py's arming and sweeping, on PostgreSQL beside SQLite, through the same code.

    python bench/engine_postgres.py [--quick]     (1,000,000 pending deadlines; --quick: 100,000)

For each backend: fill the launches table, then in a fresh child process open the database and
start the engine (first sweep + arm: restart-to-armed), re-arm 100 times (the indexed "what is due
next" lookup), and sweep 1,000 launches falling due at once among all the pending ones (their
outbox rows committed). Needs a PostgreSQL server (SLIPWATCH_BENCH_PG, default the local one);
makes its own database and drops it. Prints one final JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from apscheduler.schedulers.asyncio import AsyncIOScheduler  # noqa: E402
from psycopg import sql  # noqa: E402

from storage.bulk import BulkLaunch, insert_launches_into  # noqa: E402
from storage.db import open_database  # noqa: E402
from storage.session import SqlStore  # noqa: E402
from tracker.clock import SimClock  # noqa: E402
from tracker.engine import Engine  # noqa: E402
from tracker.launches import Tracker  # noqa: E402
from tracker.models import OutboxRow  # noqa: E402
from tracker.outbox.delivery import Delivered, Deliverer, DeliveryResult  # noqa: E402

UTC = dt.UTC
NOW = dt.datetime(2026, 1, 1, tzinfo=UTC)
ADMIN_URL = os.environ.get("SLIPWATCH_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
DUE = 1000
GUILD = 1


class NullNotifier:
    async def deliver(self, row: OutboxRow) -> DeliveryResult:
        return Delivered()


def _pending(n: int, start: int) -> list[BulkLaunch]:
    out = []
    for i in range(start, start + n):
        end = NOW.date() + dt.timedelta(days=1 + i % 3650)
        deadline = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=UTC)
        out.append(
            BulkLaunch(2 + i % 500, f"Model {i}", f"Lab {i % 40}", NOW.date(), end, deadline,
                       deadline - dt.timedelta(days=7))
        )  # fmt: skip
    return out


def _due(n: int) -> list[BulkLaunch]:
    end = NOW.date() - dt.timedelta(days=1)
    return [
        BulkLaunch(GUILD, f"Due {i}", f"Lab {i % 9}", end, end,
                   NOW - dt.timedelta(seconds=1 + i % 30), NOW - dt.timedelta(seconds=1 + i % 30))
        for i in range(n)
    ]  # fmt: skip


async def fill(target: str, pending: int) -> float:
    """Migrate, configure the due launches' guild, insert *pending* launches; seconds taken."""
    async with open_database(target) as db:
        await Tracker(SqlStore(db), SimClock(NOW)).configure(
            GUILD, alert_channel_id=99, reminder_offsets=()
        )
        t0 = time.perf_counter()
        chunk = 100_000
        for start in range(0, pending, chunk):
            await insert_launches_into(db, _pending(min(chunk, pending - start), start), NOW)
        return time.perf_counter() - t0


async def measure(target: str) -> dict[str, float]:
    """Child process: restart-to-armed, re-arm latency, then one sweep of DUE launches."""
    t0 = time.perf_counter()
    async with open_database(target) as db:
        clock = SimClock(NOW)
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.start()
        engine = Engine(
            SqlStore(db), clock, scheduler, Deliverer(SqlStore(db), clock, NullNotifier())
        )
        await engine.start()
        await engine.rearm()
        armed = time.perf_counter() - t0
        assert engine.armed_at is not None
        rearms = []
        for _ in range(100):
            r0 = time.perf_counter()
            await engine.rearm()
            rearms.append(time.perf_counter() - r0)
        await engine.stop()
        await insert_launches_into(db, _due(DUE), NOW)
        engine = Engine(
            SqlStore(db), clock, scheduler, Deliverer(SqlStore(db), clock, NullNotifier())
        )
        s0 = time.perf_counter()
        report = await engine.sweep()
        swept = time.perf_counter() - s0
        assert report.handled == DUE, report
        scheduler.shutdown(wait=False)
    return {
        "armed_s": round(armed, 3),
        "rearm_p50_ms": round(statistics.median(rearms) * 1000, 2),
        "sweep_1000_due_s": round(swept, 3),
    }


def measure_in_child(target: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", target],
        check=True, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _admin(statement: sql.Composed) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(statement)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a tenth of the size")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(measure(args.child))))
        return
    pending = 100_000 if args.quick else 1_000_000
    name = "slipwatch_bench_" + secrets.token_hex(6)
    base, _, _ = ADMIN_URL.rpartition("/")
    figures: dict[str, object] = {"bench": "engine_postgres", "pending": pending, "due": DUE}
    _admin(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        with tempfile.TemporaryDirectory(prefix="slipwatch-bench-") as tmp:
            for label, target in (
                ("sqlite", str(Path(tmp) / "engine.db")),
                ("pg", f"{base}/{name}"),
            ):
                figures[f"{label}_fill_s"] = round(asyncio.run(fill(target, pending)), 1)
                for key, value in measure_in_child(target).items():
                    figures[f"{label}_{key}"] = value
    finally:
        _admin(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

"""Engine benchmark: arming from the database vs one APScheduler job per launch, and one sweep.

    python bench/engine.py [--quick]

Each measurement of start-to-armed runs in a fresh child process so that its peak RSS is its
own. Prints one final JSON line:
{"bench": "engine", "armed_100k_s", "armed_1m_s", "armed_1m_extra_rss_mb", "naive_100k_s",
 "speedup_100k", "sweep_1000_due_s", ...}
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # noqa: E402
from apscheduler.triggers.date import DateTrigger  # noqa: E402

from storage.bulk import BulkLaunch, insert_launches, set_alert_channel  # noqa: E402
from storage.db import Database  # noqa: E402
from tracker.clock import SimClock, SystemClock  # noqa: E402
from tracker.engine import Engine  # noqa: E402
from tracker.models import OutboxRow  # noqa: E402
from tracker.outbox.delivery import Delivered, Deliverer, DeliveryResult  # noqa: E402

UTC = dt.UTC
NOW = dt.datetime(2026, 1, 1, tzinfo=UTC)


class NullNotifier:
    async def deliver(self, row: OutboxRow) -> DeliveryResult:
        return Delivered()


def make_launches(n: int, seed: int = 7) -> list[BulkLaunch]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        end = NOW.date() + dt.timedelta(days=rng.randrange(1, 3650))
        deadline = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=UTC)
        out.append(
            BulkLaunch(
                guild_id=1 + i % 500,
                product=f"Model {i}",
                vendor=f"Lab {i % 40}",
                announced_on=NOW.date(),
                window_end=end,
                deadline_at=deadline,
                next_due_at=deadline - dt.timedelta(days=7),
            )
        )
    return out


async def _migrate(path: str) -> None:
    async with Database.open(path):
        pass


def build_db(path: str, n: int) -> None:
    asyncio.run(_migrate(path))
    if n:
        # Insert in chunks to bound the memory of the generator's list.
        chunk = 200_000
        for start in range(0, n, chunk):
            rows = make_launches(min(chunk, n - start), seed=start)
            insert_launches(path, rows, NOW)


async def _arm(path: str) -> dict[str, float]:
    """Child process: open, start the engine (first sweep + arm), report time and RSS."""
    base_rss = _vm_hwm_kb()
    t0 = time.perf_counter()
    async with Database.open(path) as db:
        clock = SimClock(NOW)
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.start()
        engine = Engine(db, clock, scheduler, Deliverer(db, clock, NullNotifier()))
        await engine.start()  # returns after the first sweep
        await engine.rearm()
        armed = time.perf_counter() - t0
        assert engine.armed_at is not None or path.endswith("empty.db")
        await engine.stop()
        scheduler.shutdown(wait=False)
    peak = _vm_hwm_kb()
    return {"armed_s": armed, "peak_rss_kb": peak, "base_rss_kb": base_rss}


def _vm_hwm_kb() -> float:
    """Peak RSS of this process image (VmHWM). ru_maxrss would include the parent's peak,
    which Linux carries across fork and exec."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


def arm_in_child(path: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--child-arm", path],
        check=True,
        capture_output=True,
        text=True,
        timeout=600,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


async def naive(n: int) -> float:
    """The way not to do it: one DateTrigger job per launch."""
    launches = make_launches(n)
    scheduler = AsyncIOScheduler(timezone=UTC)
    scheduler.start(paused=True)

    async def fire() -> None:
        return None

    t0 = time.perf_counter()
    for launch in launches:
        assert launch.next_due_at is not None
        scheduler.add_job(fire, DateTrigger(run_date=launch.next_due_at), id=launch.product)
    elapsed = time.perf_counter() - t0
    scheduler.shutdown(wait=False)
    return elapsed


async def sweep_due(path: str, n: int) -> dict[str, float]:
    """n launches due at once: time for one sweep to commit all their outbox rows."""
    rows = []
    for i in range(n):
        end = NOW.date() - dt.timedelta(days=1)
        deadline = NOW - dt.timedelta(seconds=1 + i % 30)
        rows.append(BulkLaunch(1, f"Due {i}", f"Lab {i % 9}", end, end, deadline, deadline))
    asyncio.get_running_loop()
    await _migrate(path)
    insert_launches(path, rows, NOW)
    set_alert_channel(path, 1, 99, NOW)
    async with Database.open(path) as db:
        clock = SystemClock()
        scheduler = AsyncIOScheduler(timezone=UTC)
        engine = Engine(db, clock, scheduler, Deliverer(db, clock, NullNotifier()))
        t0 = time.perf_counter()
        report = await engine.sweep()
        elapsed = time.perf_counter() - t0
        count = await db.fetchone("SELECT COUNT(*) FROM outbox")
        assert count is not None and count[0] == n == report.rows, (count, report)
    return {"sweep_s": elapsed}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes")
    parser.add_argument("--child-arm", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_arm:
        print(json.dumps(asyncio.run(_arm(args.child_arm))))
        return
    scale = 10 if args.quick else 1
    small, large, due = 100_000 // scale, 1_000_000 // scale, 1000
    with tempfile.TemporaryDirectory(prefix="slipwatch-bench-") as tmp:
        empty, db_small, db_large = (str(Path(tmp) / n) for n in ("empty.db", "s.db", "l.db"))
        build_db(empty, 0)
        build_db(db_small, small)
        t0 = time.perf_counter()
        build_db(db_large, large)
        fill_s = time.perf_counter() - t0
        r_empty = arm_in_child(empty)
        r_small = arm_in_child(db_small)
        r_large = arm_in_child(db_large)
        naive_s = asyncio.run(naive(small))
        sweep = asyncio.run(sweep_due(str(Path(tmp) / "due.db"), due))
    extra_mb = (r_large["peak_rss_kb"] - r_empty["peak_rss_kb"]) / 1024
    figures = {
        "bench": "engine",
        "quick": args.quick,
        "launches_small": small,
        "launches_large": large,
        "armed_100k_s": round(r_small["armed_s"], 4),
        "armed_1m_s": round(r_large["armed_s"], 4),
        "armed_1m_extra_rss_mb": round(extra_mb, 1),
        "empty_peak_rss_mb": round(r_empty["peak_rss_kb"] / 1024, 1),
        "naive_100k_s": round(naive_s, 3),
        "speedup_100k": round(naive_s / max(r_small["armed_s"], 1e-9), 1),
        "sweep_1000_due_s": round(sweep["sweep_s"], 4),
        "fill_large_s": round(fill_s, 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

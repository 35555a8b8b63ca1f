"""Engine benchmark: slipwatch beside the real peer, in the same run, on the same data.

    python bench/engine.py [--quick]

The peer (bench/peer.py) is what popular reminder bots do: one APScheduler job per deadline in
a running AsyncIOScheduler with a SQLAlchemyJobStore on SQLite. Both sides hold the same
1,000,000 pending launches (--quick: 100,000) and are measured on:

- add: one launch added and armed, one at a time (slipwatch: the services wired as the bot
  wires them, the add /launch add makes, until the engine is armed for it: at once when the
  timer is already armed earlier, else after the sweep and re-arm the add wakes; the peer: the
  same add of the launch row, then add_job); and 10,000 in bulk (one bulk insert, then one
  sweep and re-arm / 10,000 add_job calls).
- restart: from spawning a fresh process to armed (bench/restart.py): the interpreter, the bot's
  imports, opening the database, then (slipwatch) the bot's resources and services and the
  engine's start-up sweep and arm, the file's check running beside it / (the peer) discord's
  import and the scheduler's start over its job table. Nothing is overdue (a first, untimed
  restart sends the digests the bench's configured servers fell due for); the files are in the
  page cache, as they were just written. Python runs as the bench is run: where
  PYTHONDONTWRITEBYTECODE is set (it is on the bench machine), every start compiles all of
  slipwatch's modules again; restart_armed_cached_s is the same restart with the compiled
  modules kept, as a bot's second start finds them with Python's defaults. Also each side's
  extra peak RSS with 1M pending over an empty database.
- due: 1,000 deadlines falling due within the same second, with every other launch still
  pending, on a running timer (the engine's APScheduler job / the peer's scheduler). Latency per
  deadline is from its due time to the commit of its alert row; three rounds, the median round's
  p99 is reported. A deadline whose work never ran is "missed" (APScheduler skips jobs past
  their misfire grace).

Prints one final JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from apscheduler.schedulers.asyncio import AsyncIOScheduler  # noqa: E402

from bench import peer  # noqa: E402
from storage.bulk import BulkLaunch, insert_launches, set_alert_channel  # noqa: E402
from storage.db import SqliteDatabase, to_ms  # noqa: E402
from storage.session import SqlStore  # noqa: E402
from tracker.app import open_slipwatch  # noqa: E402
from tracker.clock import SystemClock  # noqa: E402
from tracker.engine import Engine, SweepReport  # noqa: E402
from tracker.launches import Tracker  # noqa: E402
from tracker.models import NewLaunch, OutboxRow  # noqa: E402
from tracker.outbox.delivery import Delivered, Deliverer, DeliveryResult  # noqa: E402
from tracker.settings import Secret, Settings  # noqa: E402

UTC = dt.UTC
GUILDS = 100_000
LEAD_S = 5.0  # deadlines fall due this long after the round starts
DUE_GUILDS = 100  # the 1,000 due deadlines are spread over 100 servers, one channel each
CHANNEL_BASE = 9_000_000


class NullNotifier:
    async def deliver(self, row: OutboxRow) -> DeliveryResult:
        return Delivered()


class ParkedNotifier:
    """Takes rows and never answers: the due measurement compares the sweep with the peer's
    jobs, which deliver nothing either, so neither side's delivery writes compete."""

    def __init__(self) -> None:
        self._never = asyncio.Event()

    async def deliver(self, row: OutboxRow) -> DeliveryResult:
        await self._never.wait()
        return Delivered()


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[rank]


def pending_launches(n: int, now: dt.datetime, seed: int) -> list[BulkLaunch]:
    rng = random.Random(seed)
    out = []
    for i in range(n):
        end = now.date() + dt.timedelta(days=rng.randrange(30, 3650))
        deadline = dt.datetime.combine(end + dt.timedelta(days=1), dt.time(0), tzinfo=UTC)
        out.append(
            BulkLaunch(
                guild_id=1 + (seed + i) % GUILDS,
                product=f"Model {seed + i}",
                vendor=f"Lab {i % 40}",
                announced_on=now.date(),
                window_end=end,
                deadline_at=deadline,
                next_due_at=deadline - dt.timedelta(days=7),
            )
        )
    return out


async def _migrate(path: str) -> None:
    async with SqliteDatabase.open(path):
        pass


def build_db(path: str, n: int, now: dt.datetime) -> None:
    asyncio.run(_migrate(path))
    for start in range(0, n, 200_000):
        insert_launches(path, pending_launches(min(200_000, n - start), now, start), now)
    for g in range(1, DUE_GUILDS + 1):
        set_alert_channel(path, g, CHANNEL_BASE + g, now)


# --------------------------------------------------------------------------- restart


def in_child(kind: str, path: str, env: dict[str, str] | None = None) -> dict[str, float]:
    """One restart in a fresh process (bench/restart.py), timed from its spawn."""
    spawned = time.time()
    out = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "restart.py"), kind, path, repr(spawned)],
        check=True,
        capture_output=True,
        text=True,
        timeout=1200,
        env=env,
    )
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def cached_bytecode(tmp: str) -> dict[str, str]:
    """The environment of a Python that keeps its compiled modules (in *tmp*), as a bot's
    second start finds them, where PYTHONDONTWRITEBYTECODE (set on the bench machine) has
    every start compile all of slipwatch's modules again."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
    return env


# --------------------------------------------------------------------------- add


async def add_slipwatch(path: str, n: int, bulk: int) -> tuple[list[float], float]:
    settings = Settings(token=Secret("bench"), db_path=path)
    async with (
        SqliteDatabase.open(path) as db,
        open_slipwatch(settings, SqlStore(db), notifier=NullNotifier()) as app,
    ):
        # Every service wired as the bot wires them (digests, probes and discovery share the
        # engine's timer): /launch add calls app.tracker.add, which tells the engine.
        await app.start()
        tracker, engine = app.tracker, app.engine
        today = dt.datetime.now(UTC).date()
        times = []
        for i in range(n):
            t0 = time.perf_counter()
            await tracker.add(
                NewLaunch(1 + i % GUILDS, f"Added {i}", "Lab", "end of 2030", today), "bench"
            )
            await engine.idle()  # armed: the runner's sweep and re-arm, if the add woke it
            times.append(time.perf_counter() - t0)
        now = dt.datetime.now(UTC)
        rows = pending_launches(bulk, now, 5_000_000)
        t0 = time.perf_counter()
        await asyncio.to_thread(insert_launches, path, rows, now)  # the loop keeps running
        engine.poke()  # as the bot's import does after its commit
        await engine.idle()
        bulk_s = time.perf_counter() - t0
    return times, bulk_s


async def add_peer(path: str, n: int, bulk: int) -> tuple[list[float], float]:
    async with SqliteDatabase.open(path) as db:
        peer.bind(db)
        scheduler = peer.make_scheduler(path)
        scheduler.start()
        tracker = Tracker(SqlStore(db), SystemClock())
        today = dt.datetime.now(UTC).date()
        times = []
        for i in range(n):
            t0 = time.perf_counter()
            added = await tracker.add(
                NewLaunch(1 + i % GUILDS, f"Added {i}", "Lab", "end of 2030", today), "bench"
            )
            launch = added.launch
            peer.add_job(scheduler, launch.id, launch.guild_id, 0, launch.deadline_at)
            times.append(time.perf_counter() - t0)
        now = dt.datetime.now(UTC)
        rows = pending_launches(bulk, now, 6_000_000)
        top = await db.fetchone("SELECT MAX(id) FROM launches")
        t0 = time.perf_counter()
        await asyncio.to_thread(insert_launches, path, rows, now)  # the loop keeps running
        first = await db.fetchall(
            "SELECT id, guild_id, deadline_at FROM launches WHERE id > ? ORDER BY id",
            (top[0] if top else 0,),
        )
        for row in first:
            peer.add_job(
                scheduler,
                row[0],
                row[1],
                0,
                dt.datetime.fromtimestamp(row[2] / 1000, UTC),
            )
        bulk_s = time.perf_counter() - t0
        assert len(first) == bulk, len(first)
        scheduler.shutdown(wait=False)
        peer.bind(None)
    return times, bulk_s


# --------------------------------------------------------------------------- due


def due_rows(round_no: int, at: dt.datetime, n: int) -> list[BulkLaunch]:
    rows = []
    for i in range(n):
        when = at + dt.timedelta(milliseconds=i * 1000 // n)
        end = when.date() - dt.timedelta(days=1)
        rows.append(
            BulkLaunch(
                1 + i % DUE_GUILDS, f"Due {round_no}-{i}", f"Lab {i % 9}", end, end, when, when
            )
        )
    return rows


async def due_slipwatch(path: str, round_no: int, n: int) -> dict[str, Any]:
    async with SqliteDatabase.open(path) as db:
        clock = SystemClock()
        scheduler = AsyncIOScheduler(timezone=UTC)
        scheduler.start()
        engine = Engine(
            SqlStore(db), clock, scheduler, Deliverer(SqlStore(db), clock, ParkedNotifier())
        )
        # Per sweep: its clock readings (ms) before and after (the sweep's own "now", stamped on
        # its history rows, lies between) and the time it returned, after its commit.
        finished: list[tuple[int, int, float]] = []
        original = engine.sweep

        async def timed_sweep(*, catch_up: bool = False) -> SweepReport:
            stamp = to_ms(clock.now())
            report = await original(catch_up=catch_up)
            finished.append((stamp, to_ms(clock.now()), time.time()))
            return report

        engine.sweep = timed_sweep  # type: ignore[method-assign]
        await engine.start()
        last = await db.fetchone("SELECT COALESCE(MAX(id), 0) FROM launch_events")
        top_event = int(last[0]) if last is not None else 0
        at = dt.datetime.now(UTC) + dt.timedelta(seconds=LEAD_S)
        rows = due_rows(round_no, at, n)
        # Set-up off the loop being measured, and done before the first deadline.
        await asyncio.to_thread(insert_launches, path, rows, dt.datetime.now(UTC), checkpoint=False)
        engine.poke()
        overrun = time.time() > at.timestamp()
        deadline = time.monotonic() + 60
        first = f"Due {round_no}-"
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            # The bench's own polling must not stall the engine: it shares the reader
            # connection, so it reads the new history rows by id (a range of the rowid), never
            # a scan of the million launches.
            slipped = await db.fetchone(
                "SELECT COUNT(*) FROM launch_events WHERE id > ? AND kind = 'slipped'",
                (top_event,),
            )
            if slipped is not None and slipped[0] >= n and time.time() > at.timestamp() + 1:
                break
        events = await db.fetchall(
            "SELECT l.deadline_at, e.at FROM launch_events e JOIN launches l ON l.id = e.launch_id "
            "WHERE e.id > ? AND l.product LIKE ? AND e.kind = 'slipped'",
            (top_event, first + "%"),
        )
        # The last sweep's commit can be seen before its timed wrapper has returned.
        for _ in range(500):
            if all(_done(finished, e[1]) is not None for e in events):
                break
            await asyncio.sleep(0.01)
        # Every alert is in the outbox (bursts into one channel are merged into one row).
        payloads = await db.fetchall(
            "SELECT payload FROM outbox WHERE guild_id <= ? AND created_at >= ?",
            (DUE_GUILDS, to_ms(at) - 1),
        )
        queued = sum(
            1
            for row in payloads
            for alert in json.loads(row[0])["alerts"]
            if str(alert["launch"]["product"]).startswith(first)
        )
        await engine.stop()
        scheduler.shutdown(wait=False)
    done = [(_done(finished, e[1]), e[0]) for e in events]
    latencies = [at - deadline_ms / 1000 for at, deadline_ms in done if at is not None]
    return {
        "latencies": latencies,
        "missed": n - len(latencies),
        "overrun": overrun,
        "queued": queued,
    }


def _done(sweeps: list[tuple[int, int, float]], stamp: int) -> float | None:
    """When the sweep that stamped *stamp* returned (sweeps run one at a time, in order)."""
    for before, after, returned in sweeps:
        if before <= stamp <= after:
            return returned
    return None


async def due_peer(path: str, round_no: int, n: int) -> dict[str, Any]:
    async with SqliteDatabase.open(path) as db:
        peer.bind(db)
        scheduler = peer.make_scheduler(path)
        scheduler.start()
        at = dt.datetime.now(UTC) + dt.timedelta(seconds=LEAD_S)
        rows = due_rows(round_no, at, n)
        await asyncio.to_thread(insert_launches, path, rows, dt.datetime.now(UTC), checkpoint=False)
        first = f"Due {round_no}-"
        ids = await db.fetchall(
            "SELECT id, guild_id, deadline_at FROM launches WHERE product LIKE ? ORDER BY id",
            (first + "%",),
        )
        due_at = {}
        jobs = []
        for launch_id, guild_id, deadline_ms in ids:
            when = dt.datetime.fromtimestamp(deadline_ms / 1000, UTC)
            jobs.append((launch_id, guild_id, CHANNEL_BASE + guild_id, when))
            due_at[launch_id] = deadline_ms / 1000
        # The same rows add_job would write (1,000 add_job calls take longer than the 3 s
        # lead), then the wake-up add_job gives the scheduler.
        template = peer.job_template(scheduler)
        await asyncio.to_thread(peer.bulk_fill_jobs, path, jobs, template, checkpoint=False)
        scheduler.wakeup()
        overrun = time.time() > at.timestamp()
        end = time.monotonic() + 60
        while time.monotonic() < end and len(peer.FINISHED) < n:
            await asyncio.sleep(0.05)
            if time.time() > at.timestamp() + 20:  # skipped jobs never come
                break
        finished = dict(peer.FINISHED)
        scheduler.shutdown(wait=False)
        peer.bind(None)
    latencies = [finished[i] - due_at[i] for i in finished if i in due_at]
    return {"latencies": latencies, "missed": n - len(latencies), "overrun": overrun}


def median_round(rounds: list[dict[str, Any]]) -> tuple[float, int]:
    p99s = sorted(percentile(r["latencies"], 99) for r in rounds)
    return p99s[len(p99s) // 2], sum(r["missed"] for r in rounds)


# --------------------------------------------------------------------------- main


async def _template(path: str) -> dict[str, Any]:
    scheduler = peer.make_scheduler(path)
    scheduler.start(paused=True)
    template: dict[str, Any] = peer.job_template(scheduler)
    scheduler.shutdown(wait=False)
    return template


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="a tenth of the pending launches")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    pending = 100_000 if args.quick else 1_000_000
    adds, bulk, due = 300, 10_000, 1000
    now = dt.datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="slipwatch-bench-") as tmp:
        empty = str(Path(tmp) / "empty.db")
        ours = str(Path(tmp) / "slipwatch.db")
        theirs = str(Path(tmp) / "peer.db")
        t0 = time.perf_counter()
        build_db(empty, 0, now)
        build_db(ours, pending, now)
        shutil.copyfile(ours, theirs)
        template = asyncio.run(_template(theirs))
        for start in range(0, pending, 200_000):
            chunk = pending_launches(min(200_000, pending - start), now, start)
            peer.bulk_fill_jobs(
                theirs,
                [
                    (start + i + 1, b.guild_id, 0, b.next_due_at)
                    for i, b in enumerate(chunk)
                    if b.next_due_at is not None
                ],
                template,
            )
        fill_s = time.perf_counter() - t0

        in_child("slipwatch", ours)  # the bot ran before: what fell due at set-up is handled
        r_empty = in_child("slipwatch", empty)
        r_ours = in_child("slipwatch", ours)
        r_peer_empty = in_child("peer", empty)
        r_peer = in_child("peer", theirs)
        cache = cached_bytecode(tmp)
        in_child("slipwatch", ours, cache)  # compiles every module once, into the cache
        r_cached = in_child("slipwatch", ours, cache)

        ours_add, ours_bulk = asyncio.run(add_slipwatch(ours, adds, bulk))
        peer_add, peer_bulk = asyncio.run(add_peer(theirs, adds, bulk))

        ours_due: list[dict[str, Any]] = []
        peer_due: list[dict[str, Any]] = []
        for round_no in range(args.rounds):
            ours_due.append(asyncio.run(due_slipwatch(ours, round_no, due)))
            peer_due.append(asyncio.run(due_peer(theirs, round_no, due)))
        assert all(r["queued"] == due for r in ours_due), [r["queued"] for r in ours_due]

    ours_p99, ours_missed = median_round(ours_due)
    peer_p99, peer_missed = median_round(peer_due)
    ours_add_ms = statistics.median(ours_add) * 1000
    peer_add_ms = statistics.median(peer_add) * 1000
    figures = {
        "bench": "engine",
        "quick": args.quick,
        "pending": pending,
        "guilds": GUILDS,
        "add_ms": round(ours_add_ms, 2),
        "peer_add_ms": round(peer_add_ms, 2),
        "add_speedup_vs_peer": round(peer_add_ms / ours_add_ms, 2),
        "bulk_10k_s": round(ours_bulk, 3),
        "peer_bulk_10k_s": round(peer_bulk, 3),
        "bulk_speedup_vs_peer": round(peer_bulk / ours_bulk, 1),
        "restart_armed_s": round(r_ours["armed_s"], 3),
        "restart_imports_s": round(r_ours["imports_s"], 3),
        "restart_open_to_armed_s": round(r_ours["open_to_armed_s"], 3),
        "restart_checked_s": round(r_ours["checked_s"], 3),
        "restart_armed_cached_s": round(r_cached["armed_s"], 3),
        "peer_restart_armed_s": round(r_peer["armed_s"], 3),
        "peer_restart_open_to_armed_s": round(r_peer["open_to_armed_s"], 3),
        "extra_rss_mb_1m": round((r_ours["peak_rss_kb"] - r_empty["peak_rss_kb"]) / 1024, 1),
        "peer_extra_rss_mb_1m": round(
            (r_peer["peak_rss_kb"] - r_peer_empty["peak_rss_kb"]) / 1024, 1
        ),
        "due": due,
        "rounds": args.rounds,
        "sweep_1000_due_p99_ms": round(ours_p99 * 1000, 1),
        "peer_sweep_1000_due_p99_ms": round(peer_p99 * 1000, 1),
        "due_speedup_vs_peer": round(peer_p99 / ours_p99, 1),
        "missed": ours_missed,
        "setup_overruns": sum(r["overrun"] for r in ours_due + peer_due),
        "peer_missed": peer_missed,
        "fill_s": round(fill_s, 1),
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

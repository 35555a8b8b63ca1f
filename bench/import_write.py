"""An import's write: how long it holds the database's one writer, batched (as /launch import
writes now) beside one statement per launch and per history row (as it wrote before), on SQLite
and on PostgreSQL, in the same run; and how late the alerts that fall due while an import runs
arrive.

    python bench/import_write.py [--quick]     (5,000 launches; --quick: 1,000)

1. Hold: the same file (launches in every state, 1 to 3 history rows each) imported through
   TransferService.import_launches, once with the batched write and once with the per-row write
   (tests/import_reference.py), three times each, alternating, into fresh servers. The hold is
   the time from asking for the write transaction to its commit (nothing else waits for the
   writer here, so it is the time everyone else would wait); the median is reported, with the
   whole import (read, check, write) beside it.
2. Alerts during an import: 40 launches of a server with an alert channel fall due at instants
   spread evenly over 1.5 times the import's duration in 1; each alert's latency is the time
   from its due instant to the notifier receiving it, counted for the alerts that fell due
   while the import ran (n), or all of them with no import running (idle). Also during a dry
   run of the same file (read and checked, nothing written: what an import costs the bot
   besides the writer).

Needs a PostgreSQL server (SLIPWATCH_BENCH_PG, default the local one): makes its own database
and drops it. Prints one final JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import secrets
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import psycopg  # noqa: E402
from psycopg import sql  # noqa: E402

from storage.bulk import BulkLaunch, insert_launches_into  # noqa: E402
from storage.session import SqlSession, SqlStore, open_store  # noqa: E402
from tests.import_reference import many_rows, write_per_row  # noqa: E402
from tracker.app import open_slipwatch  # noqa: E402
from tracker.clock import SystemClock  # noqa: E402
from tracker.limits import Limits  # noqa: E402
from tracker.models import OutboxRow  # noqa: E402
from tracker.outbox.delivery import Delivered, DeliveryResult, DeliverySettings  # noqa: E402
from tracker.settings import Settings  # noqa: E402
from tracker.transfer import TransferFormat, TransferService  # noqa: E402
from tracker.transfer.planning import PlannedLaunch  # noqa: E402

UTC = dt.UTC
ADMIN_URL = os.environ.get("SLIPWATCH_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
ROUNDS = 3
ALERTS = 40
ALERT_GUILD = 77
ALERT_CHANNEL = 7700


class TimedStore:
    """A store that times each write transaction, from asking for it to its commit."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store
        self.held: list[float] = []

    @property
    def read(self) -> SqlSession:
        return self.store.read

    def snapshot(self) -> Any:
        return self.store.snapshot()

    @asynccontextmanager
    async def transaction(self, *, bookkeeping: bool = False) -> AsyncIterator[SqlSession]:
        t0 = time.perf_counter()
        async with self.store.transaction(bookkeeping=bookkeeping) as tx:
            yield tx
        self.held.append(time.perf_counter() - t0)

    async def quick_check(self) -> None:
        await self.store.quick_check()

    async def checked(self) -> None:
        await self.store.checked()


class PerRowTransfer(TransferService):
    """The import as it wrote before: one statement per launch and per history row."""

    async def _write(self, planned: list[PlannedLaunch]) -> list[int]:
        return await write_per_row(self.store, planned)


class TimingNotifier:
    """Notes when each launch's first alert reaches it."""

    def __init__(self) -> None:
        self.first: dict[int, float] = {}

    async def deliver(self, row: OutboxRow) -> DeliveryResult:
        now = time.monotonic()
        for alert in row.payload.alerts:
            self.first.setdefault(alert.launch.id, now)
        return Delivered(message_id=1)


def limits(n: int) -> Limits:
    return Limits(launches_per_guild=n, imports_per_hour=100)


async def hold_times(target: str, data: bytes, n: int) -> dict[str, float]:
    """Median writer hold (ms) and whole import (s) of each write, alternating."""
    held: dict[str, list[float]] = {"batched": [], "per_row": []}
    whole: dict[str, list[float]] = {"batched": [], "per_row": []}
    async with open_store(target) as store:
        timed = TimedStore(store)
        services = {
            "per_row": PerRowTransfer(timed, SystemClock(), limits=limits(n)),
            "batched": TransferService(timed, SystemClock(), limits=limits(n)),
        }
        guild = 1000
        for _ in range(ROUNDS):
            for name, service in services.items():
                guild += 1
                timed.held.clear()
                t0 = time.perf_counter()
                report = await service.import_launches(guild, data, TransferFormat.JSON)
                whole[name].append(time.perf_counter() - t0)
                assert report.ok and report.created == n, report.summary()
                [transaction] = timed.held  # the import's one write transaction
                held[name].append(transaction)
    return {
        "import_write_ms": round(statistics.median(held["batched"]) * 1000, 1),
        "per_row_import_write_ms": round(statistics.median(held["per_row"]) * 1000, 1),
        "import_s": round(statistics.median(whole["batched"]), 2),
        "per_row_import_s": round(statistics.median(whole["per_row"]), 2),
    }


async def alert_latencies(
    target: str, data: bytes, n: int, spans: dict[str, float]
) -> dict[str, dict[str, float | int]]:
    """Alerts falling due evenly over each kind of import's duration (*spans*, s): their
    latency p50 and max (ms), per kind of import, and with none running ("idle")."""
    notifier = TimingNotifier()
    settings = Settings(db_path=target, limits=limits(n))
    clock = SystemClock()
    out: dict[str, dict[str, float | int]] = {}
    async with (
        open_store(target) as store,
        open_slipwatch(
            settings,
            store,
            notifier=notifier,
            clock=clock,
            delivery=DeliverySettings(concurrency=4),
        ) as app,
    ):
        await app.tracker.configure(
            ALERT_GUILD,
            alert_channel_id=ALERT_CHANNEL,
            reminder_offsets=(),
            late_milestones=(),
            digest_schedule="off",
        )
        await app.start()
        services: dict[str, TransferService | None] = {
            "idle": None,
            "dry_run": app.transfer,
            "per_row": PerRowTransfer(store, clock, app.engine.poke, limits=limits(n)),
            "batched": app.transfer,
        }
        guild = 2000
        for name, service in services.items():
            span = spans["per_row" if name == "per_row" else "batched"]
            wall = clock.now() + dt.timedelta(seconds=1)
            mono = time.monotonic() + 1.0
            # Spread over a little more than the import took in part 1: it varies.
            offsets = [1.5 * span * (i + 0.5) / ALERTS for i in range(ALERTS)]
            rows = [
                BulkLaunch(
                    ALERT_GUILD,
                    f"Due {name} {i}",
                    "Lab",
                    wall.date(),
                    wall.date(),
                    wall + dt.timedelta(seconds=offset),
                    wall + dt.timedelta(seconds=offset),
                )
                for i, offset in enumerate(offsets)
            ]
            await insert_launches_into(store.db, rows, clock.now())
            due = await due_ids(store, [r.product for r in rows])
            app.engine.poke()
            await asyncio.sleep(max(0.0, mono - time.monotonic()))
            start = end = time.monotonic()
            if name == "dry_run" and service is not None:
                checked = await service.check(guild + 1, data, TransferFormat.JSON)
                end = time.monotonic()
                assert checked.ok and checked.would_create == n, checked.summary()
            elif service is not None:
                guild += 1
                report = await service.import_launches(guild, data, TransferFormat.JSON)
                end = time.monotonic()
                assert report.ok and report.created == n, report.summary()
            deadline = time.monotonic() + span + 60
            while len([i for i in due if i in notifier.first]) < ALERTS:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"alerts missing after the {name} import")
                await asyncio.sleep(0.01)
            # Only the alerts that fell due while the import ran (all of them when idle): the
            # import's duration varies from run to run on a busy machine.
            late = [
                notifier.first[i] - (mono + o)
                for i, o in zip(due, offsets, strict=True)
                if service is None or start <= mono + o <= end
            ]
            out[name] = {
                "p50_ms": round(statistics.median(late) * 1000, 1) if late else float("nan"),
                "max_ms": round(max(late) * 1000, 1) if late else float("nan"),
                "n": len(late),
            }
    return out


async def due_ids(store: SqlStore, products: Sequence[str]) -> list[int]:
    """The ids of the alert launches named *products*, in that order."""
    ids = {}
    for product in products:
        row = await store.db.fetchone(
            "SELECT id FROM launches WHERE guild_id = ? AND product = ?", (ALERT_GUILD, product)
        )
        assert row is not None
        ids[product] = int(row[0])
    return [ids[p] for p in products]


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    name = "slipwatch_bench_" + secrets.token_hex(4)
    base = ADMIN_URL.rpartition("/")[0]
    async with await psycopg.AsyncConnection.connect(ADMIN_URL, autocommit=True) as admin:
        await admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield f"{base}/{name}"
        finally:
            await admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def import_file(n: int) -> bytes:
    """*n* launches in every state with their histories; the open ones due years from now, so
    that the engine has nothing of theirs to handle beside the alerts measured."""
    rows = many_rows(n)
    for row in rows:
        if row["state"] == "upcoming":
            row["window_phrase"] = "end of 2099"
            row["window_end"] = "2099-12-31"
    return json.dumps(rows).encode()


async def run(n: int) -> dict[str, Any]:
    data = import_file(n)
    k = f"{n // 1000}k" if n % 1000 == 0 else str(n)
    figures: dict[str, Any] = {
        "bench": "import_write",
        "launches": n,
        "history_rows": sum(len(r["events"]) for r in json.loads(data)),
    }
    with tempfile.TemporaryDirectory(prefix="slipwatch-import-") as tmp:
        async with postgres_database() as pg_url:
            for backend, target in (("sqlite", str(Path(tmp) / "bench.db")), ("postgres", pg_url)):
                held = await hold_times(target, data, n)
                for key, value in held.items():
                    name, _, unit = key.rpartition("_")
                    figures[f"{backend}_{name}_{k}_{unit}"] = value
                spans = {"batched": held["import_s"], "per_row": held["per_row_import_s"]}
                latency = await alert_latencies(target, data, n, spans)
                for name, values in latency.items():
                    where = {
                        "idle": "idle",
                        "dry_run": "during_dry_run",
                        "batched": "during_import",
                        "per_row": "during_per_row_import",
                    }[name]
                    for stat, value in values.items():
                        figures[f"{backend}_alert_{where}_{stat}"] = value
    return figures


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="1,000 launches")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(1000 if args.quick else 5000))))


if __name__ == "__main__":
    main()

"""The peer slipwatch is measured against: the design popular reminder bots use.

One APScheduler job per deadline, in a running AsyncIOScheduler whose jobs persist in a
SQLAlchemyJobStore on SQLite (a jobs file of its own beside the launches' database: sharing one
file deadlocks, as the store writes synchronously on the event loop while a job holds the
write lock). When a job fires, it does the same
work slipwatch's sweep does for one due launch, in its own transaction: the compare-and-set
state change, the history row and the outbox row. Default job settings (misfire grace 1 s), as
such bots ship them.
"""

from __future__ import annotations

import datetime as dt
import pickle
import sqlite3
import time
from typing import Any

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.date import DateTrigger
from sqlalchemy import create_engine, event

from storage.db import Database, to_ms

UTC = dt.UTC

# The peer's job function needs module-level state (APScheduler stores a textual reference).
_DB: Database | None = None
FINISHED: dict[int, float] = {}  # launch id -> time.time() when its job's work committed


def jobs_file(db_path: str) -> str:
    """Where the peer keeps its jobs for the launches database at *db_path*."""
    return db_path + ".jobs"


def make_scheduler(db_path: str) -> AsyncIOScheduler:
    """A scheduler with its jobs in their own SQLite file next to the launches', with the same
    durability settings slipwatch uses (WAL, synchronous=NORMAL): not a strawman that fsyncs
    every add."""
    engine = create_engine(f"sqlite:///{jobs_file(db_path)}")

    @event.listens_for(engine, "connect")
    def _pragmas(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.execute("PRAGMA busy_timeout = 5000")
        cur.close()

    return AsyncIOScheduler(jobstores={"default": SQLAlchemyJobStore(engine=engine)}, timezone=UTC)


def bind(db: Database | None) -> None:
    """Give the job function its database (or take it away)."""
    global _DB
    _DB = db
    FINISHED.clear()


async def deadline_job(launch_id: int, guild_id: int, channel_id: int) -> None:
    """What fires for one deadline: the sweep's work for one launch, in one transaction."""
    assert _DB is not None
    now = dt.datetime.now(UTC)
    stamp = to_ms(now)
    async with _DB.transaction() as conn:
        cur = await conn.execute(
            "UPDATE launches SET state = 'slipped', days_late = 0, next_due_at = NULL, "
            "updated_at = ? WHERE id = ? AND state = 'upcoming'",
            (stamp, launch_id),
        )
        changed = cur.rowcount
        await cur.close()
        if changed:
            await conn.execute(
                "INSERT INTO launch_events (launch_id, guild_id, kind, at, actor, data) "
                "VALUES (?, ?, 'slipped', ?, 'peer', '{}')",
                (launch_id, guild_id, stamp),
            )
            key = f"peer:{launch_id}"
            await conn.execute(
                "INSERT OR IGNORE INTO outbox (guild_id, dest_kind, dest_id, idem_key, nonce, "
                "payload, state, next_attempt_at, created_at, queued_at, fair_key) "
                "VALUES (?, 'channel', ?, ?, ?, '{}', 'sent', ?, ?, ?, 0)",
                (guild_id, channel_id, key, key[:25], stamp, stamp, stamp),
            )
    FINISHED[launch_id] = time.time()


def add_job(
    scheduler: AsyncIOScheduler, launch_id: int, guild_id: int, channel_id: int, at: dt.datetime
) -> None:
    """Arm one deadline the peer's way."""
    scheduler.add_job(
        deadline_job,
        DateTrigger(run_date=at, timezone=UTC),
        args=[launch_id, guild_id, channel_id],
        id=f"deadline-{launch_id}",
        replace_existing=True,
    )


def bulk_fill_jobs(
    db_path: str,
    jobs: list[tuple[int, int, int, dt.datetime]],
    template: dict[str, Any],
    *,
    checkpoint: bool = True,
) -> None:
    """Write jobs straight into the job store's table, byte for byte what add_job writes
    (a pickled Job state), so that a million pending jobs take seconds instead of an hour to
    set up. *template* is the state of one job made through add_job."""
    conn = sqlite3.connect(jobs_file(db_path), isolation_level=None)
    try:
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        rows = []
        for launch_id, guild_id, channel_id, at in jobs:
            state = dict(template)
            state["id"] = f"deadline-{launch_id}"
            state["args"] = (launch_id, guild_id, channel_id)
            state["trigger"] = DateTrigger(run_date=at, timezone=UTC)
            state["next_run_time"] = at
            rows.append((state["id"], at.timestamp(), pickle.dumps(state, pickle.HIGHEST_PROTOCOL)))
            if len(rows) >= 50_000:
                conn.executemany(
                    "INSERT INTO apscheduler_jobs (id, next_run_time, job_state) VALUES (?, ?, ?)",
                    rows,
                )
                rows.clear()
        if rows:
            conn.executemany(
                "INSERT INTO apscheduler_jobs (id, next_run_time, job_state) VALUES (?, ?, ?)",
                rows,
            )
        conn.execute("COMMIT")
        if checkpoint:
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def job_template(scheduler: AsyncIOScheduler) -> dict[str, Any]:
    """The stored state of one real job (added, read back, removed)."""
    add_job(scheduler, 0, 0, 0, dt.datetime(2100, 1, 1, tzinfo=UTC))
    job = scheduler.get_job("deadline-0")
    assert job is not None
    state: dict[str, Any] = job.__getstate__()
    scheduler.remove_job("deadline-0")
    return state

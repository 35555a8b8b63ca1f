"""When the disk or the database file fails: the real cause is said, nothing is lost, and a
damaged file is never written into."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot import running_resources
from storage.db import SqliteDatabase
from storage.session import SqlStore
from tests.harness import GUILD, RecordingNotifier, harness
from tests.loopback.fixtures import discord_endpoints_restored
from tests.test_cli import run_cli
from tracker.clock import SimClock
from tracker.engine import Engine
from tracker.errors import DamagedDatabase, DiskFull
from tracker.launches import Tracker
from tracker.models import NewLaunch
from tracker.outbox.delivery import Deliverer
from tracker.settings import Secret, Settings
from tracker.transfer import TransferFormat, TransferService

UTC = dt.UTC
START = dt.datetime(2025, 3, 1, tzinfo=UTC)


def launch(n: int) -> NewLaunch:
    return NewLaunch(
        GUILD, f"Model {n}", "Lab", "end of 2026", dt.date(2025, 1, 1), quote="x" * 900
    )


async def test_a_full_disk_is_said_as_such_and_nothing_is_lost(tmp_path: Path) -> None:
    async with SqliteDatabase.open(tmp_path / "db.sqlite") as db:
        tracker = Tracker(SqlStore(db), SimClock(START))
        await tracker.add(launch(0), "mod")
        async with db.transaction() as conn:
            rows = list(await conn.execute_fetchall("PRAGMA page_count"))
            pages = rows[0][0]
            # The database may not grow past its size now: a full disk, as SQLite sees it.
            await conn.execute(f"PRAGMA max_page_count = {pages}")
        added = 1
        with pytest.raises(DiskFull) as caught:
            for n in range(1, 500):
                await tracker.add(launch(n), "mod")
                added += 1
        assert str(caught.value) == (
            "The disk is full, so nothing was saved (every earlier change is kept). Ask the "
            "bot's operator to free some space, then try again."
        )
        assert await SqlStore(db).read.launches.count_launches(GUILD) == added
        # Space comes back: the same connection works again and every launch is there.
        async with db.transaction() as conn:
            await conn.execute("PRAGMA max_page_count = 1073741823")
        await tracker.add(launch(1000), "mod")
        assert await SqlStore(db).read.launches.count_launches(GUILD) == added + 1
        assert await db.integrity_check() == []


async def seed_launches(path: Path) -> None:
    async with harness(path) as h:
        for n in range(300):
            await h.add(f"Model {n}", "Lab", "end of 2026", quote="x" * 500)


def corrupt(path: Path) -> str:
    """Overwrite a page in the middle of the (cleanly closed) file; returns its new hash."""
    with sqlite3.connect(path) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    with open(path, "r+b") as f:
        f.seek(page_size * (pages // 2) + 8)
        f.write(b"\xff" * (page_size - 16))
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_damaged(path: Path) -> str:
    """A slipwatch database with 300 launches, then a page in the middle overwritten."""
    asyncio.run(seed_launches(path))
    return corrupt(path)


async def test_a_damaged_database_is_refused_at_start(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    await seed_launches(path)
    await asyncio.to_thread(corrupt, path)
    with pytest.raises(DamagedDatabase) as caught:
        async with SqliteDatabase.open(path):
            pass
    message = str(caught.value)
    assert message.startswith(f"The database file {path} is damaged (")
    assert message.endswith(
        f"nothing was written to it. Stop slipwatch and restore {path} from a backup, or "
        f"rescue what is readable with `sqlite3 {path} .recover | sqlite3 recovered.db` and "
        "point SLIPWATCH_DB at recovered.db (then run `python bot.py check`)."
    )


async def test_export_and_import_refuse_a_damaged_file(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    await seed_launches(path)
    before = await asyncio.to_thread(corrupt, path)
    export = json.dumps([{"product": "Grok 3", "vendor": "xAI", "window_phrase": "end of 2024"}])
    async with SqliteDatabase.open(path, check=False) as db:
        service = TransferService(SqlStore(db), SimClock(START))
        with pytest.raises(DamagedDatabase):
            await service.export(GUILD, TransferFormat.JSON)
        with pytest.raises(DamagedDatabase):
            await service.import_launches(GUILD, export, TransferFormat.JSON)
    after = await asyncio.to_thread(path.read_bytes)
    assert hashlib.sha256(after).hexdigest() == before


def corrupt_table(path: Path, table: str) -> None:
    """Overwrite the root page of *table* (every read of the table goes through it)."""
    with sqlite3.connect(path) as conn:
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        root = conn.execute(
            "SELECT rootpage FROM sqlite_master WHERE type = 'table' AND name = ?", (table,)
        ).fetchone()[0]
    with open(path, "r+b") as f:
        f.seek(page_size * (root - 1))
        f.write(b"\xff" * page_size)


async def test_damage_after_the_start_check_is_met_by_the_exports_own_reads(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite"
    await seed_launches(path)
    async with SqliteDatabase.open(path) as db:  # checked when opened: healthy
        service = TransferService(SqlStore(db), SimClock(START))
        # Damaged after that check, which an export does not repeat: its own reads meet the
        # damage and say so, and no file is made.
        await asyncio.to_thread(corrupt_table, path, "launches")
        with pytest.raises(DamagedDatabase) as caught:
            await service.export(GUILD, TransferFormat.CSV)
        assert str(caught.value).startswith(
            f"The database file {path} is damaged (database disk image is malformed); "
        )
        # The reader it used was handed back out of its read transaction: other reads go on.
        for _ in range(3):
            assert await SqlStore(db).read.guilds.get_guild(GUILD) is not None


async def test_an_export_waits_for_the_check_running_beside_the_start(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    await seed_launches(path)
    await asyncio.to_thread(corrupt, path)
    export = json.dumps([{"product": "Grok 3", "vendor": "xAI", "window_phrase": "end of 2024"}])
    with pytest.raises(DamagedDatabase):  # raised again on close
        async with SqliteDatabase.open(path, check="background") as db:
            service = TransferService(SqlStore(db), SimClock(START))
            for attempt in (
                service.export(GUILD, TransferFormat.JSON),
                service.check(GUILD, export, TransferFormat.JSON),
            ):
                with pytest.raises(DamagedDatabase) as caught:
                    await attempt
                assert str(caught.value).startswith(f"The database file {path} is damaged (")


def test_the_command_line_says_how_to_recover(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    before = make_damaged(path)
    env = {"SLIPWATCH_DB": str(path)}
    check = run_cli("check", env=env, cwd=tmp_path)
    assert check.returncode == 1
    assert f"database {path}: FAILED" in check.stdout
    assert f"`sqlite3 {path} .recover | sqlite3 recovered.db`" in check.stdout
    (tmp_path / "in.json").write_text("[]")
    for args in (
        ("export", "--guild", "1", "--out", "out.json"),
        ("import", "in.json", "--guild", "1"),
    ):
        result = run_cli(*args, env=env, cwd=tmp_path)
        assert result.returncode == 1, result.stderr
        assert f"slipwatch: The database file {path} is damaged (" in result.stderr
        assert "Traceback" not in result.stderr
    assert not (tmp_path / "out.json").exists()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def seeded(tmp_path: Path) -> tuple[Path, dict[str, Any]]:
    """A database with one launch in server 7, and that launch as exported (a valid row)."""
    db = tmp_path / "cli.db"

    async def seed() -> None:
        async with SqliteDatabase.open(db) as handle:
            tracker = Tracker(SqlStore(handle), SimClock(START))
            new = NewLaunch(7, "Grok 3", "xAI", "end of 2024", dt.date(2024, 7, 1))
            await tracker.add(new, "t")

    asyncio.run(seed())
    env = {"SLIPWATCH_DB": str(db)}
    out = run_cli("export", "--guild", "7", "--out", "base.json", env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    return db, json.loads((tmp_path / "base.json").read_text())[0]


def test_cli_import_bad_values_are_row_or_file_errors(tmp_path: Path) -> None:
    db, base = seeded(tmp_path)
    env = {"SLIPWATCH_DB": str(db)}
    cases = {
        "bigint": (
            [{**base, "slip_count": 10**40}],
            "- Row 1: slip_count a number with more than 30 digits is too large (at most 1000000)",
        ),
        "far": (
            [{**base, "window_end": "9999-12-31"}],
            "- Row 1: window_end 9999-12-31 is out of range (1900 to 2999)",
        ),
        "early": (
            [{**base, "created_at": "0001-01-01T00:00:00+14:00"}],
            "- Row 1: created_at '0001-01-01T00:00:00+14:00' is out of range (1900 to 2999)",
        ),
        "nested": (
            [
                {
                    **base,
                    "events": [
                        {**base["events"][0], "data": {"a": json.loads("[" * 40 + "]" * 40)}}
                    ],
                }
            ],
            "- Row 1: event 1: data is nested deeper than 16 levels",
        ),
    }
    for name, (content, line) in cases.items():
        (tmp_path / f"{name}.json").write_text(json.dumps(content))
        result = run_cli("import", f"{name}.json", "--guild", "8", env=env, cwd=tmp_path)
        assert result.returncode == 1, (name, result.stderr)
        assert line in result.stdout.splitlines(), (name, result.stdout)
        assert "Traceback" not in result.stderr
    files = {
        "deep.json": (
            "[" * 100_000 + "]" * 100_000,
            "slipwatch: The file is nested too deep to be a slipwatch export (lists or objects "
            "inside each other hundreds of times).",
        ),
        "newer.json": (
            json.dumps({"schema": 7, "launches": [base]}),
            "slipwatch: The file was made by a newer slipwatch (schema 7); this one reads schema "
            "1 and older. Update slipwatch, then import it.",
        ),
    }
    for name, (text, message) in files.items():
        (tmp_path / name).write_text(text)
        result = run_cli("import", name, "--guild", "8", env=env, cwd=tmp_path)
        assert (result.returncode, result.stderr.strip().splitlines()[-1]) == (1, message)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT COUNT(*) FROM launches WHERE guild_id = 8").fetchone()[0] == 0


def test_cli_import_into_a_locked_database_says_so(tmp_path: Path) -> None:
    db, _ = seeded(tmp_path)
    holder = sqlite3.connect(db, timeout=0, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")  # another process is writing
        result = run_cli(
            "import", "base.json", "--guild", "8", env={"SLIPWATCH_DB": str(db)}, cwd=tmp_path
        )
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "slipwatch: The database is busy: another slipwatch process is writing to it. Nothing "
        "was saved; try again in a moment."
    )


def test_an_over_cap_csv_file_is_refused_while_streaming(tmp_path: Path) -> None:
    db = tmp_path / "cli.db"
    big = tmp_path / "big.csv"
    with open(big, "w") as f:
        f.write("product,vendor,window_phrase,announced_on\n")
        for n in range(200_000):  # far past the cap; reading stops at row 5,001
            f.write(f"Model {n},Lab,end of 2026,2025-01-01\n")
    result = run_cli(
        "import", str(big), "--guild", "8", env={"SLIPWATCH_DB": str(db)}, cwd=tmp_path
    )
    assert (result.returncode, result.stderr.strip().splitlines()[-1]) == (
        1,
        "slipwatch: The file has more than 5000 launches; at most 5000 per import. Split it and "
        "import the parts.",
    )


async def test_a_damaged_file_checked_beside_the_start_is_never_written_or_delivered_from(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite"
    await seed_launches(path)  # 300 launches, due at the end of 2026, alerts to a channel
    before = await asyncio.to_thread(corrupt, path)
    notifier = RecordingNotifier()
    clock = SimClock(dt.datetime(2027, 3, 1, tzinfo=UTC))  # every deadline has passed
    with pytest.raises(DamagedDatabase) as on_close:
        async with SqliteDatabase.open(path, check="background") as db:
            scheduler = AsyncIOScheduler(timezone=UTC)
            scheduler.start()
            store = SqlStore(db)
            engine = Engine(store, clock, scheduler, Deliverer(store, clock, notifier))
            try:
                # The catch-up sweep waits for the check's verdict, then fails (logged).
                await engine.start()
                with pytest.raises(DamagedDatabase):
                    await db.checked()
                with pytest.raises(DamagedDatabase):
                    async with db.transaction():
                        pass
                with pytest.raises(DamagedDatabase):
                    await Tracker(store, clock).add(launch(1), "mod")
            finally:
                await engine.stop()
                scheduler.shutdown(wait=False)
    assert str(on_close.value).startswith(f"The database file {path} is damaged (")
    assert notifier.attempts == []
    after = await asyncio.to_thread(path.read_bytes)
    assert hashlib.sha256(after).hexdigest() == before


async def test_a_sound_file_checked_beside_the_start_takes_writes(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite"
    await seed_launches(path)
    async with SqliteDatabase.open(path, check="background") as db:
        tracker = Tracker(SqlStore(db), SimClock(START))
        await tracker.add(launch(1000), "mod")  # waits for the verdict, then writes
        await db.checked()
        assert await SqlStore(db).read.launches.count_launches(GUILD) == 301


async def test_a_file_that_needs_migrating_is_checked_before_it_is_migrated(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite"
    await seed_launches(path)
    await asyncio.to_thread(corrupt, path)
    with sqlite3.connect(path) as conn:
        conn.execute("PRAGMA user_version = 9")  # an older slipwatch's file
    with pytest.raises(DamagedDatabase):
        async with SqliteDatabase.open(path, check="background"):
            pass
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == 9


async def test_the_bot_stops_when_the_check_beside_its_start_finds_damage(
    tmp_path: Path,
) -> None:
    path = tmp_path / "db.sqlite"
    await seed_launches(path)
    before = await asyncio.to_thread(corrupt, path)
    settings = Settings(token=Secret("not-used"), db_path=str(path))
    with discord_endpoints_restored(), pytest.raises(DamagedDatabase) as on_close:
        async with running_resources(settings) as bot:
            for _ in range(1000):  # the check of 300 launches takes milliseconds
                if bot.is_closed():
                    break
                await asyncio.sleep(0.01)
            assert bot.is_closed()
    assert str(on_close.value).startswith(f"The database file {path} is damaged (")
    after = await asyncio.to_thread(path.read_bytes)
    assert hashlib.sha256(after).hexdigest() == before

"""An import's write in a few batched statements: it leaves exactly the rows one insert per
launch and per history row left (every column, on both databases), and it stays one
transaction: a write that fails midway leaves nothing, and the person importing is told as
before."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from storage.batch import MAX_PARAMETERS
from storage.db import Connection, Database
from storage.launches import RECORD_COLUMNS
from storage.session import SqlSession, SqlStore
from tests.e2e import world
from tests.harness import GUILD, harness
from tests.import_reference import many_rows, write_per_row
from tests.test_transfer import build_history
from tracker.models import LaunchState
from tracker.records import LaunchRecord
from tracker.transfer import TransferFormat, TransferService
from tracker.transfer.planning import plan_import

UTC = dt.UTC
PER_ROW = GUILD + 1
BATCHED = GUILD + 2
# More launches than one statement of the batch takes on SQLite: the file is written in two
# statements, the second not full.
MANY = 1203
assert MAX_PARAMETERS // len(RECORD_COLUMNS) < MANY < 2 * MAX_PARAMETERS // len(RECORD_COLUMNS)


async def stored_rows(db: Database, guild_id: int) -> tuple[list[dict[str, Any]], list[Any]]:
    """Every column of the guild's launches and history rows as stored, ids replaced by their
    place (launch ids in the history by the launch's place), and the launch ids."""
    launches = await db.fetchall(
        "SELECT * FROM launches WHERE guild_id = ? ORDER BY id", [guild_id]
    )
    place = {row["id"]: n for n, row in enumerate(launches)}
    events = await db.fetchall(
        "SELECT * FROM launch_events WHERE guild_id = ? ORDER BY id", [guild_id]
    )
    rows: list[dict[str, Any]] = []
    for table, found in (("launches", launches), ("launch_events", events)):
        for n, row in enumerate(found):
            values = {key: row[key] for key in row.keys()}  # noqa: SIM118 (values when iterated)
            values["id"] = n
            if table == "launch_events":
                values["launch_id"] = place[values["launch_id"]]
            rows.append({"table": table, **values, "guild_id": "the guild"})
    return rows, [row["id"] for row in launches] + [row["id"] for row in events]


def consecutive(ids: list[Any]) -> bool:
    return ids == list(range(ids[0], ids[0] + len(ids)))


async def test_a_batched_import_leaves_the_rows_one_insert_per_row_left(
    tmp_path: Path, db_target: str
) -> None:
    async with harness(db_target, start=dt.datetime(2024, 7, 1, 12, tzinfo=UTC)) as h:
        await build_history(h)  # the clock is now 2025-02-20
        service = TransferService(SqlStore(h.db), h.clock, on_change=h.engine.poke)
        exported = json.loads((await service.export(GUILD, TransferFormat.JSON)).content)
        text = json.dumps(exported + many_rows(MANY - len(exported)))

        config = await h.store.read.guilds.get_guild(PER_ROW)
        planned, errors, _ = plan_import(json.loads(text), config, h.clock.now())
        assert errors == [] and len(planned) == MANY
        per_row_ids = await write_per_row(h.store, planned)

        report = await service.import_launches(BATCHED, text.encode(), TransferFormat.JSON)
        assert report.ok and report.created == MANY
        assert report.summary() == f"Imported {MANY} launches with {report.events} history entries."

        old, old_ids = await stored_rows(h.db, PER_ROW)
        new, new_ids = await stored_rows(h.db, BATCHED)
        launch_rows = [r for r in new if r["table"] == "launches"]
        event_rows = [r for r in new if r["table"] == "launch_events"]
        assert len(launch_rows) == MANY and len(event_rows) == report.events > MANY
        assert new == old  # every column of every row
        # The ids the report gives are the launches' in file order, one after the other (one
        # writer), as the history's are.
        assert list(report.launch_ids) == new_ids[:MANY] and consecutive(new_ids[:MANY])
        assert consecutive(new_ids[MANY:]) and per_row_ids == old_ids[:MANY]
        assert [r["product"] for r in launch_rows[:6]] == [
            "Grok 3", "Claude 3.5 Opus", "Gemini 2", "GPT-5", "Llama 4", "Model 0",
        ]  # fmt: skip
        # The columns the engine and the score read came through, not only their defaults.
        assert {r["state"] for r in launch_rows} == {s.value for s in LaunchState}
        assert sum(r["next_due_at"] is not None for r in launch_rows) > MANY // 3
        assert {r["evidence"] for r in launch_rows} == {"official", "reported"}
        assert {r["first_window_end"] for r in launch_rows} >= {"2024-12-31", "2025-12-31"}
        fifth = launch_rows.index(next(r for r in launch_rows if r["product"] == "Model 5"))
        created = next(r for r in event_rows if r["launch_id"] == fifth)
        assert (created["kind"], created["actor"], json.loads(created["data"])) == (
            "created",
            "mod 0",
            {"window_end": "2025-12-31", "z": 5, "a": [1, {"b": "ü"}]},
        )
        # Told once, the engine armed the imported deadlines: the earliest due item is theirs.
        await h.engine.settle()
        due = await h.store.read.launches.next_due()
        imported = await h.store.read.launches.all_launches(BATCHED)
        assert due == min(x.next_due_at for x in imported if x.next_due_at is not None)


async def inject_failure(db: Database, after: int) -> None:
    """A history row by the actor "boom" fails to insert once its guild has *after* launches:
    only a write that has put every launch in already fails, in its middle (before, it would
    go through)."""
    async with db.transaction() as conn:
        if _pg(db):
            await conn.execute(
                "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.actor = 'boom' AND (SELECT COUNT(*) FROM launches "
                f"WHERE guild_id = NEW.guild_id) >= {after} THEN "
                "RAISE EXCEPTION 'injected failure midway'; END IF; RETURN NEW; END $$"
            )
            await conn.execute(
                "CREATE TRIGGER boom BEFORE INSERT ON launch_events "
                "FOR EACH ROW EXECUTE FUNCTION boom()"
            )
        else:
            await conn.execute(
                "CREATE TRIGGER boom BEFORE INSERT ON launch_events WHEN NEW.actor = 'boom' "
                "AND (SELECT COUNT(*) FROM launches WHERE guild_id = NEW.guild_id) "
                f">= {after} BEGIN SELECT RAISE(ABORT, 'injected failure midway'); END"
            )


async def remove_failure(db: Database) -> None:
    async with db.transaction() as conn:
        await conn.execute("DROP TRIGGER boom" + (" ON launch_events" if _pg(db) else ""))
        if _pg(db):
            await conn.execute("DROP FUNCTION boom()")


def _pg(db: Database) -> bool:
    return getattr(db, "dialect", "sqlite") == "postgresql"


async def counts(db: Database, guild_id: int) -> tuple[int, int]:
    launches = await db.fetchone("SELECT COUNT(*) FROM launches WHERE guild_id = ?", [guild_id])
    events = await db.fetchone("SELECT COUNT(*) FROM launch_events WHERE guild_id = ?", [guild_id])
    assert launches is not None and events is not None
    return int(launches[0]), int(events[0])


def failing_file() -> bytes:
    """MANY launches whose last history row fails to insert."""
    rows = many_rows(MANY)
    rows[-1]["events"].append({"kind": "note", "at": "2025-02-02T00:00:00+00:00", "actor": "boom"})
    return json.dumps(rows).encode()


async def test_an_import_failing_midway_in_discord_writes_nothing_and_says_so(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        store = w.bot.app.store
        assert isinstance(store, SqlStore)
        db = store.db
        await inject_failure(db, MANY)
        try:
            reply = await w.cmd("launch import", file=("many.json", failing_file()), dry_run=False)
            # The write failed after every launch was in (the trigger counts them): the
            # transaction took them all back, and the error reply is the one every
            # unexpected failure gets.
            assert reply.content == (
                "Something went wrong on our side; it was logged. Please try again."
            )
            assert await counts(db, w.guild) == (0, 0)
            rows = many_rows(MANY)
            good = await w.cmd("launch import", file=("good.json", json.dumps(rows).encode()),
                               dry_run=False)  # fmt: skip
            events = sum(len(r["events"]) for r in rows)
            assert good.content == f"Imported {MANY} launches with {events} history entries."
            assert await counts(db, w.guild) == (MANY, events)
        finally:
            await remove_failure(db)


async def test_the_failure_is_in_the_middle_of_the_write_and_rolled_back(
    tmp_path: Path, db_target: str
) -> None:
    async with harness(db_target, start=dt.datetime(2025, 3, 1, tzinfo=UTC)) as h:
        await h.add("Grok 3", "xAI", "end of 2026")
        before = await counts(h.db, GUILD)
        await inject_failure(h.db, MANY + 1)
        try:
            service = TransferService(SqlStore(h.db), h.clock, on_change=h.engine.poke)
            try:
                await service.import_launches(GUILD, failing_file(), TransferFormat.JSON)
            except Exception as exc:  # the driver's own error: sqlite3's or psycopg's
                failure = str(exc)
            else:
                raise AssertionError("the import did not fail")
            assert failure.splitlines()[0] == "injected failure midway"
            assert await counts(h.db, GUILD) == before == (1, 1)
            # The writer is free again: the next change goes through.
            await h.add("Grok 4", "xAI", "end of 2027")
            assert await counts(h.db, GUILD) == (2, 2)
        finally:
            await remove_failure(h.db)


async def page_count(conn: Connection) -> int:
    rows = list(await conn.execute_fetchall("PRAGMA page_count"))
    return int(rows[0][0])


class Undo(Exception):
    """Ends a transaction that only measured something."""


async def test_a_disk_filling_midway_through_an_import_keeps_nothing_and_says_so(
    tmp_path: Path,
) -> None:
    async with world(tmp_path / "db.sqlite") as w:
        store = w.bot.app.store
        assert isinstance(store, SqlStore)
        db = store.db
        rows = many_rows(MANY)
        data = json.dumps(rows).encode()
        # How many pages the import takes, measured in a transaction that is then undone.
        config = await store.read.guilds.get_guild(w.guild)
        planned, _, _ = plan_import(rows, config, w.clock.now())
        grown = 0
        with pytest.raises(Undo):
            async with db.transaction() as conn:
                before = await page_count(conn)
                await SqlSession(conn).launches.insert_launch_records(
                    [LaunchRecord(p.launch, p.events) for p in planned]
                )
                grown = await page_count(conn) - before
                raise Undo
        assert grown > 20
        # The disk fills when the import has written half of what it needs.
        async with db.transaction() as conn:
            await conn.execute(f"PRAGMA max_page_count = {await page_count(conn) + grown // 2}")
        reply = await w.cmd("launch import", file=("many.json", data), dry_run=False)
        assert reply.content == (
            "The disk is full, so nothing was saved (every earlier change is kept). Ask the "
            "bot's operator to free some space, then try again."
        )
        assert await counts(db, w.guild) == (0, 0)
        # Space comes back: the same file imports whole.
        async with db.transaction() as conn:
            await conn.execute("PRAGMA max_page_count = 1073741823")
        done = await w.cmd("launch import", file=("many.json", data), dry_run=False)
        events = sum(len(r["events"]) for r in rows)
        assert done.content == f"Imported {MANY} launches with {events} history entries."
        assert await counts(db, w.guild) == (MANY, events)
        assert await db.integrity_check() == []

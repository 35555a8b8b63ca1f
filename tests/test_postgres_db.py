"""The PostgreSQL database: its migrations mirror SQLite's, apply once, keep a schema version,
roll back whole, and the statement bridge reads like the SQLite connection."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from storage import db as sqlite_db
from storage.postgres import db as pg
from storage.postgres.db import PgDatabase, to_pyformat
from storage.schema import Migration, MigrationError
from tracker.settings import is_postgres_url, redact


def test_every_sqlite_migration_has_its_postgres_twin() -> None:
    sqlite_names = [m.name for m in sqlite_db.bundled_migrations()]
    assert [m.name for m in pg.bundled_migrations()] == sqlite_names


async def test_both_schemas_have_the_same_tables_and_columns(tmp_path: Path, pg_url: str) -> None:
    async with sqlite_db.SqliteDatabase.open(tmp_path / "s.db") as lite:
        tables = [
            r[0]
            for r in await lite.fetchall(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        expected = {
            table: [r["name"] for r in await lite.fetchall(f"PRAGMA table_info({table})")]
            for table in tables
        }
    async with PgDatabase.open(pg_url) as db:
        rows = await db.fetchall(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'public' AND table_name <> 'schema_migrations' "
            "ORDER BY table_name, ordinal_position"
        )
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row["table_name"], []).append(row["column_name"])
    assert found == expected


async def test_migrations_apply_once_and_record_the_version(pg_url: str) -> None:
    latest = pg.bundled_migrations()[-1]
    async with PgDatabase.open(pg_url) as db:
        assert await db.user_version() == latest.version
        applied = await db.fetchall("SELECT version, name FROM schema_migrations ORDER BY version")
        assert [(r[0], r[1]) for r in applied] == [
            (m.version, m.name) for m in pg.bundled_migrations()
        ]
        assert await db.integrity_check() == []
    async with PgDatabase.open(pg_url) as db:  # reopening applies nothing again
        assert await db.user_version() == latest.version
        assert len(await db.fetchall("SELECT 1 FROM schema_migrations")) == latest.version


async def test_a_failing_migration_leaves_the_previous_version(pg_url: str) -> None:
    good = Migration(1, "001_a.sql", "CREATE TABLE a (id BIGINT PRIMARY KEY);")
    bad = Migration(2, "002_b.sql", "CREATE TABLE b (id BIGINT); SELECT no_such_function();")
    with pytest.raises(MigrationError, match=r"migration 002_b\.sql failed"):
        async with PgDatabase.open(pg_url, migrations=[good, bad]):
            pass
    async with await psycopg.AsyncConnection.connect(pg_url) as conn:
        assert await pg.schema_version(conn) == 1
        cur = await conn.execute("SELECT to_regclass('a') IS NOT NULL, to_regclass('b') IS NULL")
        assert await cur.fetchone() == (True, True)


async def test_a_newer_database_is_refused(pg_url: str) -> None:
    async with PgDatabase.open(pg_url):
        pass
    older = pg.bundled_migrations()[:1]
    with pytest.raises(MigrationError, match="is newer than this slipwatch"):
        async with PgDatabase.open(pg_url, migrations=older):
            pass


async def test_statements_read_like_sqlite(pg_url: str) -> None:
    async with PgDatabase.open(pg_url) as db:
        async with db.transaction() as conn:
            insert = (
                "INSERT INTO guilds (guild_id, updated_at) VALUES (?, ?) ON CONFLICT DO NOTHING"
            )
            assert (await conn.execute(insert, (1, 5))).rowcount == 1
            assert (await conn.executemany(insert, [(1, 5), (2, 5), (3, 5)])).rowcount == 2
            update = "UPDATE guilds SET grace_days = ? WHERE guild_id >= ?"
            assert (await conn.execute(update, (True, 2))).rowcount == 2
        row = await db.fetchone(
            "SELECT guild_id, grace_days, timezone FROM guilds WHERE timezone LIKE '%T%' "
            "AND guild_id = ?",
            (2,),
        )
        assert row is not None
        assert (row[0], row["grace_days"], row["timezone"]) == (2, 1, "UTC")
        assert row.keys() == ["guild_id", "grace_days", "timezone"]


async def test_a_failed_transaction_writes_nothing(pg_url: str) -> None:
    async with PgDatabase.open(pg_url) as db:
        with pytest.raises(RuntimeError, match="boom"):
            async with db.transaction() as conn:
                insert = "INSERT INTO guilds (guild_id, updated_at) VALUES (?, ?)"
                await conn.execute(insert, (7, 1))
                raise RuntimeError("boom")
        assert await db.fetchall("SELECT * FROM guilds") == []


async def test_nocase_compares_like_sqlite(pg_url: str) -> None:
    async with PgDatabase.open(pg_url) as db:
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO launches (guild_id, product, vendor, announced_on, window_phrase, "
                "window_start, window_end, window_rule, deadline_at, created_at, updated_at) "
                "VALUES (1, 'Grok 3', 'xAI', '2024-07-01', 'end of 2024', '2024-12-31', "
                "'2024-12-31', 'explicit_date', 0, 0, 0)"
            )
        rows = await db.fetchall(
            "SELECT product FROM launches WHERE vendor = ? COLLATE nocase", ("XAI",)
        )
        assert [r[0] for r in rows] == ["Grok 3"]


def test_placeholders_are_translated_outside_quotes_only() -> None:
    assert to_pyformat("SELECT * FROM t WHERE a = ? AND b = ?") == (
        "SELECT * FROM t WHERE a = %s AND b = %s"
    )
    assert to_pyformat("SELECT '?', \"q?\" FROM t WHERE a LIKE ? ESCAPE '\\'") == (
        "SELECT '?', \"q?\" FROM t WHERE a LIKE %s ESCAPE '\\'"
    )
    assert to_pyformat("SELECT 'it''s ?%' -- why? 50%\n, ? % 2") == (
        "SELECT 'it''s ?%%' -- why? 50%%\n, %s %% 2"
    )


def test_only_postgres_urls_select_postgres() -> None:
    assert is_postgres_url("postgresql://u@h/db")
    assert is_postgres_url("postgres://u@h/db")
    assert not is_postgres_url("slipwatch.db")
    assert not is_postgres_url("/var/lib/postgresql.db")
    assert redact("postgresql://bot:s3cret@db:5432/slip") == "postgresql://bot:***@db:5432/slip"
    assert redact("postgresql://bot@db/slip") == "postgresql://bot@db/slip"


async def test_history_is_append_only_on_postgres_too(pg_url: str) -> None:
    async with PgDatabase.open(pg_url) as db:
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO launches (guild_id, product, vendor, announced_on, window_phrase, "
                "window_start, window_end, window_rule, deadline_at, created_at, updated_at) "
                "VALUES (1, 'Grok 3', 'xAI', '2024-07-01', 'end of 2024', '2024-12-31', "
                "'2024-12-31', 'explicit_date', 0, 0, 0)"
            )
            await conn.execute(
                "INSERT INTO launch_events (launch_id, guild_id, kind, at, actor) "
                "VALUES (1, 1, 'added', 0, 'tester')"
            )
        with pytest.raises(psycopg.errors.RaiseException, match="append-only"):
            async with db.transaction() as conn:
                await conn.execute("UPDATE launch_events SET note = 'rewritten'")
        rows = await db.fetchall("SELECT note FROM launch_events")
        assert [r[0] for r in rows] == [None]

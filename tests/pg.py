"""PostgreSQL for the tests, on the server named by SLIPWATCH_TEST_PG (default: the local
server, database test): an empty database per test for the migration tests, and for every other
test one migrated database per test run, emptied (TRUNCATE ... RESTART IDENTITY) before each
test, so a test starts from the same state as on a fresh SQLite file. Every database made here
is dropped afterwards.

Without a reachable server the PostgreSQL half of the suite is skipped with the reason shown;
in CI (CI=true) it fails instead, so CI can never pass without having run it.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import lru_cache

import psycopg
import pytest
from psycopg import sql

ADMIN_URL = os.environ.get("SLIPWATCH_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PREFIX = "slipwatch_test_"


@lru_cache(maxsize=1)
def unavailable_reason() -> str | None:
    """Why PostgreSQL cannot be used here, or None when it can."""
    try:
        with psycopg.connect(ADMIN_URL, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return f"PostgreSQL not reachable at {ADMIN_URL}: {str(exc).strip().splitlines()[0]}"
    return None


def require_postgres() -> None:
    """Skip (or, in CI, fail) the calling test when PostgreSQL is not reachable."""
    reason = unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true requires PostgreSQL: {reason}")
    pytest.skip(reason)


def url_for(name: str) -> str:
    """The admin URL pointed at another database on the same server."""
    base, _, _ = ADMIN_URL.rpartition("/")
    return f"{base}/{name}"


@asynccontextmanager
async def fresh_database() -> AsyncIterator[str]:
    """Create an empty database, yield its URL, drop it (closing whoever still holds it)."""
    require_postgres()
    name = PREFIX + secrets.token_hex(6)
    async with await psycopg.AsyncConnection.connect(ADMIN_URL, autocommit=True) as admin:
        await admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield url_for(name)
        finally:
            await admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _create(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop(name: str) -> None:
    """Drop a database made here, closing whoever still holds it."""
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


class SharedDatabase:
    """One migrated database for a whole test run, emptied for each test."""

    def __init__(self) -> None:
        self.name: str | None = None

    def url(self) -> str:
        """The database, created and migrated on first use, emptied now."""
        require_postgres()
        if self.name is None:
            name = PREFIX + "run_" + secrets.token_hex(6)
            _create(name)
            self.name = name
            asyncio.run(_migrate(url_for(name)))
        url = url_for(self.name)
        with psycopg.connect(url, autocommit=True) as conn:
            tables = [
                sql.Identifier(str(row[0]))
                for row in conn.execute(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'schema_migrations'"
                )
            ]
            conn.execute(
                sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(sql.SQL(", ").join(tables))
            )
        return url

    def close(self) -> None:
        """Drop the database (at the end of the run)."""
        if self.name is not None:
            drop(self.name)
            self.name = None


async def _migrate(url: str) -> None:
    from storage.postgres.db import PgDatabase

    async with PgDatabase.open(url):
        pass

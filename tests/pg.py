"""PostgreSQL for the tests: a fresh database per test on the server named by SLIPWATCH_TEST_PG
(default: the local server, database test), dropped afterwards.

Without a reachable server the PostgreSQL half of the suite is skipped with the reason shown;
in CI (CI=true) it fails instead, so CI can never pass without having run it.
"""

from __future__ import annotations

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

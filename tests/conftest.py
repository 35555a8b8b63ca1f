"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from tests.pg import SharedDatabase, fresh_database


@pytest_asyncio.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test (skipped without PostgreSQL, never in
    CI)."""
    async with fresh_database() as url:
        yield url


@pytest.fixture(scope="session")
def _shared_pg() -> Iterator[SharedDatabase]:
    shared = SharedDatabase()
    try:
        yield shared
    finally:
        shared.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_target(request: pytest.FixtureRequest, tmp_path: Path, _shared_pg: SharedDatabase) -> str:
    """What SLIPWATCH_DB would say for a fresh database: every test that takes it runs once on
    a new SQLite file and once on an emptied PostgreSQL database (skipped with the reason when
    no server is reachable, failed instead in CI)."""
    if request.param == "sqlite":
        return str(tmp_path / "slipwatch.db")
    return _shared_pg.url()

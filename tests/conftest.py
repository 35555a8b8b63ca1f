"""Fixtures shared by the whole suite."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from tests.pg import fresh_database


@pytest_asyncio.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database for one test (skipped without PostgreSQL, never in
    CI)."""
    async with fresh_database() as url:
        yield url

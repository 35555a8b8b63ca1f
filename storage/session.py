"""The storage port's implementation: repositories bound to a connection, and the store that
hands them out (tracker.ports describes both)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import cached_property
from pathlib import Path

from storage.boards import SqlBoards
from storage.db import CheckMode, Connection, Database, open_database
from storage.destinations import SqlDestinations
from storage.detections import SqlDetections
from storage.digests import SqlDigests
from storage.discovery import SqlDiscovery
from storage.events import SqlEvents
from storage.guilds import SqlGuilds
from storage.launches import SqlLaunches
from storage.outbox import SqlOutbox
from storage.probes import SqlProbes
from storage.subscriptions import SqlSubscriptions


class SqlSession:
    """Every repository on one connection; each is built on first use."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    @cached_property
    def guilds(self) -> SqlGuilds:
        return SqlGuilds(self.conn)

    @cached_property
    def launches(self) -> SqlLaunches:
        return SqlLaunches(self.conn)

    @cached_property
    def events(self) -> SqlEvents:
        return SqlEvents(self.conn)

    @cached_property
    def subscriptions(self) -> SqlSubscriptions:
        return SqlSubscriptions(self.conn)

    @cached_property
    def outbox(self) -> SqlOutbox:
        return SqlOutbox(self.conn)

    @cached_property
    def destinations(self) -> SqlDestinations:
        return SqlDestinations(self.conn)

    @cached_property
    def digests(self) -> SqlDigests:
        return SqlDigests(self.conn)

    @cached_property
    def boards(self) -> SqlBoards:
        return SqlBoards(self.conn)

    @cached_property
    def discovery(self) -> SqlDiscovery:
        return SqlDiscovery(self.conn)

    @cached_property
    def probes(self) -> SqlProbes:
        return SqlProbes(self.conn)

    @cached_property
    def detections(self) -> SqlDetections:
        return SqlDetections(self.conn)


class SqlStore:
    """A :class:`storage.db.Database` (SQLite or PostgreSQL) as the domain's store.

    ``db`` stays reachable for what is not the domain's business: schema version, integrity
    checks, and tests that look at the rows themselves."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._read = SqlSession(db.read)

    @property
    def read(self) -> SqlSession:
        """Repositories on the reader connection (committed data only)."""
        return self._read

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[SqlSession]:
        """Repositories reading one consistent state (see storage.db.Database.snapshot)."""
        async with self.db.snapshot() as conn:
            yield SqlSession(conn)

    @asynccontextmanager
    async def transaction(self, *, bookkeeping: bool = False) -> AsyncIterator[SqlSession]:
        """One unit of work (see storage.db.Database.transaction for *bookkeeping*)."""
        async with self.db.transaction(bookkeeping=bookkeeping) as conn:
            yield SqlSession(conn)

    async def quick_check(self) -> None:
        """Raise DamagedDatabase when the database is damaged (the verdict of the check made at
        open, or of one made now when none was)."""
        await self.db.quick_check()

    async def checked(self) -> None:
        """Wait for the check started beside the start, if any; DamagedDatabase when it found
        the database damaged."""
        await self.db.checked()


@asynccontextmanager
async def open_store(target: str | Path, *, check: CheckMode = True) -> AsyncIterator[SqlStore]:
    """Open (and migrate) the database SLIPWATCH_DB names, as the domain's store: a
    ``postgresql://`` URL selects PostgreSQL, anything else is a SQLite file (*check*: see
    storage.db.SqliteDatabase.open)."""
    async with open_database(target, check=check) as db:
        yield SqlStore(db)

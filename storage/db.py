"""The database behind the repositories: what a backend provides, and the SQLite backend.

:class:`Database`, :class:`Connection` and :class:`Cursor` are the surface the repositories use;
SQLite (:class:`SqliteDatabase`, the default) and PostgreSQL (storage.postgres.db.PgDatabase,
for several processes) both provide it, with the same storage format, and
:func:`open_database` picks one from SLIPWATCH_DB.

SQLite: one writer connection, guarded by an asyncio lock so that coroutines never interleave
statements inside one transaction, and one reader connection that sees only committed data (WAL).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

from storage.schema import Migration, MigrationError, shipped_migrations
from tracker.clock import millis
from tracker.errors import DamagedDatabase, DatabaseBusy, DiskFull
from tracker.settings import is_postgres_url

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000


def recovery_advice(path: str) -> str:
    """What an operator can do about a damaged database file at *path*."""
    return (
        f"Stop slipwatch and restore {path} from a backup, or rescue what is readable with "
        f"`sqlite3 {path} .recover | sqlite3 recovered.db` and point SLIPWATCH_DB at "
        "recovered.db (then run `python bot.py check`)."
    )


def damaged(path: str, detail: str) -> DamagedDatabase:
    """The error for a damaged database file (with what to do about it)."""
    lines = [line for line in detail.splitlines() if line.strip() and not line.startswith("***")]
    shown = (lines[0] if lines else "no detail")[:200]
    return DamagedDatabase(
        f"The database file {path} is damaged ({shown}); nothing was written to it. "
        + recovery_advice(path)
    )


def storage_error(exc: sqlite3.Error, path: str) -> Exception:
    """A domain error naming the real cause of a SQLite failure, or *exc* itself when it is
    not one a person can act on."""
    code = getattr(exc, "sqlite_errorcode", None)
    text = str(exc).lower()
    if code == sqlite3.SQLITE_FULL or "database or disk is full" in text:
        return DiskFull(
            "The disk is full, so nothing was saved (every earlier change is kept). Ask the "
            "bot's operator to free some space, then try again."
        )
    if code in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED) or "database is locked" in text:
        return DatabaseBusy(
            "The database is busy: another slipwatch process is writing to it. Nothing was "
            "saved; try again in a moment."
        )
    if code in (sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB) or "malformed" in text:
        return damaged(path, str(exc))
    return exc


def bundled_migrations() -> list[Migration]:
    """The migrations shipped in storage/migrations, in order."""
    return shipped_migrations("storage")


to_ms = millis  # the storage format: integer UTC milliseconds


def from_ms(value: int) -> dt.datetime:
    """Inverse of :func:`to_ms`."""
    return dt.datetime.fromtimestamp(value / 1000, tz=dt.UTC)


def from_ms_or_none(value: int | None) -> dt.datetime | None:
    """:func:`from_ms` that passes None through."""
    return None if value is None else from_ms(value)


class Cursor(Protocol):
    """What a statement left behind."""

    @property
    def rowcount(self) -> int:
        """Rows the statement changed."""
        ...

    async def fetchall(self) -> Iterable[Any]:
        """The rows it returned (each readable by position and by column name)."""
        ...

    async def fetchone(self) -> Any:
        """Its first row, or None."""
        ...

    async def close(self) -> None:
        """Release the cursor."""
        ...


class Connection(Protocol):
    """The statements a repository runs. SQL uses ``?`` placeholders and the SQL that both
    backends accept (``ON CONFLICT``, ``RETURNING``, ``COLLATE nocase``)."""

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Cursor:
        """Run one statement."""
        ...

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Cursor:
        """Run one statement per parameter row."""
        ...

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> Iterable[Any]:
        """Run a query and return its rows."""
        ...


class Database(Protocol):
    """One open database: write transactions, a reader, the schema version."""

    @property
    def path(self) -> str:
        """Where it is, for messages (a file, or a URL without its password)."""
        ...

    def transaction(self, *, bookkeeping: bool = False) -> AbstractAsyncContextManager[Connection]:
        """One write transaction: commit on exit, rollback on error.

        *bookkeeping*: the deliverer's own records (claims, sent marks, the DM channel cache),
        which touch no launch and which the outbox can redo (a lost sent mark means one resend,
        with its nonce). A backend may run them beside other transactions and commit them
        without waiting for the disk.
        """
        ...

    @property
    def read(self) -> Connection:
        """The connection for reads of committed data."""
        ...

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Any]:
        """Run a read-only query."""
        ...

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Any:
        """Run a read-only query and return its first row, if any."""
        ...

    async def user_version(self) -> int:
        """The schema version recorded in the database."""
        ...

    async def integrity_check(self) -> list[str]:
        """Problems found; empty when healthy."""
        ...

    async def quick_check(self) -> None:
        """Raise DamagedDatabase when the storage is damaged (before a big read or write)."""
        ...


def latest_version(target: str | Path) -> int:
    """The schema version this slipwatch brings for the backend *target* selects."""
    from storage.postgres import db as postgres

    if is_postgres_url(str(target)):
        return postgres.bundled_migrations()[-1].version
    return bundled_migrations()[-1].version


@asynccontextmanager
async def open_database(target: str | Path, *, check: bool = True) -> AsyncIterator[Database]:
    """Open (and migrate) the database SLIPWATCH_DB names: a ``postgresql://`` URL selects
    PostgreSQL, anything else is a SQLite file (*check*: see SqliteDatabase.open; PostgreSQL
    checks its own pages)."""
    from storage.postgres.db import PgDatabase

    if is_postgres_url(str(target)):
        async with PgDatabase.open(str(target)) as pg:
            yield pg
    else:
        async with SqliteDatabase.open(target, check=check) as lite:
            yield lite


class SqliteDatabase:
    """Owns the connections to one SQLite file. Use ``async with SqliteDatabase.open(path)``."""

    def __init__(self, path: str, writer: aiosqlite.Connection, reader: aiosqlite.Connection):
        self.path = path
        self._writer = writer
        self._reader = reader
        self._lock = asyncio.Lock()

    @classmethod
    @asynccontextmanager
    async def open(
        cls, path: str | Path, *, migrations: list[Migration] | None = None, check: bool = True
    ) -> AsyncIterator[SqliteDatabase]:
        """Open (creating if needed) and migrate the database at *path*. With *check* (the
        default) a damaged file is refused at once (PRAGMA quick_check, DamagedDatabase); the
        ``check`` command opens without it to report the details itself."""
        path = str(path)
        try:
            writer = await _connect(path)
        except sqlite3.DatabaseError as exc:
            raise storage_error(exc, path) from exc
        try:
            if check:
                await _quick_check(writer, path)
            await migrate(writer, bundled_migrations() if migrations is None else migrations)
            reader = await _connect(path)
        except sqlite3.DatabaseError as exc:
            await writer.close()
            raise storage_error(exc, path) from exc
        except BaseException:
            await writer.close()
            raise
        db = cls(path, writer, reader)
        try:
            yield db
        finally:
            await reader.close()
            await writer.close()

    @asynccontextmanager
    async def transaction(
        self, *, bookkeeping: bool = False
    ) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any error). SQLite has
        one writer for everything; in WAL mode no commit waits for the disk anyway."""
        async with self._lock:
            try:
                await self._writer.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as exc:
                raise storage_error(exc, self.path) from exc
            except asyncio.CancelledError:
                # Cancelled while aiosqlite's thread ran the BEGIN anyway: undo it, or the
                # next transaction of this process would find one open.
                # (aiosqlite runs statements in order: once this no-op is done, so is BEGIN.)
                await asyncio.shield(self._writer.execute("SELECT 1"))
                if self._writer.in_transaction:
                    await asyncio.shield(self._writer.execute("ROLLBACK"))
                raise
            try:
                yield self._writer
                await self._writer.execute("COMMIT")
            except BaseException as exc:
                await self._rollback()
                if isinstance(exc, sqlite3.Error):
                    mapped = storage_error(exc, self.path)
                    if mapped is not exc:
                        raise mapped from exc
                raise

    async def _rollback(self) -> None:
        # SQLite may already have rolled back by itself (disk full, I/O error): a ROLLBACK
        # would then fail with "no transaction is active" and hide the real cause.
        if self._writer.in_transaction:
            try:
                await self._writer.execute("ROLLBACK")
            except sqlite3.Error:
                log.warning("rollback failed; the transaction was already ended", exc_info=True)

    async def quick_check(self) -> None:
        """DamagedDatabase when SQLite's quick check finds the file damaged (export and import
        call it before they read or write, so they never work on a damaged file)."""
        try:
            rows = list(await self._reader.execute_fetchall("PRAGMA quick_check"))
        except sqlite3.DatabaseError as exc:
            raise damaged(self.path, str(exc)) from exc
        if not rows or rows[0][0] != "ok":
            raise damaged(self.path, "; ".join(str(r[0]) for r in rows[:3]) or "no answer")

    @property
    def read(self) -> aiosqlite.Connection:
        """The reader connection, for repository functions that only read committed data."""
        return self._reader

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """Run a read-only query on the reader connection."""
        # One step (execute_fetchall): a cursor read across an await would keep its statement,
        # and so a stale read snapshot, open for every other coroutine on this connection.
        return list(await self._reader.execute_fetchall(sql, tuple(params)))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        """Run a read-only query and return its first row, if any."""
        rows = list(await self._reader.execute_fetchall(sql, tuple(params)))
        return rows[0] if rows else None

    async def user_version(self) -> int:
        """The schema version recorded in the file."""
        row = await self.fetchone("PRAGMA user_version")
        return int(row[0]) if row else 0

    async def integrity_check(self) -> list[str]:
        """SQLite's own integrity check plus foreign keys; an empty list means healthy."""
        problems: list[str] = []
        for row in await self.fetchall("PRAGMA integrity_check"):
            if row[0] != "ok":
                problems.append(str(row[0]))
        for row in await self.fetchall("PRAGMA foreign_key_check"):
            problems.append(f"foreign key violation in {row[0]} row {row[1]}")
        return problems


async def _quick_check(conn: aiosqlite.Connection, path: str) -> None:
    rows = list(await conn.execute_fetchall("PRAGMA quick_check"))
    if not rows or rows[0][0] != "ok":
        raise damaged(path, "; ".join(str(r[0]) for r in rows[:3]) or "no answer")


async def _connect(path: str) -> aiosqlite.Connection:
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so a transaction means what it says.
    conn = await aiosqlite.connect(path, isolation_level=None)
    try:
        conn.row_factory = sqlite3.Row
        await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA journal_mode = WAL")
        await conn.execute("PRAGMA synchronous = NORMAL")
        await conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        # Close the connection's thread, or a bad file would keep the process alive.
        await conn.close()
        raise
    return conn


async def migrate(conn: aiosqlite.Connection, migrations: list[Migration]) -> int:
    """Apply every migration newer than PRAGMA user_version, each in its own transaction.

    A failing migration is rolled back whole, so the file keeps the version it had.
    Returns the resulting version.
    """
    rows = list(await conn.execute_fetchall("PRAGMA user_version"))
    row = rows[0] if rows else None
    current = int(row[0]) if row else 0
    latest = migrations[-1].version if migrations else 0
    if current > latest:
        raise MigrationError(
            f"database schema version {current} is newer than this slipwatch ({latest}); "
            "upgrade slipwatch"
        )
    for migration in migrations:
        if migration.version <= current:
            continue
        log.info("applying migration %s", migration.name)
        await conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in split_sql(migration.sql):
                await conn.execute(statement)
            # PRAGMA user_version takes no parameters; the value is an int we parsed ourselves.
            await conn.execute(f"PRAGMA user_version = {int(migration.version)}")
        except Exception as exc:
            await conn.execute("ROLLBACK")
            raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
        await conn.execute("COMMIT")
        current = migration.version
    return current


def split_sql(script: str) -> list[str]:
    """Split a migration into statements, keeping CREATE TRIGGER ... END blocks whole."""
    statements: list[str] = []
    buffer: list[str] = []
    for line in script.splitlines():
        stripped = line.strip()
        if not buffer and (not stripped or stripped.startswith("--")):
            continue
        buffer.append(line)
        candidate = "\n".join(buffer)
        if stripped.endswith(";") and sqlite3.complete_statement(candidate):
            statements.append(candidate)
            buffer = []
    if buffer and "\n".join(buffer).strip():
        statements.append("\n".join(buffer))
    return statements

"""The database behind the repositories: what a backend provides, and the SQLite backend.

:class:`Database`, :class:`Connection` and :class:`Cursor` are the surface the repositories use;
SQLite (:class:`SqliteDatabase`, the default) and PostgreSQL (storage.postgres.db.PgDatabase,
for several processes) both provide it, with the same storage format, and
:func:`open_database` picks one from SLIPWATCH_DB.

SQLite: one writer connection, guarded by an asyncio lock so that coroutines never interleave
statements inside one transaction, and a few reader connections that see only committed data
(WAL), each statement on the least busy one (:class:`ReaderPool`).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any, Literal, Protocol

import aiosqlite

from storage.schema import Migration, MigrationError, shipped_migrations
from tracker.clock import millis
from tracker.errors import DamagedDatabase, DatabaseBusy, DiskFull
from tracker.settings import is_postgres_url

log = logging.getLogger(__name__)

BUSY_TIMEOUT_MS = 5000
# Reader connections (each its own thread; SQLite reads run in parallel under WAL and release
# the GIL): enough that the engine's one-row lookups never queue behind a server's long reads.
READERS = 3


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


def ceil_ms(value: dt.datetime) -> int:
    """The first whole millisecond at or after *value* (integer UTC milliseconds): a stored
    time ``d`` is at or after *value* exactly when ``d >= ceil_ms(value)``, and before it
    exactly when ``d < ceil_ms(value)``."""
    if value.tzinfo is None:
        raise ValueError("naive datetime: every time in slipwatch is aware UTC")
    micros = (value - _EPOCH) // dt.timedelta(microseconds=1)
    return -(-micros // 1000)


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


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

    def snapshot(self) -> AbstractAsyncContextManager[Connection]:
        """A connection of its own for reads that must agree with each other (an export read
        in pages): every statement in the block sees the same committed state. Read only."""
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
        """Raise DamagedDatabase when the storage is damaged (before a big read or write): the
        verdict of the check made when the database was opened (waiting for it while it runs),
        or of one made now when none was."""
        ...

    async def checked(self) -> None:
        """Wait for the check started when the database was opened (if any); raise
        DamagedDatabase when it found the storage damaged."""
        ...


# When the file is checked: True before anything else (refused at once when damaged), False
# never (the `check` command reports the details itself), "background" beside the start: the
# database opens at once and every write transaction waits for the verdict (see SqliteDatabase).
CheckMode = bool | Literal["background"]


def latest_version(target: str | Path) -> int:
    """The schema version this slipwatch brings for the backend *target* selects."""
    if is_postgres_url(str(target)):
        from storage.postgres import db as postgres

        return postgres.bundled_migrations()[-1].version
    return bundled_migrations()[-1].version


@asynccontextmanager
async def open_database(target: str | Path, *, check: CheckMode = True) -> AsyncIterator[Database]:
    """Open (and migrate) the database SLIPWATCH_DB names: a ``postgresql://`` URL selects
    PostgreSQL, anything else is a SQLite file (*check*: see SqliteDatabase.open; PostgreSQL
    checks its own pages)."""
    if is_postgres_url(str(target)):
        # Imported only here: a bot on SQLite never loads psycopg.
        from storage.postgres.db import PgDatabase

        async with PgDatabase.open(str(target)) as pg:
            yield pg
    else:
        async with SqliteDatabase.open(target, check=check) as lite:
            yield lite


class ReaderPool:
    """Several reader connections behind one :class:`Connection`: each statement goes to the
    connection with the fewest statements queued, so a long read (a server's whole history for
    /slips stats, an export) never holds up the engine's and the autocomplete's one-row lookups.
    Every statement reads committed data in its own snapshot, as on one connection (the
    repositories read in one step, never with a cursor held across an await)."""

    def __init__(self, conns: list[aiosqlite.Connection]) -> None:
        self._conns = conns
        self._queued = [0] * len(conns)
        self._lent: set[int] = set()
        # At most all but one reader lent at once: the others' one-row lookups always have one.
        self._lendable = asyncio.Semaphore(max(1, len(conns) - 1))

    def _pick(self) -> int:
        free = [i for i in range(len(self._conns)) if i not in self._lent] or range(
            len(self._conns)
        )
        return min(free, key=self._queued.__getitem__)

    @asynccontextmanager
    async def lend(self) -> AsyncIterator[aiosqlite.Connection]:
        """One reader for the caller alone until the block ends (a read transaction across
        several statements); the pool's statements go to the others meanwhile."""
        async with self._lendable:
            i = self._pick()
            self._lent.add(i)
            try:
                yield self._conns[i]
            finally:
                self._lent.discard(i)

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Cursor:
        """Run one statement on the least busy reader."""
        i = self._pick()
        self._queued[i] += 1
        try:
            return await self._conns[i].execute(sql, parameters)
        finally:
            self._queued[i] -= 1

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Cursor:
        """Run one statement per parameter row on the least busy reader."""
        i = self._pick()
        self._queued[i] += 1
        try:
            return await self._conns[i].executemany(sql, parameters)
        finally:
            self._queued[i] -= 1

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> Iterable[Any]:
        """Run a query on the least busy reader and return its rows."""
        i = self._pick()
        self._queued[i] += 1
        try:
            return await self._conns[i].execute_fetchall(sql, parameters)
        finally:
            self._queued[i] -= 1


class SqliteDatabase:
    """Owns the connections to one SQLite file. Use ``async with SqliteDatabase.open(path)``."""

    def __init__(
        self, path: str, writer: aiosqlite.Connection, readers: list[aiosqlite.Connection]
    ):
        self.path = path
        self._writer = writer
        self._readers = ReaderPool(readers)
        self._lock = asyncio.Lock()
        self._check: asyncio.Task[None] | None = None
        self._damage: str | None = None
        # True once a quick check of this file passed (at open, beside the start, or on demand).
        self._verified = False

    @classmethod
    @asynccontextmanager
    async def open(
        cls,
        path: str | Path,
        *,
        migrations: list[Migration] | None = None,
        check: CheckMode = True,
    ) -> AsyncIterator[SqliteDatabase]:
        """Open (creating if needed) and migrate the database at *path*.

        *check* True (the default): a damaged file is refused at once (PRAGMA quick_check,
        DamagedDatabase). False: not checked (the ``check`` command reports the details itself).
        "background" (the bot's start): the check reads the whole file (seconds at a million
        launches), so it runs on its own connection beside the start; reads go ahead, and every
        write transaction, the outbox's claims included, waits for its verdict: nothing is
        written into, or delivered from, a damaged file. The damage is raised again when the
        database is closed. A file that needs a migration is checked before it is migrated.
        """
        path = str(path)
        wanted = bundled_migrations() if migrations is None else migrations
        try:
            writer = await _connect(path)
        except sqlite3.DatabaseError as exc:
            raise storage_error(exc, path) from exc
        readers: list[aiosqlite.Connection] = []
        try:
            verified = check is True or (check == "background" and await _behind(writer, wanted))
            if verified:
                await _quick_check(writer, path)
            await migrate(writer, wanted)
            for _ in range(READERS):
                readers.append(await _connect(path))
        except sqlite3.DatabaseError as exc:
            for conn in readers:
                await conn.close()
            await writer.close()
            raise storage_error(exc, path) from exc
        except BaseException:
            for conn in readers:
                await conn.close()
            await writer.close()
            raise
        db = cls(path, writer, readers)
        db._verified = verified
        if check == "background":
            db._check = asyncio.create_task(db._background_check(), name="slipwatch-quick-check")
        try:
            yield db
        finally:
            if db._check is not None and not db._check.done():
                db._check.cancel()
                await asyncio.gather(db._check, return_exceptions=True)
            for conn in readers:
                await conn.close()
            await writer.close()
        if db._damage is not None:
            raise DamagedDatabase(db._damage)

    async def _background_check(self) -> None:
        try:
            conn = await _connect(self.path)
        except sqlite3.DatabaseError as exc:
            self._found_damage(damaged(self.path, str(exc)))
            return
        try:
            await _quick_check(conn, self.path)
            self._verified = True
        except DamagedDatabase as exc:
            self._found_damage(exc)
        except sqlite3.DatabaseError as exc:
            self._found_damage(damaged(self.path, str(exc)))
        except asyncio.CancelledError:
            # Closing while the check reads: stop it, or closing waits for the whole read.
            await conn.interrupt()
            raise
        finally:
            await conn.close()

    def _found_damage(self, exc: DamagedDatabase) -> None:
        self._damage = str(exc)
        log.critical("%s", exc)

    async def checked(self) -> None:
        """Wait for the background check (if one runs); DamagedDatabase when it found the
        file damaged."""
        if self._check is not None and not self._check.done():
            await asyncio.shield(self._check)
        if self._damage is not None:
            raise DamagedDatabase(self._damage)

    @asynccontextmanager
    async def transaction(
        self, *, bookkeeping: bool = False
    ) -> AsyncIterator[aiosqlite.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any error). SQLite has
        one writer for everything; in WAL mode no commit waits for the disk anyway. While the
        start-up check runs beside the start, it waits for its verdict first: nothing is ever
        written into, or claimed for delivery from, a file found damaged."""
        if self._check is not None:
            await self.checked()
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
        """DamagedDatabase when the file is damaged (export and import call it before they read
        or write). The check made when the file was opened answers (waited for while it runs
        beside the start): PRAGMA quick_check reads the whole file, seconds at a million
        launches, too much for every export. Only a file opened unchecked is checked here, once.
        Damage that appears later is met by the reads themselves (:meth:`snapshot` raises
        DamagedDatabase), so an export is never silently incomplete."""
        if self._check is not None:
            await self.checked()
        if self._damage is not None:
            raise DamagedDatabase(self._damage)
        if self._verified:
            return
        try:
            rows = list(await self._readers.execute_fetchall("PRAGMA quick_check"))
        except sqlite3.DatabaseError as exc:
            raise damaged(self.path, str(exc)) from exc
        if not rows or rows[0][0] != "ok":
            raise damaged(self.path, "; ".join(str(r[0]) for r in rows[:3]) or "no answer")
        self._verified = True

    @property
    def read(self) -> ReaderPool:
        """The reader connections, for repositories that only read committed data."""
        return self._readers

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[aiosqlite.Connection]:
        """A reader of its own holding one read transaction: every statement in the block sees
        the same committed state (WAL: writers go on meanwhile). A read that meets a damaged page
        raises DamagedDatabase, as does any SQLite failure a person can act on."""
        async with self._readers.lend() as conn:
            try:
                await conn.execute("BEGIN")
                yield conn
            except sqlite3.Error as exc:
                mapped = storage_error(exc, self.path)
                if mapped is exc:
                    raise
                raise mapped from exc
            finally:
                # Shielded: a reader handed back inside a transaction would serve stale reads.
                await asyncio.shield(_end_read(conn))

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """Run a read-only query on a reader connection."""
        # One step (execute_fetchall): a cursor read across an await would keep its statement,
        # and so a stale read snapshot, open for every other coroutine on this connection.
        return list(await self._readers.execute_fetchall(sql, tuple(params)))

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Row | None:
        """Run a read-only query and return its first row, if any."""
        rows = list(await self._readers.execute_fetchall(sql, tuple(params)))
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


async def _end_read(conn: aiosqlite.Connection) -> None:
    """End a reader's read transaction, if one is open (statements run in order: once this
    runs, the BEGIN before it has too)."""
    try:
        await conn.execute("SELECT 1")
        if conn.in_transaction:
            await conn.execute("ROLLBACK")
    except sqlite3.Error:
        log.warning("could not end a read transaction", exc_info=True)


async def _quick_check(conn: aiosqlite.Connection, path: str) -> None:
    rows = list(await conn.execute_fetchall("PRAGMA quick_check"))
    if not rows or rows[0][0] != "ok":
        raise damaged(path, "; ".join(str(r[0]) for r in rows[:3]) or "no answer")


async def _behind(conn: aiosqlite.Connection, migrations: list[Migration]) -> bool:
    """Whether *migrations* would change the file (its version is older than theirs)."""
    rows = list(await conn.execute_fetchall("PRAGMA user_version"))
    current = int(rows[0][0]) if rows else 0
    return bool(migrations) and current < migrations[-1].version


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

"""The PostgreSQL database: connections, migrations, transactions, and the SQL dialect bridge.

PostgreSQL is the scale-out backend (several processes share one database); SQLite stays the
default. Both keep the same storage format (integer milliseconds, ISO days, 0/1 flags), so the
repositories in storage/ run unchanged on either: this module gives them the same surface as
storage.db.Database (``transaction()``, ``read``, ``fetchall``/``fetchone``) over psycopg 3.

The dialect bridge is deliberately small and explicit. Repositories write ``?`` placeholders;
:func:`to_pyformat` turns them into psycopg's ``%s`` (outside quoted text only) and Python bools
into the 0/1 integers the schema stores. Everything else a repository writes is SQL that both
databases accept (``ON CONFLICT``, ``RETURNING``, ``COLLATE nocase``: the PostgreSQL migrations
create a case-insensitive ICU collation of that name).

One writer connection per process, whose transactions take turns as on SQLite (the services
read, then compare-and-set: two transactions of one process racing on one launch would turn
into needless "changed at the same moment" refusals), and a small pool of readers in autocommit
mode that see only committed data. Across processes, PostgreSQL's row locks (the sweep's and the
deliverer's claims skip locked rows) and the compare-and-set updates keep writers apart.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import psycopg
from psycopg.rows import RowMaker

from storage.schema import Migration, MigrationError, shipped_migrations
from tracker.settings import redact

log = logging.getLogger(__name__)

# pg_advisory_lock key that serialises migrations when several processes start at once.
MIGRATION_LOCK_KEY = 0x736C_6970_0001  # "slip" 1


def bundled_migrations() -> list[Migration]:
    """The PostgreSQL migrations shipped with slipwatch, in order (1..n, no gaps)."""
    return shipped_migrations("storage.postgres")


# ---------------------------------------------------------------------------------- rows


class Row(tuple[Any, ...]):
    """A result row that reads like sqlite3.Row: by position or by column name."""

    __slots__ = ()
    _index: dict[str, int] = {}

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return tuple.__getitem__(self, self._index[key])
        return tuple.__getitem__(self, key)

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self._index)


@functools.lru_cache(maxsize=512)
def _row_class(names: tuple[str, ...]) -> type[Row]:
    return type("Row", (Row,), {"__slots__": (), "_index": {n: i for i, n in enumerate(names)}})


def _row_factory(cursor: psycopg.AsyncCursor[Any]) -> RowMaker[Row]:
    names = tuple(column.name for column in cursor.description or ())
    cls = _row_class(names)

    def make(values: Sequence[Any]) -> Row:
        return cls(values)

    return make


# ---------------------------------------------------------------------------------- dialect


@functools.lru_cache(maxsize=4096)
def to_pyformat(sql: str) -> str:
    """Rewrite ``?`` placeholders to psycopg's ``%s`` (and escape literal ``%``), leaving quoted
    text, quoted identifiers and comments alone."""
    out: list[str] = []
    i, n = 0, len(sql)
    while i < n:
        ch = sql[i]
        if ch in ("'", '"'):
            end = i + 1
            while end < n:
                if sql[end] == ch:
                    if end + 1 < n and sql[end + 1] == ch:  # '' or "" inside the quotes
                        end += 2
                        continue
                    break
                end += 1
            out.append(sql[i : end + 1].replace("%", "%%"))
            i = end + 1
        elif ch == "-" and sql.startswith("--", i):
            end = sql.find("\n", i)
            end = n if end < 0 else end
            out.append(sql[i:end].replace("%", "%%"))
            i = end
        elif ch == "?":
            out.append("%s")
            i += 1
        elif ch == "%":
            out.append("%%")
            i += 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _params(params: Iterable[Any] | None) -> tuple[Any, ...]:
    # The schema stores flags as 0/1 integers on both databases.
    return tuple(int(p) if isinstance(p, bool) else p for p in (params or ()))


class Cursor:
    """What a statement left behind: its rows (already fetched) and how many rows it changed."""

    def __init__(self, rowcount: int, rows: list[Row]) -> None:
        self.rowcount = rowcount
        self._rows = rows

    @property
    def lastrowid(self) -> int:
        """Not available on PostgreSQL: write ``INSERT ... RETURNING id`` and fetch it."""
        raise NotImplementedError("use INSERT ... RETURNING id")

    async def fetchall(self) -> list[Row]:
        """Every row the statement returned."""
        return self._rows

    async def fetchone(self) -> Row | None:
        """The first row, if any."""
        return self._rows[0] if self._rows else None

    async def close(self) -> None:
        """Nothing to release: the rows were fetched with the statement."""


class Connection:
    """One psycopg connection with the statement surface the repositories use."""

    def __init__(self, raw: psycopg.AsyncConnection[Row]) -> None:
        self.raw = raw

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Cursor:
        """Run one statement; its rows are fetched at once (no cursor stays open)."""
        async with self.raw.cursor() as cur:
            await cur.execute(to_pyformat(sql), _params(parameters))
            rows = await cur.fetchall() if cur.description is not None else []
            return Cursor(cur.rowcount, rows)

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Cursor:
        """Run one statement for each parameter row (pipelined); rowcount is the total."""
        batch = [_params(p) for p in parameters]
        if not batch:
            return Cursor(0, [])
        async with self.raw.cursor() as cur:
            await cur.executemany(to_pyformat(sql), batch)
            return Cursor(cur.rowcount, [])

    async def execute_fetchall(
        self, sql: str, parameters: Iterable[Any] | None = None
    ) -> list[Row]:
        """Run a query and return all its rows."""
        return await (await self.execute(sql, parameters)).fetchall()

    async def next_ids(self, table: str, count: int) -> list[int]:
        """*count* new ids from *table*'s ``id`` sequence (one statement), ascending: taken
        now, so that rows given them keep the order they are listed in."""
        async with self.raw.cursor() as cur:
            await cur.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
                (table, count),
            )
            return sorted(int(row[0]) for row in await cur.fetchall())

    async def copy_rows(
        self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
    ) -> None:
        """Insert *rows* (values for *columns*) into *table* with one COPY: the rows stream to
        the server in one go, formatted by psycopg in C, and it inserts them in order."""
        async with (
            self.raw.cursor() as cur,
            cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
        ):
            for row in rows:
                await copy.write_row(_params(row))


class Pool:
    """A fixed set of connections, each lent to one user at a time."""

    def __init__(self, connections: list[Connection]) -> None:
        self.connections = connections
        self._free: asyncio.Queue[Connection] = asyncio.Queue()
        for conn in connections:
            self._free.put_nowait(conn)

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[Connection]:
        """Borrow a connection until the block ends."""
        conn = await self._free.get()
        try:
            yield conn
        finally:
            self._free.put_nowait(conn)

    async def close(self) -> None:
        """Close every connection."""
        for conn in self.connections:
            await conn.raw.close()


class PooledConnection(Connection):
    """Statements of committed reads, each on whichever pooled connection is free."""

    def __init__(self, pool: Pool) -> None:
        self._pool = pool

    async def execute(self, sql: str, parameters: Iterable[Any] | None = None) -> Cursor:
        """Run one statement on a free connection."""
        async with self._pool.acquire() as conn:
            return await conn.execute(sql, parameters)

    async def executemany(self, sql: str, parameters: Iterable[Iterable[Any]]) -> Cursor:
        """Run one statement per parameter row on a free connection."""
        async with self._pool.acquire() as conn:
            return await conn.executemany(sql, parameters)


async def connect(url: str, *, purpose: str) -> psycopg.AsyncConnection[Row]:
    """An autocommit connection whose application_name tells which process and purpose it
    serves (pg_stat_activity shows who holds the deliverer's lock)."""
    return await psycopg.AsyncConnection.connect(
        url,
        autocommit=True,
        row_factory=_row_factory,
        application_name=f"slipwatch:{os.getpid()}:{purpose}",
    )


class PgDatabase:
    """Owns the connections to one PostgreSQL database. Use ``async with PgDatabase.open(url)``."""

    dialect = "postgresql"
    WRITERS = 1
    BOOKKEEPERS = 3
    READERS = 4

    def __init__(self, url: str, writers: Pool, bookkeepers: Pool, readers: Pool) -> None:
        self.url = url
        self.path = redact(url)  # what messages show where SQLite shows its file
        self._writers = writers
        self._bookkeepers = bookkeepers
        self._readers = readers
        self._reader = PooledConnection(readers)

    @classmethod
    @asynccontextmanager
    async def open(
        cls, url: str, *, migrations: list[Migration] | None = None
    ) -> AsyncIterator[PgDatabase]:
        """Connect to (and migrate) the database at *url*."""
        opened: list[psycopg.AsyncConnection[Row]] = []
        try:
            opened.append(await connect(url, purpose="writer"))
            await migrate(opened[0], bundled_migrations() if migrations is None else migrations)
            for _ in range(cls.WRITERS - 1):
                opened.append(await connect(url, purpose="writer"))
            for _ in range(cls.BOOKKEEPERS):
                opened.append(await connect(url, purpose="bookkeeper"))
            for _ in range(cls.READERS):
                opened.append(await connect(url, purpose="reader"))
        except BaseException:
            for raw in opened:
                await raw.close()
            raise
        conns = [Connection(raw) for raw in opened]
        split = cls.WRITERS + cls.BOOKKEEPERS
        writers, bookkeepers = Pool(conns[: cls.WRITERS]), Pool(conns[cls.WRITERS : split])
        readers = Pool(conns[split:])
        try:
            yield cls(url, writers, bookkeepers, readers)
        finally:
            await readers.close()
            await bookkeepers.close()
            await writers.close()

    @asynccontextmanager
    async def transaction(self, *, bookkeeping: bool = False) -> AsyncIterator[Connection]:
        """One write transaction (BEGIN ... COMMIT, ROLLBACK on any error). Bookkeeping (see
        storage.db.Database.transaction) runs on connections of its own, beside the writer, and
        commits without waiting for the WAL flush: at Discord's 50 requests/s the deliverer
        writes a claim, a DM channel and a sent mark per message, and waiting for the disk each
        time was what held it under the pace."""
        pool = self._bookkeepers if bookkeeping else self._writers
        async with pool.acquire() as conn, conn.raw.transaction():
            if bookkeeping:
                await conn.execute("SET LOCAL synchronous_commit TO OFF")
            yield conn

    @property
    def read(self) -> Connection:
        """The readers, for repository functions that only read committed data."""
        return self._reader

    @asynccontextmanager
    async def snapshot(self) -> AsyncIterator[Connection]:
        """A reader of its own in one REPEATABLE READ, READ ONLY transaction: every statement in
        the block sees the same committed state."""
        async with self._readers.acquire() as conn, conn.raw.transaction():
            await conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            yield conn

    async def fetchall(self, sql: str, params: Iterable[Any] = ()) -> list[Row]:
        """Run a read-only query on the reader connection."""
        return await self._reader.execute_fetchall(sql, params)

    async def fetchone(self, sql: str, params: Iterable[Any] = ()) -> Row | None:
        """Run a read-only query and return its first row, if any."""
        rows = await self._reader.execute_fetchall(sql, params)
        return rows[0] if rows else None

    async def user_version(self) -> int:
        """The schema version recorded in the database (0 before the first migration)."""
        async with self._readers.acquire() as conn:
            return await schema_version(conn.raw)

    async def quick_check(self) -> None:
        """Nothing to do: PostgreSQL checks its own pages (and reports damage as errors)."""

    async def checked(self) -> None:
        """Nothing to wait for: no check runs beside the start (see :meth:`quick_check`)."""

    async def integrity_check(self) -> list[str]:
        """PostgreSQL keeps its own constraints; report constraints left unvalidated."""
        rows = await self.fetchall(
            "SELECT conrelid::regclass::text, conname FROM pg_constraint "
            "WHERE NOT convalidated AND connamespace = 'public'::regnamespace"
        )
        return [f"constraint {r[1]} on {r[0]} is not validated" for r in rows]


async def schema_version(conn: psycopg.AsyncConnection[Any]) -> int:
    """The highest applied migration (0 when none is)."""
    async with conn.cursor() as cur:
        await cur.execute("SELECT to_regclass('schema_migrations') IS NOT NULL")
        exists = await cur.fetchone()
        if not exists or not exists[0]:
            return 0
        await cur.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations")
        row = await cur.fetchone()
        return int(row[0]) if row else 0


async def migrate(conn: psycopg.AsyncConnection[Any], migrations: list[Migration]) -> int:
    """Apply every migration newer than the recorded schema version, each in its own
    transaction together with its schema_migrations row; a failing one is rolled back whole.

    Processes starting together take turns (a session advisory lock), so each migration runs
    once. Returns the resulting version.
    """
    await conn.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK_KEY,))
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version BIGINT PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        current = await schema_version(conn)
        latest = migrations[-1].version if migrations else 0
        if current > latest:
            raise MigrationError(
                f"database schema version {current} is newer than this slipwatch ({latest}); "
                "upgrade slipwatch"
            )
        for migration in migrations:
            if migration.version <= current:
                continue
            log.info("applying PostgreSQL migration %s", migration.name)
            try:
                async with conn.transaction():
                    await conn.execute(migration.sql.encode())
                    await conn.execute(
                        "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                        (migration.version, migration.name),
                    )
            except psycopg.Error as exc:
                raise MigrationError(f"migration {migration.name} failed: {exc}") from exc
            current = migration.version
        return current
    finally:
        await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK_KEY,))

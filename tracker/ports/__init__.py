"""The storage port: what the domain needs from a database, in domain types only.

A :class:`Store` hands out :class:`Session` objects: ``store.read`` for queries (it sees only
committed data), and ``async with store.transaction() as tx`` for a unit of work, in which every
repository of *tx* writes inside one transaction that commits when the block ends and rolls back
if it raises. storage/ implements it for SQLite and PostgreSQL (storage.session.SqlStore); the
domain never sees a driver connection, a cursor or a positional row.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import Protocol

from tracker.ports.boards import Boards
from tracker.ports.destinations import Destinations
from tracker.ports.detections import Detections
from tracker.ports.digests import Digests
from tracker.ports.discovery import Discoveries
from tracker.ports.events import Events
from tracker.ports.guilds import Guilds
from tracker.ports.launches import Launches
from tracker.ports.outbox import Outbox
from tracker.ports.probes import Probes
from tracker.ports.subscriptions import Subscriptions

__all__ = [
    "Boards",
    "Destinations",
    "Detections",
    "Digests",
    "Discoveries",
    "Events",
    "Guilds",
    "Launches",
    "Outbox",
    "Probes",
    "Session",
    "Store",
    "Subscriptions",
]


class Session(Protocol):
    """Every repository, bound to one connection (a transaction's, or the reader's)."""

    @property
    def guilds(self) -> Guilds: ...
    @property
    def launches(self) -> Launches: ...
    @property
    def events(self) -> Events: ...
    @property
    def subscriptions(self) -> Subscriptions: ...
    @property
    def outbox(self) -> Outbox: ...
    @property
    def destinations(self) -> Destinations: ...
    @property
    def digests(self) -> Digests: ...
    @property
    def boards(self) -> Boards: ...
    @property
    def discovery(self) -> Discoveries: ...
    @property
    def probes(self) -> Probes: ...
    @property
    def detections(self) -> Detections: ...


class Store(Protocol):
    """Where the domain keeps its state."""

    @property
    def read(self) -> Session:
        """Repositories for queries, on a connection that sees only committed data."""
        ...

    def snapshot(self) -> AbstractAsyncContextManager[Session]:
        """Repositories for queries that must agree with each other (an export read in pages):
        every read in the block sees the same committed state. Read only."""
        ...

    def transaction(self, *, bookkeeping: bool = False) -> AbstractAsyncContextManager[Session]:
        """One unit of work: commits when the block ends, rolls back if it raises.

        *bookkeeping* marks a small write that must not wait behind a long one (delivery state);
        backends that have no such distinction ignore it."""
        ...

    async def quick_check(self) -> None:
        """Raise tracker.errors.DamagedDatabase when the storage is damaged (before a big read
        or write, so that an export is never silently incomplete): the verdict of the check
        made when the store was opened (waited for while it runs), or of one made now when none
        was. Reads that meet damage later raise DamagedDatabase themselves."""
        ...

    async def checked(self) -> None:
        """Wait for the check the store started when it was opened, if any (it runs beside the
        start); raise tracker.errors.DamagedDatabase when it found the storage damaged."""
        ...

"""The composition root: every service of slipwatch, built once from the settings, the clock and
the adapters (the store, the notifier, the fetcher), and closed in order.

The Discord bot, the demo, the command line, the tests and the benchmarks all open the same
:func:`open_slipwatch`, so they all run the production engine: deadlines, the outbox, digests,
release probes and promise discovery share one timer (the engine's). The Discord adapter only
reroutes the hooks that need Discord (where a change is announced on a cluster, what a new
detection wakes, who is told of a broken channel).

    async with open_store(settings.db_path) as store, Fetcher(guard) as fetcher:
        async with open_slipwatch(settings, store, notifier=notifier, fetcher=fetcher) as app:
            await app.start()          # the engine: first sweep now, then on its timer
            await app.tracker.add(...)  # every command goes through a service
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from tracker.board import BoardService
from tracker.clock import Clock, SystemClock
from tracker.digests import DigestService
from tracker.discovery import DiscoveryService
from tracker.engine import Engine
from tracker.launches import Tracker
from tracker.launches.base import OnChange
from tracker.models import OutboxRow
from tracker.outbox.delivery import (
    Deliverer,
    DeliveryResult,
    DeliverySettings,
    Notifier,
    RetryLater,
)
from tracker.outbox.dm_channels import DmChannels
from tracker.ports import Store
from tracker.probes.fetch import Fetcher
from tracker.probes.netguard import NetGuard
from tracker.probes.service import ProbeService, ProbeSettings
from tracker.settings import Settings
from tracker.stats import StatsService
from tracker.transfer import TransferService
from tracker.watchlist import Watchlist


class Changes:
    """Where "a change was committed" goes: the engine of this process by default; on a
    cluster, the elected deliverer's (the Discord adapter reroutes it)."""

    def __init__(self) -> None:
        self._to: OnChange | None = None

    def route(self, to: OnChange) -> None:
        """Send every later change to *to*."""
        self._to = to

    def __call__(self, due: dt.datetime | None = None) -> None:
        """A change was committed (*due*: it only added something due then)."""
        if self._to is not None:
            self._to(due)


class Undelivered:
    """The notifier of a process that sends nothing (the command line): a message it is given
    stays in the outbox for the bot."""

    async def deliver(self, row: OutboxRow) -> DeliveryResult:
        """Leave *row* for the bot."""
        return RetryLater("this process does not deliver", after_s=60.0)


@dataclass(slots=True)
class Slipwatch:
    """Every service, wired. Commands go through *tracker*, *stats*, *digests*, *transfer*,
    *boards*, *probes* and *discovery*; the *engine* (with the *deliverer*) runs the clockwork."""

    settings: Settings
    clock: Clock
    store: Store
    scheduler: AsyncIOScheduler
    changes: Changes
    deliverer: Deliverer
    engine: Engine
    tracker: Tracker
    probes: ProbeService
    discovery: DiscoveryService
    digests: DigestService
    stats: StatsService
    transfer: TransferService
    boards: BoardService
    dm_channels: DmChannels
    watchlist: Watchlist

    async def start(self) -> None:
        """Run the engine in this process (its first sweep handles what fell due meanwhile)."""
        if not self.scheduler.running:
            self.scheduler.start()
        await self.engine.start()

    async def stop(self) -> None:
        """Stop the background work; whatever is pending stays in the store for the next run."""
        await self.probes.stop()
        await self.discovery.stop()
        await self.engine.stop()


def build(
    settings: Settings,
    store: Store,
    *,
    notifier: Notifier,
    fetcher: Fetcher,
    clock: Clock | None = None,
    scheduler: AsyncIOScheduler | None = None,
    delivery: DeliverySettings | None = None,
    probing: ProbeSettings | None = None,
) -> Slipwatch:
    """Build every service once (nothing starts; see :func:`open_slipwatch`)."""
    clock = clock or SystemClock()
    scheduler = scheduler or AsyncIOScheduler(timezone="UTC")
    limits = settings.limits
    changes = Changes()
    delivery = delivery or DeliverySettings(
        concurrency=settings.delivery_concurrency, max_age=settings.outbox_max_age
    )
    deliverer = Deliverer(store, clock, notifier, delivery)
    engine = Engine(store, clock, scheduler, deliverer)
    changes.route(engine.poke)
    tracker = Tracker(store, clock, on_change=changes, limits=limits)
    probes = ProbeService(
        store,
        clock,
        tracker,
        fetcher,
        probing
        or ProbeSettings(
            max_probes_per_guild=limits.probes_per_guild,
            max_proposals_per_poll=limits.proposals_per_poll,
        ),
        on_change=changes,
    )
    probes.attach(engine)
    discovery = DiscoveryService(store, clock, tracker, fetcher, probes.reader)
    discovery.attach(engine)
    digests = DigestService(store, clock)
    digests.attach(engine)
    return Slipwatch(
        settings=settings,
        clock=clock,
        store=store,
        scheduler=scheduler,
        changes=changes,
        deliverer=deliverer,
        engine=engine,
        tracker=tracker,
        probes=probes,
        discovery=discovery,
        digests=digests,
        stats=StatsService(store, clock),
        transfer=TransferService(store, clock, on_change=changes, limits=limits),
        boards=BoardService(store, clock),
        dm_channels=DmChannels(store),
        watchlist=Watchlist(store),
    )


@asynccontextmanager
async def open_slipwatch(
    settings: Settings,
    store: Store,
    *,
    notifier: Notifier | None = None,
    fetcher: Fetcher | None = None,
    clock: Clock | None = None,
    scheduler: AsyncIOScheduler | None = None,
    delivery: DeliverySettings | None = None,
    probing: ProbeSettings | None = None,
) -> AsyncIterator[Slipwatch]:
    """:func:`build` every service; on exit stop them in order (probes, discovery, the engine
    and its deliverer) and shut the scheduler down. Without a *fetcher*, one is opened for the
    probes (with the operator's SLIPWATCH_PROBE_ALLOW) and closed last; without a *notifier*
    (the command line), nothing can be delivered and the outbox keeps every message. Starting is the
    caller's choice (:meth:`Slipwatch.start`): a process that is not the elected deliverer
    never starts it."""
    async with AsyncExitStack() as stack:
        if fetcher is None:
            guard = NetGuard.from_settings(settings.probe_allow)
            fetcher = await stack.enter_async_context(Fetcher(guard))
        app = build(
            settings,
            store,
            notifier=notifier or Undelivered(),
            fetcher=fetcher,
            clock=clock,
            scheduler=scheduler,
            delivery=delivery,
            probing=probing,
        )
        try:
            yield app
        finally:
            await app.stop()
            if app.scheduler.running:
                app.scheduler.shutdown(wait=False)

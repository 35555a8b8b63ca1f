"""The composition root: every service of slipwatch, built once from the settings, the clock and
the adapters (the store, the notifier, the fetcher), and closed in order.

The Discord bot, the demo, the command line, the tests and the benchmarks all open the same
:func:`open_slipwatch`, so they all run the production engine: deadlines, the outbox, digests,
release probes and promise discovery share one timer (the engine's). The Discord adapter only
reroutes the hooks that need Discord (where a change is announced on a cluster, what a new
detection wakes, who is told of a broken channel).

What arming the engine needs is built at once; every other service at its first use (see
:class:`Slipwatch`), so that a restart is armed before the rest is even imported.

    async with open_store(settings.db_path) as store, Fetcher(guard) as fetcher:
        async with open_slipwatch(settings, store, notifier=notifier, fetcher=fetcher) as app:
            await app.start()          # the engine: first sweep now, then on its timer
            await app.tracker.add(...)  # every command goes through a service
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from functools import cached_property
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from tracker.clock import Clock, SystemClock
from tracker.engine import Engine, ExtraSweep
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
from tracker.settings import Settings

if TYPE_CHECKING:
    # Built at their first use (see Slipwatch): their imports (the window grammar, the probes'
    # readers and HTTP client, the statistics, ...) would otherwise delay every start.
    from tracker.board import BoardService
    from tracker.digests import DigestService
    from tracker.discovery import DiscoveryService
    from tracker.launches import Tracker
    from tracker.launches.base import OnChange
    from tracker.probes.core import DetectionCallback
    from tracker.probes.fetch import Fetcher
    from tracker.probes.service import ProbeService, ProbeSettings
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


NextDue = Callable[[], Awaitable[dt.datetime | None]]


class TimerSeat:
    """Holds a service's place on the engine's one timer until the service is built.

    Its due time is the store's lookup of the service's next due time (what the service's own
    ``due`` answers while it runs no round). When the engine sweeps at a time something of the
    service is due, the service is built (it takes its own place on the timer, see
    :meth:`give_up`) and its own sweep handles it; until then a start builds and imports
    nothing of it."""

    def __init__(self, engine: Engine, next_due: NextDue, take: Callable[[], ExtraSweep]) -> None:
        """*take* builds the service (or finds it built) and returns its sweep hook."""
        self._engine = engine
        self._next_due = next_due
        self._take = take
        engine.add_due_source(self.due, self.sweep)

    async def due(self) -> dt.datetime | None:
        """The service's next due time, as the store holds it."""
        return await self._next_due()

    async def sweep(self, now: dt.datetime) -> None:
        """The engine's hook: when something of the service is due at *now*, build the service
        and let it handle that."""
        due = await self._next_due()
        # Against the clock's time, not *now*: a due time that means "at once" (a guild whose
        # next digest is not computed yet) is read after the sweep began.
        if due is not None and due <= max(now, self._engine.clock.now()):
            await self._take()(now)

    def give_up(self) -> None:
        """Leave the timer (the service, now built, takes the place)."""
        self._engine.remove_due_source(self.due, self.sweep)


class Slipwatch:
    """Every service, wired. Commands go through *tracker*, *stats*, *digests*, *transfer*,
    *boards*, *probes* and *discovery*; the *engine* (with the *deliverer*) runs the clockwork.

    What arming the engine needs is built at once: the store, the clock, the scheduler, the
    deliverer and the engine. Every other service is built at its first use (a command, the
    bot right after arming, or the engine's timer when something of it falls due: digests,
    probes and discovery hold their place on the timer with a :class:`TimerSeat` until
    then), so that a start imports and builds only what arming needs. Built, each works as
    it always did."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        store: Store,
        scheduler: AsyncIOScheduler,
        changes: Changes,
        deliverer: Deliverer,
        engine: Engine,
        *,
        fetcher: Fetcher | None = None,
        probing: ProbeSettings | None = None,
    ) -> None:
        """Without a *fetcher*, one is made for the probes at their first use (with the
        operator's SLIPWATCH_PROBE_ALLOW), and :meth:`close` closes it."""
        self.settings = settings
        self.clock = clock
        self.store = store
        self.scheduler = scheduler
        self.changes = changes
        self.deliverer = deliverer
        self.engine = engine
        self.dm_channels = DmChannels(store)
        self._given_fetcher = fetcher
        self._probing = probing
        self._on_detection: DetectionCallback | None = None
        self._seats = {
            "digests": TimerSeat(engine, self._first_digest_due, lambda: self.digests.sweep),
            "probes": TimerSeat(
                engine, lambda: store.read.probes.next_probe_due(), lambda: self.probes.start_sweep
            ),
            "discovery": TimerSeat(
                engine, lambda: store.read.discovery.next_due(), lambda: self.discovery.start_sweep
            ),
        }

    async def _first_digest_due(self) -> dt.datetime | None:
        # What DigestService.due answers: now while some guild's next digest is not computed.
        uncomputed, earliest = await self.store.read.digests.next_digest_due()
        return self.clock.now() if uncomputed else earliest

    # ------------------------------------------------------------------ built at first use

    @cached_property
    def fetcher(self) -> Fetcher:
        """The probes' and discovery's HTTP client."""
        if self._given_fetcher is not None:
            return self._given_fetcher
        from tracker.probes.fetch import Fetcher
        from tracker.probes.netguard import NetGuard

        return Fetcher(NetGuard.from_settings(self.settings.probe_allow))

    @cached_property
    def tracker(self) -> Tracker:
        """Launches: adding, editing, outcomes, settings, subscriptions."""
        from tracker.launches import Tracker

        return Tracker(self.store, self.clock, on_change=self.changes, limits=self.settings.limits)

    @cached_property
    def probes(self) -> ProbeService:
        """Release probes, polled on the engine's timer."""
        from tracker.probes.service import ProbeService, ProbeSettings

        limits = self.settings.limits
        probes = ProbeService(
            self.store,
            self.clock,
            self.tracker,
            self.fetcher,
            self._probing
            or ProbeSettings(
                max_probes_per_guild=limits.probes_per_guild,
                max_proposals_per_poll=limits.proposals_per_poll,
            ),
            on_detection=self._on_detection,
            on_change=self.changes,
        )
        self._seats.pop("probes").give_up()
        probes.attach(self.engine)
        return probes

    @cached_property
    def discovery(self) -> DiscoveryService:
        """Promise discovery, polled on the engine's timer (reads with the probes' reader)."""
        from tracker.discovery import DiscoveryService

        discovery = DiscoveryService(
            self.store, self.clock, self.tracker, self.fetcher, self.probes.reader
        )
        self._seats.pop("discovery").give_up()
        discovery.attach(self.engine)
        return discovery

    @cached_property
    def digests(self) -> DigestService:
        """Scheduled digests, posted on the engine's timer."""
        from tracker.digests import DigestService

        digests = DigestService(self.store, self.clock)
        self._seats.pop("digests").give_up()
        digests.attach(self.engine)
        return digests

    @cached_property
    def stats(self) -> StatsService:
        """The score: statistics, leaderboards, charts."""
        from tracker.stats import StatsService

        return StatsService(self.store, self.clock)

    @cached_property
    def transfer(self) -> TransferService:
        """Export and import of a server's launches."""
        from tracker.transfer import TransferService

        return TransferService(
            self.store, self.clock, on_change=self.changes, limits=self.settings.limits
        )

    @cached_property
    def boards(self) -> BoardService:
        """Public boards."""
        from tracker.board import BoardService

        return BoardService(self.store, self.clock)

    @cached_property
    def watchlist(self) -> Watchlist:
        """The watchlist's pages."""
        from tracker.watchlist import Watchlist

        return Watchlist(self.store)

    @property
    def on_detection(self) -> DetectionCallback | None:
        """Who hears of a probe's new proposal, whether the probes are built yet or not (its
        post is an outbox row already: see tracker.probes.posts)."""
        return self._on_detection

    @on_detection.setter
    def on_detection(self, callback: DetectionCallback | None) -> None:
        self._on_detection = callback
        probes: ProbeService | None = vars(self).get("probes")  # built already?
        if probes is not None:
            probes.on_detection = callback

    # ------------------------------------------------------------------ running

    async def start(self) -> None:
        """Run the engine in this process (its first sweep handles what fell due meanwhile)."""
        if not self.scheduler.running:
            self.scheduler.start()
        await self.engine.start()

    async def stop(self) -> None:
        """Stop the background work; whatever is pending stays in the store for the next run."""
        # cached_property keeps a built service in the instance's dict: nothing to stop of one
        # that was never built.
        built = vars(self)
        probes: ProbeService | None = built.get("probes")
        discovery: DiscoveryService | None = built.get("discovery")
        if probes is not None:
            await probes.stop()
        if discovery is not None:
            await discovery.stop()
        await self.engine.stop()

    async def close(self) -> None:
        """Close the fetcher made for the probes, if one was (after :meth:`stop`)."""
        fetcher: Fetcher | None = vars(self).get("fetcher")
        if fetcher is not None and fetcher is not self._given_fetcher:
            await fetcher.aclose()


def build(
    settings: Settings,
    store: Store,
    *,
    notifier: Notifier,
    fetcher: Fetcher | None = None,
    clock: Clock | None = None,
    scheduler: AsyncIOScheduler | None = None,
    delivery: DeliverySettings | None = None,
    probing: ProbeSettings | None = None,
) -> Slipwatch:
    """Build what arming the engine needs (nothing starts; see :func:`open_slipwatch`); every
    other service is built at its first use (:class:`Slipwatch`)."""
    clock = clock or SystemClock()
    scheduler = scheduler or AsyncIOScheduler(timezone="UTC")
    changes = Changes()
    delivery = delivery or DeliverySettings(
        concurrency=settings.delivery_concurrency, max_age=settings.outbox_max_age
    )
    deliverer = Deliverer(store, clock, notifier, delivery)
    engine = Engine(store, clock, scheduler, deliverer)
    changes.route(engine.poke)
    return Slipwatch(
        settings,
        clock,
        store,
        scheduler,
        changes,
        deliverer,
        engine,
        fetcher=fetcher,
        probing=probing,
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
    """:func:`build` the services; on exit stop them in order (probes, discovery, the engine
    and its deliverer), shut the scheduler down, and close the fetcher when none was given
    (one is made for the probes, with the operator's SLIPWATCH_PROBE_ALLOW, at their first
    use). Without a *notifier* (the command line), nothing can be delivered and the outbox
    keeps every message. Starting is the caller's choice (:meth:`Slipwatch.start`): a process
    that is not the elected deliverer never starts it."""
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
        try:
            await app.stop()
            if app.scheduler.running:
                app.scheduler.shutdown(wait=False)
        finally:
            await app.close()

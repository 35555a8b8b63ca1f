"""A real engine on a real SQLite file and a real APScheduler, with a simulated clock and a
recording notifier whose answers a test can script."""

from __future__ import annotations

import datetime as dt
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from storage.db import Database, open_database
from storage.session import SqlStore
from tracker.app import Slipwatch, open_slipwatch
from tracker.clock import SimClock
from tracker.engine import Engine
from tracker.launches import Tracker
from tracker.models import NewLaunch, OutboxRow
from tracker.outbox.delivery import Delivered, Deliverer, DeliveryResult, DeliverySettings
from tracker.probes.fetch import Fetcher
from tracker.probes.service import ProbeSettings
from tracker.settings import Settings

UTC = dt.UTC
GUILD = 500
CHANNEL = 600


class RecordingNotifier:
    """Records every delivery attempt; answers Delivered unless a script says otherwise."""

    def __init__(self) -> None:
        self.attempts: list[OutboxRow] = []
        self.delivered: list[OutboxRow] = []
        self.script: deque[DeliveryResult] = deque()
        self.per_dest: dict[int, DeliveryResult] = {}

    async def deliver(self, row: OutboxRow) -> DeliveryResult:
        self.attempts.append(row)
        if row.dest_id in self.per_dest:
            return self.per_dest[row.dest_id]
        if self.script:
            result = self.script.popleft()
            if not isinstance(result, Delivered):
                return result
        self.delivered.append(row)
        return Delivered(message_id=1000 + len(self.delivered))

    def kinds(self) -> list[str]:
        return [a.kind.value for row in self.delivered for a in row.payload.alerts]


@dataclass
class Harness:
    db: Database
    clock: SimClock
    scheduler: AsyncIOScheduler
    notifier: RecordingNotifier
    deliverer: Deliverer
    engine: Engine
    tracker: Tracker
    target: str | Path
    app: Slipwatch
    started: bool = field(default=False)

    @property
    def store(self) -> SqlStore:
        """The domain's view of the database."""
        return SqlStore(self.db)

    @property
    def path(self) -> str | Path:
        """The database (a SQLite file or a PostgreSQL URL)."""
        return self.target

    async def add(
        self,
        product: str = "Grok 3",
        vendor: str = "xAI",
        window: str = "end of 2024",
        **kw: object,
    ) -> int:
        announced = kw.pop("announced_on", dt.date(2024, 7, 1))
        added = await self.tracker.add(
            NewLaunch(
                guild_id=kw.pop("guild_id", GUILD),  # type: ignore[arg-type]
                product=product,
                vendor=vendor,
                window_phrase=window,
                announced_on=announced,  # type: ignore[arg-type]
                **kw,  # type: ignore[arg-type]
            ),
            actor="tester",
        )
        await self.engine.settle()
        return added.launch.id

    async def run_until(self, until: dt.datetime) -> None:
        """Let the real APScheduler job fire at each armed time up to *until*."""
        for _ in range(1000):
            await self.engine.settle()
            armed = self.engine.armed_at
            if armed is None or armed > until:
                break
            if armed > self.clock.now():
                self.clock.set(armed)
            await self.engine.rearm()
            await self.engine.settle()
        if until > self.clock.now():
            self.clock.set(until)
        await self.engine.rearm()
        await self.engine.settle()


@asynccontextmanager
async def harness(
    target: str | Path,
    *,
    start: dt.datetime = dt.datetime(2024, 7, 1, 12, tzinfo=UTC),
    clock: SimClock | None = None,
    notifier: RecordingNotifier | None = None,
    configure: bool = True,
    digests: bool = False,
    fetcher: Fetcher | None = None,
    probing: ProbeSettings | None = None,
) -> AsyncIterator[Harness]:
    """Start every service of the bot (tracker.app, as production runs them) on the database
    *target* (a SQLite file or a PostgreSQL URL; reusing it across restarts). The test server
    gets no digest unless *digests*: most tests count the messages of one alert."""
    clock = clock or SimClock(start)
    notifier = notifier or RecordingNotifier()
    async with (
        open_database(target) as db,
        open_slipwatch(
            Settings(db_path=str(target)),
            SqlStore(db),
            notifier=notifier,
            clock=clock,
            delivery=DeliverySettings(concurrency=4),
            fetcher=fetcher,
            probing=probing,
        ) as app,
    ):
        h = Harness(
            db, clock, app.scheduler, notifier, app.deliverer, app.engine, app.tracker, target, app
        )
        if configure:
            quiet = {} if digests else {"digest_schedule": "off"}
            await app.tracker.configure(GUILD, alert_channel_id=CHANNEL, **quiet)
        await app.start()
        await app.engine.settle()
        yield h

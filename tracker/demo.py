"""`python bot.py demo`: the Grok 3 and Claude 3.5 Opus story replayed on a simulated clock
through the real engine, the real SQLite storage, the real outbox and real APScheduler."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
import tempfile
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from tracker.app import Slipwatch, open_slipwatch
from tracker.clock import SimClock
from tracker.engine import Engine
from tracker.launches import Tracker
from tracker.models import DestinationKind, Launch, NewLaunch, OutboxRow, SubscriptionScope
from tracker.outbox.alert_text import render_text
from tracker.outbox.delivery import Delivered, DeliveryResult, DeliverySettings
from tracker.ports import Store
from tracker.settings import Settings

log = logging.getLogger(__name__)

GUILD = 1001
CHANNEL = 2001
ALICE = 3001
UTC = dt.UTC


class ConsoleNotifier:
    """Prints each outbox message as a person would read it, stamped with the (simulated)
    time of delivery."""

    def __init__(self, clock: SimClock, out: QuietOut, names: dict[int, str]) -> None:
        self.clock = clock
        self.out = out
        self.names = names
        self.delivered: list[OutboxRow] = []

    async def deliver(self, row: OutboxRow) -> DeliveryResult:
        """Print the row; the console never fails."""
        stamp = self.clock.now().strftime("%Y-%m-%d %H:%M UTC")
        where = self.names.get(row.dest_id, str(row.dest_id))
        if row.dest_kind is DestinationKind.CHANNEL:
            body = render_text(row.payload)
            self.out.write(f"[{stamp}] #{where}  {body}\n")
        else:
            from tracker.outbox.alert_text import headline

            alerts = row.payload.alerts
            first = headline(alerts[0]) if alerts else render_text(row.payload).splitlines()[0]
            self.out.write(f"[{stamp}] DM to {where}: {first}\n")
        self.delivered.append(row)
        return Delivered(message_id=len(self.delivered))


@dataclass(frozen=True, slots=True)
class Step:
    """A manager's or announcer's action at a simulated moment."""

    at: dt.datetime
    label: str
    act: Callable[[], Awaitable[str]]


class QuietOut:
    """A writer that stops writing, quietly, once the reader went away (`demo | head`)."""

    def __init__(self, out: TextIO) -> None:
        self.out = out
        self.closed = False

    def write(self, text: str) -> int:
        """Write *text* unless the pipe is gone."""
        if self.closed:
            return 0
        try:
            written = self.out.write(text)
            self.out.flush()
            return written
        except (BrokenPipeError, ValueError):
            self.closed = True
            return 0


StoreOpener = Callable[[str], AbstractAsyncContextManager[Store]]


async def run_demo(open_store: StoreOpener, out: TextIO, db_path: str | None = None) -> int:
    """Replay the story into a new database (at *db_path*, else a temporary file) through
    every service of the bot (tracker.app); returns a process exit status."""
    quiet = QuietOut(out)
    clock = SimClock(dt.datetime(2024, 6, 20, 9, 0, tzinfo=UTC))
    notifier = ConsoleNotifier(clock, quiet, {CHANNEL: "launch-alerts", ALICE: "@alice"})
    with tempfile.TemporaryDirectory(prefix="slipwatch-demo-") as tmp:
        path = db_path or str(Path(tmp) / "demo.db")
        async with (
            open_store(path) as store,
            open_slipwatch(
                Settings(db_path=path),
                store,
                notifier=notifier,
                clock=clock,
                delivery=DeliverySettings(),
            ) as app,
        ):
            return await _replay(app, clock, quiet)


async def _replay(app: Slipwatch, clock: SimClock, out: QuietOut) -> int:
    out.write(
        "slipwatch demo: replaying 2024-06-20 .. 2025-02-20 on a simulated clock\n"
        "(real engine, SQLite outbox and APScheduler; alerts go to #launch-alerts and to\n"
        " @alice, who follows xAI; reminders 7 and 1 days before each deadline)\n\n"
    )
    await app.tracker.configure(
        GUILD,
        timezone="UTC",
        alert_channel_id=CHANNEL,
        reminder_offsets=(7, 1),
        late_milestones=(7, 30, 90),
        digest_schedule="off",  # the story is about deadlines; digests have tests of their own
    )
    steps = _story(app.tracker)
    try:
        await app.start()
        for step in steps:
            await _run_until(app.engine, clock, step.at)
            said = await step.act()
            out.write(f"[{clock.now():%Y-%m-%d %H:%M UTC}] {said}\n")
            await app.engine.settle()
        await _run_until(app.engine, clock, dt.datetime(2025, 2, 20, tzinfo=UTC))
        await app.engine.settle()
    finally:
        await app.stop()
    return await _closing(app, out)


def _story(tracker: Tracker) -> list[Step]:
    """The managers' and announcers' actions, each at its moment of the story."""
    ids: dict[str, int] = {}

    async def add(product: str, vendor: str, window: str, announced: dt.date, **kw: Any) -> str:
        added = await tracker.add(
            NewLaunch(
                guild_id=GUILD,
                product=product,
                vendor=vendor,
                window_phrase=window,
                announced_on=announced,
                **kw,
            ),
            actor="demo-manager",
        )
        ids[product] = added.launch.id
        deadline = added.launch.deadline_at.strftime("%Y-%m-%d %H:%M UTC")
        return (
            f'added #{added.launch.id} {product} ({vendor}): "{window}" read as '
            f"{added.window.start} .. {added.window.end} (rule {added.window.rule}), "
            f"deadline {deadline}"
        )

    async def subscribe() -> str:
        await tracker.subscribe(GUILD, ALICE, SubscriptionScope.VENDOR, "xAI")
        return "@alice subscribes to every xAI launch (DMs)"

    async def note() -> str:
        await tracker.note(
            GUILD,
            ids["Grok 3"],
            "demo-manager",
            text="Reports say an interim Grok 2.5 may ship first.",
        )
        return "note on Grok 3: reports say an interim Grok 2.5 may ship first"

    async def cancel() -> str:
        await tracker.cancelled(
            GUILD,
            ids["Claude 3.5 Opus"],
            "demo-manager",
            on=dt.date(2025, 1, 15),
            reason="Never released; no word from Anthropic since the promise.",
        )
        return "a manager marks Claude 3.5 Opus cancelled"

    async def ship() -> str:
        launch = await tracker.shipped(
            GUILD,
            ids["Grok 3"],
            "demo-manager",
            on=dt.date(2025, 2, 17),
            source_url="https://x.ai/news/grok-3",
        )
        return f"a manager marks Grok 3 shipped on 2025-02-17 ({launch.days_late} days late)"

    steps = [
        Step(
            dt.datetime(2024, 6, 20, 9, 0, tzinfo=UTC),
            "Anthropic: Claude 3.5 Opus 'later this year'",
            lambda: add(
                "Claude 3.5 Opus",
                "Anthropic",
                "later this year",
                dt.date(2024, 6, 20),
                announcer="Anthropic",
                source_url="https://www.anthropic.com/news/claude-3-5-sonnet",
                quote="We'll be releasing Claude 3.5 Haiku and Claude 3.5 Opus later this year.",
            ),
        ),
        Step(
            dt.datetime(2024, 7, 1, 12, 0, tzinfo=UTC),
            "Elon Musk on X: Grok 3 at the end of year",
            lambda: add(
                "Grok 3",
                "xAI",
                "end of year",
                dt.date(2024, 7, 1),
                announcer="Elon Musk",
                source_url="https://x.com/elonmusk",
                quote="Grok 3 end of year after training on 100k H100s should be really "
                "something special",
            ),
        ),
        Step(dt.datetime(2024, 7, 1, 12, 5, tzinfo=UTC), "subscription", subscribe),
        Step(dt.datetime(2025, 1, 2, 10, 0, tzinfo=UTC), "Grok 2.5 reports", note),
        Step(dt.datetime(2025, 1, 15, 10, 0, tzinfo=UTC), "cancel Claude 3.5 Opus", cancel),
        Step(dt.datetime(2025, 2, 17, 18, 0, tzinfo=UTC), "Grok 3 ships", ship),
    ]

    return steps


async def _closing(app: Slipwatch, out: QuietOut) -> int:
    """The closing table and the outbox's count; 1 if anything is still pending."""
    launches = await app.store.read.launches.all_launches(GUILD)
    out.write("\n" + summary_table(launches) + "\n")
    counts = await app.store.read.outbox.outbox_counts()
    out.write(
        f"\noutbox: {counts['sent']} sent, {counts['pending']} pending, "
        f"{counts['held'] + counts['failed'] + counts['dead']} undelivered\n"
    )
    return 0 if counts["pending"] == 0 else 1


async def _run_until(engine: Engine, clock: SimClock, until: dt.datetime) -> None:
    """Advance the simulated clock from one armed due time to the next, letting the real
    APScheduler job fire at each, until *until*."""
    for _ in range(10_000):  # bounded: the story has a few dozen due moments
        armed = engine.armed_at
        if armed is None or armed > until:
            break
        if armed > clock.now():
            clock.set(armed)
        await engine.rearm()  # the job fires at once now that its time has come
        await engine.settle()
    clock.set(max(until, clock.now()))


def summary_table(launches: list[Launch]) -> str:
    """The closing table: promised window, deadline, outcome, days late, slip count."""
    headers = (
        "#",
        "launch",
        "promised",
        "window end",
        "deadline (UTC)",
        "outcome",
        "late",
        "slips",
    )
    rows: list[tuple[str, ...]] = []
    for launch in launches:
        if launch.shipped_on:
            outcome = f"shipped {launch.shipped_on}"
        elif launch.cancelled_on:
            outcome = f"cancelled {launch.cancelled_on}"
        else:
            outcome = launch.state.value
        late = "" if launch.days_late is None else str(launch.days_late)
        rows.append(
            (
                str(launch.id),
                f"{launch.product} ({launch.vendor})",
                launch.window_phrase,
                launch.window_end.isoformat(),
                launch.deadline_at.strftime("%Y-%m-%d %H:%M"),
                outcome,
                late,
                str(launch.slip_count),
            )
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()
    sep = "  ".join("-" * w for w in widths)
    body = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join([line, sep, *body])


def main(open_store: StoreOpener) -> int:
    """Entry point used by bot.py (which gives it storage's opener)."""
    status = asyncio.run(run_demo(open_store, sys.stdout))
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader left early (`demo | head`); point stdout at nothing so exit stays quiet.
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return status

"""The public board under load: 1,000 launches in one server, served over real HTTP on loopback
while the engine sweeps: its simulated clock moves an hour every 50 ms and the real sweep
handles the reminders, deadlines and milestones that fall due, so the board's records and its
calendar day keep changing under the readers (a new day every 1.2 s re-renders every view that
shows running figures).

    python bench/board.py [--quick]

Prints one final JSON line:
{"launches": 1000, "board_p99_ms": ..., "feed_p99_ms": ..., "ics_p99_ms": ...}
(targets: board under 50 ms, feed and calendar under 30 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import aiohttp  # noqa: E402

from bench.common import percentile  # noqa: E402
from cogs.web.server import BoardSite, WebSettings  # noqa: E402
from storage.session import SqlStore  # noqa: E402
from tests.harness import GUILD, Harness, harness  # noqa: E402
from tracker.board import BoardService  # noqa: E402

UTC = dt.UTC
START = dt.datetime(2024, 1, 2, 9, tzinfo=UTC)
WINDOWS = ("Q1 2025", "Q2 2025", "H2 2025", "end of 2025", "Q3 2025", "end of 2024", "Q4 2024")
VENDORS = ("xAI", "OpenAI", "Anthropic", "Google", "Meta", "Mistral", "DeepSeek", "Alibaba")


async def seed(h: Harness, launches: int) -> None:
    """*launches* launches over eight vendors; a third shipped, some cancelled or re-dated."""
    ids: list[int] = []
    for i in range(launches):
        ids.append(
            await h.add(
                f"Model {i:04d}",
                VENDORS[i % len(VENDORS)],
                WINDOWS[i % len(WINDOWS)],
                announced_on=dt.date(2024, 1, 1),
                source_url=f"https://example.com/news/{i}",
                quote=f"Model {i:04d} ships soon.",
            )
        )
    await h.run_until(dt.datetime(2024, 11, 1, tzinfo=UTC))
    for n, launch_id in enumerate(ids):
        if n % 3 == 0:
            await h.tracker.shipped(GUILD, launch_id, "bench", on=dt.date(2024, 10, 1 + n % 28))
        elif n % 11 == 0:
            await h.tracker.cancelled(GUILD, launch_id, "bench", on=dt.date(2024, 10, 15))
        elif n % 5 == 0:
            await h.tracker.reannounce(GUILD, launch_id, "bench", window_phrase="H1 2026")
    await h.engine.settle()


async def sweeping(h: Harness, stop: asyncio.Event, days: list[int]) -> None:
    """The engine at work: an hour passes every 50 ms and the real sweep handles what fell due."""
    while not stop.is_set():
        h.clock.advance(dt.timedelta(hours=1))
        await h.engine.rearm()
        await h.engine.settle()
        days[0] += 1
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.05)


async def measure(http: aiohttp.ClientSession, url: str, rounds: int) -> list[float]:
    """Sequential GETs of *url* (gzip accepted, no revalidation): seconds per full answer."""
    took: list[float] = []
    for _ in range(rounds):
        start = time.perf_counter()
        async with http.get(url, headers={"Accept-Encoding": "gzip"}) as resp:
            await resp.read()
            if resp.status != 200:
                raise RuntimeError(f"{url} answered {resp.status}")
        took.append(time.perf_counter() - start)
    return took


async def run(launches: int, rounds: int) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix="slipwatch-bench-board-") as tmp:
        async with harness(Path(tmp) / "board.db", start=START) as h:
            await h.tracker.configure(GUILD, reminder_offsets=(7, 1), late_milestones=(7, 30, 90))
            await seed(h, launches)
            service = BoardService(SqlStore(h.db), h.clock)
            await service.publish(GUILD, "bench")
            site = BoardSite(service, WebSettings(port=0, rate_per_minute=1e9, burst=10**9))
            base = f"{await site.start()}/b/bench"
            stop = asyncio.Event()
            days = [0]
            sweeper = asyncio.create_task(sweeping(h, stop, days))
            try:
                async with aiohttp.ClientSession() as http:
                    await measure(http, base, 3)  # warm the templates
                    board = await measure(http, base, rounds)
                    feed = await measure(http, f"{base}/feed.atom", rounds)
                    ics = await measure(http, f"{base}/deadlines.ics", rounds)
            finally:
                stop.set()
                await sweeper
                await site.stop()
    print(
        f"board p50 {percentile(board, 50) * 1000:.1f} ms, feed p50 "
        f"{percentile(feed, 50) * 1000:.1f} ms, ics p50 {percentile(ics, 50) * 1000:.1f} ms; "
        f"the engine swept through {days[0]} hours meanwhile; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs",
        file=sys.stderr,
    )
    return {
        "launches": launches,
        "board_p99_ms": round(percentile(board, 99) * 1000, 2),
        "feed_p99_ms": round(percentile(feed, 99) * 1000, 2),
        "ics_p99_ms": round(percentile(ics, 99) * 1000, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the launches")
    args = parser.parse_args()
    launches = 100 if args.quick else 1000
    print(json.dumps(asyncio.run(run(launches, rounds=300))))


if __name__ == "__main__":
    main()

"""Probe benchmark: one full round of 1,000 probes against the loopback server.

    python bench/probes.py [--quick]      # --quick: 100 probes

The loopback server (tests/probe_server.py --bench N) runs in a child process, so that
``time.process_time`` counts the bot's side only. Probes take the kinds in turn (models,
github with its two requests, huggingface, feed, page); the resources of even-numbered probes
answer with ETag / Last-Modified, odd ones never do, so half of the probes get 304 once their
validators are stored. Nothing matches, so the figures are the cost of watching.

Every probe talks to 127.0.0.1, so the per-host pacing (one request per second per host) is
turned off with ``FetchSettings(per_host_interval_s=0)``; concurrency stays at its default, 8.

Rounds: warm-up (everything fetched and parsed, validators stored), the measured round
(conditional requests, half 304), then a round with the validators cleared (no conditional
headers) to compare the body bytes transferred and parsed. Prints one final JSON line:
{"bench": "probes", "probes", "round_s", "cpu_ms_per_probe", "bytes_saved_ratio", ...}
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from storage import probes as store  # noqa: E402
from storage.db import Database  # noqa: E402
from tests.probe_server import BENCH_KINDS, bench_target  # noqa: E402
from tracker.clock import SimClock  # noqa: E402
from tracker.models import NewLaunch  # noqa: E402
from tracker.probes.fetch import Fetcher, FetchSettings  # noqa: E402
from tracker.probes.kinds import Endpoints  # noqa: E402
from tracker.probes.netguard import AllowList, NetGuard  # noqa: E402
from tracker.probes.service import ProbeRound, ProbeService, ProbeSettings  # noqa: E402
from tracker.service import Tracker  # noqa: E402

UTC = dt.UTC
START = dt.datetime(2025, 1, 6, 9, tzinfo=UTC)
GUILD = 1
PER_LAUNCH = 10


async def start_server(n: int) -> tuple[asyncio.subprocess.Process, int]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "tests" / "probe_server.py"),
        "--bench",
        str(n),
        stdout=asyncio.subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = await asyncio.wait_for(proc.stdout.readline(), timeout=60)
    if not line.startswith(b"PORT "):
        proc.kill()
        raise RuntimeError(f"probe server did not start: {line!r}")
    return proc, int(line.split()[1])


async def stop_server(proc: asyncio.subprocess.Process) -> None:
    if proc.returncode is None:
        proc.terminate()
        try:
            await asyncio.wait_for(proc.wait(), timeout=10)
        except TimeoutError:
            proc.kill()
            await proc.wait()


async def measured_round(
    svc: ProbeService, fetcher: Fetcher, clock: SimClock
) -> tuple[ProbeRound, float, float, int, int]:
    """One round; returns (report, wall s, cpu s, body bytes read, requests)."""
    clock.advance(dt.timedelta(hours=1))
    bytes_before, requests_before = fetcher.stats.bytes_read, fetcher.stats.requests
    wall, cpu = time.perf_counter(), time.process_time()
    report = await svc.sweep(clock.now())
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return (
        report,
        wall,
        cpu,
        fetcher.stats.bytes_read - bytes_before,
        fetcher.stats.requests - requests_before,
    )


async def run(n: int) -> dict[str, object]:
    proc, port = await start_server(n)
    base = f"http://127.0.0.1:{port}"
    try:
        with tempfile.TemporaryDirectory() as tmp:
            async with Database.open(Path(tmp) / "bench.sqlite") as db:
                clock = SimClock(START)
                tracker = Tracker(db, clock)
                guard = NetGuard(AllowList.parse([f"127.0.0.1:{port}"]))
                fetch = FetchSettings(per_host_interval_s=0)
                settings = ProbeSettings(
                    jitter=0.0,
                    max_probes_per_guild=n + 1,
                    endpoints=Endpoints(huggingface=f"{base}/hf", github_api=f"{base}/gh"),
                )
                env = {
                    "SLIPWATCH_KEY_BENCH": "bench-key-not-secret",
                    "SLIPWATCH_KEY_BENCH_HOSTS": f"127.0.0.1:{port}",
                }
                async with Fetcher(guard, fetch, environ=env) as fetcher:
                    svc = ProbeService(db, clock, tracker, fetcher, settings)
                    setup = time.perf_counter()
                    launch_id = 0
                    for i in range(n):
                        if i % PER_LAUNCH == 0:
                            added = await tracker.add(
                                NewLaunch(GUILD, f"Model {i}", "Lab", "end of 2026", START.date()),
                                actor="bench",
                            )
                            launch_id = added.launch.id
                        kind = BENCH_KINDS[i % len(BENCH_KINDS)]
                        target, pattern = bench_target(i, kind)
                        if target.startswith("/"):
                            target = base + target
                        await svc.add_probe(
                            GUILD,
                            launch_id,
                            kind,
                            target,
                            pattern,
                            api_key_env="SLIPWATCH_KEY_BENCH" if kind == "models" else None,
                        )
                    setup = time.perf_counter() - setup
                    print(f"setup: {n} probes in {setup:.1f}s", file=sys.stderr)

                    warm, warm_s, _, _, _ = await measured_round(svc, fetcher, clock)
                    print(f"warm-up round: {warm_s:.2f}s, {warm}", file=sys.stderr)
                    parsed = svc.stats.parsed_bytes
                    cond, cond_s, cond_cpu, cond_bytes, cond_reqs = await measured_round(
                        svc, fetcher, clock
                    )
                    cond_parsed = svc.stats.parsed_bytes - parsed
                    print(f"conditional round: {cond_s:.2f}s, {cond}", file=sys.stderr)
                    async with db.transaction() as conn:
                        await store.clear_validators(conn)
                    parsed = svc.stats.parsed_bytes
                    full, full_s, full_cpu, full_bytes, full_reqs = await measured_round(
                        svc, fetcher, clock
                    )
                    full_parsed = svc.stats.parsed_bytes - parsed
                    print(f"unconditional round: {full_s:.2f}s, {full}", file=sys.stderr)
                    if cond.failed or full.failed or warm.failed:
                        raise RuntimeError("some probes failed; the figures would be wrong")
                    await svc.stop()
    finally:
        await stop_server(proc)
    return {
        "bench": "probes",
        "probes": n,
        "round_s": round(cond_s, 3),
        "cpu_ms_per_probe": round(cond_cpu / n * 1000, 3),
        "bytes_saved_ratio": round(1 - cond_bytes / full_bytes, 3) if full_bytes else 0.0,
        "parsed_saved_ratio": round(1 - cond_parsed / full_parsed, 3) if full_parsed else 0.0,
        "requests_per_round": cond_reqs,
        "unchanged_probes": cond.unchanged,
        "body_bytes_conditional": cond_bytes,
        "body_bytes_unconditional": full_bytes,
        "unconditional_round_s": round(full_s, 3),
        "unconditional_cpu_ms_per_probe": round(full_cpu / n * 1000, 3),
        "unconditional_requests": full_reqs,
        "warm_round_s": round(warm_s, 3),
        "concurrency": fetch.concurrency,
        "per_host_interval_s": fetch.per_host_interval_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the size")
    args = parser.parse_args()
    n = 100 if args.quick else 1000
    with contextlib.suppress(KeyboardInterrupt):
        print(json.dumps(asyncio.run(run(n))))


if __name__ == "__main__":
    main()

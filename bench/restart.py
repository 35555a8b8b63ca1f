"""One process restart, measured from the moment the process is spawned (used by engine.py).

    python bench/restart.py slipwatch|peer DB SPAWNED_AT

SPAWNED_AT is the parent's time.time() just before it started this process: the figures
include the interpreter's start and every import the bot makes, then opening the database and
arming. slipwatch starts as the bot does (cogs.infra.bot's resources and services, then its
setup_hook, which runs after login: the engine's first sweep and arm, then the extensions);
Discord's login is left out, as no Discord is reached here. The peer (a discord.py bot too)
imports discord, then starts its scheduler over its job table. Prints one JSON line.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))


def _vm_hwm_kb() -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return float(line.split()[1])
    except OSError:
        pass
    return float(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)


async def slipwatch(path: str, spawned: float) -> dict[str, float]:
    from bot import running_resources
    from tracker.settings import Secret, Settings

    imported = time.time()
    settings = Settings(token=Secret("bench"), db_path=path)
    async with running_resources(settings) as bot:
        delivering = bot.start_delivering
        armed_at: list[float] = []

        async def timed() -> None:
            await delivering()  # the start-up sweep, then armed
            armed_at.append(time.time())

        bot.start_delivering = timed  # type: ignore[method-assign]
        await bot.setup_hook()  # what the bot runs after login: the engine, then its extensions
        armed = armed_at[0]
        assert bot.engine.armed_at is not None or path.endswith("empty.db")
        await bot.app.store.checked()  # the file's check, which ran beside the start
        checked = time.time()
        await bot.stop_delivering()
    return {
        "armed_s": armed - spawned,
        "imports_s": imported - spawned,
        "open_to_armed_s": armed - imported,
        "checked_s": checked - spawned,
        "peak_rss_kb": _vm_hwm_kb(),
    }


async def peer_bot(path: str, spawned: float) -> dict[str, float]:
    import discord  # noqa: F401  # the peer is a discord.py bot as well
    import peer  # type: ignore[import-not-found]

    imported = time.time()
    scheduler = peer.make_scheduler(path)
    scheduler.start()
    await asyncio.sleep(0)  # let it process its job store once
    armed = time.time()
    jobs = scheduler._jobstores["default"].get_next_run_time()
    assert jobs is not None or path.endswith("empty.db")
    scheduler.shutdown(wait=False)
    return {
        "armed_s": armed - spawned,
        "imports_s": imported - spawned,
        "open_to_armed_s": armed - imported,
        "peak_rss_kb": _vm_hwm_kb(),
    }


def main() -> None:
    kind, path, spawned = sys.argv[1], sys.argv[2], float(sys.argv[3])
    runner = slipwatch if kind == "slipwatch" else peer_bot
    print(json.dumps(asyncio.run(runner(path, spawned))))


if __name__ == "__main__":
    main()

"""A restart imports only what arming the engine needs: the store, the engine, the outbox's
delivery and the timed services' places on the timer. Everything that only commands or a probe
or discovery round use is imported after the engine is armed (tracker.app builds those services
at their first use), so that a restart is armed sooner. Checked in a fresh process that starts
as the bot does (bench/restart.py's path: the bot's resources and services, then setup_hook
until start_delivering has swept and armed; Discord's login is left out)."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

from bot import open_app
from tracker.models import NewLaunch
from tracker.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
GUILD = 1
CHANNEL = 10

# What a restart must not have imported when the engine is armed (each is imported at its first
# use, by a command, a due probe, discovery or digest, or the first delivery).
NOT_BEFORE_ARMED = (
    "tracker.launches",  # the Tracker service (commands)
    "tracker.windows",  # the window grammar
    "tracker.probes.service",
    "tracker.probes.classify",
    "tracker.probes.kinds",
    "tracker.probes.reader",
    "tracker.probes.fetch",  # the probes' HTTP client
    "tracker.probes.netguard",  # its address tables
    "httpx",
    "tracker.discovery",
    "tracker.promise_reading",
    "tracker.digests",
    "tracker.stats",
    "tracker.transfer",
    "tracker.board",
    "tracker.watchlist",
    "cogs.infra.render",
    "cogs.infra.replies",
    "cogs.infra.buttons",
    "cogs.infra.messages",
    "cogs.infra.proposals",
)

# Runs in a fresh interpreter: prints the modules imported when start_delivering has armed
# the engine, then the modules imported once setup_hook has loaded the extensions.
RESTART = """
import asyncio, json, sys
from bot import running_resources
from tracker.settings import Secret, Settings

async def main(path):
    async with running_resources(Settings(token=Secret("test"), db_path=path)) as bot:
        delivering = bot.start_delivering
        armed = []

        async def start_delivering():
            await delivering()
            armed.append((bot.engine.armed_at is not None, sorted(sys.modules)))

        bot.start_delivering = start_delivering
        await bot.setup_hook()
        loaded = sorted(sys.modules)
        await bot.stop_delivering()
    is_armed, modules = armed[0]
    print(json.dumps({"armed": is_armed, "at_armed": modules, "after_setup": loaded}))

asyncio.run(main(sys.argv[1]))
"""


async def _a_server_with_a_pending_launch(path: str) -> None:
    """A configured server (no digests) with one launch whose deadline is months away, as
    a restarted bot finds it."""
    async with open_app(Settings(db_path=path)) as app:
        await app.tracker.configure(GUILD, alert_channel_id=CHANNEL, digest_schedule="off")
        await app.tracker.add(
            NewLaunch(
                guild_id=GUILD,
                product="Grok 9",
                vendor="xAI",
                window_phrase="end of 2030",
                announced_on=dt.date(2025, 1, 2),
            ),
            actor="tester",
        )


def _restart(path: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", RESTART, path],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def test_a_restart_is_armed_before_commands_probes_and_rendering_are_imported(
    tmp_path: Path,
) -> None:
    path = str(tmp_path / "slipwatch.db")
    await _a_server_with_a_pending_launch(path)

    result = _restart(path)

    assert result["armed"] is True  # armed at the launch's deadline
    at_armed = set(result["at_armed"])  # type: ignore[call-overload]
    assert {"tracker.engine", "tracker.outbox.delivery", "storage.session", "discord"} <= at_armed
    early = sorted(
        name
        for name in at_armed
        if any(name == heavy or name.startswith(heavy + ".") for heavy in NOT_BEFORE_ARMED)
    )
    assert early == []
    # They are still there for the commands: the extensions, loaded after arming, import them.
    after_setup = set(result["after_setup"])  # type: ignore[call-overload]
    assert {"tracker.launches", "tracker.windows", "tracker.probes.service", "tracker.stats"} <= (
        after_setup
    )

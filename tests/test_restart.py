"""`python bot.py` as a real process: killed with SIGKILL mid fan-out, restarted, and every
subscriber still gets the alert exactly once."""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import signal
import sys
from pathlib import Path

from storage.db import SqliteDatabase
from storage.session import SqlStore
from tests.e2e import eventually
from tests.loopback.fixtures import running_server
from tracker.clock import SimClock
from tracker.launches import Tracker
from tracker.models import NewLaunch, SubscriptionScope

ROOT = Path(__file__).resolve().parents[1]
UTC = dt.UTC
RECIPIENTS = 200


async def spawn_bot(env: dict[str, str], log: Path) -> asyncio.subprocess.Process:
    handle = log.open("ab")
    return await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bot.py"),
        env=env,
        cwd=str(log.parent),
        stdout=handle,
        stderr=handle,
    )


async def test_sigkill_mid_fanout_then_restart_delivers_to_everyone_exactly_once(
    tmp_path: Path,
) -> None:
    db_path = tmp_path / "bot.db"
    async with running_server(global_rate_limit=50.0) as server:
        guild = server.add_guild(name="Alpha")
        channel = server.add_channel(guild.id, "alerts")
        users = [
            server.add_user(f"sub{i}", guild_id=guild.id, permissions=0) for i in range(RECIPIENTS)
        ]
        # Prepare the watchlist before the deadline, as the bot would have.
        async with SqliteDatabase.open(db_path) as db:
            tracker = Tracker(SqlStore(db), SimClock(dt.datetime(2024, 12, 30, tzinfo=UTC)))
            await tracker.configure(guild.id, alert_channel_id=channel, reminder_offsets=())
            added = await tracker.add(
                NewLaunch(guild.id, "Grok 3", "xAI", "end of 2024", dt.date(2024, 7, 1)), "t"
            )
            for user in users:
                await tracker.subscribe(
                    guild.id, user, SubscriptionScope.LAUNCH, str(added.launch.id)
                )
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLIPWATCH_"))},
            "DISCORD_TOKEN": server.token,
            "DISCORD_API_BASE": server.api_base,
            "DISCORD_GATEWAY_URL": server.gateway_url,
            "SLIPWATCH_DB": str(db_path),
            "LOG_LEVEL": "INFO",
        }
        log = tmp_path / "bot.log"

        wanted = set(users)

        def delivered_users() -> set[int]:
            # One pass over what the server accepted, not one scan per user.
            return wanted.intersection(m.recipient_id for m in server.messages() if m.is_dm)

        first = await spawn_bot(env, log)
        try:
            # The real clock is long past the deadline: the catch-up sweep fans out at start.
            await eventually(lambda: len(delivered_users()) >= 40, limit_s=60, what="fan-out")
        finally:
            first.send_signal(signal.SIGKILL)
            await first.wait()
        killed_at = len(delivered_users())
        assert killed_at < RECIPIENTS, "the kill came too late to test anything"

        second = await spawn_bot(env, log)
        try:
            await eventually(
                lambda: len(delivered_users()) == RECIPIENTS and server.messages(channel),
                limit_s=120,
                what="every subscriber after the restart",
            )
            async with SqliteDatabase.open(db_path) as db:

                async def all_sent() -> bool:
                    counts = await SqlStore(db).read.outbox.outbox_counts()
                    return counts["sent"] == RECIPIENTS + 1

                await eventually(all_sent, limit_s=30, what="outbox all sent")
        finally:
            second.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(second.wait(), 15)
            except TimeoutError:
                second.kill()
                await second.wait()
        # Exactly once: what the server accepted, per person and in the channel.
        assert all(len(server.dms(u)) == 1 for u in users)
        assert len(server.messages(channel)) == 1
        assert all(
            server.dms(u)[0].embeds[0]["title"] == "🚨 Grok 3 (xAI) missed its window"
            for u in users
        )
        assert "DISCORD_TOKEN" not in log.read_text() and server.token not in log.read_text()


def _env(server: object, db_path: Path, token: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "SLIPWATCH_"))},
        "DISCORD_TOKEN": token,
        "DISCORD_API_BASE": server.api_base,  # type: ignore[attr-defined]
        "DISCORD_GATEWAY_URL": server.gateway_url,  # type: ignore[attr-defined]
        "SLIPWATCH_DB": str(db_path),
    }


async def _run(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bot.py"),
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_sync_registers_the_commands_with_one_server(tmp_path: Path) -> None:
    async with running_server() as server:
        guild = server.add_guild(name="Alpha")
        code, out, err = await _run(
            _env(server, tmp_path / "b.db", server.token), "sync", "--guild", str(guild.id)
        )
        assert code == 0, err
        assert out.strip().startswith("synced ") and f"to server {guild.id}" in out
        names = set(server.registered_commands.names(guild.id))
        assert {"launch", "alerts", "subscribe", "unsubscribe", "subscriptions"} <= names
        assert server.registered_commands.global_commands == []


async def test_a_wrong_token_gets_a_clear_answer(tmp_path: Path) -> None:
    async with running_server() as server:
        code, out, err = await _run(_env(server, tmp_path / "b.db", "not-the-token"))
        assert code == 2
        assert "Discord refused the token (401). Check DISCORD_TOKEN in .env" in out + err
        assert "not-the-token" not in out + err

"""slipwatch: a Discord bot that holds AI labs to their announced launch dates.

Usage:
    python bot.py [run]            run the bot (needs DISCORD_TOKEN)
    python bot.py demo             replay the Grok 3 / Claude 3.5 Opus story, no Discord needed
    python bot.py check            validate the settings and the database
    python bot.py sync [--guild ID]  register the slash commands with Discord
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence

from dotenv import find_dotenv, load_dotenv

from tracker.settings import Settings, SettingsError

log = logging.getLogger("slipwatch")

NO_TOKEN = (
    "slipwatch needs a Discord bot token to run, and DISCORD_TOKEN is not set. "
    "Copy .env.example to .env, put your bot's token after DISCORD_TOKEN= (Discord Developer "
    "Portal > your application > Bot > Reset Token), and run `python bot.py` again. "
    "To see what slipwatch does without Discord, try `python bot.py demo`."
)


def _settings() -> Settings:
    # .env (in the working directory) fills in what the environment does not set.
    load_dotenv(find_dotenv(usecwd=True), override=False)
    return Settings.from_env(os.environ)


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # discord.py logs request bodies at DEBUG; keep them out even when we debug ourselves.
    logging.getLogger("discord.http").setLevel(max(logging.INFO, logging.getLogger().level))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)


async def _check(settings: Settings) -> int:
    from storage.db import Database, bundled_migrations

    problems: list[str] = []
    latest = bundled_migrations()[-1].version
    try:
        async with Database.open(settings.db_path) as db:
            version = await db.user_version()
            if version != latest:
                problems.append(f"schema version {version}, expected {latest}")
            problems.extend(await db.integrity_check())
    except Exception as exc:
        problems.append(f"cannot open {settings.db_path}: {exc}")
    token = "set" if settings.token else "NOT SET (only `demo` and `check` work without it)"
    print(f"settings: ok (token {token}, API {settings.api_base})")
    if problems:
        print(f"database {settings.db_path}: FAILED")
        for problem in problems:
            print(f"  - {problem}")
        return 1
    print(f"database {settings.db_path}: ok (schema version {latest}, integrity ok)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The command line of slipwatch (also the `slipwatch` console script)."""
    parser = argparse.ArgumentParser(prog="slipwatch", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (default)")
    sub.add_parser("demo", help="replay the demo story on a simulated clock")
    sub.add_parser("check", help="validate settings and the database")
    sync = sub.add_parser("sync", help="register slash commands with Discord")
    sync.add_argument("--guild", type=int, help="sync to one server only (instant)")
    args = parser.parse_args(argv)
    command = args.command or "run"

    if command == "demo":
        logging.basicConfig(level=logging.WARNING)
        from tracker.demo import main as demo_main

        return demo_main()

    try:
        settings = _settings()
    except SettingsError as exc:
        print(f"slipwatch: bad setting: {exc}", file=sys.stderr)
        return 2
    _setup_logging(settings.log_level)

    if command == "check":
        return asyncio.run(_check(settings))
    if not settings.token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    from cogs.app import run_bot

    guild = getattr(args, "guild", None)
    try:
        return asyncio.run(run_bot(settings, sync_only=command == "sync", sync_guild=guild))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())

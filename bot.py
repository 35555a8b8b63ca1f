"""slipwatch: a Discord bot that holds AI labs to their announced launch dates.

Usage:
    python bot.py [run]            run the bot (needs DISCORD_TOKEN)
    python bot.py --shards 0-3 --shard-count 8
                                   run gateway shards 0..3 of 8 in this process (PostgreSQL:
                                   start one process per range; they share the database)
    python bot.py demo             replay the Grok 3 / Claude 3.5 Opus story, no Discord needed
    python bot.py demo --serve [HOST:PORT]  the same, then serve its public board until Ctrl-C
    python bot.py check            validate the settings and the database
    python bot.py sync [--guild ID]  register the slash commands with Discord
    python bot.py export --guild ID [--format json|csv] [--out FILE]
    python bot.py import FILE --guild ID [--dry-run]
    python bot.py stats --guild ID [--today YYYY-MM-DD] [--vendor V] [--announcer A]
                        [--evidence all] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import sqlite3
import sys
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from dotenv import find_dotenv, load_dotenv

from tracker.errors import DamagedDatabase, TrackerError
from tracker.settings import Settings, SettingsError
from tracker.text import plural

if TYPE_CHECKING:
    from cogs.infra.bot import SlipwatchBot
    from storage.db import CheckMode
    from tracker.app import Slipwatch
    from tracker.clock import Clock
    from tracker.transfer import ExportFile

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


def _setup_logging(level: str, sql_debug: bool = False) -> None:
    logging.basicConfig(
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    # discord.py logs request bodies at DEBUG; keep them out even when we debug ourselves.
    logging.getLogger("discord.http").setLevel(max(logging.INFO, logging.getLogger().level))
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # aiosqlite logs every statement with its parameters (user text) at DEBUG: only on request.
    sql_level = logging.DEBUG if sql_debug else max(logging.INFO, logging.getLogger().level)
    logging.getLogger("aiosqlite").setLevel(sql_level)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector paused around the start's imports: they build only
    long-lived objects (modules, classes, functions), so its passes over them free nothing,
    and they cost about a seventh of the imports' time. (setup_hook later freezes what the
    start built out of the collector's full passes: cogs.infra.bot._freeze_startup_heap.)"""
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


@asynccontextmanager
async def open_app(
    settings: Settings, *, check: CheckMode = True, **adapters: Any
) -> AsyncIterator[Slipwatch]:
    """The store SLIPWATCH_DB names, then every service on it (tracker.app.open_slipwatch with
    *adapters*: notifier, fetcher, clock, ...). The bot, the demo and the command line all
    start here (*check*: when the file is checked, see storage.db.SqliteDatabase.open)."""
    from storage.session import open_store
    from tracker.app import open_slipwatch

    async with (
        open_store(settings.db_path, check=check) as store,
        open_slipwatch(settings, store, **adapters) as app,
    ):
        yield app


@asynccontextmanager
async def running_resources(
    settings: Settings, clock: Clock | None = None, **options: Any
) -> AsyncIterator[SlipwatchBot]:
    """Every service (:func:`open_app`) and the bot on top of them (not yet logged in)."""
    with _collector_paused():
        from cogs.infra.bot import ShardedSlipwatchBot, SlipwatchBot, point_at
        from cogs.infra.notifier import DiscordNotifier

    point_at(settings)
    notifier = DiscordNotifier()
    # The file's check reads all of it (seconds at a million launches), so it runs beside the
    # start: writes and deliveries wait for it, and damage stops the bot (raised on the way out).
    async with open_app(settings, check="background", notifier=notifier, clock=clock) as app:
        kind: type[SlipwatchBot] = SlipwatchBot
        if settings.shard_count is not None:
            kind = ShardedSlipwatchBot
            options.setdefault("shard_ids", list(settings.shard_ids or ()))
            options.setdefault("shard_count", settings.shard_count)
        # On PostgreSQL several processes may share the database (cogs/infra/cluster.py).
        coordination = None
        if settings.on_postgres:  # imported only then: a bot on SQLite never loads psycopg
            from storage.postgres.cluster import PgCoordination

            coordination = PgCoordination(settings.db_path)
        bot = kind(
            app=app,
            notifier=notifier,
            coordination=coordination,
            sync_on_start=settings.sync_guild_id,
            **options,
        )
        watch = asyncio.create_task(_close_if_damaged(app, bot), name="slipwatch-check-watch")
        try:
            async with bot:
                yield bot
        finally:
            watch.cancel()


async def _close_if_damaged(app: Slipwatch, bot: SlipwatchBot) -> None:
    try:
        await app.store.checked()
    except DamagedDatabase:
        await bot.close()  # the store raises the damage again when it closes


async def run_bot(settings: Settings, *, sync_only: bool = False, sync_guild: int | None) -> int:
    """Run until stopped (or, with *sync_only*, register the commands and exit)."""
    import signal

    with _collector_paused():
        import discord

    # slipwatch has no voice: don't warn about voice libraries at every start.
    discord.VoiceClient.warn_nacl = False
    discord.VoiceClient.warn_dave = False
    async with running_resources(settings) as bot:
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            # A clean stop: close the gateway, stop the engine; the outbox keeps the rest.
            loop.add_signal_handler(signum, lambda: asyncio.ensure_future(bot.close()))
        if sync_only:
            bot.sync_only = True
            await bot.login(settings.token.get())  # runs setup_hook: loads the commands
            if sync_guild is not None:
                guild = discord.Object(sync_guild)
                bot.tree.copy_global_to(guild=guild)
                synced = await bot.tree.sync(guild=guild)
                print(f"synced {len(synced)} commands to server {sync_guild}")
            else:
                synced = await bot.tree.sync()
                print(f"synced {len(synced)} global commands (may take up to an hour to show)")
            return 0
        if bot.is_closed():
            return 1  # the database was found damaged: raised when it closes
        try:
            await bot.start(settings.token.get())
        except discord.LoginFailure:
            print(
                "Discord refused the token (401). Check DISCORD_TOKEN in .env: it must be the "
                "bot token from the Developer Portal (Bot > Reset Token).",
            )
            return 2
    return 0


async def _check(settings: Settings) -> int:
    from storage.db import latest_version, open_database, recovery_advice

    problems: list[str] = []
    latest = latest_version(settings.db_path)
    where = settings.db_location
    damaged = False
    try:
        async with open_database(settings.db_path, check=False) as db:
            version = await db.user_version()
            if version != latest:
                problems.append(f"schema version {version}, expected {latest}")
            found = await db.integrity_check()
            damaged = bool(found)
            problems.extend(found)
    except DamagedDatabase as exc:
        problems.append(str(exc))
    except sqlite3.DatabaseError as exc:
        problems.append(f"cannot read {where}: {exc}")
        damaged = True
    except Exception as exc:
        problems.append(f"cannot open {where}: {exc}")
    token = "set" if settings.token else "NOT SET (only `demo` and `check` work without it)"
    print(f"settings: ok (token {token}, API {settings.api_base})")
    if problems:
        print(f"database {where}: FAILED")
        for problem in problems:
            print(f"  - {problem}")
        if damaged:
            print(f"  {recovery_advice(settings.db_path)}")
        return 1
    print(f"database {where}: ok (schema version {latest}, integrity ok)")
    return 0


async def _export(settings: Settings, guild: int, fmt: str) -> ExportFile:
    from tracker.transfer import TransferFormat

    async with open_app(settings) as app:
        return await app.transfer.export(guild, TransferFormat(fmt))


async def _import(settings: Settings, stream: TextIO, fmt: str, guild: int, dry_run: bool) -> int:
    from tracker.transfer import TransferFormat

    async with open_app(settings) as app:
        service = app.transfer
        if dry_run:
            report = await service.check(guild, stream, TransferFormat(fmt))
        else:
            report = await service.import_launches(guild, stream, TransferFormat(fmt))
    print(report.summary())
    return 0 if report.ok else 1


async def _stats(settings: Settings, args: argparse.Namespace) -> int:
    import datetime as dt
    import json

    from tracker import stats

    try:
        today = dt.date.fromisoformat(args.today) if args.today else None
    except ValueError:
        print(f"slipwatch: --today {args.today!r} is not a date like 2025-06-30", file=sys.stderr)
        return 2
    evidence: stats.EvidenceFilter = "all" if args.evidence == "all" else "counted"
    async with open_app(settings) as app:
        service = app.stats
        filters = {"vendor": args.vendor, "announcer": args.announcer, "evidence": evidence}
        result = await service.stats(args.guild, today=today, every_launch=args.json, **filters)
        board = await service.leaderboard(args.guild, today=today, **filters)
    if args.json:
        print(json.dumps(stats.to_json(result, board), ensure_ascii=False))
    else:
        print(stats.to_text(result, board))
    return 0


def _run_export(settings: Settings, guild: int, fmt: str, out: str | None) -> int:
    from storage.schema import MigrationError

    try:
        export = asyncio.run(_export(settings, guild, fmt))
    except (TrackerError, MigrationError) as exc:
        print(f"slipwatch: {exc}", file=sys.stderr)
        return 1
    target = out or export.filename
    if target == "-":
        sys.stdout.buffer.write(export.content)
        return 0
    Path(target).write_bytes(export.content)
    print(f"exported {plural(export.launches, 'launch')} of server {guild} to {target}")
    return 0


def _run_import(settings: Settings, path: str, guild: int, dry_run: bool) -> int:
    import gzip
    import zlib

    from storage.schema import MigrationError
    from tracker.transfer import detect_format

    try:
        with open(path, "rb") as raw:
            packed = raw.read(2) == b"\x1f\x8b"  # a .gz made by /launch export
        # Read as a stream (unpacked as it is read): a file over the row cap is refused at the
        # first row past it, a JSON file past its size cap.
        opener: Any = gzip.open if packed else open
        with opener(path, "rt", encoding="utf-8-sig", newline="") as stream:
            try:
                peek = stream.read(64)
            except UnicodeDecodeError:
                peek = ""
            stream.seek(0)
            fmt = detect_format(path.removesuffix(".gz") if packed else path, peek)
            return asyncio.run(_import(settings, stream, fmt.value, guild, dry_run))
    except (gzip.BadGzipFile, EOFError, zlib.error) as exc:
        print(f"slipwatch: {path} is not a whole gzip file ({exc}).", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"slipwatch: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    except (TrackerError, MigrationError) as exc:
        print(f"slipwatch: {exc}", file=sys.stderr)
        return 1


def _serve_demo(address: str) -> int:
    from cogs.web.demo import serve_demo
    from storage.session import open_store
    from tracker.settings import parse_host_port

    try:
        host, port = parse_host_port(address, "--serve")
    except SettingsError as exc:
        print(f"slipwatch: {exc}", file=sys.stderr)
        return 2
    try:
        return asyncio.run(serve_demo(open_store, host, port))
    except OSError as exc:
        print(f"slipwatch: cannot serve on {address}: {exc.strerror}", file=sys.stderr)
        return 1


def main(argv: Sequence[str] | None = None) -> int:
    """The command line of slipwatch (also the `slipwatch` console script)."""
    parser = argparse.ArgumentParser(prog="slipwatch", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--shards", metavar="IDS", help="the gateway shards this process runs, e.g. 0-3 or 0,2,4"
    )
    parser.add_argument(
        "--shard-count", type=int, metavar="N", help="how many shards the whole bot has"
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("run", help="run the bot (default)")
    demo = sub.add_parser("demo", help="replay the demo story on a simulated clock")
    demo.add_argument(
        "--serve",
        nargs="?",
        const="127.0.0.1:8080",
        metavar="HOST:PORT",
        help="then serve the story's public board until Ctrl-C (default 127.0.0.1:8080)",
    )
    sub.add_parser("check", help="validate settings and the database")
    sync = sub.add_parser("sync", help="register slash commands with Discord")
    sync.add_argument("--guild", type=int, help="sync to one server only (instant)")
    export = sub.add_parser("export", help="write a server's launches and history to a file")
    export.add_argument("--guild", type=int, required=True, help="the server id")
    export.add_argument("--format", choices=("json", "csv"), default="json")
    export.add_argument("--out", help="file to write (default: a dated name; - for stdout)")
    importer = sub.add_parser("import", help="add launches from an export file to a server")
    importer.add_argument("file", help="a JSON or CSV file made by export")
    importer.add_argument("--guild", type=int, required=True, help="the server id")
    importer.add_argument("--dry-run", action="store_true", help="check only, write nothing")
    figures = sub.add_parser("stats", help="print a server's score (as /slips stats shows it)")
    figures.add_argument("--guild", type=int, required=True, help="the server id")
    figures.add_argument(
        "--today",
        help="score as of this day, YYYY-MM-DD (default: now); launches stand as they did then",
    )
    figures.add_argument("--vendor", help="only this vendor")
    figures.add_argument("--announcer", help="only this announcer")
    figures.add_argument(
        "--evidence", choices=("counted", "all"), default="counted", help="all: count rumours"
    )
    figures.add_argument("--json", action="store_true", help="one JSON object")
    args = parser.parse_args(argv)
    command = args.command or "run"

    if command == "demo":
        logging.basicConfig(level=logging.WARNING)
        if args.serve is not None:
            return _serve_demo(args.serve)
        from storage.session import open_store
        from tracker.demo import main as demo_main

        return demo_main(open_store)

    try:
        settings = _settings().with_shards(args.shards, args.shard_count)
    except SettingsError as exc:
        print(f"slipwatch: bad setting: {exc}", file=sys.stderr)
        return 2
    _setup_logging(settings.log_level, settings.sql_debug)

    if command == "check":
        return asyncio.run(_check(settings))
    if command == "export":
        return _run_export(settings, args.guild, args.format, args.out)
    if command == "stats":
        return asyncio.run(_stats(settings, args))
    if command == "import":
        return _run_import(settings, args.file, args.guild, args.dry_run)
    if not settings.token:
        print(NO_TOKEN, file=sys.stderr)
        return 2
    guild = getattr(args, "guild", None)
    try:
        return asyncio.run(run_bot(settings, sync_only=command == "sync", sync_guild=guild))
    except KeyboardInterrupt:
        return 0
    except DamagedDatabase as exc:
        print(f"slipwatch: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

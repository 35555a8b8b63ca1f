"""The Discord application: the Bot subclass and the bootstrap that owns every resource.

Modelled on discord.py's advanced_startup.py: run_bot() opens the database, the scheduler and the
bot with `async with`, hands them to the Bot's constructor, and setup_hook loads a fixed tuple of
extensions. Nothing happens at import time.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import discord
import yarl
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from discord import app_commands
from discord.ext import commands

from cogs.infra import replies
from cogs.infra.buttons import NotifyButton, ShipButton
from cogs.infra.cluster import Cluster
from cogs.infra.notifier import DiscordNotifier
from cogs.infra.proposals import ProposalPoster
from cogs.web.server import BoardSite, WebSettings
from storage.db import Database, open_database
from storage.session import SqlStore
from tracker.board import BoardService
from tracker.clock import Clock, SystemClock
from tracker.digest import DigestService
from tracker.discovery import DiscoveryService
from tracker.engine import Engine
from tracker.errors import TrackerError
from tracker.models import DestinationKind, OutboxRow
from tracker.outbox.delivery import Deliverer, DeliverySettings
from tracker.probes.fetch import Fetcher
from tracker.probes.netguard import NetGuard
from tracker.probes.service import ProbeService, ProbeSettings
from tracker.service import Tracker
from tracker.settings import Settings
from tracker.stats import StatsService
from tracker.transfer import TransferService

log = logging.getLogger(__name__)

# cogs.probes adds its commands to the /launch group, so it loads after cogs.launch.
EXTENSIONS = (
    "cogs.launch",
    "cogs.probes",
    "cogs.discover",
    "cogs.transfer",
    "cogs.alerts",
    "cogs.subscriptions",
    "cogs.slips",
)


def point_at(settings: Settings) -> None:
    """Point discord.py's REST and gateway at the configured Discord-compatible server."""
    discord.http.Route.BASE = settings.api_base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(settings.gateway_url)


class SlipwatchBot(commands.Bot):
    """The bot: owns the tracker, the engine and the notifier for its lifetime."""

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        scheduler: AsyncIOScheduler,
        clock: Clock,
        fetcher: Fetcher,
        sync_on_start: int | None = None,
        **options: Any,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # channels, roles and owners; no privileged intents
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            max_ratelimit_timeout=None,
            **options,
        )
        self.settings = settings
        self.db = db
        self.store = SqlStore(db)
        self.scheduler = scheduler
        self.clock = clock
        self.sync_on_start = sync_on_start
        self.sync_only = False  # `python bot.py sync`: load commands, start nothing
        self.notifier = DiscordNotifier(self)
        self.deliverer = Deliverer(
            self.store,
            clock,
            self.notifier,
            DeliverySettings(
                concurrency=settings.delivery_concurrency, max_age=settings.outbox_max_age
            ),
            on_broken=self.tell_managers_broken,
        )
        self.engine = Engine(self.store, clock, scheduler, self.deliverer)
        limits = settings.limits
        # On PostgreSQL several processes may share the database: one of them, elected,
        # delivers; a change committed here is announced to it (see cogs/infra/cluster.py).
        self.cluster = Cluster(self, settings.db_path) if settings.on_postgres else None
        self.tracker = Tracker(self.store, clock, on_change=self.changed, limits=limits)
        self.proposals = ProposalPoster(self)
        self.probes = ProbeService(
            self.store,
            clock,
            self.tracker,
            fetcher,
            ProbeSettings(
                max_probes_per_guild=limits.probes_per_guild,
                max_proposals_per_poll=limits.proposals_per_poll,
            ),
            on_detection=self.proposals.on_detection,
            on_change=self.changed,
        )
        self.probes.attach(self.engine)
        self.discovery = DiscoveryService(
            self.store, clock, self.tracker, fetcher, self.probes.reader
        )
        self.discovery.attach(self.engine)
        self.stats = StatsService(self.store, clock)
        self.digests = DigestService(self.store, clock)
        self.digests.attach(self.engine)
        self.transfer = TransferService(self.store, clock, on_change=self.changed, limits=limits)
        self.boards = BoardService(self.store, clock)
        self.web: BoardSite | None = None
        if settings.web is not None:
            host, port = settings.web
            self.web = BoardSite(
                self.boards, WebSettings(host=host, port=port, public_url=settings.web_url)
            )
        self._max_concurrency: int | None = None
        self.tree.error(self.on_app_command_error)

    async def setup_hook(self) -> None:
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        self.add_dynamic_items(NotifyButton, ShipButton)
        if self.sync_only:
            return
        if self.sync_on_start is not None:
            guild = discord.Object(self.sync_on_start)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        if not self.scheduler.running:
            self.scheduler.start()
        if self.cluster is None:
            await self.start_delivering()
        else:
            # Deliver only when elected (now, or when the deliverer of the moment dies).
            await self.cluster.start()
        if self.web is not None:
            await self.web.start()  # the boards, on this same event loop

    async def start_delivering(self) -> None:
        """Run the engine, the outbox and the proposal poster in this process. The first sweep
        runs now: what fell due while nobody delivered is handled at once."""
        await self.engine.start()
        self.proposals.start()

    def board_url(self, slug: str) -> str | None:
        """Where readers find a board, or None when this bot serves no boards."""
        if self.web is None:
            return None
        return f"{self.web.base_url}/b/{slug}"

    async def stop_delivering(self) -> None:
        """Stop them; what is pending stays in the database for whoever delivers next."""
        await self.proposals.stop()
        await self.probes.stop()
        await self.discovery.stop()
        await self.engine.stop()

    def changed(self) -> None:
        """A change was committed here: re-arm the engine, wherever it runs."""
        if self.cluster is None:
            self.engine.poke()
        else:
            self.cluster.changed()

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        """Shards of several processes take turns through the database: one IDENTIFY per
        rate-limit key (shard_id % max_concurrency) per 5 s for the whole bot."""
        if self.cluster is None or self.settings.shard_count is None:
            await super().before_identify_hook(shard_id, initial=initial)
            return
        if self._max_concurrency is None:
            _, _, limits = await self.http.get_bot_gateway()
            self._max_concurrency = int(limits.get("max_concurrency", 1))
        await self.cluster.identify.wait_turn(shard_id or 0, self._max_concurrency)

    async def close(self) -> None:
        if self.web is not None:
            await self.web.stop()
        if self.cluster is not None:
            await self.cluster.stop()  # steps down first: stop_delivering runs if elected
        else:
            await self.stop_delivering()
        await super().close()

    async def on_app_command_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError
    ) -> None:
        """Domain and option errors get a short ephemeral answer; the rest is logged."""
        original = getattr(error, "original", error)
        if isinstance(original, TrackerError):
            message = str(original)
        elif isinstance(error, app_commands.TransformerError) and isinstance(
            error.__cause__, TrackerError
        ):
            message = str(error.__cause__)
        elif isinstance(error, (app_commands.CheckFailure, replies.BadOption)):
            message = str(error)
        elif isinstance(error, app_commands.TransformerError):
            message = f"Could not read {str(error.value)[:60]!r}; please pick from the list."
        else:
            command = interaction.command.qualified_name if interaction.command else "?"
            log.error("command /%s failed", command, exc_info=original)
            message = "Something went wrong on our side; it was logged. Please try again."
        try:
            await replies.reply(interaction, message)
        except discord.HTTPException:
            log.warning("could not send the error reply")

    async def tell_managers_broken(self, row: OutboxRow, reason: str) -> None:
        """Tell a guild's managers once that its alert channel is broken: in the system channel
        when that is another channel, else a DM to the owner."""
        if row.guild_id is None or row.dest_kind is not DestinationKind.CHANNEL:
            return
        async with self.store.transaction() as conn:
            claimed = await conn.destinations.mark_broken_notified(
                row.dest_kind, row.dest_id, self.clock.now()
            )
        if not claimed:
            return
        text = (
            f"slipwatch cannot post alerts in <#{row.dest_id}>: {reason}\n"
            "Alerts are being held, not lost. Fix the channel's permissions (or pick another "
            "channel) and run `/alerts channel` again; `/alerts status` shows what is held."
        )
        guild = self.get_guild(row.guild_id)
        targets: list[discord.abc.Messageable] = []
        if guild is not None:
            system = guild.system_channel
            if system is not None and system.id != row.dest_id:
                targets.append(system)
            if guild.owner_id:
                owner = await self._owner_dm(guild.owner_id)
                if owner is not None:
                    targets.append(owner)
        for target in targets:
            try:
                await target.send(text, allowed_mentions=discord.AllowedMentions.none())
                return
            except discord.HTTPException as exc:
                log.warning("telling managers failed (%s); trying the next way", exc.status)

    async def _owner_dm(self, owner_id: int) -> discord.PartialMessageable | None:
        try:
            data = await self.http.start_private_message(owner_id)
        except discord.HTTPException:
            return None
        return self.get_partial_messageable(int(data["id"]), type=discord.ChannelType.private)


class ShardedSlipwatchBot(SlipwatchBot, commands.AutoShardedBot):
    """The bot running some of the gateway's shards (``--shards 0-3 --shard-count 8``)."""


@asynccontextmanager
async def running_resources(
    settings: Settings, clock: Clock | None = None, **options: Any
) -> AsyncIterator[SlipwatchBot]:
    """Open the database and scheduler and build the bot (not yet logged in)."""
    point_at(settings)
    guard = NetGuard.from_settings(settings.probe_allow)
    async with open_database(settings.db_path) as db, Fetcher(guard) as fetcher:
        scheduler = AsyncIOScheduler(timezone="UTC")
        kind: type[SlipwatchBot] = SlipwatchBot
        if settings.shard_count is not None:
            kind = ShardedSlipwatchBot
            options.setdefault("shard_ids", list(settings.shard_ids or ()))
            options.setdefault("shard_count", settings.shard_count)
        bot = kind(
            settings=settings,
            db=db,
            scheduler=scheduler,
            clock=clock or SystemClock(),
            fetcher=fetcher,
            sync_on_start=settings.sync_guild_id,
            **options,
        )
        try:
            async with bot:
                yield bot
        finally:
            if scheduler.running:
                scheduler.shutdown(wait=False)


async def run_bot(settings: Settings, *, sync_only: bool = False, sync_guild: int | None) -> int:
    """Run until stopped (or, with *sync_only*, register the commands and exit)."""
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
        try:
            await bot.start(settings.token.get())
        except discord.LoginFailure:
            print(
                "Discord refused the token (401). Check DISCORD_TOKEN in .env: it must be the "
                "bot token from the Developer Portal (Bot > Reset Token).",
            )
            return 2
    return 0

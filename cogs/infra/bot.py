"""The Discord application: the Bot subclass and the bootstrap that owns every resource.

Modelled on discord.py's advanced_startup.py: run_bot() opens the database, the scheduler and the
bot with `async with`, hands them to the Bot's constructor, and setup_hook loads a fixed tuple of
extensions. Nothing happens at import time.
"""

from __future__ import annotations

import gc
import logging
from typing import TYPE_CHECKING, Any

import discord
import yarl
from discord import app_commands
from discord.ext import commands

from cogs.infra.notifier import DiscordNotifier
from cogs.infra.pacing import GLOBAL_LIMIT, STANDBY_LIMIT, GlobalPacer
from tracker.errors import TrackerError
from tracker.ports.cluster import Coordination
from tracker.settings import Settings

if TYPE_CHECKING:
    # Imported where they are built: only a bot on PostgreSQL runs a cluster and only one that
    # serves boards runs the web site, and their imports (psycopg, aiohttp's server, Jinja2)
    # would otherwise delay every start. What only commands use (replies, buttons, and the
    # services behind them) is imported after the engine is armed, with the extensions.
    from cogs.infra.cluster import Cluster
    from cogs.web.server import BoardSite
    from tracker.app import Slipwatch
    from tracker.board import BoardService
    from tracker.digests import DigestService
    from tracker.discovery import DiscoveryService
    from tracker.launches import Tracker
    from tracker.probes.service import ProbeService
    from tracker.stats import StatsService
    from tracker.transfer import TransferService
    from tracker.watchlist import Watchlist

log = logging.getLogger(__name__)

# cogs.probes adds its commands to the /launch group, so it loads after cogs.launch.
EXTENSIONS = (
    "cogs.launch",
    "cogs.lifecycle",
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
        app: Slipwatch,
        notifier: DiscordNotifier,
        coordination: Coordination | None = None,
        sync_on_start: int | None = None,
        **options: Any,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True  # channels, roles and owners; no privileged intents
        # Every request discord.py makes is paced at this process's share of the global limit:
        # all of it alone, or a standby's share until elected deliverer (cogs/infra/cluster.py).
        self.pacer = GlobalPacer(STANDBY_LIMIT if coordination is not None else GLOBAL_LIMIT)
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            max_ratelimit_timeout=None,
            http_trace=self.pacer.trace_config(app.settings.api_base),
            **options,
        )
        settings = app.settings
        self.app = app
        self.settings = settings
        self.scheduler = app.scheduler
        self.clock = app.clock
        self.sync_on_start = sync_on_start
        self.sync_only = False  # `python bot.py sync`: load commands, start nothing
        self.notifier = notifier
        notifier.attach(self)
        self.deliverer = app.deliverer
        self.engine = app.engine
        # The hook that needs Discord: on PostgreSQL, where a change is announced (several
        # processes may share the database: one of them, elected, delivers; see
        # cogs/infra/cluster.py). A broken channel's managers are told, and the probes'
        # proposals posted, through the outbox (DiscordNotifier sends them).
        self.cluster: Cluster | None = None
        if coordination is not None:
            from cogs.infra.cluster import Cluster

            self.cluster = Cluster(self, coordination)
        if self.cluster is not None:
            app.changes.route(self.cluster.changed)
        self.web = _board_site(settings, app)
        self._max_concurrency: int | None = None
        self.tree.error(self.on_app_command_error)

    # The services the cogs call, by their short names (each built at its first use: see
    # tracker.app.Slipwatch).

    @property
    def tracker(self) -> Tracker:
        return self.app.tracker

    @property
    def probes(self) -> ProbeService:
        return self.app.probes

    @property
    def discovery(self) -> DiscoveryService:
        return self.app.discovery

    @property
    def stats(self) -> StatsService:
        return self.app.stats

    @property
    def digests(self) -> DigestService:
        return self.app.digests

    @property
    def transfer(self) -> TransferService:
        return self.app.transfer

    @property
    def boards(self) -> BoardService:
        return self.app.boards

    @property
    def watchlist(self) -> Watchlist:
        return self.app.watchlist

    async def setup_hook(self) -> None:
        if not self.sync_only:
            # The engine first (logged in, so alerts can go out): what fell due while the bot
            # was down is swept and the timer armed before the commands load, which nobody can
            # use before the gateway connects, after this hook.
            if not self.scheduler.running:
                self.scheduler.start()
            if self.cluster is None:
                await self.start_delivering()
            else:
                # Deliver only when elected (now, or when the deliverer of the moment dies).
                await self.cluster.start()
        for extension in EXTENSIONS:
            await self.load_extension(extension)
        from cogs.infra.buttons import NotifyButton, ShipButton

        self.add_dynamic_items(NotifyButton, ShipButton)
        if self.sync_only:
            return
        if self.sync_on_start is not None:
            guild = discord.Object(self.sync_on_start)
            self.tree.copy_global_to(guild=guild)
            await self.tree.sync(guild=guild)
        if self.web is not None:
            await self.web.start()  # the boards, on this same event loop
        _freeze_startup_heap()

    async def start_delivering(self) -> None:
        """Run the engine and the outbox in this process. The first sweep runs now: what fell
        due while nobody delivered is handled at once. Then the probes' proposals that nobody
        was shown yet are queued (tracker.probes.posts: what an older version or a crash left
        unposted, or a guild that has set its alert channel since)."""
        await self.app.start()
        from tracker.probes.posts import queue_unposted

        if await queue_unposted(self.app.store, self.app.clock):
            self.deliverer.kick()

    def board_url(self, slug: str) -> str | None:
        """Where readers find a board, or None when this bot serves no boards."""
        if self.web is None:
            return None
        return f"{self.web.base_url}/b/{slug}"

    async def stop_delivering(self) -> None:
        """Stop them; what is pending stays in the database for whoever delivers next."""
        await self.app.stop()

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
        from cogs.infra import replies  # loaded with the extensions, before any command

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


def _board_site(settings: Settings, app: Slipwatch) -> BoardSite | None:
    """The public boards' web server, when SLIPWATCH_WEB asks for one."""
    if settings.web is None:
        return None
    from cogs.web.server import BoardSite, WebSettings

    host, port = settings.web
    web = WebSettings(
        host=host,
        port=port,
        public_url=settings.web_url,
        trusted_proxies=settings.web_trusted_proxies,
    )
    return BoardSite(app.boards, web)


class ShardedSlipwatchBot(SlipwatchBot, commands.AutoShardedBot):
    """The bot running some of the gateway's shards (``--shards 0-3 --shard-count 8``)."""


_frozen = False


def _freeze_startup_heap() -> None:
    """Keep what start-up built (modules, the command tree, the services: it lives as long as
    the process) out of the garbage collector's full passes. A full pass holds the GIL, so the
    event loop too, for as long as it takes to walk every tracked object; measured with
    bench/loop.py, the longest pauses fell about fivefold. Once per process."""
    global _frozen
    if not _frozen:
        _frozen = True
        gc.collect()
        gc.freeze()

"""LoopbackDiscord: an in-process Discord (REST v10 + gateway) for the real discord.py client.

Point discord.py at it with ``discord.http.Route.BASE = server.api_base`` and
``discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(server.gateway_url)``.
Listens on 127.0.0.1 on a random port. See ``tests/loopback/__init__.py`` for an overview.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import inspect
import json
import logging
import math
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from aiohttp import BodyPartReader, web

from . import limits
from .gateway import OP_INVALID_SESSION, OP_RECONNECT, Gateway, GatewaySession
from .options import (
    ATTACHMENT,
    CHANNEL,
    MENTIONABLE,
    ROLE,
    USER,
    BuiltOptions,
    OptionError,
    build_options,
)
from .records import (
    ALL_PERMISSIONS,
    FLAG_COMPONENTS_V2,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    FLAG_SUPPRESS_EMBEDS,
    FLAG_SUPPRESS_NOTIFICATIONS,
    PERM_ADMINISTRATOR,
    Channel,
    CommandRegistry,
    FileRecord,
    Guild,
    Injection,
    InteractionRecord,
    Member,
    MessageRecord,
    RequestRecord,
    Role,
    SnowflakeGenerator,
    iso_now,
)

log = logging.getLogger(__name__)

API_PREFIX = "/api/v10"


def _bits(*positions: int) -> int:
    value = 0
    for p in positions:
        value |= 1 << p
    return value


# create invite, add reactions, view channel, send, embed links, attach files, read history,
# external emojis, connect, speak, change nickname, use app commands, send in threads
DEFAULT_EVERYONE_PERMISSIONS = _bits(0, 6, 10, 11, 14, 15, 16, 18, 20, 21, 26, 31, 38)
# add reactions, view channel, send, embed links, attach files, read history, external emojis,
# use app commands, send in threads
DEFAULT_BOT_PERMISSIONS = _bits(6, 10, 11, 14, 15, 16, 18, 31, 38)

ERROR_MESSAGES = {
    0: "",
    10002: "Unknown Application",
    10003: "Unknown Channel",
    10004: "Unknown Guild",
    10007: "Unknown Member",
    10008: "Unknown Message",
    10011: "Unknown Role",
    10013: "Unknown User",
    10015: "Unknown Webhook",
    10062: "Unknown interaction",
    10063: "Unknown application command",
    40005: "Request entity too large",
    40060: "Interaction has already been acknowledged.",
    50001: "Missing Access",
    50005: "Cannot edit a message authored by another user",
    50006: "Cannot send an empty message",
    50007: "Cannot send messages to this user",
    50013: "Missing Permissions",
    50033: "Invalid Recipient(s)",
    50035: "Invalid Form Body",
    50109: "The request body contains invalid JSON.",
}
REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    413: "Payload Too Large",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}


def error_message(status: int, code: int) -> str:
    return ERROR_MESSAGES.get(code) or f"{status}: {REASONS.get(status, 'Error')}"


class ApiError(Exception):
    """Raised by handlers; becomes a Discord-shaped JSON error response."""

    def __init__(
        self,
        status: int,
        code: int = 0,
        message: str | None = None,
        errors: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.message = message or error_message(status, code)
        self.errors = errors
        self.headers = headers or {}
        super().__init__(f"{status} {self.code} {self.message}")

    def reply(self) -> Reply:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return Reply(self.status, body, dict(self.headers))


def invalid_form(errors: dict[str, Any]) -> ApiError:
    return ApiError(400, 50035, "Invalid Form Body", errors)


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)

    def to_response(self) -> web.Response:
        headers = dict(self.headers)
        if self.status == 204:
            return web.Response(status=204, headers=headers)
        # Exactly "application/json" (no charset): discord.py compares the header verbatim.
        headers["Content-Type"] = "application/json"
        body = json.dumps(self.body).encode()
        return web.Response(status=self.status, body=body, headers=headers)


@dataclass
class _Route:
    method: str
    template: str
    regex: re.Pattern[str]
    handler: str
    auth: bool = True
    global_limited: bool = True
    bucket_hash: str = ""


@dataclass
class _Ctx:
    request: web.Request
    record: RequestRecord
    json: Any
    files: dict[int, FileRecord]
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def query(self) -> Mapping[str, str]:
        return self.request.query

    @property
    def payload(self) -> dict[str, Any]:
        if self.json is None:
            return {}
        if not isinstance(self.json, dict):
            raise invalid_form(
                {
                    "_root": limits.error(
                        "DICT_TYPE_CONVERT", "Only dictionaries may be used in a DictType"
                    )
                }
            )
        return self.json


_ROUTES: list[tuple[str, str, str, bool, bool]] = [
    # method, template, handler, auth, global rate limit
    ("GET", "/users/@me", "h_get_me", True, True),
    ("PATCH", "/users/@me", "h_edit_me", True, True),
    ("POST", "/users/@me/channels", "h_create_dm", True, True),
    ("GET", "/users/{user_id}", "h_get_user", True, True),
    ("GET", "/oauth2/applications/@me", "h_app_info", True, True),
    ("GET", "/applications/@me", "h_app_info", True, True),
    ("GET", "/gateway", "h_gateway", False, True),
    ("GET", "/gateway/bot", "h_gateway_bot", True, True),
    ("GET", "/applications/{application_id}/commands", "h_get_commands", True, True),
    ("PUT", "/applications/{application_id}/commands", "h_put_commands", True, True),
    ("POST", "/applications/{application_id}/commands", "h_post_command", True, True),
    (
        "PATCH",
        "/applications/{application_id}/commands/{command_id}",
        "h_patch_command",
        True,
        True,
    ),
    (
        "DELETE",
        "/applications/{application_id}/commands/{command_id}",
        "h_delete_command",
        True,
        True,
    ),
    (
        "GET",
        "/applications/{application_id}/guilds/{guild_id}/commands/permissions",
        "h_command_permissions",
        True,
        True,
    ),
    (
        "GET",
        "/applications/{application_id}/guilds/{guild_id}/commands",
        "h_get_commands",
        True,
        True,
    ),
    (
        "PUT",
        "/applications/{application_id}/guilds/{guild_id}/commands",
        "h_put_commands",
        True,
        True,
    ),
    (
        "POST",
        "/applications/{application_id}/guilds/{guild_id}/commands",
        "h_post_command",
        True,
        True,
    ),
    (
        "PATCH",
        "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
        "h_patch_command",
        True,
        True,
    ),
    (
        "DELETE",
        "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
        "h_delete_command",
        True,
        True,
    ),
    ("GET", "/channels/{channel_id}", "h_get_channel", True, True),
    ("GET", "/channels/{channel_id}/messages", "h_get_messages", True, True),
    ("POST", "/channels/{channel_id}/messages", "h_create_message", True, True),
    ("GET", "/channels/{channel_id}/messages/{message_id}", "h_get_message", True, True),
    ("PATCH", "/channels/{channel_id}/messages/{message_id}", "h_edit_message", True, True),
    ("DELETE", "/channels/{channel_id}/messages/{message_id}", "h_delete_message", True, True),
    (
        "PUT",
        "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
        "h_add_reaction",
        True,
        True,
    ),
    (
        "DELETE",
        "/channels/{channel_id}/messages/{message_id}/reactions/{emoji}/@me",
        "h_remove_reaction",
        True,
        True,
    ),
    ("POST", "/channels/{channel_id}/typing", "h_typing", True, True),
    ("GET", "/guilds/{guild_id}", "h_get_guild", True, True),
    ("GET", "/guilds/{guild_id}/channels", "h_get_guild_channels", True, True),
    ("GET", "/guilds/{guild_id}/roles", "h_get_roles", True, True),
    ("GET", "/guilds/{guild_id}/members", "h_list_members", True, True),
    ("GET", "/guilds/{guild_id}/members/{user_id}", "h_get_member", True, True),
    (
        "PUT",
        "/guilds/{guild_id}/members/{user_id}/roles/{role_id}",
        "h_add_member_role",
        True,
        True,
    ),
    (
        "DELETE",
        "/guilds/{guild_id}/members/{user_id}/roles/{role_id}",
        "h_remove_member_role",
        True,
        True,
    ),
    (
        "POST",
        "/interactions/{interaction_id}/{interaction_token}/callback",
        "h_interaction_callback",
        False,
        False,
    ),
    ("POST", "/webhooks/{application_id}/{token}", "h_webhook_execute", False, False),
    (
        "GET",
        "/webhooks/{application_id}/{token}/messages/{message_id}",
        "h_webhook_get_message",
        False,
        False,
    ),
    (
        "PATCH",
        "/webhooks/{application_id}/{token}/messages/{message_id}",
        "h_webhook_edit_message",
        False,
        False,
    ),
    (
        "DELETE",
        "/webhooks/{application_id}/{token}/messages/{message_id}",
        "h_webhook_delete_message",
        False,
        False,
    ),
]


# Discord's per-route buckets that matter to a bot that posts alerts: a channel takes 5 messages
# per 5 seconds (the bucket is per channel: the same hash, a different major parameter). Routes
# not listed here share the server's generic bucket_limit per bucket_window.
DISCORD_ROUTE_LIMITS: dict[str, tuple[int, float]] = {
    "POST /channels/{channel_id}/messages": (5, 5.0),
}


def _compile_routes() -> list[_Route]:
    routes = []
    for method, template, handler, auth, global_limited in _ROUTES:
        pattern = re.sub(
            r"\{(\w+)\}",
            r"(?P<\1>[^/]+)",
            re.escape(template).replace(r"\{", "{").replace(r"\}", "}"),
        )
        routes.append(
            _Route(
                method=method,
                template=template,
                regex=re.compile(f"^{pattern}$"),
                handler=handler,
                auth=auth,
                global_limited=global_limited,
                bucket_hash=hashlib.sha1(f"{method} {template}".encode()).hexdigest()[:32],
            )
        )
    return routes


def _peer_port(request: web.Request) -> int | None:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if isinstance(peer, tuple) and len(peer) >= 2 and isinstance(peer[1], int):
        return peer[1]
    return None


def _snowflake_of(value: Any) -> int:
    """An int id from an int, a digit string, a record/discord object with .id, or a dict."""
    if isinstance(value, bool):
        raise TypeError(f"not an id: {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    if isinstance(value, Mapping) and "id" in value:
        return int(value["id"])
    if hasattr(value, "id"):
        return int(value.id)
    if hasattr(value, "user_id"):
        return int(value.user_id)
    raise TypeError(f"not an id: {value!r}")


def _perm_int(value: Any) -> int:
    if value is None:
        return 0
    if hasattr(value, "value"):
        return int(value.value)
    return int(value)


class LoopbackDiscord:
    """A fake but faithful Discord for the real discord.py client. See module docs."""

    def __init__(
        self,
        token: str = "test-token",
        *,
        global_rate_limit: float | None = 50.0,
        bucket_limit: int = 1000,
        bucket_window: float = 1.0,
        route_limits: Mapping[str, tuple[int, float]] | None = None,
        interaction_ack_timeout: float | None = 3.0,
        heartbeat_interval: float = 41.25,
        attachment_size_limit: int = 10 * 1024 * 1024,
        bot_name: str = "slipwatch",
        application_flags: int = 0,
        shard_count: int = 1,
        max_concurrency: int = 1,
    ) -> None:
        self.token = token
        # Sharding: GET /gateway/bot recommends shard_count; an IDENTIFY must carry this count
        # (or none, for a single connection); max_concurrency IDENTIFYs may start per 5 s.
        self.shard_count = shard_count
        self.max_concurrency = max_concurrency
        self.global_rate_limit = global_rate_limit
        self.bucket_limit = bucket_limit
        self.bucket_window = bucket_window
        # "METHOD /template" -> (limit, window seconds); Discord's own by default.
        self.route_limits: dict[str, tuple[int, float]] = dict(
            DISCORD_ROUTE_LIMITS if route_limits is None else route_limits
        )
        self.interaction_ack_timeout = interaction_ack_timeout
        self.heartbeat_interval = heartbeat_interval
        self.attachment_size_limit = attachment_size_limit
        self.application_flags = application_flags

        self._ids = SnowflakeGenerator()
        self._placed = 0  # guilds placed on a chosen shard
        self.port = 0
        self._runner: web.AppRunner | None = None
        self._routes = _compile_routes()

        # world
        self.users: dict[int, dict[str, Any]] = {}
        self.guilds: dict[int, Guild] = {}
        self.channels: dict[int, Channel] = {}
        self._dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self.bot_id = self.add_user(bot_name, bot=True)
        self.bot_user: dict[str, Any] = self.users[self.bot_id]
        self.owner_id = self.add_user(f"{bot_name}-owner")
        self.application_id = self._ids()
        self.application_name = bot_name

        # traffic
        self.requests: list[RequestRecord] = []
        self.interactions: list[InteractionRecord] = []
        self.registered_commands = CommandRegistry()
        self.internal_errors: list[BaseException] = []
        self._messages: dict[int, MessageRecord] = {}
        self._message_order: list[MessageRecord] = []
        self._interactions: dict[int, InteractionRecord] = {}
        self._tokens: dict[str, InteractionRecord] = {}
        self._attachments: dict[int, FileRecord] = {}
        self._nonces: dict[tuple[int, str], int] = {}
        self._command_ids: dict[tuple[int | None, int, str], int] = {}
        self._adhoc_command_ids: dict[str, int] = {}

        # faults
        self._injections: list[Injection] = []
        self._failed_channels: dict[int, tuple[int, int, str | None]] = {}
        self._closed_dms: set[int] = set()
        self._global_windows: dict[str | None, deque[float]] = {}
        self._buckets: dict[tuple[str, str], list[float]] = {}

        self.gateway = Gateway(self)
        self._waiters: list[asyncio.Future[None]] = []
        # wait_for re-checks on every server event and at least this often (for predicates
        # over state the server does not see, e.g. the bot's own variables)
        self.poll_interval = 0.05

    # ========================================================================================
    # lifecycle
    # ========================================================================================
    async def start(self) -> LoopbackDiscord:
        app = web.Application(client_max_size=self.attachment_size_limit * 11)
        app.router.add_get("/gateway", self.gateway.handle)
        app.router.add_get("/attachments/{attachment_id}/{filename}", self._serve_attachment)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._handle_api)
        self._runner = web.AppRunner(
            app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        return self

    async def stop(self) -> None:
        await self.gateway.shutdown()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        for fut in self._waiters:
            if not fut.done():
                fut.cancel()
        self._waiters.clear()

    async def __aenter__(self) -> LoopbackDiscord:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.base_url}{API_PREFIX}"

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    # ========================================================================================
    # world building
    # ========================================================================================
    def add_user(
        self,
        username: str,
        *,
        bot: bool = False,
        global_name: str | None = None,
        guild_id: int | None = None,
        roles: Iterable[int] = (),
        permissions: Any = None,
    ) -> int:
        """Create a user; with ``guild_id`` also make them a member there. Returns the id."""
        user_id = self._ids()
        self.users[user_id] = {
            "id": str(user_id),
            "username": username,
            "discriminator": "0",
            "global_name": global_name,
            "avatar": None,
            "bot": bot,
            "system": False,
            "public_flags": 0,
        }
        if guild_id is not None:
            self.add_member(guild_id, user_id, roles=roles, permissions=permissions)
        return user_id

    def add_guild(
        self,
        name: str = "Guild",
        *,
        owner_id: int | None = None,
        bot_permissions: Any = DEFAULT_BOT_PERMISSIONS,
        everyone_permissions: Any = DEFAULT_EVERYONE_PERMISSIONS,
        preferred_locale: str = "en-US",
        features: Iterable[str] = (),
        shard: int | None = None,
    ) -> Guild:
        """Create a guild the bot is in (with @everyone, a managed bot role, owner, bot);
        with *shard*, its id is chosen so that the guild lives on that shard."""
        guild_id = self._ids() if shard is None else self._guild_id_on(shard)
        if owner_id is None:
            owner_id = self.add_user(f"{name.lower().replace(' ', '-')}-owner")
        guild = Guild(
            id=guild_id,
            name=name,
            owner_id=owner_id,
            preferred_locale=preferred_locale,
            features=list(features),
        )
        guild.roles[guild_id] = Role(
            id=guild_id,
            guild_id=guild_id,
            name="@everyone",
            permissions=_perm_int(everyone_permissions),
        )
        bot_role = Role(
            id=self._ids(),
            guild_id=guild_id,
            name=self.bot_user["username"],
            permissions=_perm_int(bot_permissions),
            position=1,
            managed=True,
            tags={"bot_id": str(self.bot_id)},
        )
        guild.roles[bot_role.id] = bot_role
        guild.bot_role_id = bot_role.id
        guild.members[owner_id] = Member(guild_id=guild_id, user_id=owner_id)
        guild.members[self.bot_id] = Member(
            guild_id=guild_id, user_id=self.bot_id, roles=[bot_role.id]
        )
        self.guilds[guild_id] = guild
        self.gateway.dispatch("GUILD_CREATE", self._guild_create_payload(guild))
        self._notify()
        return guild

    def set_system_channel(self, guild_id: int, channel_id: int | None) -> None:
        """Make *channel_id* the guild's system channel (None: none) and tell connected bots
        (GUILD_UPDATE), as Discord does when a server's settings change."""
        guild = self._guild(guild_id)
        guild.system_channel_id = None if channel_id is None else int(channel_id)
        self.gateway.dispatch("GUILD_UPDATE", self._guild_payload(guild))
        self._notify()

    def _guild_id_on(self, shard: int) -> int:
        # (id >> 22) % shard_count picks the shard: move the timestamp part to the next value
        # with that remainder. Worker 31 and our own counter keep these ids apart from the
        # generator's (worker 1) and from each other.
        if not 0 <= shard < self.shard_count:
            raise ValueError(f"shard {shard} is not in 0..{self.shard_count - 1}")
        ms = (self._ids() >> 22) + self.shard_count * (self._placed // 0x1000)
        ms += (shard - ms) % self.shard_count
        guild_id = (ms << 22) | (31 << 17) | (self._placed % 0x1000)
        self._placed += 1
        return guild_id

    def add_channel(
        self,
        guild_id: int,
        name: str,
        *,
        type: int = 0,
        topic: str | None = None,
        parent_id: int | None = None,
        **extra: Any,
    ) -> int:
        """Create a guild channel (0 text, 2 voice, 4 category, 5 news, 15 forum). Returns id."""
        guild = self._guild(guild_id)
        channel = Channel(
            id=self._ids(),
            name=name,
            type=type,
            guild_id=guild.id,
            position=len(guild.channels),
            parent_id=parent_id,
            topic=topic,
            extra=extra,
        )
        guild.channels[channel.id] = channel
        self.channels[channel.id] = channel
        self.gateway.dispatch("CHANNEL_CREATE", channel.to_api())
        self._notify()
        return channel.id

    def add_role(
        self, guild_id: int, name: str, permissions: Any = 0, *, position: int | None = None
    ) -> int:
        guild = self._guild(guild_id)
        role = Role(
            id=self._ids(),
            guild_id=guild.id,
            name=name,
            permissions=_perm_int(permissions),
            position=len(guild.roles) if position is None else position,
        )
        guild.roles[role.id] = role
        self.gateway.dispatch(
            "GUILD_ROLE_CREATE", {"guild_id": str(guild.id), "role": role.to_api()}
        )
        self._notify()
        return role.id

    def add_member(
        self,
        guild_id: int,
        user_id: int,
        roles: Iterable[int] = (),
        permissions: Any = None,
        *,
        nick: str | None = None,
    ) -> Member:
        """Make ``user_id`` a member. ``permissions`` (int or discord.Permissions) overrides the
        role-computed value that interactions report in ``member.permissions``."""
        guild = self._guild(guild_id)
        if user_id not in self.users:
            raise KeyError(f"unknown user {user_id}; call add_user first")
        for role_id in roles:
            if role_id not in guild.roles:
                raise KeyError(f"guild {guild.name!r} has no role {role_id}")
        member = Member(
            guild_id=guild.id,
            user_id=user_id,
            roles=list(roles),
            permissions=None if permissions is None else _perm_int(permissions),
            nick=nick,
        )
        guild.members[user_id] = member
        payload = self._member_payload(guild, member)
        payload["guild_id"] = str(guild.id)
        self.gateway.dispatch("GUILD_MEMBER_ADD", payload)
        self._notify()
        return member

    def set_member_permissions(self, guild_id: int, user_id: int, permissions: Any) -> None:
        """Override (or with None, recompute) what ``member.permissions`` says for this user."""
        member = self._member(guild_id, user_id)
        member.permissions = None if permissions is None else _perm_int(permissions)

    def member_permissions(self, guild_id: int, user_id: int) -> int:
        guild = self._guild(guild_id)
        member = self._member(guild_id, user_id)
        if member.permissions is not None:
            return member.permissions
        if user_id == guild.owner_id:
            return ALL_PERMISSIONS
        perms = guild.roles[guild.id].permissions
        for role_id in member.roles:
            role = guild.roles.get(role_id)
            if role is not None:
                perms |= role.permissions
        if perms & PERM_ADMINISTRATOR:
            return ALL_PERMISSIONS
        return perms

    def dm_channel_id(self, user_id: int) -> int:
        """The DM channel between the bot and ``user_id`` (created on first use)."""
        if user_id not in self.users:
            raise KeyError(f"unknown user {user_id}")
        channel_id = self._dm_channels.get(user_id)
        if channel_id is None:
            channel = Channel(id=self._ids(), name=None, type=1, recipient_id=user_id)
            self.channels[channel.id] = channel
            self._dm_channels[user_id] = channel.id
            channel_id = channel.id
        return channel_id

    # ========================================================================================
    # faults
    # ========================================================================================
    def fail_channel(
        self, channel_id: int, status: int = 403, code: int = 50013, message: str | None = None
    ) -> None:
        """Every request on /channels/{channel_id}/... answers ``status``/``code`` until healed."""
        self._failed_channels[int(channel_id)] = (status, code, message)

    def heal_channel(self, channel_id: int) -> None:
        self._failed_channels.pop(int(channel_id), None)

    def close_dms(self, user_id: int) -> None:
        """DM sends to this user -> 403 code 50007 "Cannot send messages to this user"."""
        self._closed_dms.add(int(user_id))

    def open_dms(self, user_id: int) -> None:
        self._closed_dms.discard(int(user_id))

    def inject(
        self,
        route_regex: str,
        status: int | None = 500,
        times: int = 1,
        *,
        code: int = 0,
        message: str | None = None,
        retry_after: float | None = None,
        global_: bool = False,
        delay: float | None = None,
    ) -> Injection:
        """The next ``times`` requests whose "METHOD /path" matches ``route_regex`` (re.search;
        path below /api/v10) get ``status`` -- 429 with proper rate-limit headers/body, 5xx, 4xx
        with ``code``. ``delay`` seconds are waited first; with ``status=None`` the request is then
        served normally (a slow response)."""
        injection = Injection(
            pattern=re.compile(route_regex),
            status=status,
            times=times,
            code=code,
            message=message,
            retry_after=retry_after,
            global_=global_,
            delay=delay,
        )
        self._injections.append(injection)
        return injection

    def clear_injections(self) -> None:
        self._injections.clear()

    # -- gateway faults ---------------------------------------------------------------------
    @property
    def connected(self) -> bool:
        return any(s.connection is not None for s in self.gateway.live_sessions)

    @property
    def sessions(self) -> list[GatewaySession]:
        return list(self.gateway.sessions.values())

    async def wait_until_connected(self, timeout: float = 10.0) -> GatewaySession:  # noqa: ASYNC109
        """Until a bot has IDENTIFYed and got READY + GUILD_CREATEs (not the same as on_ready)."""
        await self.wait_for(lambda: self.connected, timeout=timeout)
        return next(s for s in self.gateway.live_sessions if s.connection is not None)

    def drop_gateway(self, code: int = 4000) -> None:
        """Close every gateway socket with ``code``; discord.py reconnects and RESUMEs."""
        self.gateway.close_all(code)

    def request_reconnect(self) -> None:
        """Send op 7 RECONNECT; discord.py reconnects and RESUMEs."""
        self.gateway.send_op(OP_RECONNECT, None)

    def invalidate_sessions(self, resumable: bool = False) -> None:
        """Send op 9 INVALID_SESSION; with resumable=False discord.py re-IDENTIFYs."""
        if not resumable:
            self.gateway.sessions.clear()
        self.gateway.send_op(OP_INVALID_SESSION, resumable)

    def dispatch(self, event: str, data: dict[str, Any]) -> int:
        """Send an arbitrary gateway DISPATCH to connected bots (intent-filtered)."""
        count = self.gateway.dispatch(event, data)
        self._notify()
        return count

    # ========================================================================================
    # reading what happened
    # ========================================================================================
    def messages(
        self,
        channel_id: int | None = None,
        *,
        kind: str | None = None,
        include_deleted: bool = True,
    ) -> list[MessageRecord]:
        """Created messages in creation order (channel posts, DMs, interaction responses,
        followups, simulated users' messages), optionally filtered."""
        return [
            m
            for m in self._message_order
            if (channel_id is None or m.channel_id == int(channel_id))
            and (kind is None or m.kind == kind)
            and (include_deleted or not m.deleted)
        ]

    def message(self, message_id: int) -> MessageRecord:
        return self._messages[int(message_id)]

    def dms(self, user_id: int) -> list[MessageRecord]:
        """Messages the bot sent in its DM channel with ``user_id``."""
        return [m for m in self._message_order if m.is_dm and m.recipient_id == int(user_id)]

    def requests_matching(self, route_regex: str) -> list[RequestRecord]:
        """Requests whose "METHOD /path" matches ``route_regex`` (re.search)."""
        pattern = re.compile(route_regex)
        return [r for r in self.requests if pattern.search(f"{r.method} {r.path}")]

    @property
    def unhandled_requests(self) -> list[RequestRecord]:
        """Requests to endpoints this server does not implement (answered 404)."""
        return [r for r in self.requests if r.route is None]

    @property
    def gateway_log(self) -> list[dict[str, Any]]:
        """Every gateway frame in and out: {dir: "in"|"out", op, t, s, d, time}."""
        return self.gateway.log

    # ========================================================================================
    # waiting
    # ========================================================================================
    def _notify(self) -> None:
        waiters, self._waiters = self._waiters, []
        for fut in waiters:
            if not fut.done():
                fut.set_result(None)

    async def wait_for(self, predicate: Callable[..., Any], timeout: float = 5.0) -> Any:  # noqa: ASYNC109
        """Wait (at most ``timeout`` s) until ``predicate`` holds; return its truthy result.

        A zero-argument predicate is re-evaluated whenever the server records something (and
        every ``poll_interval`` s, so it may also look at the bot's own state). A
        one-argument predicate is applied to every recorded message and request (errors such as
        AttributeError count as "no"); the first match is returned.
        """
        check = self._make_check(predicate)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = check()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"wait_for: condition not met within {timeout}s")
            fut: asyncio.Future[None] = loop.create_future()
            self._waiters.append(fut)
            try:
                await asyncio.wait_for(fut, min(remaining, self.poll_interval))
            except TimeoutError:
                pass

    def _make_check(self, predicate: Callable[..., Any]) -> Callable[[], Any]:
        try:
            params = [
                p
                for p in inspect.signature(predicate).parameters.values()
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty
            ]
        except (TypeError, ValueError):
            params = []
        if not params:
            return predicate

        def check_items() -> Any:
            for item in [*self._message_order, *self.requests]:
                try:
                    if predicate(item):
                        return item
                except (AttributeError, KeyError, TypeError, IndexError):
                    continue
            return None

        return check_items

    async def wait_for_message(
        self,
        predicate: Callable[[MessageRecord], Any] | None = None,
        *,
        channel_id: int | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109
        after: int = 0,
    ) -> MessageRecord:
        """First message (the ``after``-th onwards, in creation order) matching the filters."""

        def check() -> MessageRecord | None:
            for m in self._message_order[after:]:
                if channel_id is not None and m.channel_id != int(channel_id):
                    continue
                if predicate is None or predicate(m):
                    return m
            return None

        result: MessageRecord = await self.wait_for(check, timeout=timeout)
        return result

    async def wait_for_request(self, route_regex: str, *, timeout: float = 5.0) -> RequestRecord:  # noqa: ASYNC109
        pattern = re.compile(route_regex)

        def check() -> RequestRecord | None:
            return next((r for r in self.requests if pattern.search(f"{r.method} {r.path}")), None)

        result: RequestRecord = await self.wait_for(check, timeout=timeout)
        return result

    # ========================================================================================
    # driving the bot
    # ========================================================================================
    async def run_command(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        command: str,
        /,
        *,
        options: Mapping[str, Any] | list[dict[str, Any]] | None = None,
        types: Mapping[str, Any] | None = None,
        locale: str = "en-US",
        timeout: float = 5.0,  # noqa: ASYNC109
        wait: bool = True,
        **values: Any,
    ) -> InteractionRecord:
        """Invoke ``/command`` ("launch add") as ``user_id`` and wait for the bot's callback.

        Option values come as keyword arguments (or ``options={...}`` for names that clash with
        this method's own parameters); their types come from the schema the bot synced, else
        ``types={name: "user"}`` or the Python type. ``options=[...]`` sends raw options as-is.
        guild_id None: a DM with the bot (channel_id may then be None).
        """
        path = command.strip().lstrip("/").split()
        if not path:
            raise OptionError("empty command")
        data = self._command_data(guild_id, path, options, types, values, focused=None)
        record = self._start_interaction(
            2, guild_id, channel_id, user_id, data, name=" ".join(path), locale=locale
        )
        if wait:
            await record.wait_acknowledged(timeout)
        return record

    async def autocomplete(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        command: str,
        /,
        *,
        focused: str | None = None,
        options: Mapping[str, Any] | None = None,
        types: Mapping[str, Any] | None = None,
        locale: str = "en-US",
        timeout: float = 5.0,  # noqa: ASYNC109
        **values: Any,
    ) -> list[dict[str, Any]]:
        """Send an autocomplete interaction; returns the bot's choices ([{name, value}]).

        ``focused`` defaults to the last option given (the one being typed)."""
        path = command.strip().lstrip("/").split()
        merged = {**(options or {}), **values}
        if focused is None:
            if not merged:
                raise OptionError("autocomplete needs the value being typed, e.g. product='Gr'")
            focused = list(merged)[-1]
        data = self._command_data(guild_id, path, merged, types, {}, focused=focused)
        record = self._start_interaction(
            4, guild_id, channel_id, user_id, data, name=" ".join(path), locale=locale
        )
        await record.wait_acknowledged(timeout)
        return list(record.choices or [])

    async def run_context_menu(
        self,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        name: str,
        target: Any,
        /,
        *,
        timeout: float = 5.0,  # noqa: ASYNC109
        wait: bool = True,
        locale: str = "en-US",
    ) -> InteractionRecord:
        """Invoke a user (target = user id) or message (target = MessageRecord) context menu."""
        is_message = isinstance(target, MessageRecord)
        ctype = 3 if is_message else 2
        schema = self.registered_commands.find(name, guild_id, type=ctype)
        scope = self.registered_commands.scope_of(name, guild_id, type=ctype)
        resolved: dict[str, dict[str, Any]] = {}
        if is_message:
            target_id = target.id
            resolved["messages"] = {str(target.id): target.to_api()}
        else:
            target_id = _snowflake_of(target)
            self._resolve_option(guild_id, USER, target_id, resolved)
        data: dict[str, Any] = {
            "id": str(schema["id"]) if schema else str(self._adhoc_command_id(name)),
            "name": name,
            "type": ctype,
            "target_id": str(target_id),
            "resolved": resolved,
        }
        if scope is not None or (schema is None and guild_id is not None):
            data["guild_id"] = str(guild_id)
        record = self._start_interaction(
            2, guild_id, channel_id, user_id, data, name=name, locale=locale
        )
        if wait:
            await record.wait_acknowledged(timeout)
        return record

    async def click(
        self,
        message: MessageRecord | int,
        custom_id: str,
        user_id: int,
        *,
        values: Iterable[Any] | None = None,
        locale: str = "en-US",
        timeout: float = 5.0,  # noqa: ASYNC109
        wait: bool = True,
    ) -> InteractionRecord:
        """Click a button (or pick ``values`` in a select) on a message; waits for the callback."""
        msg = message if isinstance(message, MessageRecord) else self.message(message)
        try:
            component = msg.component(custom_id)
        except KeyError as exc:
            raise OptionError(str(exc)) from None
        if component.get("disabled"):
            raise OptionError(f"component {custom_id!r} is disabled")
        ctype = int(component["type"])
        data: dict[str, Any] = {"custom_id": custom_id, "component_type": ctype}
        if "id" in component:
            data["id"] = component["id"]
        if ctype in (3, 5, 6, 7, 8):
            chosen = list(values or [])
            if ctype == 3:
                allowed = [o["value"] for o in component.get("options") or []]
                bad = [v for v in chosen if v not in allowed]
                if bad:
                    raise OptionError(f"{bad} not among the select's options {allowed}")
                data["values"] = [str(v) for v in chosen]
            else:
                resolved: dict[str, dict[str, Any]] = {}
                otype = {5: USER, 6: ROLE, 7: MENTIONABLE, 8: CHANNEL}[ctype]
                data["values"] = [
                    self._resolve_option(msg.guild_id, otype, v, resolved) for v in chosen
                ]
                data["resolved"] = resolved
        elif values is not None:
            raise OptionError("values= only applies to select menus")
        record = self._start_interaction(
            3,
            msg.guild_id,
            msg.channel_id,
            user_id,
            data,
            name=custom_id,
            locale=locale,
            message=msg,
        )
        if wait:
            await record.wait_acknowledged(timeout)
        return record

    async def submit_modal(
        self,
        source: InteractionRecord,
        values: Mapping[str, Any] | None = None,
        *,
        user_id: int | None = None,
        locale: str = "en-US",
        timeout: float = 5.0,  # noqa: ASYNC109
        wait: bool = True,
        **field_values: Any,
    ) -> InteractionRecord:
        """Submit the modal the bot opened in answer to ``source`` (text inputs by custom_id)."""
        modal = source.modal
        if modal is None:
            raise OptionError(f"the bot did not answer {source.name!r} with a modal")
        given = {**(values or {}), **field_values}
        used: set[str] = set()

        def convert(component: dict[str, Any]) -> dict[str, Any] | None:
            ctype = component.get("type")
            out: dict[str, Any] = {"type": ctype}
            if "id" in component:
                out["id"] = component["id"]
            if ctype == 1:
                out["components"] = [
                    c for c in map(convert, component.get("components") or []) if c
                ]
                return out
            if ctype == 18:
                inner = convert(component["component"])
                if inner is None:
                    return None
                out["component"] = inner
                return out
            custom_id = component.get("custom_id")
            if not custom_id:
                return out if "id" in component else None
            out["custom_id"] = custom_id
            if ctype == 4:
                if custom_id in given:
                    used.add(custom_id)
                    value = str(given[custom_id])
                else:
                    value = component.get("value") or ""
                    if component.get("required", True) and not value:
                        raise OptionError(f"modal text input {custom_id!r} is required")
                out["value"] = value
            else:
                chosen = given.get(custom_id, [])
                used.add(custom_id)
                out["values"] = [str(v) for v in (chosen if isinstance(chosen, list) else [chosen])]
            return out

        components = [c for c in map(convert, modal.get("components") or []) if c]
        unknown = set(given) - used
        if unknown:
            raise OptionError(f"modal {modal.get('custom_id')!r} has no inputs {sorted(unknown)}")
        data = {"custom_id": modal["custom_id"], "components": components}
        record = self._start_interaction(
            5,
            source.guild_id,
            source.channel_id,
            user_id if user_id is not None else source.user_id,
            data,
            name=str(modal["custom_id"]),
            locale=locale,
            message=source.source_message,
        )
        if wait:
            await record.wait_acknowledged(timeout)
        return record

    def post_user_message(
        self,
        channel_id: int,
        user_id: int,
        content: str = "",
        *,
        embeds: list[dict[str, Any]] | None = None,
    ) -> MessageRecord:
        """A (non-bot) user posts in a channel: recorded and dispatched as MESSAGE_CREATE."""
        channel = self._channel(channel_id)
        msg = self._new_message(
            channel,
            {"content": content, "embeds": embeds or []},
            [],
            kind="user",
            author=self.users[int(user_id)],
        )
        msg.mentions = [
            self.users[int(uid)]
            for uid in re.findall(r"<@!?(\d+)>", content)
            if int(uid) in self.users
        ]
        self._dispatch_message("MESSAGE_CREATE", msg)
        self._notify()
        return msg

    # ========================================================================================
    # payload builders
    # ========================================================================================
    def _bot_user_private(self) -> dict[str, Any]:
        data = dict(self.bot_user)
        data.update(verified=True, mfa_enabled=False, flags=0, email=None, locale="en-US")
        return data

    def _member_payload(
        self, guild: Guild, member: Member, *, with_user: bool = True, permissions: bool = False
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "roles": [str(r) for r in member.roles],
            "nick": member.nick,
            "avatar": None,
            "banner": None,
            "joined_at": member.joined_at,
            "premium_since": None,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "pending": False,
            "communication_disabled_until": None,
        }
        if with_user:
            data["user"] = self.users[member.user_id]
        if permissions:
            data["permissions"] = str(self.member_permissions(guild.id, member.user_id))
        return data

    def _guild_payload(self, guild: Guild) -> dict[str, Any]:
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "splash": None,
            "discovery_splash": None,
            "banner": None,
            "description": None,
            "owner_id": str(guild.owner_id),
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "nsfw_level": 0,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "premium_progress_bar_enabled": False,
            "roles": [r.to_api() for r in guild.roles.values()],
            "emojis": [],
            "stickers": [],
            "features": list(guild.features),
            "application_id": None,
            "system_channel_id": _snowflake_or_none(guild.system_channel_id),
            "system_channel_flags": 0,
            "rules_channel_id": None,
            "public_updates_channel_id": None,
            "safety_alerts_channel_id": None,
            "vanity_url_code": None,
            "max_members": 500000,
            "max_video_channel_users": 25,
            "preferred_locale": guild.preferred_locale,
        }

    def _guild_create_payload(self, guild: Guild) -> dict[str, Any]:
        data = self._guild_payload(guild)
        data.update(
            joined_at=guild.joined_at,
            large=False,
            unavailable=False,
            member_count=len(guild.members),
            members=[self._member_payload(guild, m) for m in guild.members.values()],
            channels=[c.to_api() for c in guild.channels.values()],
            threads=[],
            voice_states=[],
            presences=[],
            stage_instances=[],
            guild_scheduled_events=[],
            soundboard_sounds=[],
        )
        return data

    def _channel_payload(self, channel: Channel) -> dict[str, Any]:
        recipient = self.users.get(channel.recipient_id) if channel.recipient_id else None
        return channel.to_api(recipient)

    def _bot_author(self) -> dict[str, Any]:
        return dict(self.bot_user)

    # ========================================================================================
    # lookups
    # ========================================================================================
    def _guild(self, guild_id: Any) -> Guild:
        guild = self.guilds.get(_snowflake_of(guild_id))
        if guild is None:
            raise KeyError(f"unknown guild {guild_id}")
        return guild

    def _member(self, guild_id: Any, user_id: Any) -> Member:
        guild = self._guild(guild_id)
        member = guild.members.get(_snowflake_of(user_id))
        if member is None:
            raise KeyError(
                f"user {user_id} is not a member of guild {guild.name!r}; call add_member"
            )
        return member

    def _channel(self, channel_id: Any) -> Channel:
        channel = self.channels.get(_snowflake_of(channel_id))
        if channel is None:
            raise KeyError(f"unknown channel {channel_id}")
        return channel

    def _api_channel(self, channel_id: str) -> Channel:
        channel = self.channels.get(int(channel_id)) if channel_id.isdigit() else None
        if channel is None:
            raise ApiError(404, 10003)
        return channel

    def _api_message(self, channel: Channel, message_id: str) -> MessageRecord:
        msg = self._messages.get(int(message_id)) if message_id.isdigit() else None
        if msg is None or msg.deleted or msg.channel_id != channel.id or msg.ephemeral:
            raise ApiError(404, 10008)
        return msg

    def _api_guild(self, guild_id: str) -> Guild:
        guild = self.guilds.get(int(guild_id)) if guild_id.isdigit() else None
        if guild is None:
            raise ApiError(404, 10004)
        return guild

    def _adhoc_command_id(self, name: str) -> int:
        if name not in self._adhoc_command_ids:
            self._adhoc_command_ids[name] = self._ids()
        return self._adhoc_command_ids[name]

    # ========================================================================================
    # interactions (server -> bot)
    # ========================================================================================
    def _command_data(
        self,
        guild_id: int | None,
        path: list[str],
        options: Mapping[str, Any] | list[dict[str, Any]] | None,
        types: Mapping[str, Any] | None,
        values: Mapping[str, Any],
        *,
        focused: str | None,
    ) -> dict[str, Any]:
        top, rest = path[0], path[1:]
        schema = self.registered_commands.find(top, guild_id)
        scope = self.registered_commands.scope_of(top, guild_id)
        if isinstance(options, list):
            built = BuiltOptions(options=options)
        else:
            merged = {**(options or {}), **values}
            built = build_options(
                rest,
                merged,
                schema=schema,
                types=types,
                focused=focused,
                resolver=lambda otype, value, resolved: self._resolve_option(
                    guild_id, otype, value, resolved
                ),
            )
        data: dict[str, Any] = {
            "id": str(schema["id"]) if schema else str(self._adhoc_command_id(top)),
            "name": top,
            "type": 1,
            "options": built.options,
        }
        if built.resolved:
            data["resolved"] = built.resolved
        # Guild commands carry data.guild_id; unknown commands get it too (discord.py falls back
        # to global commands when the guild has none by that name).
        if scope is not None or (schema is None and guild_id is not None):
            data["guild_id"] = str(guild_id)
        return data

    def _resolve_option(
        self, guild_id: int | None, otype: int, value: Any, resolved: dict[str, dict[str, Any]]
    ) -> str:
        guild = self.guilds.get(int(guild_id)) if guild_id is not None else None
        if otype == ATTACHMENT:
            file = self._file_from_value(value)
            self._store_attachment(file, channel_id=0)
            resolved.setdefault("attachments", {})[str(file.id)] = file.to_api()
            return str(file.id)
        target = _snowflake_of(value)
        if otype in (USER, MENTIONABLE) and target in self.users:
            resolved.setdefault("users", {})[str(target)] = self.users[target]
            if guild is not None and target in guild.members:
                member = self._member_payload(
                    guild, guild.members[target], with_user=False, permissions=True
                )
                resolved.setdefault("members", {})[str(target)] = member
            return str(target)
        if otype in (ROLE, MENTIONABLE) and guild is not None and target in guild.roles:
            resolved.setdefault("roles", {})[str(target)] = guild.roles[target].to_api()
            return str(target)
        if otype == CHANNEL and target in self.channels:
            channel = self.channels[target]
            payload = self._channel_payload(channel)
            payload["permissions"] = str(ALL_PERMISSIONS)
            resolved.setdefault("channels", {})[str(target)] = payload
            return str(target)
        raise OptionError(f"cannot resolve {value!r} as option type {otype}")

    def _file_from_value(self, value: Any) -> FileRecord:
        if isinstance(value, FileRecord):
            return value
        if isinstance(value, bytes | bytearray):
            return FileRecord(filename="file.bin", data=bytes(value))
        if isinstance(value, tuple):
            filename, data, *rest = value
            return FileRecord(
                filename=filename, data=bytes(data), content_type=rest[0] if rest else None
            )
        raise OptionError(
            f"attachment option wants bytes, (filename, bytes) or FileRecord: {value!r}"
        )

    def _store_attachment(self, file: FileRecord, channel_id: int) -> None:
        file.id = self._ids()
        file.url = f"{self.base_url}/attachments/{file.id}/{file.filename}"
        self._attachments[file.id] = file

    def _start_interaction(
        self,
        itype: int,
        guild_id: int | None,
        channel_id: int | None,
        user_id: int,
        data: dict[str, Any],
        *,
        name: str,
        locale: str,
        message: MessageRecord | None = None,
    ) -> InteractionRecord:
        if not self.gateway.live_sessions:
            raise RuntimeError("no bot is connected to the loopback gateway")
        user_id = _snowflake_of(user_id)
        if user_id not in self.users:
            raise KeyError(f"unknown user {user_id}; call add_user first")
        if channel_id is not None:
            channel = self._channel(channel_id)
            if guild_id is None and channel.guild_id is not None:
                guild_id = channel.guild_id
        elif guild_id is None:
            channel = self.channels[self.dm_channel_id(user_id)]
        else:
            raise ValueError("a guild interaction needs a channel_id")
        guild = self._guild(guild_id) if guild_id is not None else None
        if guild is not None and channel.guild_id != guild.id:
            raise ValueError(f"channel {channel.id} is not in guild {guild.name!r}")
        if channel.is_dm and channel.recipient_id != user_id:
            raise ValueError("a DM interaction must come from the DM's recipient")

        interaction_id = self._ids()
        token = f"lbtoken.{secrets.token_urlsafe(48)}"
        channel_payload = self._channel_payload(channel)
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": itype,
            "data": data,
            "token": token,
            "version": 1,
            "locale": locale,
            "attachment_size_limit": self.attachment_size_limit,
            "entitlements": [],
            "entitlement_sku_ids": [],
            "channel_id": str(channel.id),
            "channel": channel_payload,
        }
        if guild is not None:
            member = self._member(guild.id, user_id)
            perms = self.member_permissions(guild.id, user_id)
            channel_payload["permissions"] = str(perms)
            payload.update(
                guild_id=str(guild.id),
                guild={
                    "id": str(guild.id),
                    "locale": guild.preferred_locale,
                    "features": guild.features,
                },
                guild_locale=guild.preferred_locale,
                member=self._member_payload(guild, member, permissions=True),
                app_permissions=str(self.member_permissions(guild.id, self.bot_id)),
                authorizing_integration_owners={"0": str(guild.id)},
                context=0,
            )
        else:
            channel_payload["permissions"] = str(DEFAULT_EVERYONE_PERMISSIONS)
            payload.update(
                user=self.users[user_id],
                app_permissions=str(DEFAULT_BOT_PERMISSIONS),
                authorizing_integration_owners={"0": "0"},
                context=1,
            )
        if message is not None:
            payload["message"] = message.to_api()
        record = InteractionRecord(
            id=interaction_id,
            token=token,
            type=itype,
            guild_id=guild.id if guild else None,
            channel_id=channel.id,
            user_id=user_id,
            name=name,
            data=data,
            payload=payload,
            source_message=message,
            _server=self,
        )
        self._interactions[interaction_id] = record
        self._tokens[token] = record
        self.interactions.append(record)
        self.gateway.dispatch("INTERACTION_CREATE", payload)
        self._notify()
        return record

    # ========================================================================================
    # messages
    # ========================================================================================
    def _new_message(
        self,
        channel: Channel,
        payload: dict[str, Any],
        files: list[FileRecord],
        *,
        kind: str,
        author: dict[str, Any],
        allowed_flags: int = FLAG_SUPPRESS_EMBEDS
        | FLAG_SUPPRESS_NOTIFICATIONS
        | FLAG_COMPONENTS_V2,
    ) -> MessageRecord:
        for file in files:
            self._store_attachment(file, channel.id)
        msg = MessageRecord(
            id=self._ids(),
            channel_id=channel.id,
            guild_id=channel.guild_id,
            author=dict(author),
            content=payload.get("content") or "",
            embeds=_normalize_embeds(payload.get("embeds")),
            components=copy.deepcopy(payload.get("components") or []),
            flags=int(payload.get("flags") or 0) & allowed_flags,
            nonce=payload.get("nonce"),
            files=list(files),
            is_dm=channel.is_dm,
            recipient_id=channel.recipient_id,
            kind=kind,
            tts=bool(payload.get("tts")),
            payload=copy.deepcopy(payload),
        )
        reference = payload.get("message_reference")
        if reference and reference.get("message_id"):
            ref_id = int(reference["message_id"])
            ref = self._messages.get(ref_id)
            if ref is None and reference.get("fail_if_not_exists", True):
                raise invalid_form(
                    {
                        "message_reference": limits.error(
                            "MESSAGE_REFERENCE_UNKNOWN_MESSAGE", "Unknown message"
                        )
                    }
                )
            if ref is not None:
                msg.type = 19
                msg.message_reference = {
                    "type": 0,
                    "message_id": str(ref_id),
                    "channel_id": str(ref.channel_id),
                    "guild_id": None if ref.guild_id is None else str(ref.guild_id),
                }
        self._messages[msg.id] = msg
        self._message_order.append(msg)
        channel.last_message_id = msg.id
        return msg

    def _apply_edit(
        self, msg: MessageRecord, payload: dict[str, Any], files: list[FileRecord]
    ) -> None:
        if "content" in payload:
            msg.content = payload["content"] or ""
        if "embeds" in payload:
            msg.embeds = _normalize_embeds(payload["embeds"])
        if "components" in payload:
            msg.components = copy.deepcopy(payload["components"] or [])
        keep = FLAG_EPHEMERAL | FLAG_COMPONENTS_V2
        if payload.get("flags") is not None:
            editable = FLAG_SUPPRESS_EMBEDS | FLAG_COMPONENTS_V2
            msg.flags = (msg.flags & keep) | (int(payload["flags"]) & editable)
        msg.flags &= ~FLAG_LOADING
        if "attachments" in payload:
            kept = {str(a.get("id")) for a in payload["attachments"] or []}
            msg.files = [f for f in msg.files if str(f.id) in kept]
        for file in files:
            self._store_attachment(file, msg.channel_id)
            msg.files.append(file)
        msg.edited_timestamp = iso_now()
        msg.edits.append(copy.deepcopy(payload))

    def _dispatch_message(self, event: str, msg: MessageRecord) -> None:
        if msg.ephemeral:
            return
        data = msg.to_api()
        if msg.guild_id is not None:
            guild = self.guilds.get(msg.guild_id)
            member = guild.members.get(msg.author_id) if guild else None
            if guild is not None and member is not None:
                data["member"] = self._member_payload(guild, member, with_user=False)
        self.gateway.dispatch(event, data, content_filter=True)

    def _validate_message(
        self, payload: dict[str, Any], files: list[FileRecord], *, creating: bool, flags: int = 0
    ) -> None:
        effective = dict(payload)
        if payload.get("flags") is None and flags:
            effective["flags"] = flags
        errors = limits.validate_message(effective)
        if errors:
            raise invalid_form(errors)
        if creating and limits.is_empty_message(payload, bool(files)):
            raise ApiError(400, 50006)
        for file in files:
            if file.size > self.attachment_size_limit:
                raise ApiError(413, 40005)

    def _files_for(self, ctx: _Ctx, payload: dict[str, Any] | None = None) -> list[FileRecord]:
        """Uploaded files, with the description from payload ``attachments`` (id = index)."""
        meta = {}
        payload = ctx.payload if payload is None else payload
        for a in payload.get("attachments") or []:
            with_id = str(a.get("id", ""))
            if with_id.isdigit() and int(with_id) in ctx.files:
                meta[int(with_id)] = a
        files = []
        for index, file in sorted(ctx.files.items()):
            if index in meta:
                file.description = meta[index].get("description")
                file.filename = meta[index].get("filename") or file.filename
            files.append(file)
        return files

    def _edit_payload(self, ctx: _Ctx) -> dict[str, Any]:
        """Edit payload with uploaded-file placeholders (integer ids) dropped from attachments."""
        payload = dict(ctx.payload)
        if "attachments" in payload:
            payload["attachments"] = [
                a
                for a in payload["attachments"] or []
                if not (str(a.get("id", "")).isdigit() and int(a["id"]) in ctx.files)
            ]
        return payload

    # ========================================================================================
    # HTTP plumbing
    # ========================================================================================
    async def _serve_attachment(self, request: web.Request) -> web.Response:
        attachment_id = request.match_info["attachment_id"]
        file = self._attachments.get(int(attachment_id)) if attachment_id.isdigit() else None
        if file is None:
            return web.Response(status=404)
        return web.Response(
            body=file.data, content_type=file.content_type or "application/octet-stream"
        )

    async def _read_body(self, request: web.Request) -> tuple[Any, dict[int, FileRecord]]:
        files: dict[int, FileRecord] = {}
        if request.content_type.startswith("multipart/"):
            body: Any = None
            reader = await request.multipart()
            next_index = 0
            while True:
                part = await reader.next()
                if part is None:
                    break
                if not isinstance(part, BodyPartReader):
                    continue
                name = part.name or ""
                if name == "payload_json":
                    try:
                        body = json.loads(await part.text())
                    except ValueError:
                        raise ApiError(400, 50109) from None
                    continue
                match = re.fullmatch(r"files\[(\d+)\]", name)
                if match or name == "file" or part.filename:
                    index = int(match.group(1)) if match else next_index
                    next_index = max(next_index, index + 1)
                    data = await part.read(decode=False)
                    files[index] = FileRecord(
                        filename=part.filename or f"file{index}",
                        data=bytes(data),
                        content_type=part.headers.get("Content-Type"),
                    )
            return body, files
        if not request.body_exists:
            return None, files
        raw = await request.read()
        if not raw:
            return None, files
        try:
            return json.loads(raw), files
        except ValueError:
            raise ApiError(400, 50109) from None

    def _match_route(self, method: str, path: str) -> tuple[_Route, dict[str, str]] | None:
        for route in self._routes:
            if route.method != method:
                continue
            match = route.regex.match(path)
            if match:
                return route, match.groupdict()
        return None

    async def _handle_api(self, request: web.Request) -> web.Response:
        path = request.path[len(API_PREFIX) :] or "/"
        record = RequestRecord(
            method=request.method,
            path=path,
            query=dict(request.query),
            json=None,
            files=[],
            headers=dict(request.headers),
            time=time.monotonic(),
            peer_port=_peer_port(request),
        )
        self.requests.append(record)
        ctx = _Ctx(request=request, record=record, json=None, files={})
        try:
            ctx.json, ctx.files = await self._read_body(request)
            record.json = ctx.json
            record.files = [f for _, f in sorted(ctx.files.items())]
            reply = await self._process(ctx)
        except ApiError as exc:
            reply = exc.reply()
        except OptionError as exc:
            reply = ApiError(400, 0, f"loopback: {exc}").reply()
        except Exception as exc:  # a bug in the loopback server: fail fast, don't 500-retry
            log.exception("loopback server error on %s %s", request.method, path)
            self.internal_errors.append(exc)
            reply = ApiError(400, 0, f"loopback internal error: {exc!r}").reply()
        reply.headers = {**ctx.headers, **reply.headers, "Via": "1.1 google"}
        record.status = reply.status
        record.response = reply.body
        self._notify()
        return reply.to_response()

    async def _process(self, ctx: _Ctx) -> Reply:
        method, path = ctx.record.method, ctx.record.path
        matched = self._match_route(method, path)
        if matched is not None:
            ctx.record.route = f"{method} {matched[0].template}"
            ctx.record.global_limited = matched[0].global_limited

        for injection in self._injections:
            if injection.matches(method, path):
                injection.hits.append(ctx.record)
                if injection.delay:
                    await asyncio.sleep(injection.delay)
                if injection.status is not None and injection.status >= 300:
                    ctx.record.injected = True
                    return self._injected_reply(injection, matched[0] if matched else None)
                break

        if matched is None:
            raise ApiError(404, 0, "404: Not Found")
        route, params = matched

        if route.global_limited and self.global_rate_limit is not None:
            retry_after = self._global_check(ctx.request.headers.get("Authorization"))
            if retry_after is not None:
                ctx.record.injected = True
                return self._rate_limited(retry_after, global_=True)

        if route.auth and ctx.request.headers.get("Authorization") != f"Bot {self.token}":
            raise ApiError(401, 0, "401: Unauthorized")

        retry_after = self._bucket_check(route, params, ctx.headers)
        if retry_after is not None:
            ctx.record.injected = True
            return self._rate_limited(retry_after, global_=False, bucket_headers=ctx.headers)

        channel_id = params.get("channel_id")
        if channel_id and channel_id.isdigit() and int(channel_id) in self._failed_channels:
            status, code, message = self._failed_channels[int(channel_id)]
            raise ApiError(status, code, message)

        handler: Callable[..., Awaitable[Any]] = getattr(self, route.handler)
        result = await handler(ctx, **params)
        if isinstance(result, Reply):
            return result
        if result is None:
            return Reply(204)
        return Reply(200, result)

    def _global_check(self, auth: str | None) -> float | None:
        limit = self.global_rate_limit
        if limit is None:
            return None
        window = self._global_windows.setdefault(auth, deque())
        now = time.monotonic()
        while window and window[0] <= now - 1.0:
            window.popleft()
        if len(window) >= limit:
            return max(0.001, window[0] + 1.0 - now)
        window.append(now)
        return None

    def route_limit(self, route: _Route) -> tuple[int, float]:
        """(requests, window seconds) of a route's bucket."""
        return self.route_limits.get(
            f"{route.method} {route.template}", (self.bucket_limit, self.bucket_window)
        )

    def _bucket_check(
        self, route: _Route, params: dict[str, str], headers: dict[str, str]
    ) -> float | None:
        major = "+".join(
            params[k]
            for k in ("channel_id", "guild_id", "application_id", "token", "interaction_id")
            if k in params and (k != "application_id" or "token" in params)
        )
        limit, span = self.route_limit(route)
        key = (route.bucket_hash, major)
        now = time.monotonic()
        window = self._buckets.get(key)
        if window is None or now >= window[1]:
            window = [0.0, now + span]
            self._buckets[key] = window
        reset_after = max(0.0, window[1] - now)
        if window[0] >= limit:
            # Refused requests do not count (Discord does not charge a 429 to the bucket).
            headers.update(self._bucket_headers(route, limit, 0, reset_after))
            return max(0.001, reset_after)
        window[0] += 1
        headers.update(self._bucket_headers(route, limit, limit - int(window[0]), reset_after))
        return None

    @staticmethod
    def _bucket_headers(
        route: _Route, limit: int, remaining: int, reset_after: float
    ) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": route.bucket_hash,
        }

    def _rate_limited(
        self,
        retry_after: float,
        *,
        global_: bool,
        bucket_headers: dict[str, str] | None = None,
        code: int = 0,
        message: str | None = None,
    ) -> Reply:
        body: dict[str, Any] = {
            "message": message or "You are being rate limited.",
            "retry_after": round(retry_after, 3),
            "global": global_,
        }
        if code:
            body["code"] = code
        headers = {"Retry-After": str(max(1, math.ceil(retry_after)))}
        if global_:
            headers.update({"X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"})
        else:
            headers.update(bucket_headers or {})
            headers.update(
                {
                    "X-RateLimit-Remaining": "0",
                    "X-RateLimit-Reset-After": f"{retry_after:.3f}",
                    "X-RateLimit-Reset": f"{time.time() + retry_after:.3f}",
                    "X-RateLimit-Scope": "user",
                }
            )
        return Reply(429, body, headers)

    def _injected_reply(self, injection: Injection, route: _Route | None) -> Reply:
        status = int(injection.status or 500)
        if status == 429:
            retry_after = 0.1 if injection.retry_after is None else injection.retry_after
            bucket_headers = {}
            if route is not None:
                bucket_headers = {
                    "X-RateLimit-Limit": str(self.route_limit(route)[0]),
                    "X-RateLimit-Bucket": route.bucket_hash,
                }
            return self._rate_limited(
                retry_after,
                global_=injection.global_,
                bucket_headers=bucket_headers,
                code=injection.code,
                message=injection.message,
            )
        return ApiError(status, injection.code, injection.message).reply()

    # ========================================================================================
    # REST handlers: users / application / gateway
    # ========================================================================================
    async def h_get_me(self, ctx: _Ctx) -> Any:
        return self._bot_user_private()

    async def h_edit_me(self, ctx: _Ctx) -> Any:
        if "username" in ctx.payload:
            self.bot_user["username"] = ctx.payload["username"]
        return self._bot_user_private()

    async def h_get_user(self, ctx: _Ctx, user_id: str) -> Any:
        user = self.users.get(int(user_id)) if user_id.isdigit() else None
        if user is None:
            raise ApiError(404, 10013)
        return user

    async def h_create_dm(self, ctx: _Ctx) -> Any:
        recipient = str(ctx.payload.get("recipient_id", ""))
        if not recipient.isdigit() or int(recipient) not in self.users:
            raise ApiError(400, 50033)
        channel = self.channels[self.dm_channel_id(int(recipient))]
        return self._channel_payload(channel)

    async def h_app_info(self, ctx: _Ctx) -> Any:
        return {
            "id": str(self.application_id),
            "name": self.application_name,
            "icon": None,
            "description": "loopback application",
            "rpc_origins": [],
            "bot_public": True,
            "bot_require_code_grant": False,
            "bot": self.bot_user,
            "owner": self.users[self.owner_id],
            "team": None,
            "verify_key": "0" * 64,
            "flags": self.application_flags,
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "approximate_guild_count": len(self.guilds),
            "integration_types_config": {"0": {}},
        }

    async def h_gateway(self, ctx: _Ctx) -> Any:
        return {"url": self.gateway_url}

    async def h_gateway_bot(self, ctx: _Ctx) -> Any:
        return {
            "url": self.gateway_url,
            "shards": self.shard_count,
            "session_start_limit": {
                "total": 1000,
                "remaining": 1000,
                "reset_after": 0,
                "max_concurrency": self.max_concurrency,
            },
        }

    # ========================================================================================
    # REST handlers: application commands
    # ========================================================================================
    def _check_app(self, application_id: str, guild_id: str | None) -> int | None:
        if application_id != str(self.application_id):
            raise ApiError(404, 10002)
        if guild_id is None:
            return None
        if not guild_id.isdigit() or int(guild_id) not in self.guilds:
            raise ApiError(403, 50001)
        return int(guild_id)

    def _command_pool(self, guild_id: int | None) -> list[dict[str, Any]]:
        if guild_id is None:
            return self.registered_commands.global_commands
        return self.registered_commands.guild_commands.setdefault(guild_id, [])

    def _echo_command(self, command: dict[str, Any], guild_id: int | None) -> dict[str, Any]:
        ctype = int(command.get("type", 1))
        key = (guild_id, ctype, str(command.get("name")))
        if key not in self._command_ids:
            self._command_ids[key] = self._ids()
        echoed = copy.deepcopy(command)
        echoed.update(
            id=str(self._command_ids[key]),
            application_id=str(self.application_id),
            version=str(self._ids()),
            type=ctype,
        )
        echoed.setdefault("description", "")
        echoed.setdefault("options", [])
        echoed.setdefault("default_member_permissions", None)
        echoed.setdefault("nsfw", False)
        echoed.setdefault("name_localizations", None)
        echoed.setdefault("description_localizations", None)
        if guild_id is not None:
            echoed["guild_id"] = str(guild_id)
        else:
            echoed.setdefault("dm_permission", True)
            echoed.setdefault("contexts", None)
            echoed.setdefault("integration_types", [0])
        return echoed

    async def h_get_commands(
        self, ctx: _Ctx, application_id: str, guild_id: str | None = None
    ) -> Any:
        return self._command_pool(self._check_app(application_id, guild_id))

    async def h_put_commands(
        self, ctx: _Ctx, application_id: str, guild_id: str | None = None
    ) -> Any:
        gid = self._check_app(application_id, guild_id)
        commands = ctx.json if ctx.json is not None else []
        if not isinstance(commands, list):
            raise invalid_form(
                {
                    "_root": limits.error(
                        "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType"
                    )
                }
            )
        errors = limits.validate_commands(commands)
        if errors:
            raise invalid_form(errors)
        echoed = [self._echo_command(c, gid) for c in commands]
        if gid is None:
            self.registered_commands.global_commands = echoed
        else:
            self.registered_commands.guild_commands[gid] = echoed
        self.registered_commands.syncs.append((gid, len(echoed)))
        return echoed

    async def h_post_command(
        self, ctx: _Ctx, application_id: str, guild_id: str | None = None
    ) -> Any:
        gid = self._check_app(application_id, guild_id)
        errors = limits.validate_commands([ctx.payload])
        if errors:
            raise invalid_form(errors.get("0", errors))
        pool = self._command_pool(gid)
        echoed = self._echo_command(ctx.payload, gid)
        for i, existing in enumerate(pool):
            if existing["id"] == echoed["id"]:
                pool[i] = echoed
                return echoed
        pool.append(echoed)
        return Reply(201, echoed)

    async def h_patch_command(
        self, ctx: _Ctx, application_id: str, command_id: str, guild_id: str | None = None
    ) -> Any:
        pool = self._command_pool(self._check_app(application_id, guild_id))
        for i, existing in enumerate(pool):
            if existing["id"] == command_id:
                updated = {**existing, **ctx.payload, "version": str(self._ids())}
                pool[i] = updated
                return updated
        raise ApiError(404, 10063)

    async def h_delete_command(
        self, ctx: _Ctx, application_id: str, command_id: str, guild_id: str | None = None
    ) -> Any:
        pool = self._command_pool(self._check_app(application_id, guild_id))
        for i, existing in enumerate(pool):
            if existing["id"] == command_id:
                del pool[i]
                return None
        raise ApiError(404, 10063)

    async def h_command_permissions(self, ctx: _Ctx, application_id: str, guild_id: str) -> Any:
        self._check_app(application_id, guild_id)
        return []

    # ========================================================================================
    # REST handlers: channels & messages
    # ========================================================================================
    async def h_get_channel(self, ctx: _Ctx, channel_id: str) -> Any:
        return self._channel_payload(self._api_channel(channel_id))

    async def h_get_messages(self, ctx: _Ctx, channel_id: str) -> Any:
        channel = self._api_channel(channel_id)
        limit = max(1, min(100, int(ctx.query.get("limit", "50"))))
        before = int(ctx.query.get("before", "0") or 0)
        after = int(ctx.query.get("after", "0") or 0)
        found = [
            m
            for m in self._message_order
            if m.channel_id == channel.id
            and not m.deleted
            and not m.ephemeral
            and (not before or m.id < before)
            and (not after or m.id > after)
        ]
        found.sort(key=lambda m: m.id, reverse=True)
        if after and not before:
            found = list(reversed(found))[:limit]
            found.reverse()
        return [m.to_api() for m in found[:limit]]

    async def h_get_message(self, ctx: _Ctx, channel_id: str, message_id: str) -> Any:
        channel = self._api_channel(channel_id)
        return self._api_message(channel, message_id).to_api()

    async def h_create_message(self, ctx: _Ctx, channel_id: str) -> Any:
        channel = self._api_channel(channel_id)
        if channel.is_dm and channel.recipient_id in self._closed_dms:
            raise ApiError(403, 50007)
        if channel.type in (2, 4, 13, 15, 16):
            raise ApiError(400, 50008, "Cannot send messages in a non-text channel")
        payload = ctx.payload
        files = self._files_for(ctx)
        self._validate_message(payload, files, creating=True)
        nonce = payload.get("nonce")
        if nonce is not None and payload.get("enforce_nonce"):
            key = (channel.id, str(nonce))
            existing = self._nonces.get(key)
            if existing is not None:
                return self._messages[existing].to_api()
        msg = self._new_message(channel, payload, files, kind="channel", author=self._bot_author())
        if nonce is not None and payload.get("enforce_nonce"):
            self._nonces[(channel.id, str(nonce))] = msg.id
        self._dispatch_message("MESSAGE_CREATE", msg)
        return msg.to_api()

    async def h_edit_message(self, ctx: _Ctx, channel_id: str, message_id: str) -> Any:
        channel = self._api_channel(channel_id)
        msg = self._api_message(channel, message_id)
        if msg.author_id != self.bot_id:
            raise ApiError(403, 50005)
        files = self._files_for(ctx)
        payload = self._edit_payload(ctx)
        self._validate_message(payload, files, creating=False, flags=msg.flags)
        self._apply_edit(msg, payload, files)
        self._dispatch_message("MESSAGE_UPDATE", msg)
        return msg.to_api()

    async def h_delete_message(self, ctx: _Ctx, channel_id: str, message_id: str) -> Any:
        channel = self._api_channel(channel_id)
        msg = self._api_message(channel, message_id)
        msg.deleted = True
        self._message_deleted(msg)
        return None

    def _message_deleted(self, msg: MessageRecord) -> None:
        if msg.ephemeral:
            return
        data = {"id": str(msg.id), "channel_id": str(msg.channel_id)}
        if msg.guild_id is not None:
            data["guild_id"] = str(msg.guild_id)
        self.gateway.dispatch("MESSAGE_DELETE", data)

    async def h_add_reaction(self, ctx: _Ctx, channel_id: str, message_id: str, emoji: str) -> Any:
        msg = self._api_message(self._api_channel(channel_id), message_id)
        if emoji not in msg.reactions:
            msg.reactions.append(emoji)
        return None

    async def h_remove_reaction(
        self, ctx: _Ctx, channel_id: str, message_id: str, emoji: str
    ) -> Any:
        msg = self._api_message(self._api_channel(channel_id), message_id)
        if emoji in msg.reactions:
            msg.reactions.remove(emoji)
        return None

    async def h_typing(self, ctx: _Ctx, channel_id: str) -> Any:
        self._api_channel(channel_id)
        return None

    # ========================================================================================
    # REST handlers: guilds
    # ========================================================================================
    async def h_get_guild(self, ctx: _Ctx, guild_id: str) -> Any:
        guild = self._api_guild(guild_id)
        data = self._guild_payload(guild)
        if ctx.query.get("with_counts") in ("1", "true", "True"):
            data.update(approximate_member_count=len(guild.members), approximate_presence_count=0)
        return data

    async def h_get_guild_channels(self, ctx: _Ctx, guild_id: str) -> Any:
        return [c.to_api() for c in self._api_guild(guild_id).channels.values()]

    async def h_get_roles(self, ctx: _Ctx, guild_id: str) -> Any:
        return [r.to_api() for r in self._api_guild(guild_id).roles.values()]

    async def h_list_members(self, ctx: _Ctx, guild_id: str) -> Any:
        guild = self._api_guild(guild_id)
        limit = max(1, min(1000, int(ctx.query.get("limit", "1"))))
        after = int(ctx.query.get("after", "0") or 0)
        members = sorted(
            (m for m in guild.members.values() if m.user_id > after), key=lambda m: m.user_id
        )
        return [self._member_payload(guild, m) for m in members[:limit]]

    async def h_get_member(self, ctx: _Ctx, guild_id: str, user_id: str) -> Any:
        guild = self._api_guild(guild_id)
        member = guild.members.get(int(user_id)) if user_id.isdigit() else None
        if member is None:
            raise ApiError(404, 10007)
        return self._member_payload(guild, member)

    async def _member_role(self, guild_id: str, user_id: str, role_id: str, add: bool) -> None:
        guild = self._api_guild(guild_id)
        member = guild.members.get(int(user_id)) if user_id.isdigit() else None
        if member is None:
            raise ApiError(404, 10007)
        if not role_id.isdigit() or int(role_id) not in guild.roles:
            raise ApiError(404, 10011)
        rid = int(role_id)
        if add and rid not in member.roles:
            member.roles.append(rid)
        elif not add and rid in member.roles:
            member.roles.remove(rid)
        payload = self._member_payload(guild, member)
        payload["guild_id"] = str(guild.id)
        self.gateway.dispatch("GUILD_MEMBER_UPDATE", payload)

    async def h_add_member_role(self, ctx: _Ctx, guild_id: str, user_id: str, role_id: str) -> Any:
        await self._member_role(guild_id, user_id, role_id, add=True)

    async def h_remove_member_role(
        self, ctx: _Ctx, guild_id: str, user_id: str, role_id: str
    ) -> Any:
        await self._member_role(guild_id, user_id, role_id, add=False)

    # ========================================================================================
    # REST handlers: interaction callback & webhooks (followups / @original)
    # ========================================================================================
    def _interaction_message(
        self, record: InteractionRecord, data: dict[str, Any], files: list[FileRecord], *, kind: str
    ) -> MessageRecord:
        channel = self.channels[record.channel_id]
        msg = self._new_message(
            channel,
            data,
            files,
            kind=kind,
            author=self._bot_author(),
            allowed_flags=FLAG_EPHEMERAL
            | FLAG_LOADING
            | FLAG_SUPPRESS_EMBEDS
            | FLAG_SUPPRESS_NOTIFICATIONS
            | FLAG_COMPONENTS_V2,
        )
        msg.webhook_id = self.application_id
        msg.application_id = self.application_id
        msg.interaction_id = record.id
        msg.type = 20 if kind == "interaction" and record.type == 2 else 0
        metadata: dict[str, Any] = {
            "id": str(record.id),
            "type": record.type,
            "user": self.users[record.user_id],
            "authorizing_integration_owners": record.payload.get(
                "authorizing_integration_owners", {}
            ),
        }
        if record.type == 2:
            metadata["name"] = record.name
        if kind == "followup" and record.response is not None:
            metadata["original_response_message_id"] = str(record.response.id)
        if record.source_message is not None:
            metadata["interacted_message_id"] = str(record.source_message.id)
        msg.interaction_metadata = metadata
        return msg

    async def h_interaction_callback(
        self, ctx: _Ctx, interaction_id: str, interaction_token: str
    ) -> Any:
        record = self._interactions.get(int(interaction_id)) if interaction_id.isdigit() else None
        if record is None or record.token != interaction_token:
            raise ApiError(404, 10062)
        record.requests.append(ctx.record)
        if record.callback_type is not None:
            raise ApiError(400, 40060)
        if (
            self.interaction_ack_timeout is not None
            and time.monotonic() - record.created_at > self.interaction_ack_timeout
        ):
            raise ApiError(404, 10062)
        body = ctx.payload
        ctype = body.get("type")
        data = body.get("data") or {}
        allowed = {1: {1}, 2: {4, 5, 9, 12}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}[
            record.type
        ]
        if record.type == 5 and record.source_message is None:
            allowed = {4, 5}
        if ctype not in allowed:
            raise invalid_form(
                {
                    "type": limits.error(
                        "INTERACTION_RESPONSE_TYPE_INVALID",
                        f"Interaction response type {ctype} is not valid for interaction type "
                        f"{record.type}",
                    )
                }
            )
        files = self._files_for(ctx, data)
        message: MessageRecord | None = None
        created = False
        if ctype == 4:
            self._validate_message(data, files, creating=True)
            message = self._interaction_message(record, data, files, kind="interaction")
            record.response = message
            created = True
        elif ctype == 5:
            flags = FLAG_LOADING | (int(data.get("flags") or 0) & FLAG_EPHEMERAL)
            message = self._interaction_message(record, {"flags": flags}, [], kind="interaction")
            record.response = message
            created = True
        elif ctype == 6:
            message = record.source_message
            record.response = message
        elif ctype == 7:
            assert record.source_message is not None
            message = record.source_message
            if message.deleted:
                raise ApiError(404, 10008)
            self._validate_message(data, files, creating=False, flags=message.flags)
            self._apply_edit(message, data, files)
            record.response = message
            self._dispatch_message("MESSAGE_UPDATE", message)
        elif ctype == 8:
            choices = data.get("choices") or []
            errors = limits.validate_choices(choices)
            if errors:
                raise invalid_form({"data": errors})
            record.choices = choices
        elif ctype == 9:
            errors = limits.validate_modal(data)
            if errors:
                raise invalid_form({"data": errors})
            record.modal = copy.deepcopy(data)
        record.callback_type = ctype
        record.callback = copy.deepcopy(body)
        if created and message is not None:
            self._dispatch_message("MESSAGE_CREATE", message)

        if ctx.query.get("with_response") not in ("1", "true", "True"):
            return None
        interaction: dict[str, Any] = {"id": str(record.id), "type": record.type}
        resource: dict[str, Any] = {"type": ctype}
        if message is not None:
            interaction.update(
                response_message_id=str(message.id),
                response_message_loading=ctype == 5,
                response_message_ephemeral=message.ephemeral,
            )
            resource["message"] = message.to_api()
        if ctype == 12:
            instance = str(self._ids())
            interaction["activity_instance_id"] = instance
            resource["activity_instance"] = {"id": instance}
        return {"interaction": interaction, "resource": resource}

    def _webhook_interaction(self, application_id: str, token: str) -> InteractionRecord:
        record = self._tokens.get(token)
        if application_id != str(self.application_id) or record is None:
            raise ApiError(404, 10015)
        return record

    def _webhook_message(self, record: InteractionRecord, message_id: str) -> MessageRecord:
        if message_id == "@original":
            if record.response is None or record.response.deleted:
                raise ApiError(404, 10008)
            return record.response
        msg = self._messages.get(int(message_id)) if message_id.isdigit() else None
        if (
            msg is None
            or msg.deleted
            or (msg is not record.response and msg not in record.followups)
        ):
            raise ApiError(404, 10008)
        return msg

    async def h_webhook_execute(self, ctx: _Ctx, application_id: str, token: str) -> Any:
        record = self._webhook_interaction(application_id, token)
        record.requests.append(ctx.record)
        if not record.acknowledged:
            raise ApiError(404, 10015)
        payload = ctx.payload
        files = self._files_for(ctx)
        self._validate_message(payload, files, creating=True)
        original = record.response
        if record.callback_type == 5 and original is not None and original.loading:
            # Discord: the first followup after a deferred response edits the "thinking" message.
            edit = {k: v for k, v in payload.items() if k != "flags"}
            self._apply_edit(original, edit, files)
            msg = original
            self._dispatch_message("MESSAGE_UPDATE", msg)
        else:
            msg = self._interaction_message(record, payload, files, kind="followup")
            self._dispatch_message("MESSAGE_CREATE", msg)
        record.followups.append(msg)
        if ctx.query.get("wait") in ("1", "true", "True"):
            return msg.to_api()
        return None

    async def h_webhook_get_message(
        self, ctx: _Ctx, application_id: str, token: str, message_id: str
    ) -> Any:
        record = self._webhook_interaction(application_id, token)
        record.requests.append(ctx.record)
        return self._webhook_message(record, message_id).to_api()

    async def h_webhook_edit_message(
        self, ctx: _Ctx, application_id: str, token: str, message_id: str
    ) -> Any:
        record = self._webhook_interaction(application_id, token)
        record.requests.append(ctx.record)
        msg = self._webhook_message(record, message_id)
        files = self._files_for(ctx)
        payload = self._edit_payload(ctx)
        self._validate_message(payload, files, creating=False, flags=msg.flags)
        self._apply_edit(msg, payload, files)
        if message_id == "@original" or msg is record.response:
            record.edits.append(copy.deepcopy(payload))
        self._dispatch_message("MESSAGE_UPDATE", msg)
        return msg.to_api()

    async def h_webhook_delete_message(
        self, ctx: _Ctx, application_id: str, token: str, message_id: str
    ) -> Any:
        record = self._webhook_interaction(application_id, token)
        record.requests.append(ctx.record)
        msg = self._webhook_message(record, message_id)
        msg.deleted = True
        if msg is record.response:
            record.original_deleted = True
        self._message_deleted(msg)
        return None


def _normalize_embeds(embeds: Any) -> list[dict[str, Any]]:
    result = []
    for embed in embeds or []:
        embed = copy.deepcopy(embed)
        embed.setdefault("type", "rich")
        result.append(embed)
    return result


def _snowflake_or_none(value: int | None) -> str | None:
    return None if value is None else str(value)

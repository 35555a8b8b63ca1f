"""Plain records kept by the loopback Discord server.

Everything here is data: the server fills these records in as the bot talks to it, and tests
read them. Ids are Python ``int`` snowflakes; JSON payloads carry them as strings like Discord.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .server import LoopbackDiscord

DISCORD_EPOCH_MS = 1_420_070_400_000

# Message flags used by the server.
FLAG_SUPPRESS_EMBEDS = 1 << 2
FLAG_EPHEMERAL = 1 << 6
FLAG_LOADING = 1 << 7
FLAG_SUPPRESS_NOTIFICATIONS = 1 << 12
FLAG_COMPONENTS_V2 = 1 << 15

# Permission bits used by the server.
PERM_ADMINISTRATOR = 1 << 3
PERM_MANAGE_GUILD = 1 << 5
ALL_PERMISSIONS = (1 << 53) - 1


class SnowflakeGenerator:
    """Monotonic snowflakes: timestamp << 22 | worker << 17 | increment."""

    def __init__(self, worker: int = 1) -> None:
        self._worker = worker & 0x1F
        self._last_ms = 0
        self._increment = 0

    def __call__(self) -> int:
        ms = int(time.time() * 1000) - DISCORD_EPOCH_MS
        if ms <= self._last_ms:
            ms = self._last_ms
            self._increment += 1
            if self._increment > 0xFFF:
                ms += 1
                self._increment = 0
        else:
            self._increment = 0
        self._last_ms = ms
        return (ms << 22) | (self._worker << 17) | self._increment


def iso_now() -> str:
    return datetime.now(UTC).isoformat()


def snowflake_time(snowflake: int) -> float:
    """Unix time (seconds) encoded in a snowflake."""
    return ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000


# --------------------------------------------------------------------------------------------
# World: guilds, channels, roles, members
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Role:
    id: int
    guild_id: int
    name: str
    permissions: int = 0
    position: int = 0
    color: int = 0
    hoist: bool = False
    mentionable: bool = False
    managed: bool = False
    tags: dict[str, Any] | None = None

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "name": self.name,
            "permissions": str(self.permissions),
            "position": self.position,
            "color": self.color,
            "colors": {
                "primary_color": self.color,
                "secondary_color": None,
                "tertiary_color": None,
            },
            "hoist": self.hoist,
            "icon": None,
            "unicode_emoji": None,
            "managed": self.managed,
            "mentionable": self.mentionable,
            "flags": 0,
        }
        if self.tags is not None:
            data["tags"] = self.tags
        return data


@dataclass(eq=False)
class Channel:
    id: int
    name: str | None
    type: int = 0
    guild_id: int | None = None
    position: int = 0
    parent_id: int | None = None
    topic: str | None = None
    nsfw: bool = False
    recipient_id: int | None = None  # DM channels only
    last_message_id: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_dm(self) -> bool:
        return self.type == 1

    def to_api(self, recipient: dict[str, Any] | None = None) -> dict[str, Any]:
        if self.is_dm:
            return {
                "id": str(self.id),
                "type": 1,
                "last_message_id": _opt_str(self.last_message_id),
                "recipients": [recipient] if recipient else [],
                "flags": 0,
            }
        data: dict[str, Any] = {
            "id": str(self.id),
            "type": self.type,
            "guild_id": _opt_str(self.guild_id),
            "name": self.name,
            "position": self.position,
            "permission_overwrites": [],
            "parent_id": _opt_str(self.parent_id),
            "nsfw": self.nsfw,
            "flags": 0,
        }
        if self.type in (0, 5, 15, 16):
            data.update(
                topic=self.topic,
                rate_limit_per_user=0,
                last_message_id=_opt_str(self.last_message_id),
                default_auto_archive_duration=1440,
            )
        if self.type in (2, 13):
            data.update(bitrate=64000, user_limit=0, rtc_region=None, rate_limit_per_user=0)
        if self.type in (15, 16):
            data.update(available_tags=[], default_reaction_emoji=None, default_sort_order=None)
        data.update(self.extra)
        return data


@dataclass(eq=False)
class Member:
    guild_id: int
    user_id: int
    roles: list[int] = field(default_factory=list)
    # Explicit permissions override (what interactions report in member.permissions).
    # None: computed from @everyone + roles (+ owner/administrator => everything).
    permissions: int | None = None
    nick: str | None = None
    joined_at: str = field(default_factory=iso_now)


@dataclass(eq=False)
class Guild:
    id: int
    name: str
    owner_id: int
    channels: dict[int, Channel] = field(default_factory=dict)
    roles: dict[int, Role] = field(default_factory=dict)
    members: dict[int, Member] = field(default_factory=dict)
    bot_role_id: int | None = None
    system_channel_id: int | None = None  # where Discord posts joins; bots tell managers there
    preferred_locale: str = "en-US"
    features: list[str] = field(default_factory=list)
    joined_at: str = field(default_factory=iso_now)

    @property
    def everyone_role_id(self) -> int:
        return self.id

    def channel_id(self, name: str) -> int:
        """Id of the channel called ``name`` (KeyError if none)."""
        for channel in self.channels.values():
            if channel.name == name:
                return channel.id
        raise KeyError(f"guild {self.name!r} has no channel {name!r}")

    def role_id(self, name: str) -> int:
        for role in self.roles.values():
            if role.name == name:
                return role.id
        raise KeyError(f"guild {self.name!r} has no role {name!r}")


# --------------------------------------------------------------------------------------------
# Traffic: requests, messages, interactions
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class FileRecord:
    """A file uploaded with a message (multipart ``files[n]``) or given as an attachment option."""

    filename: str
    data: bytes
    content_type: str | None = None
    id: int = 0
    description: str | None = None
    url: str = ""

    @property
    def size(self) -> int:
        return len(self.data)

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "filename": self.filename,
            "size": self.size,
            "url": self.url,
            "proxy_url": self.url,
        }
        if self.content_type:
            data["content_type"] = self.content_type
        if self.description is not None:
            data["description"] = self.description
        return data


@dataclass(eq=False)
class RequestRecord:
    """One REST request as the server saw it (and what it answered)."""

    method: str
    path: str  # below /api/v10, e.g. "/channels/123/messages"
    query: dict[str, str]
    json: Any
    files: list[FileRecord]
    headers: dict[str, str]
    time: float  # time.monotonic() on arrival
    status: int = 0
    response: Any = None
    route: str | None = None  # e.g. "POST /channels/{channel_id}/messages"
    injected: bool = False  # answered by a fault injection / rate limiter
    peer_port: int | None = None  # the client's TCP port: which process sent it (benches)
    global_limited: bool = False  # counted against the bot's global limit (interactions are not)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def error_code(self) -> int | None:
        if isinstance(self.response, dict):
            return self.response.get("code")
        return None

    def __repr__(self) -> str:
        return f"<RequestRecord {self.method} {self.path} -> {self.status}>"


def walk_components(components: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every component in a (possibly nested) component tree."""
    for component in components or []:
        yield component
        yield from walk_components(component.get("components") or [])
        for key in ("accessory", "component"):
            child = component.get(key)
            if isinstance(child, dict):
                yield child
                yield from walk_components(child.get("components") or [])


@dataclass(eq=False)
class MessageRecord:
    """A message that exists on the loopback server (sent by the bot or injected for a user)."""

    id: int
    channel_id: int
    guild_id: int | None
    author: dict[str, Any]
    content: str = ""
    embeds: list[dict[str, Any]] = field(default_factory=list)
    components: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    nonce: str | int | None = None
    files: list[FileRecord] = field(default_factory=list)
    is_dm: bool = False
    recipient_id: int | None = None  # the DM recipient when is_dm
    # "channel" (POST /channels/..), "interaction" (callback), "followup" (webhook),
    # "user" (a simulated user's message)
    kind: str = "channel"
    interaction_id: int | None = None
    type: int = 0
    tts: bool = False
    timestamp: str = field(default_factory=iso_now)
    edited_timestamp: str | None = None
    edits: list[dict[str, Any]] = field(default_factory=list)  # payload of every edit
    deleted: bool = False
    payload: dict[str, Any] = field(default_factory=dict)  # the create payload as sent
    webhook_id: int | None = None
    application_id: int | None = None
    interaction_metadata: dict[str, Any] | None = None
    message_reference: dict[str, Any] | None = None
    reactions: list[str] = field(default_factory=list)
    mentions: list[dict[str, Any]] = field(default_factory=list)
    mention_roles: list[int] = field(default_factory=list)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def loading(self) -> bool:
        """True while this is a deferred ("thinking...") interaction response."""
        return bool(self.flags & FLAG_LOADING)

    @property
    def author_id(self) -> int:
        return int(self.author["id"])

    @property
    def text(self) -> str:
        """Content plus all embed text, newline-joined: handy for ``in`` assertions."""
        parts = [self.content or ""]
        for embed in self.embeds:
            parts.append(embed.get("title") or "")
            parts.append(embed.get("description") or "")
            for f in embed.get("fields") or []:
                parts.append(f.get("name") or "")
                parts.append(f.get("value") or "")
            parts.append((embed.get("footer") or {}).get("text") or "")
            parts.append((embed.get("author") or {}).get("name") or "")
        for component in walk_components(self.components):
            if component.get("type") == 10:  # text display
                parts.append(component.get("content") or "")
        return "\n".join(p for p in parts if p)

    def custom_ids(self) -> list[str]:
        return [c["custom_id"] for c in walk_components(self.components) if c.get("custom_id")]

    def component(self, custom_id: str) -> dict[str, Any]:
        for c in walk_components(self.components):
            if c.get("custom_id") == custom_id:
                return c
        raise KeyError(f"message {self.id} has no component {custom_id!r}: {self.custom_ids()}")

    def buttons(self) -> list[dict[str, Any]]:
        return [c for c in walk_components(self.components) if c.get("type") == 2]

    def to_api(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": str(self.id),
            "channel_id": str(self.channel_id),
            "author": self.author,
            "content": self.content,
            "timestamp": self.timestamp,
            "edited_timestamp": self.edited_timestamp,
            "tts": self.tts,
            "mention_everyone": False,
            "mentions": self.mentions,
            "mention_roles": [str(r) for r in self.mention_roles],
            "attachments": [f.to_api() for f in self.files],
            "embeds": self.embeds,
            "pinned": False,
            "type": self.type,
            "flags": self.flags,
            "components": self.components,
            "reactions": [
                {"emoji": _emoji_payload(e), "count": 1, "me": True, "count_details": {}}
                for e in self.reactions
            ],
        }
        if self.guild_id is not None:
            data["guild_id"] = str(self.guild_id)
        if self.nonce is not None:
            data["nonce"] = self.nonce
        if self.webhook_id is not None:
            data["webhook_id"] = str(self.webhook_id)
        if self.application_id is not None:
            data["application_id"] = str(self.application_id)
        if self.interaction_metadata is not None:
            data["interaction_metadata"] = self.interaction_metadata
        if self.message_reference is not None:
            data["message_reference"] = self.message_reference
        return data

    def __repr__(self) -> str:
        extra = " ephemeral" if self.ephemeral else ""
        extra += " deleted" if self.deleted else ""
        return (
            f"<MessageRecord id={self.id} kind={self.kind} channel={self.channel_id}{extra} "
            f"content={self.content[:60]!r} embeds={len(self.embeds)}>"
        )


@dataclass(eq=False)
class InteractionRecord:
    """One interaction the server sent to the bot, and everything the bot answered for it."""

    id: int
    token: str
    type: int  # 2 command, 3 component, 4 autocomplete, 5 modal submit
    guild_id: int | None
    channel_id: int
    user_id: int
    name: str  # command path ("launch add") or custom_id
    data: dict[str, Any]
    payload: dict[str, Any]  # the whole INTERACTION_CREATE payload
    created_at: float = field(default_factory=time.monotonic)
    callback_type: int | None = None
    callback: dict[str, Any] | None = None  # the callback body as sent ({type, data})
    response: MessageRecord | None = None  # the original response message (@original)
    followups: list[MessageRecord] = field(default_factory=list)
    edits: list[dict[str, Any]] = field(default_factory=list)  # payloads of @original edits
    choices: list[dict[str, Any]] | None = None  # autocomplete answer
    modal: dict[str, Any] | None = None  # modal the bot opened
    original_deleted: bool = False
    requests: list[RequestRecord] = field(default_factory=list)  # all traffic for this token
    source_message: MessageRecord | None = None  # component / modal interactions
    _server: LoopbackDiscord | None = field(default=None, repr=False)

    # -- state --------------------------------------------------------------------------
    @property
    def acknowledged(self) -> bool:
        return self.callback_type is not None

    @property
    def deferred(self) -> bool:
        return self.callback_type in (5, 6)

    @property
    def failed_requests(self) -> list[RequestRecord]:
        return [r for r in self.requests if not r.ok]

    # -- the original response, flattened -------------------------------------------------
    @property
    def message(self) -> MessageRecord | None:
        return self.response

    @property
    def content(self) -> str | None:
        return None if self.response is None else self.response.content

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return [] if self.response is None else self.response.embeds

    @property
    def components(self) -> list[dict[str, Any]]:
        return [] if self.response is None else self.response.components

    @property
    def flags(self) -> int:
        return 0 if self.response is None else self.response.flags

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & FLAG_EPHEMERAL)

    @property
    def files(self) -> list[FileRecord]:
        return [] if self.response is None else self.response.files

    @property
    def text(self) -> str:
        """Text of the original response and all followups."""
        parts = [m.text for m in ([self.response] if self.response else []) + self.followups]
        return "\n".join(p for p in parts if p)

    def all_messages(self) -> list[MessageRecord]:
        return ([self.response] if self.response else []) + list(self.followups)

    # -- waiting ------------------------------------------------------------------------
    async def wait_acknowledged(self, timeout: float = 5.0) -> InteractionRecord:  # noqa: ASYNC109
        await self._wait(lambda: self.acknowledged, timeout, "an interaction callback")
        return self

    async def wait_followups(self, count: int = 1, timeout: float = 5.0) -> list[MessageRecord]:  # noqa: ASYNC109
        await self._wait(lambda: len(self.followups) >= count, timeout, f"{count} followup(s)")
        return self.followups

    async def wait_edits(self, count: int = 1, timeout: float = 5.0) -> list[dict[str, Any]]:  # noqa: ASYNC109
        await self._wait(lambda: len(self.edits) >= count, timeout, f"{count} edit(s) of @original")
        return self.edits

    async def wait_loaded(self, timeout: float = 5.0) -> MessageRecord:  # noqa: ASYNC109
        """Wait until the original response exists and is no longer "thinking..."."""
        await self._wait(
            lambda: self.response is not None and not self.response.loading,
            timeout,
            "a non-deferred original response",
        )
        assert self.response is not None
        return self.response

    async def _wait(self, predicate: Any, seconds: float, what: str) -> None:
        if self._server is None:
            raise RuntimeError("record not attached to a server")
        try:
            await self._server.wait_for(predicate, timeout=seconds)
        except TimeoutError:
            raise TimeoutError(
                f"interaction {self.name!r} ({self.id}): no {what} within {seconds}s; "
                f"failed requests: {self.failed_requests}"
            ) from None

    def __repr__(self) -> str:
        return (
            f"<InteractionRecord {self.name!r} type={self.type} callback={self.callback_type} "
            f"content={(self.content or '')[:60]!r} followups={len(self.followups)} "
            f"edits={len(self.edits)}>"
        )


@dataclass(eq=False)
class Injection:
    """A scripted fault: the next ``times`` requests matching ``pattern`` get ``status``."""

    pattern: re.Pattern[str]  # searched in "METHOD /path"
    status: int | None
    times: int
    code: int = 0
    message: str | None = None
    retry_after: float | None = None
    global_: bool = False
    delay: float | None = None
    hits: list[RequestRecord] = field(default_factory=list)

    @property
    def remaining(self) -> int:
        return self.times - len(self.hits)

    def matches(self, method: str, path: str) -> bool:
        return self.remaining > 0 and self.pattern.search(f"{method} {path}") is not None


@dataclass(eq=False)
class CommandRegistry:
    """Application commands the bot registered (bulk PUT / POST), as the server echoed them."""

    global_commands: list[dict[str, Any]] = field(default_factory=list)
    guild_commands: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    syncs: list[tuple[int | None, int]] = field(default_factory=list)  # (guild_id, count) per PUT

    def for_guild(self, guild_id: int) -> list[dict[str, Any]]:
        return self.guild_commands.get(int(guild_id), [])

    def names(self, guild_id: int | None = None) -> list[str]:
        source = self.global_commands if guild_id is None else self.for_guild(guild_id)
        return [c["name"] for c in source]

    def find(self, name: str, guild_id: int | None = None, type: int = 1) -> dict[str, Any] | None:
        """A command by name: the guild's first (if guild_id), then global."""
        pools = ([self.for_guild(guild_id)] if guild_id is not None else []) + [
            self.global_commands
        ]
        for pool in pools:
            for command in pool:
                if command["name"] == name and command.get("type", 1) == type:
                    return command
        return None

    def scope_of(self, name: str, guild_id: int | None, type: int = 1) -> int | None:
        """guild_id if ``name`` is registered for that guild, else None (global or unknown)."""
        if guild_id is not None:
            for command in self.for_guild(guild_id):
                if command["name"] == name and command.get("type", 1) == type:
                    return int(guild_id)
        return None


def _opt_str(value: int | None) -> str | None:
    return None if value is None else str(value)


def _emoji_payload(emoji: str) -> dict[str, Any]:
    name, _, emoji_id = emoji.partition(":")
    return {"id": emoji_id or None, "name": name}

"""The gateway half of the loopback server: HELLO / IDENTIFY / READY / RESUME and dispatch.

One :class:`GatewayConnection` per websocket; one :class:`GatewaySession` per IDENTIFY. A session
outlives its connection so that the client can RESUME it (events emitted while it was away are
replayed). Frames leave through a single writer task per connection so ``s`` always increases
in the order events were emitted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

if TYPE_CHECKING:
    from .server import LoopbackDiscord

log = logging.getLogger(__name__)

OP_DISPATCH = 0
OP_HEARTBEAT = 1
OP_IDENTIFY = 2
OP_PRESENCE = 3
OP_VOICE_STATE = 4
OP_RESUME = 6
OP_RECONNECT = 7
OP_REQUEST_MEMBERS = 8
OP_INVALID_SESSION = 9
OP_HELLO = 10
OP_HEARTBEAT_ACK = 11

INTENT_GUILDS = 1 << 0
INTENT_GUILD_MEMBERS = 1 << 1
INTENT_GUILD_MESSAGES = 1 << 9
INTENT_GUILD_MESSAGE_REACTIONS = 1 << 10
INTENT_DIRECT_MESSAGES = 1 << 12
INTENT_DIRECT_MESSAGE_REACTIONS = 1 << 13
INTENT_MESSAGE_CONTENT = 1 << 15

_GUILD_EVENTS = {
    "GUILD_CREATE",
    "GUILD_UPDATE",
    "GUILD_DELETE",
    "GUILD_ROLE_CREATE",
    "GUILD_ROLE_UPDATE",
    "GUILD_ROLE_DELETE",
    "CHANNEL_CREATE",
    "CHANNEL_UPDATE",
    "CHANNEL_DELETE",
}
_MEMBER_EVENTS = {"GUILD_MEMBER_ADD", "GUILD_MEMBER_UPDATE", "GUILD_MEMBER_REMOVE"}
_MESSAGE_EVENTS = {"MESSAGE_CREATE", "MESSAGE_UPDATE", "MESSAGE_DELETE"}
_REACTION_EVENTS = {"MESSAGE_REACTION_ADD", "MESSAGE_REACTION_REMOVE"}

_CLOSE = object()

# Discord lets one IDENTIFY per rate-limit key (shard_id % max_concurrency) start every 5 s.
IDENTIFY_INTERVAL_S = 5.0


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard that carries a guild's events: (guild_id >> 22) % shard_count."""
    return (guild_id >> 22) % shard_count


def event_guild(event: str, data: dict[str, Any]) -> int | None:
    """The guild an event belongs to (GUILD_* events carry it as ``id``), None for DMs."""
    raw = data.get("guild_id")
    if raw is None and event.startswith("GUILD_") and "id" in data:
        raw = data["id"]
    return int(raw) if raw is not None else None


def required_intent(event: str, data: dict[str, Any]) -> int | None:
    if event in _GUILD_EVENTS:
        return INTENT_GUILDS
    if event in _MEMBER_EVENTS:
        return INTENT_GUILD_MEMBERS
    in_guild = bool(data.get("guild_id"))
    if event in _MESSAGE_EVENTS:
        return INTENT_GUILD_MESSAGES if in_guild else INTENT_DIRECT_MESSAGES
    if event in _REACTION_EVENTS:
        return INTENT_GUILD_MESSAGE_REACTIONS if in_guild else INTENT_DIRECT_MESSAGE_REACTIONS
    return None


class GatewayConnection:
    def __init__(self, ws: web.WebSocketResponse, query: dict[str, str]) -> None:
        self.ws = ws
        self.query = query
        self.queue: asyncio.Queue[Any] = asyncio.Queue()
        self.session: GatewaySession | None = None
        self.writer: asyncio.Task[None] | None = None
        self.heartbeats = 0
        self.closed_by_server = False

    def send(self, frame: dict[str, Any]) -> None:
        self.queue.put_nowait(frame)

    def close(self, code: int) -> None:
        self.closed_by_server = True
        self.queue.put_nowait((_CLOSE, code))


class GatewaySession:
    def __init__(self, session_id: str, identify: dict[str, Any]) -> None:
        self.session_id = session_id
        self.identify = identify
        self.intents: int = int(identify.get("intents", 0b11111111111111111))
        self.shard: list[int] | None = identify.get("shard")
        self.seq = 0
        self.buffer: deque[dict[str, Any]] = deque(maxlen=5000)
        self.connection: GatewayConnection | None = None
        self.presence: dict[str, Any] | None = identify.get("presence")
        self.ready = False  # READY + initial GUILD_CREATEs emitted
        self.resumes = 0

    def owns(self, guild_id: int | None) -> bool:
        """Whether this session's shard carries *guild_id* (DMs travel on shard 0)."""
        if self.shard is None:
            return True
        shard_id, shard_count = self.shard
        if guild_id is None:
            return shard_id == 0
        return shard_of(guild_id, shard_count) == shard_id

    def wants(self, event: str, data: dict[str, Any]) -> bool:
        if not self.owns(event_guild(event, data)):
            return False
        intent = required_intent(event, data)
        return intent is None or bool(self.intents & intent)

    def emit(self, event: str, data: Any) -> int:
        self.seq += 1
        frame = {"op": OP_DISPATCH, "t": event, "s": self.seq, "d": data}
        self.buffer.append(frame)
        if self.connection is not None:
            self.connection.send(frame)
        return self.seq


class Gateway:
    """Owns gateway sessions/connections for a :class:`LoopbackDiscord`."""

    def __init__(self, server: LoopbackDiscord) -> None:
        self.server = server
        self.sessions: dict[str, GatewaySession] = {}
        self.connections: set[GatewayConnection] = set()
        self.log: list[dict[str, Any]] = []  # every frame in and out: {dir, op, t, s, d, time}
        # IDENTIFY pacing as Discord counts it: last IDENTIFY per rate-limit key, and every
        # IDENTIFY that came sooner than IDENTIFY_INTERVAL_S after the previous one of its key.
        self._last_identify: dict[int, float] = {}
        self.identify_too_fast: list[tuple[int, float]] = []  # (shard_id, seconds since last)

    # -- dispatch -------------------------------------------------------------------------
    @property
    def live_sessions(self) -> list[GatewaySession]:
        return [s for s in self.sessions.values() if s.ready]

    def dispatch(self, event: str, data: dict[str, Any], *, content_filter: bool = False) -> int:
        """Emit ``event`` to every identified session that wants it; returns how many."""
        sent = 0
        for session in self.live_sessions:
            if not session.wants(event, data):
                continue
            payload = data
            if content_filter and not session.intents & INTENT_MESSAGE_CONTENT:
                payload = _strip_content(data, self.server.bot_id)
            session.emit(event, payload)
            sent += 1
        return sent

    # -- websocket ------------------------------------------------------------------------
    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        conn = GatewayConnection(ws, dict(request.query))
        self.connections.add(conn)
        conn.writer = asyncio.create_task(self._writer(conn))
        conn.send(
            {
                "op": OP_HELLO,
                "d": {"heartbeat_interval": int(self.server.heartbeat_interval * 1000)},
                "s": None,
                "t": None,
            }
        )
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    try:
                        frame = json.loads(msg.data)
                    except ValueError:
                        conn.close(4002)  # decode error
                        continue
                    await self._on_frame(conn, frame)
                elif msg.type == WSMsgType.BINARY:
                    conn.close(4002)
                elif msg.type == WSMsgType.ERROR:
                    break
        finally:
            session = conn.session
            if session is not None and session.connection is conn:
                session.connection = None
                # A client that closes with 1000/1001 ends its session (it cannot RESUME).
                if ws.close_code in (1000, 1001) and not conn.closed_by_server:
                    self.sessions.pop(session.session_id, None)
            if conn.writer is not None:
                conn.writer.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await conn.writer
            self.connections.discard(conn)
            self.server._notify()
        return ws

    async def _writer(self, conn: GatewayConnection) -> None:
        while True:
            item = await conn.queue.get()
            if isinstance(item, tuple) and item and item[0] is _CLOSE:
                await conn.ws.close(code=item[1])
                return
            self._record("out", item)
            try:
                await conn.ws.send_str(json.dumps(item))
            except (ConnectionError, RuntimeError):
                return

    def _record(self, direction: str, frame: dict[str, Any]) -> None:
        self.log.append(
            {
                "dir": direction,
                "op": frame.get("op"),
                "t": frame.get("t"),
                "s": frame.get("s"),
                "d": frame.get("d"),
                "time": time.monotonic(),
            }
        )

    async def _on_frame(self, conn: GatewayConnection, frame: dict[str, Any]) -> None:
        self._record("in", frame)
        op = frame.get("op")
        data = frame.get("d")
        if op == OP_HEARTBEAT:
            conn.heartbeats += 1
            conn.send({"op": OP_HEARTBEAT_ACK, "d": None, "s": None, "t": None})
        elif op == OP_IDENTIFY:
            self._identify(conn, data or {})
        elif op == OP_RESUME:
            self._resume(conn, data or {})
        elif op == OP_PRESENCE:
            if conn.session is not None:
                conn.session.presence = data
        elif op == OP_REQUEST_MEMBERS:
            self._request_members(conn, data or {})
        elif op == OP_VOICE_STATE:
            pass
        else:
            log.warning("loopback gateway: unknown op %s", op)
        self.server._notify()

    def _identify(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        server = self.server
        if data.get("token") != server.token:
            conn.close(4004)  # authentication failed
            return
        if conn.session is not None:
            conn.close(4005)  # already authenticated
            return
        shard = data.get("shard")
        if shard is not None and not _valid_shard(shard):
            conn.close(4010)  # invalid shard
            return
        if shard is not None and shard[1] != server.shard_count:
            conn.close(4011)  # sharding required / wrong shard count
            return
        self._pace_identify(int(shard[0]) if shard is not None else 0)
        session = GatewaySession(secrets.token_hex(16), data)
        self.sessions[session.session_id] = session
        conn.session = session
        session.connection = conn
        ready: dict[str, Any] = {
            "v": 10,
            "user": server._bot_user_private(),
            "guilds": [
                {"id": str(gid), "unavailable": True} for gid in server.guilds if session.owns(gid)
            ],
            "session_id": session.session_id,
            "session_type": "normal",
            "resume_gateway_url": server.gateway_url,
            "application": {"id": str(server.application_id), "flags": server.application_flags},
            "private_channels": [],
            "relationships": [],
            "presences": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "auth": {},
        }
        if session.shard is not None:
            ready["shard"] = session.shard
        session.emit("READY", ready)
        for guild in server.guilds.values():
            if session.owns(guild.id):
                session.emit("GUILD_CREATE", server._guild_create_payload(guild))
        session.ready = True

    def _pace_identify(self, shard_id: int) -> None:
        key = shard_id % self.server.max_concurrency
        now = time.monotonic()
        last = self._last_identify.get(key)
        if last is not None and now - last < IDENTIFY_INTERVAL_S:
            self.identify_too_fast.append((shard_id, now - last))
        self._last_identify[key] = now

    def _resume(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        session = self.sessions.get(str(data.get("session_id")))
        if session is None or data.get("token") != self.server.token:
            conn.send({"op": OP_INVALID_SESSION, "d": False, "s": None, "t": None})
            return
        if session.connection is not None and session.connection is not conn:
            session.connection.close(4009)  # superseded
        conn.session = session
        session.connection = conn
        session.resumes += 1
        last = data.get("seq") or 0
        for frame in list(session.buffer):
            if frame["s"] > last:
                conn.send(frame)
        session.emit("RESUMED", {})

    def _request_members(self, conn: GatewayConnection, data: dict[str, Any]) -> None:
        session = conn.session
        if session is None:
            return
        guild_ids = data.get("guild_id")
        if not isinstance(guild_ids, list):
            guild_ids = [guild_ids]
        for gid in guild_ids:
            guild = self.server.guilds.get(int(gid))
            if guild is None:
                continue
            members = [self.server._member_payload(guild, m) for m in guild.members.values()]
            query = data.get("query") or ""
            user_ids = data.get("user_ids")
            if user_ids:
                wanted = {str(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])}
                members = [m for m in members if m["user"]["id"] in wanted]
            elif query:
                members = [m for m in members if m["user"]["username"].startswith(query)]
            limit = data.get("limit") or 0
            if limit:
                members = members[:limit]
            chunk: dict[str, Any] = {
                "guild_id": str(gid),
                "members": members,
                "chunk_index": 0,
                "chunk_count": 1,
            }
            if data.get("nonce") is not None:
                chunk["nonce"] = data["nonce"]
            session.emit("GUILD_MEMBERS_CHUNK", chunk)

    # -- control --------------------------------------------------------------------------
    def close_all(self, code: int) -> None:
        for conn in list(self.connections):
            conn.close(code)

    def send_op(self, op: int, data: Any) -> None:
        for conn in list(self.connections):
            conn.send({"op": op, "d": data, "s": None, "t": None})

    async def shutdown(self) -> None:
        for conn in list(self.connections):
            conn.closed_by_server = True
            if conn.writer is not None:
                conn.writer.cancel()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.ws.close(code=1001), timeout=1.0)


def _valid_shard(shard: Any) -> bool:
    return (
        isinstance(shard, list)
        and len(shard) == 2
        and all(isinstance(v, int) for v in shard)
        and 0 <= shard[0] < shard[1]
    )


def _strip_content(data: dict[str, Any], bot_id: int) -> dict[str, Any]:
    """What a bot without the MESSAGE_CONTENT intent sees of someone else's guild message."""
    author_id = int((data.get("author") or {}).get("id") or 0)
    mentioned = any(int(m.get("id", 0)) == bot_id for m in data.get("mentions") or [])
    if not data.get("guild_id") or author_id == bot_id or mentioned:
        return data
    stripped = dict(data)
    stripped.update(content="", embeds=[], attachments=[], components=[])
    return stripped

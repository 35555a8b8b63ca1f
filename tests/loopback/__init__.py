"""A loopback Discord for tests: REST v10 + gateway, good enough for the real discord.py.

    server = await LoopbackDiscord(token="test-token").start()
    guild = server.add_guild(name="Alpha")
    alerts = server.add_channel(guild.id, "alerts")
    alice = server.add_user("alice", guild_id=guild.id, permissions=PERM_MANAGE_GUILD)
    # ... point discord.py at server.api_base / server.gateway_url, start the bot ...
    reply = await server.run_command(guild.id, alerts, alice, "launch add", product="Grok 3")
    assert "Grok 3" in reply.content and not reply.ephemeral
    await server.stop()

The server records every request (``server.requests``), message (``server.messages()``),
interaction (``server.interactions``) and synced command (``server.registered_commands``); it
enforces Discord's message limits (400/50035), nonce dedup, a global rate limit, and scripted
faults (``fail_channel``, ``close_dms``, ``inject``).
"""

from .limits import validate_commands, validate_message
from .options import OptionError
from .records import (
    ALL_PERMISSIONS,
    FLAG_EPHEMERAL,
    FLAG_LOADING,
    PERM_ADMINISTRATOR,
    PERM_MANAGE_GUILD,
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
)
from .server import (
    DEFAULT_BOT_PERMISSIONS,
    DEFAULT_EVERYONE_PERMISSIONS,
    ApiError,
    LoopbackDiscord,
)

__all__ = [
    "ALL_PERMISSIONS",
    "DEFAULT_BOT_PERMISSIONS",
    "DEFAULT_EVERYONE_PERMISSIONS",
    "FLAG_EPHEMERAL",
    "FLAG_LOADING",
    "PERM_ADMINISTRATOR",
    "PERM_MANAGE_GUILD",
    "ApiError",
    "Channel",
    "CommandRegistry",
    "FileRecord",
    "Guild",
    "Injection",
    "InteractionRecord",
    "LoopbackDiscord",
    "Member",
    "MessageRecord",
    "OptionError",
    "RequestRecord",
    "Role",
    "validate_commands",
    "validate_message",
]

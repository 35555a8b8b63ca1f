"""The loopback Discord against the real, unmodified discord.py client."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import discord
import discord.gateway
import discord.http
import pytest
import pytest_asyncio
from discord import app_commands
from discord.ext import commands

from tests.loopback import PERM_MANAGE_GUILD, Guild, LoopbackDiscord, OptionError
from tests.loopback.fixtures import (
    FAST_GUILD_READY_TIMEOUT,
    discord_endpoints_restored,
    start_bare_client,
    start_client,
    stop_client,
)

TOKEN = "test-token"


@pytest.fixture(autouse=True)
def _restore_discord_endpoints() -> Iterator[None]:
    original = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    with discord_endpoints_restored():
        yield
    restored = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    assert restored == original


@dataclass
class World:
    server: LoopbackDiscord
    guild: Guild
    alerts: int
    alice: int  # plain member
    manager: int  # member with Manage Server
    bob: int  # a user the bot can DM


@pytest_asyncio.fixture
async def world() -> AsyncIterator[World]:
    server = LoopbackDiscord(token=TOKEN, global_rate_limit=50.0)
    await server.start()
    guild = server.add_guild(name="Alpha")
    alerts = server.add_channel(guild.id, "alerts")
    alice = server.add_user("alice", guild_id=guild.id)
    manager = server.add_user("manager", guild_id=guild.id, permissions=PERM_MANAGE_GUILD)
    bob = server.add_user("bob", guild_id=guild.id)
    try:
        yield World(server, guild, alerts, alice, manager, bob)
    finally:
        assert server.internal_errors == []
        assert server.unhandled_requests == []
        await server.stop()


# --------------------------------------------------------------------------------------------
# A tiny bot exercising commands, subcommands, autocomplete, modals, views, permissions.
# --------------------------------------------------------------------------------------------


class PanelView(discord.ui.View):
    def __init__(self, clicks: list[str]) -> None:
        super().__init__(timeout=None)
        self.clicks = clicks

    @discord.ui.button(
        label="Acknowledge", custom_id="panel:ack", style=discord.ButtonStyle.primary
    )
    async def ack(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        self.clicks.append(interaction.user.name)
        await interaction.response.send_message(f"acked by {interaction.user.name}", ephemeral=True)


class MenuView(discord.ui.View):
    def __init__(self) -> None:
        super().__init__(timeout=60)

    @discord.ui.select(
        custom_id="menu:pick",
        options=[
            discord.SelectOption(label="Grok", value="grok"),
            discord.SelectOption(label="GPT", value="gpt"),
        ],
    )
    async def pick(self, interaction: discord.Interaction, select: discord.ui.Select[Any]) -> None:
        await interaction.response.edit_message(content=f"picked {select.values[0]}", view=None)

    @discord.ui.button(label="Refresh", custom_id="menu:refresh")
    async def refresh(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        await interaction.response.defer()
        await interaction.edit_original_response(content="refreshed")


class FeedbackModal(discord.ui.Modal, title="Feedback"):
    text: discord.ui.TextInput[Any] = discord.ui.TextInput(
        label="Your feedback", custom_id="feedback:text"
    )

    async def on_submit(self, interaction: discord.Interaction) -> None:
        await interaction.response.send_message(f"thanks: {self.text.value}", ephemeral=True)


@dataclass
class BotState:
    clicks: list[str] = field(default_factory=list)
    resumed: asyncio.Event = field(default_factory=asyncio.Event)
    late_errors: list[int] = field(default_factory=list)


def make_bot(guild_id: int, state: BotState) -> commands.Bot:
    bot = commands.Bot(
        command_prefix="!",
        intents=discord.Intents.default(),
        guild_ready_timeout=FAST_GUILD_READY_TIMEOUT,
    )
    scope = discord.Object(guild_id)

    async def setup_hook() -> None:
        bot.add_view(PanelView(state.clicks))

    bot.setup_hook = setup_hook  # type: ignore[method-assign]

    @bot.event
    async def on_resumed() -> None:
        state.resumed.set()

    @bot.tree.command(name="ping", description="Reply pong", guild=scope)
    async def ping(
        interaction: discord.Interaction, text: str = "", ephemeral: bool = False
    ) -> None:
        await interaction.response.send_message(f"pong {text}".strip(), ephemeral=ephemeral)

    @bot.tree.command(name="report", description="Reply, follow up, edit", guild=scope)
    async def report(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("working")
        await interaction.followup.send("details", ephemeral=True)
        await interaction.edit_original_response(content="done")

    @bot.tree.command(name="slow", description="Defer then follow up", guild=scope)
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(ephemeral=True, thinking=True)
        await interaction.followup.send("late answer")

    @bot.tree.command(name="export", description="Reply with a file", guild=scope)
    async def export(interaction: discord.Interaction) -> None:
        data = discord.File(io.BytesIO(b"id,name\n1,Grok 3\n"), filename="launches.csv")
        await interaction.response.send_message("here", file=data)

    launch = app_commands.Group(name="launch", description="Launch tracking", guild_ids=[guild_id])

    @launch.command(name="add", description="Track a launch")
    async def launch_add(
        interaction: discord.Interaction,
        product: str,
        vendor: str,
        window: str,
        confidence: int = 50,
    ) -> None:
        await interaction.response.send_message(f"{product}|{vendor}|{window}|{confidence}")

    bot.tree.add_command(launch)

    products = ["Grok 3", "Grok 4", "GPT-5", "Gemini 3"]

    @bot.tree.command(name="track", description="Track a product", guild=scope)
    async def track(interaction: discord.Interaction, product: str) -> None:
        await interaction.response.send_message(f"tracking {product}")

    @track.autocomplete("product")
    async def track_product(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=p, value=p) for p in products if current.lower() in p.lower()
        ]

    @bot.tree.command(name="admin", description="Manage Server only", guild=scope)
    @app_commands.checks.has_permissions(manage_guild=True)
    async def admin(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok", ephemeral=True)

    @admin.error
    async def admin_error(
        interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        if isinstance(error, app_commands.MissingPermissions):
            await interaction.response.send_message("denied", ephemeral=True)

    @bot.tree.command(name="menu", description="Reply with a menu", guild=scope)
    async def menu(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("choose", view=MenuView())

    @bot.tree.command(name="sleepy", description="Answers too late", guild=scope)
    async def sleepy(interaction: discord.Interaction) -> None:
        await asyncio.sleep(0.3)
        try:
            await interaction.response.send_message("late")
        except discord.NotFound as exc:
            state.late_errors.append(exc.code)

    @bot.tree.command(name="feedback", description="Open a modal", guild=scope)
    async def feedback(interaction: discord.Interaction) -> None:
        await interaction.response.send_modal(FeedbackModal())

    @bot.tree.command(name="hello", description="Works in DMs too")
    async def hello(interaction: discord.Interaction) -> None:
        where = "dm" if interaction.guild is None else "guild"
        await interaction.response.send_message(f"hello from {where}")

    return bot


@pytest_asyncio.fixture
async def bot_state() -> BotState:
    return BotState()


@pytest_asyncio.fixture
async def bot(world: World, bot_state: BotState) -> AsyncIterator[commands.Bot]:
    instance = make_bot(world.guild.id, bot_state)
    await start_client(world.server, instance, timeout=10)
    try:
        yield instance
    finally:
        await stop_client(instance)


@pytest_asyncio.fixture
async def synced_bot(world: World, bot: commands.Bot) -> commands.Bot:
    await asyncio.wait_for(bot.tree.sync(guild=discord.Object(world.guild.id)), 5)
    return bot


def text_channel(client: discord.Client, channel_id: int) -> discord.TextChannel:
    channel = client.get_channel(channel_id)
    assert isinstance(channel, discord.TextChannel)
    return channel


# --------------------------------------------------------------------------------------------
# Connecting, syncing, commands
# --------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_bot_connects_sees_guild_and_syncs_commands(world: World, bot: commands.Bot) -> None:
    guild = bot.get_guild(world.guild.id)
    assert guild is not None and guild.name == "Alpha"
    assert text_channel(bot, world.alerts).name == "alerts"
    assert guild.me is not None and guild.me.id == world.server.bot_id
    assert bot.user is not None and bot.user.id == world.server.bot_id
    assert bot.application_id == world.server.application_id

    synced = await asyncio.wait_for(bot.tree.sync(guild=discord.Object(world.guild.id)), 5)

    registered = world.server.registered_commands
    assert sorted(registered.names(world.guild.id)) == sorted(c.name for c in synced)
    assert {"ping", "launch", "track", "admin"} <= set(registered.names(world.guild.id))
    assert registered.global_commands == []
    for command in registered.for_guild(world.guild.id):
        assert command["application_id"] == str(world.server.application_id)
        assert command["id"] and command["version"]
    assert any(
        r.route == "PUT /applications/{application_id}/guilds/{guild_id}/commands" and r.ok
        for r in world.server.requests
    )
    # The gateway handshake happened the way Discord does it.
    inbound_ops = [f["op"] for f in world.server.gateway_log if f["dir"] == "in"]
    assert inbound_ops[:2] == [1, 2]  # heartbeat right after HELLO, then IDENTIFY
    sequences = [f["s"] for f in world.server.gateway_log if f["dir"] == "out" and f["op"] == 0]
    assert sequences == sorted(sequences) and len(set(sequences)) == len(sequences)


@pytest.mark.asyncio
async def test_run_command_records_reply_and_ephemeral_flag(
    world: World, synced_bot: commands.Bot
) -> None:
    reply = await world.server.run_command(
        world.guild.id, world.alerts, world.alice, "ping", text="hi"
    )
    assert reply.callback_type == 4
    assert reply.content == "pong hi"
    assert not reply.ephemeral
    assert reply.message is not None and reply.message.channel_id == world.alerts

    secret = await world.server.run_command(
        world.guild.id, world.alerts, world.alice, "ping", text="psst", ephemeral=True
    )
    assert secret.content == "pong psst"
    assert secret.ephemeral and secret.flags & 64
    assert secret.data["options"] == [
        {"name": "text", "type": 3, "value": "psst"},
        {"name": "ephemeral", "type": 5, "value": True},
    ]
    assert secret.id != reply.id and secret.token != reply.token


@pytest.mark.asyncio
async def test_followup_and_edit_of_original_are_recorded(
    world: World, synced_bot: commands.Bot
) -> None:
    record = await world.server.run_command(world.guild.id, world.alerts, world.alice, "report")
    await record.wait_followups(1)
    await record.wait_edits(1)
    assert record.content == "done"
    assert record.edits == [{"content": "done"}] or record.edits[0]["content"] == "done"
    assert [m.content for m in record.followups] == ["details"]
    assert record.followups[0].ephemeral and record.followups[0].kind == "followup"
    assert "working" not in record.text and "details" in record.text


@pytest.mark.asyncio
async def test_deferred_response_is_completed_by_first_followup(
    world: World, synced_bot: commands.Bot
) -> None:
    record = await world.server.run_command(world.guild.id, world.alerts, world.alice, "slow")
    assert record.callback_type == 5 and record.deferred
    message = await record.wait_loaded()
    assert message.content == "late answer" and message.ephemeral


@pytest.mark.asyncio
async def test_subcommand_options_are_built_from_the_synced_schema(
    world: World, synced_bot: commands.Bot
) -> None:
    record = await world.server.run_command(
        world.guild.id,
        world.alerts,
        world.alice,
        "launch add",
        product="Grok 3",
        vendor="xAI",
        window="end of 2024",
        confidence=80,
    )
    assert record.content == "Grok 3|xAI|end of 2024|80"
    (sub,) = record.data["options"]
    assert sub["type"] == 1 and sub["name"] == "add"
    assert {o["name"]: o["type"] for o in sub["options"]} == {
        "product": 3,
        "vendor": 3,
        "window": 3,
        "confidence": 4,
    }
    assert record.data["guild_id"] == str(world.guild.id)

    with pytest.raises(OptionError, match="missing required"):
        await world.server.run_command(
            world.guild.id, world.alerts, world.alice, "launch add", product="x"
        )
    with pytest.raises(OptionError, match="no option"):
        await world.server.run_command(world.guild.id, world.alerts, world.alice, "ping", nope=1)


@pytest.mark.asyncio
async def test_commands_not_synced_through_server_take_explicit_types(
    world: World, bot: commands.Bot
) -> None:
    record = await world.server.run_command(
        world.guild.id,
        world.alerts,
        world.alice,
        "launch add",
        product="Gemini 3",
        vendor="Google",
        window="Q1",
        confidence="70",
        types={"confidence": "integer"},
    )
    assert record.content == "Gemini 3|Google|Q1|70"


@pytest.mark.asyncio
async def test_member_permissions_decide_manage_server_checks(
    world: World, synced_bot: commands.Bot
) -> None:
    denied = await world.server.run_command(world.guild.id, world.alerts, world.alice, "admin")
    allowed = await world.server.run_command(world.guild.id, world.alerts, world.manager, "admin")
    assert denied.content == "denied"
    assert allowed.content == "ok"
    assert int(allowed.payload["member"]["permissions"]) & PERM_MANAGE_GUILD


@pytest.mark.asyncio
async def test_command_in_dm(world: World, bot: commands.Bot) -> None:
    record = await world.server.run_command(None, None, world.bob, "hello")
    assert record.content == "hello from dm"
    assert record.payload["context"] == 1 and "user" in record.payload
    assert record.message is not None and record.message.is_dm


@pytest.mark.asyncio
async def test_autocomplete_returns_the_bots_choices(
    world: World, synced_bot: commands.Bot
) -> None:
    choices = await world.server.autocomplete(
        world.guild.id, world.alerts, world.alice, "track", product="grok"
    )
    assert choices == [{"name": "Grok 3", "value": "Grok 3"}, {"name": "Grok 4", "value": "Grok 4"}]


@pytest.mark.asyncio
async def test_modal_submit_reaches_the_bot(world: World, synced_bot: commands.Bot) -> None:
    opened = await world.server.run_command(world.guild.id, world.alerts, world.alice, "feedback")
    assert opened.callback_type == 9 and opened.modal is not None
    assert opened.modal["title"] == "Feedback"
    submitted = await world.server.submit_modal(opened, {"feedback:text": "ship it"})
    assert submitted.content == "thanks: ship it" and submitted.ephemeral


@pytest.mark.asyncio
async def test_persistent_view_button_survives_a_restart(
    world: World, bot: commands.Bot, bot_state: BotState
) -> None:
    sent = await text_channel(bot, world.alerts).send("panel", view=PanelView(bot_state.clicks))
    panel = world.server.message(sent.id)
    assert panel.custom_ids() == ["panel:ack"]
    await stop_client(bot)

    # A fresh process: only the persistent view registered in setup_hook knows the button.
    restarted_state = BotState()
    restarted = make_bot(world.guild.id, restarted_state)
    await start_client(world.server, restarted)
    try:
        clicked = await world.server.click(panel, "panel:ack", world.alice)
        assert clicked.callback_type == 4
        assert clicked.content == "acked by alice" and clicked.ephemeral
        assert restarted_state.clicks == ["alice"]
    finally:
        await stop_client(restarted)


@pytest.mark.asyncio
async def test_select_updates_the_message_and_deferred_update_edits_it(
    world: World, synced_bot: commands.Bot
) -> None:
    menu = await world.server.run_command(world.guild.id, world.alerts, world.alice, "menu")
    assert menu.message is not None and menu.message.custom_ids() == ["menu:pick", "menu:refresh"]

    refreshed = await world.server.click(menu.message, "menu:refresh", world.alice)
    assert refreshed.callback_type == 6
    await refreshed.wait_edits(1)
    assert menu.message.content == "refreshed"

    picked = await world.server.click(menu.message, "menu:pick", world.alice, values=["gpt"])
    assert picked.callback_type == 7 and picked.message is menu.message
    assert menu.message.content == "picked gpt" and menu.message.components == []
    with pytest.raises(OptionError):
        await world.server.click(menu.message, "menu:pick", world.alice, values=["gpt"])


@pytest.mark.asyncio
async def test_late_acknowledgement_is_an_unknown_interaction(
    world: World, synced_bot: commands.Bot, bot_state: BotState
) -> None:
    world.server.interaction_ack_timeout = 0.1  # Discord's is 3 s
    record = await world.server.run_command(
        world.guild.id, world.alerts, world.alice, "sleepy", wait=False
    )
    await world.server.wait_for(lambda: bot_state.late_errors)
    assert bot_state.late_errors == [10062] and not record.acknowledged


@pytest.mark.asyncio
async def test_user_messages_reach_prefix_commands(world: World) -> None:
    intents = discord.Intents.default()
    intents.message_content = True
    bot = commands.Bot(
        command_prefix="!", intents=intents, guild_ready_timeout=FAST_GUILD_READY_TIMEOUT
    )

    @bot.command()
    async def status(ctx: commands.Context[commands.Bot], *, text: str = "") -> None:
        await ctx.reply(f"status: {text}")

    await start_client(world.server, bot)
    try:
        asked = world.server.post_user_message(world.alerts, world.alice, "!status all good")
        reply = await world.server.wait_for_message(lambda m: m.author_id == world.server.bot_id)
        assert reply.content == "status: all good"
        assert reply.message_reference is not None
        assert reply.message_reference["message_id"] == str(asked.id)
    finally:
        await stop_client(bot)


@pytest.mark.asyncio
async def test_gateway_drop_is_resumed(
    world: World, bot: commands.Bot, bot_state: BotState
) -> None:
    session_id = world.server.sessions[0].session_id
    world.server.drop_gateway(4000)
    await asyncio.wait_for(bot_state.resumed.wait(), 5)
    assert any(f["op"] == 6 and f["dir"] == "in" for f in world.server.gateway_log)
    assert [s.session_id for s in world.server.sessions] == [session_id]
    record = await world.server.run_command(world.guild.id, world.alerts, world.alice, "hello")
    assert record.content == "hello from guild"


# --------------------------------------------------------------------------------------------
# Channel messages: nonce, limits, faults, files
# --------------------------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_enforced_nonce_dedups_channel_messages(world: World) -> None:
    client = await start_bare_client(world.server)
    try:
        channel = text_channel(client, world.alerts)
        first = await channel.send("launch slipped", nonce="slip-1")
        second = await channel.send("launch slipped", nonce="slip-1")
        assert first.id == second.id
        other = await channel.send("launch slipped", nonce="slip-2")
        assert other.id != first.id
        assert [m.nonce for m in world.server.messages(world.alerts)] == ["slip-1", "slip-2"]
    finally:
        await stop_client(client)


@pytest.mark.asyncio
async def test_message_and_embed_limits_are_enforced(world: World) -> None:
    client = await start_bare_client(world.server)
    try:
        channel = text_channel(client, world.alerts)
        with pytest.raises(discord.HTTPException) as too_long:
            await channel.send("x" * 2001)
        assert too_long.value.status == 400 and too_long.value.code == 50035
        assert "content" in too_long.value.text

        with pytest.raises(discord.HTTPException) as title:
            await channel.send(embed=discord.Embed(title="t" * 257))
        assert title.value.code == 50035 and "embeds.0.title" in title.value.text

        fat = [discord.Embed(description="d" * 4000) for _ in range(2)]
        with pytest.raises(discord.HTTPException) as total:
            await channel.send(embeds=fat)
        assert total.value.code == 50035

        fields = discord.Embed(title="many")
        for i in range(26):
            fields.add_field(name=f"f{i}", value="v")
        with pytest.raises(discord.HTTPException) as too_many:
            await channel.send(embed=fields)
        assert too_many.value.code == 50035

        assert world.server.messages(world.alerts) == []
        await channel.send("x" * 2000, embed=discord.Embed(title="t" * 256))
        assert len(world.server.messages(world.alerts)) == 1
    finally:
        await stop_client(client)


@pytest.mark.asyncio
async def test_interaction_reply_over_the_limit_is_rejected(
    world: World, synced_bot: commands.Bot
) -> None:
    record = await world.server.run_command(
        world.guild.id, world.alerts, world.alice, "ping", text="y" * 2000, wait=False
    )
    rejected = await world.server.wait_for(
        lambda r: r.path.startswith("/interactions/") and r.status == 400
    )
    assert rejected.error_code == 50035
    assert not record.acknowledged and record.failed_requests == [rejected]


@pytest.mark.asyncio
async def test_dm_to_closed_user_is_forbidden(world: World) -> None:
    client = await start_bare_client(world.server)
    try:
        user = await client.fetch_user(world.bob)
        world.server.close_dms(world.bob)
        with pytest.raises(discord.Forbidden) as closed:
            await user.send("your launch slipped")
        assert closed.value.code == 50007
        world.server.open_dms(world.bob)
        await user.send("your launch slipped")
        (dm,) = world.server.dms(world.bob)
        assert dm.is_dm and dm.recipient_id == world.bob and dm.content == "your launch slipped"
    finally:
        await stop_client(client)


@pytest.mark.asyncio
async def test_failed_channel_raises_forbidden_or_not_found(world: World) -> None:
    client = await start_bare_client(world.server)
    try:
        channel = text_channel(client, world.alerts)
        world.server.fail_channel(world.alerts, status=403, code=50013)
        with pytest.raises(discord.Forbidden) as forbidden:
            await channel.send("hi")
        assert forbidden.value.code == 50013

        world.server.fail_channel(world.alerts, status=404, code=10003)
        with pytest.raises(discord.NotFound) as missing:
            await channel.send("hi")
        assert missing.value.code == 10003

        world.server.heal_channel(world.alerts)
        await channel.send("hi")
        assert [m.content for m in world.server.messages(world.alerts)] == ["hi"]
    finally:
        await stop_client(client)


@pytest.mark.asyncio
async def test_injected_429_is_retried_transparently(world: World) -> None:
    client = await start_bare_client(world.server)
    try:
        injection = world.server.inject(r"POST /channels/\d+/messages", 429, 1, retry_after=0.05)
        await text_channel(client, world.alerts).send("once")
        assert injection.remaining == 0
        statuses = [
            r.status for r in world.server.requests_matching(r"POST /channels/\d+/messages")
        ]
        assert statuses == [429, 200]
        assert [m.content for m in world.server.messages(world.alerts)] == ["once"]
    finally:
        await stop_client(client)


@pytest.mark.asyncio
async def test_injected_500_is_retried(world: World) -> None:
    client = await start_bare_client(world.server)
    try:
        world.server.inject(r"POST /channels/\d+/messages", 500, 1)
        await asyncio.wait_for(text_channel(client, world.alerts).send("after a blip"), 5)
        statuses = [
            r.status for r in world.server.requests_matching(r"POST /channels/\d+/messages")
        ]
        assert statuses == [500, 200]
        assert len(world.server.messages(world.alerts)) == 1
    finally:
        await stop_client(client)


@pytest.mark.asyncio
async def test_global_rate_limit_with_a_raw_client(world: World) -> None:
    world.server.global_rate_limit = 5
    headers = {"Authorization": f"Bot {TOKEN}"}
    timeout = aiohttp.ClientTimeout(total=5)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        answers = []
        for _ in range(8):
            async with session.get(f"{world.server.api_base}/users/@me", headers=headers) as resp:
                answers.append((resp.status, dict(resp.headers), await resp.json()))
    statuses = [status for status, _, _ in answers]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429] * 3
    _, limited_headers, body = answers[5]
    assert limited_headers["Content-Type"] == "application/json"
    assert limited_headers["X-RateLimit-Global"] == "true"
    assert limited_headers["X-RateLimit-Scope"] == "global"
    assert limited_headers["Via"] and int(limited_headers["Retry-After"]) >= 1
    assert body["global"] is True and 0 < body["retry_after"] <= 1.0
    ok_headers = answers[0][1]
    assert ok_headers["Content-Type"] == "application/json"
    assert {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Bucket"} <= set(ok_headers)


@pytest.mark.asyncio
async def test_wrong_token_is_a_login_failure(world: World) -> None:
    client = discord.Client(intents=discord.Intents.default())
    from tests.loopback.fixtures import point_discord_at

    point_discord_at(world.server)
    try:
        with pytest.raises(discord.LoginFailure):
            await asyncio.wait_for(client.login("not-the-token"), 5)
    finally:
        await client.close()


@pytest.mark.asyncio
async def test_multipart_uploads_are_recorded_with_their_bytes(
    world: World, synced_bot: commands.Bot
) -> None:
    payload = b"slip,days\nGrok 3,42\n\x00\xff"
    sent = await text_channel(synced_bot, world.alerts).send(
        "weekly report", file=discord.File(io.BytesIO(payload), filename="report.csv")
    )
    record = world.server.message(sent.id)
    assert record.content == "weekly report"
    assert [(f.filename, f.data) for f in record.files] == [("report.csv", payload)]
    assert await sent.attachments[0].read() == payload

    reply = await world.server.run_command(world.guild.id, world.alerts, world.alice, "export")
    assert reply.content == "here"
    assert [(f.filename, f.data) for f in reply.files] == [("launches.csv", b"id,name\n1,Grok 3\n")]


@pytest.mark.asyncio
async def test_message_creates_are_limited_per_channel_like_discord(world: World) -> None:
    other = world.server.add_channel(world.guild.id, "other")
    headers = {"Authorization": f"Bot {TOKEN}"}
    timeout = aiohttp.ClientTimeout(total=5)
    answers = []
    async with aiohttp.ClientSession(timeout=timeout) as session:
        for channel in [world.alerts] * 6 + [other]:
            url = f"{world.server.api_base}/channels/{channel}/messages"
            async with session.post(url, headers=headers, json={"content": "hi"}) as resp:
                answers.append((resp.status, dict(resp.headers), await resp.json()))
    assert [status for status, _, _ in answers] == [200] * 5 + [429, 200]
    assert [h["X-RateLimit-Remaining"] for _, h, _ in answers] == [
        "4",
        "3",
        "2",
        "1",
        "0",
        "0",
        "4",
    ]
    assert {h["X-RateLimit-Limit"] for _, h, _ in answers} == {"5"}
    # One bucket hash for the route, counted per channel (the major parameter).
    assert len({h["X-RateLimit-Bucket"] for _, h, _ in answers}) == 1
    _, limited, body = answers[5]
    assert body["global"] is False and 0 < body["retry_after"] <= 5.0
    assert 0 < float(limited["X-RateLimit-Reset-After"]) <= 5.0
    assert limited["X-RateLimit-Scope"] == "user"
    assert len(world.server.messages(world.alerts)) == 5
    assert len(world.server.messages(other)) == 1


@pytest.mark.asyncio
async def test_discord_py_paces_itself_on_the_channel_bucket(world: World) -> None:
    world.server.route_limits["POST /channels/{channel_id}/messages"] = (2, 0.3)
    client = await start_bare_client(world.server)
    try:
        channel = text_channel(client, world.alerts)
        for i in range(5):
            await asyncio.wait_for(channel.send(f"message {i}"), 5)
        assert [m.content for m in world.server.messages(world.alerts)] == [
            f"message {i}" for i in range(5)
        ]
        # discord.py read X-RateLimit-Remaining: 0 and waited for the reset: nothing refused.
        statuses = [
            r.status for r in world.server.requests_matching(r"POST /channels/\d+/messages")
        ]
        assert statuses == [200] * 5
    finally:
        await stop_client(client)

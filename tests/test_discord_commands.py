"""Every manager command refuses non-managers; the remaining happy paths and bad inputs;
buttons still work on a fresh bot process (persistent custom ids)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot import running_resources
from cogs.infra import replies
from tests.e2e import JAN1, World, eventually, settings_for, world
from tests.loopback.fixtures import start_client, stop_client
from tests.test_discord_launch import NOT_MANAGER, add_grok
from tracker.clock import OffsetClock
from tracker.models import LaunchState, SubscriptionScope


async def test_every_manager_command_refuses_members_and_changes_nothing(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        launch_id = str(await add_grok(w))
        role = str(w.server.add_role(w.guild, "r"))
        calls: list[tuple[str, dict[str, Any]]] = [
            ("launch add", {"product": "X", "vendor": "Y", "window": "Q1 2025"}),
            ("launch edit", {"launch": launch_id, "product": "Z"}),
            ("launch remove", {"launch": launch_id}),
            ("launch shipped", {"launch": launch_id}),
            ("launch cancelled", {"launch": launch_id}),
            ("launch delayed", {"launch": launch_id, "window": "Q2 2025"}),
            ("alerts channel", {"channel": str(w.alerts)}),
            ("alerts role", {"role": role}),
            ("alerts managers", {"role": role}),
            ("alerts timezone", {"timezone": "Europe/Paris"}),
            ("alerts grace", {"days": 3}),
            ("alerts reminders", {"days": "3"}),
            ("alerts milestones", {"days": "3"}),
            ("alerts status", {}),
            ("alerts test", {}),
        ]
        for name, options in calls:
            reply = await w.cmd(name, user=w.member, **options)
            assert reply.ephemeral, name
            assert reply.content == NOT_MANAGER, name
        launch = await w.bot.tracker.get(w.guild, int(launch_id))
        assert (launch.product, launch.state, launch.slip_count) == (
            "Grok 3",
            LaunchState.UPCOMING,
            0,
        )
        assert await w.launch_count() == 1
        config = await w.bot.app.store.read.guilds.get_guild(w.guild)
        assert config.alert_channel_id is None and config.grace_days == 0
        assert w.server.messages(w.alerts) == []


async def test_the_manager_check_is_an_app_commands_check_on_every_changing_command(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        guarded = set()
        for command in w.bot.tree.walk_commands():
            if not isinstance(command, app_commands.Command):
                continue
            parent = command.parent
            if replies.manager_only_predicate in command.checks:
                guarded.add(command.qualified_name)
            elif parent is not None and parent.name == "alerts":
                # /alerts is managers-only as a whole: its cog checks every subcommand.
                cog = command.binding
                assert isinstance(cog, commands.Cog)
                assert type(cog).interaction_check is not commands.Cog.interaction_check
                guarded.add(command.qualified_name)
        verbs = ["add", "edit", "remove", "shipped", "cancelled", "revived", "delayed"]
        verbs += ["discover", "watch", "unwatch", "export", "import"]
        assert {f"launch {verb}" for verb in verbs} <= guarded
        alerts = w.bot.tree.get_command("alerts")
        assert isinstance(alerts, app_commands.Group) and alerts.guild_only
        assert alerts.default_permissions == discord.Permissions(manage_guild=True)
        # Reading stays open to everyone.
        assert not {"launch list", "launch show", "launch history", "slips stats"} & guarded


async def test_manager_role_can_manage_and_cancelled_happy_path(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        role = w.server.add_role(w.guild, "keepers")
        set_role = await w.cmd("alerts managers", role=str(role))
        assert set_role.content == f"Members with <@&{role}> can manage slipwatch."
        w.server.add_member(w.guild, w.member, roles=[role], permissions=0)
        launch_id = await add_grok(w)
        done = await w.cmd(
            "launch cancelled",
            user=w.member,
            launch=str(launch_id),
            reason="Never coming",
            source="https://example.com/news",
        )
        assert done.content == "Marked Grok 3 (xAI) cancelled on 2024-12-20."
        launch = await w.bot.tracker.get(w.guild, launch_id)
        assert launch.state is LaunchState.CANCELLED
        events = await w.bot.app.store.read.events.launch_events(launch_id)
        assert events[-1].note == "Never coming"
        assert events[-1].source_url == "https://example.com/news"
        cleared = await w.cmd("alerts managers")
        assert cleared.content == "Only members with Manage Server can manage slipwatch."


async def test_bad_inputs_get_short_answers(tmp_path: Path, db_target: str) -> None:
    async with world(db_target) as w:
        launch_id = str(await add_grok(w))
        unknown = await w.cmd("launch show", launch="999")
        assert unknown.content == (
            "No launch '999' in this server. Pick one from the list as you type, "
            "or see /launch list."
        )
        bad_window = await w.cmd("launch delayed", launch=launch_id, window="when it's ready")
        assert bad_window.content.startswith(
            'Could not read "when it\'s ready" as a launch window. Try one of:'
        )
        future = await w.cmd("launch shipped", launch=launch_id, on="2030-01-01")
        assert future.content == "2030-01-01 is in the future; give the actual day."
        early = await w.cmd("launch shipped", launch=launch_id, on="2020-01-01")
        assert early.content.startswith("2020-01-01 is before the announcement")
        bad_ms = await w.cmd("alerts milestones", days="7, -3")
        assert bad_ms.content.startswith("Could not read '7, -3' as milestone days.")
        no_channel = await w.cmd("alerts test")
        assert no_channel.content == "No alert channel yet. Set one with /alerts channel first."
        launch = await w.bot.tracker.get(w.guild, int(launch_id))
        assert launch.state is LaunchState.UPCOMING and launch.slip_count == 0


async def test_subscribe_all_and_unsubscribe_each_kind(tmp_path: Path, db_target: str) -> None:
    async with world(db_target) as w:
        launch_id = str(await add_grok(w))
        everything = await w.cmd("subscribe all", user=w.member, mode="digest")
        assert everything.content == (
            "Subscribed: you will hear about every launch in this server in a digest."
        )
        await w.cmd("subscribe vendor", user=w.member, vendor="xAI")
        await w.cmd("subscribe launch", user=w.member, launch=launch_id)
        subs = await w.bot.tracker.subscriptions(w.member)
        assert sorted((s.scope.value, s.target, s.mode) for s in subs) == [
            ("all", "", "digest"),
            ("launch", launch_id, "instant"),
            ("vendor", "xai", "instant"),
        ]
        again = await w.cmd("subscribe vendor", user=w.member, vendor="XAI")
        assert again.content == (
            "Already subscribed; settings updated: you will hear about every XAI launch by DM."
        )
        one = await w.cmd("unsubscribe launch", user=w.member, launch=launch_id)
        assert one.content == "Unsubscribed from Grok 3 (xAI)."
        vendor = await w.cmd("unsubscribe vendor", user=w.member, vendor="xai")
        assert vendor.content == "Unsubscribed from every xai launch."
        gone = await w.cmd("unsubscribe all", user=w.member)
        assert gone.content == "Unsubscribed from every launch in this server."
        assert await w.bot.tracker.subscriptions(w.member) == []
        empty = await w.server.run_command(None, None, w.member, "subscriptions", timeout=10)
        assert empty.content == "You have no subscriptions. Try /subscribe in a server."


async def test_alert_buttons_work_on_a_fresh_bot_process(tmp_path: Path, db_target: str) -> None:
    async with world(db_target) as w:
        await w.cmd("alerts channel", channel=str(w.alerts))
        await w.cmd("alerts reminders", days="off")
        launch_id = await add_grok(w, announced_on="2024-07-01")
        await w.advance(JAN1 + dt.timedelta(seconds=1))
        alert = await w.server.wait_for_message(channel_id=w.alerts, timeout=10)
        await stop_client(w.bot)
        await w.bot.close()
        # A new bot on the same database and Discord: no view was stored anywhere.
        clock = OffsetClock(w.clock.now())
        async with running_resources(
            settings_for(w.server, db_target), clock=clock, guild_ready_timeout=0.05
        ) as fresh:
            await start_client(w.server, fresh, point=False, timeout=20.0)
            try:
                await fresh.tree.sync(guild=discord.Object(w.guild))
                renewed = World(**{**w.__dict__, "bot": fresh, "clock": clock})
                reply = await renewed.click(alert, f"sw:notify:{launch_id}", w.member)
                assert reply.content == "Subscribed: you will hear about Grok 3 (xAI) by DM."
                subs = await fresh.tracker.subscriptions(w.member)
                assert [(s.scope, s.target) for s in subs] == [
                    (SubscriptionScope.LAUNCH, str(launch_id))
                ]
                shipped = await renewed.click(alert, f"sw:ship:{launch_id}", w.manager)
                assert shipped.content.startswith("Marked Grok 3 shipped today")
                await eventually(
                    lambda: len(w.server.messages(w.alerts, kind="channel")) == 2,
                    what="shipped alert",
                )
            finally:
                await stop_client(fresh)

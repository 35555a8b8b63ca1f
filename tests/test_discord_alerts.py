"""Alerts end to end: settings, subscriptions, the deadline passing, buttons, failures."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import pytest

from bot import running_resources
from tests.e2e import UTC, World, eventually, settings_for, world
from tests.loopback.fixtures import start_client, stop_client
from tests.test_discord_launch import NOT_MANAGER, add_grok
from tracker.clock import OffsetClock
from tracker.models import DestinationKind, LaunchState, OutboxRow, OutboxState, SubscriptionScope

JAN1 = dt.datetime(2025, 1, 1, tzinfo=UTC)


async def setup_alerts(w: World) -> None:
    reply = await w.cmd("alerts channel", channel=str(w.alerts))
    assert reply.content == f"Alerts will be posted in <#{w.alerts}>.", reply.content
    await w.cmd("alerts reminders", days="off")
    # These tests count alerts; the weekly digest (default Monday 09:00) has its own tests.
    off = await w.cmd("alerts digest", schedule="off")
    assert off.content == "Digests are off."


async def test_alert_settings_commands_and_refusals(tmp_path: Path, db_target: str) -> None:
    async with world(db_target) as w:
        refused = await w.cmd("alerts channel", user=w.member, channel=str(w.alerts))
        assert refused.ephemeral and refused.content == NOT_MANAGER
        assert (await w.bot.app.store.read.guilds.get_guild(w.guild)).alert_channel_id is None
        await setup_alerts(w)
        role = w.server.add_role(w.guild, "launch-watchers")
        ping = await w.cmd("alerts role", role=str(role))
        assert ping.content == f"Channel alerts will ping <@&{role}>."
        tz = await w.cmd("alerts timezone", timezone="Asia/Jakarta")
        assert tz.content.startswith("Timezone set to Asia/Jakarta.")
        bad_tz = await w.cmd("alerts timezone", timezone="Jakarta")
        assert bad_tz.content == (
            "Unknown timezone 'Jakarta'. Use an IANA name such as Europe/Paris, "
            "America/Los_Angeles or Asia/Jakarta."
        )
        grace = await w.cmd("alerts grace", days=2)
        assert grace.content == "Grace set to 2 days; deadlines moved."
        rem = await w.cmd("alerts reminders", days="14, 3")
        assert rem.content == "Reminders 14 days and 3 days before each deadline."
        bad_rem = await w.cmd("alerts reminders", days="weekly")
        assert bad_rem.content == (
            "Could not read 'weekly' as reminder days. Type whole days separated by commas, "
            'like "7,1", or "off".'
        )
        mil = await w.cmd("alerts milestones", days="off")
        assert mil.content == "Late milestones are off."
        config = await w.bot.app.store.read.guilds.get_guild(w.guild)
        assert (config.alert_channel_id, config.mention_role_id, config.timezone) == (
            w.alerts,
            role,
            "Asia/Jakarta",
        )
        assert (config.grace_days, config.reminder_offsets, config.late_milestones) == (
            2,
            (14, 3),
            (),
        )
        choices = await w.server.autocomplete(
            w.guild, w.general, w.manager, "alerts timezone", timezone="jakar"
        )
        assert choices[0] == {"name": "Asia/Jakarta", "value": "Asia/Jakarta"}
        status = await w.cmd("alerts status")
        fields = {f["name"]: f["value"] for f in status.embeds[0]["fields"]}
        assert fields["Channel"] == f"<#{w.alerts}>"
        assert fields["Reminders"] == "14d, 3d"
        assert fields["Milestones"] == "off"
        test = await w.cmd("alerts test")
        assert test.content == f"A test alert is on its way to <#{w.alerts}>."
        sample = await w.server.wait_for_message(channel_id=w.alerts, timeout=10)
        assert sample.embeds[0]["title"] == "🧪 Test alert: Example Model (Example Lab)"
        assert sample.content == f"<@&{role}>"


async def test_deadline_reaches_channel_and_every_subscriber_once(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await setup_alerts(w)
        launch_id = await add_grok(w, announced_on="2024-07-01", quote="@everyone end of year")
        subs = []
        for name in ("ann", "ben", "cat"):
            user = w.server.add_user(name, guild_id=w.guild, permissions=0)
            reply = await w.cmd("subscribe launch", user=user, launch=str(launch_id))
            assert reply.content == "Subscribed: you will hear about Grok 3 (xAI) by DM."
            subs.append(user)
        vendor = await w.cmd("subscribe vendor", user=w.member, vendor="XAI")
        assert vendor.content == "Subscribed: you will hear about every XAI launch by DM."
        subs.append(w.member)
        before = {u: len(w.server.dms(u)) for u in subs}  # the "you are subscribed" DM
        await w.advance(JAN1 + dt.timedelta(seconds=1))
        channel = await eventually(lambda: w.server.messages(w.alerts), what="channel alert")
        await eventually(
            lambda: all(len(w.server.dms(u)) == before[u] + 1 for u in subs), what="DMs"
        )
        await w.bot.engine.settle()
        assert len(w.server.messages(w.alerts)) == 1
        alert = channel[0]
        embed = alert.embeds[0]
        assert embed["title"] == "🚨 Grok 3 (xAI) missed its window"
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields["Promised"] == '"end of 2024" (by 2024-12-31)'
        assert fields["Deadline"] == "<t:1735689600:F> (<t:1735689600:R>)"
        assert fields["Days late"] == "1"
        assert fields["The promise"] == "> @\u200beveryone end of year"
        assert alert.custom_ids() == [f"sw:notify:{launch_id}", f"sw:ship:{launch_id}"]
        assert alert.nonce and len(alert.nonce) <= 25
        for user in subs:
            dms = w.server.dms(user)
            assert len(dms) == before[user] + 1
            assert dms[-1].embeds[0]["title"] == "🚨 Grok 3 (xAI) missed its window"
        assert await w.outbox_states() == ["sent"] * 5
        sends = w.server.requests_matching(r"POST /channels/\d+/messages")
        assert all(r.json.get("allowed_mentions", {}).get("parse") == [] for r in sends)


async def test_buttons_notify_me_and_mark_shipped(tmp_path: Path, db_target: str) -> None:
    async with world(db_target) as w:
        await setup_alerts(w)
        launch_id = await add_grok(w, announced_on="2024-07-01")
        await w.advance(JAN1 + dt.timedelta(seconds=1))
        alert = await w.server.wait_for_message(channel_id=w.alerts, timeout=10)
        notify = await w.click(alert, f"sw:notify:{launch_id}", w.member)
        assert notify.ephemeral
        assert notify.content == "Subscribed: you will hear about Grok 3 (xAI) by DM."
        subs = await w.bot.tracker.subscriptions(w.member)
        assert [(s.scope, s.target) for s in subs] == [(SubscriptionScope.LAUNCH, str(launch_id))]
        refused = await w.click(alert, f"sw:ship:{launch_id}", w.member)
        assert refused.ephemeral and refused.text == NOT_MANAGER
        w.clock.set(dt.datetime(2025, 2, 17, 18, tzinfo=UTC))
        done = await w.click(alert, f"sw:ship:{launch_id}", w.manager)
        assert done.text == (
            "Marked Grok 3 shipped today (48 days late). The channel and subscribers are "
            "being told."
        )
        launch = await w.bot.tracker.get(w.guild, launch_id)
        assert launch.state is LaunchState.SHIPPED and launch.days_late == 48
        await eventually(lambda: len(w.server.dms(w.member)) >= 2, what="shipped DM")
        assert (
            w.server.dms(w.member)[-1].embeds[0]["title"] == "✅ Grok 3 (xAI) shipped 48 days late"
        )


async def test_subscribe_refuses_when_dms_are_closed_and_saves_nothing(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        launch_id = await add_grok(w)
        w.server.close_dms(w.member)
        reply = await w.cmd("subscribe launch", user=w.member, launch=str(launch_id))
        assert reply.ephemeral
        assert reply.content.startswith("I can't send you DMs, so you would miss the alerts.")
        assert await w.bot.tracker.subscriptions(w.member) == []
        missing = await w.cmd("unsubscribe all", user=w.member)
        assert missing.content == (
            "You were not subscribed to every launch in this server. See /subscriptions."
        )


async def test_subscriptions_list_works_in_dms_and_shows_paused(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await setup_alerts(w)
        launch_id = await add_grok(w, announced_on="2024-07-01")
        await w.cmd("subscribe all", user=w.member)
        await w.cmd("subscribe launch", user=w.member, launch=str(launch_id), mode="digest")
        w.server.close_dms(w.member)
        await w.advance(JAN1 + dt.timedelta(seconds=1))
        await eventually(lambda: w.bot.tracker.subscriptions(w.member), what="subscriptions")
        subs = await eventually(_paused(w), what="the subscription to be paused after 50007")
        assert subs
        listing = await w.server.run_command(None, None, w.member, "subscriptions", timeout=10)
        text = listing.embeds[0]["description"]
        assert "every launch in Alpha · **paused**: Discord refuses DMs to this user" in text
        assert "Grok 3 (xAI) in Alpha" in text
        states = await w.outbox_states()
        assert sorted(states) == ["failed", "sent"]
        out = await w.cmd("unsubscribe all", user=w.member)
        assert out.content == "Unsubscribed from every launch in this server."


def _paused(w: World):  # type: ignore[no-untyped-def]
    async def check():  # type: ignore[no-untyped-def]
        subs = await w.bot.tracker.subscriptions(w.member)
        return [s for s in subs if s.paused_reason]

    return check


NOTICE_END = (
    "Alerts are being held, not lost. Fix the channel's permissions (or pick another "
    "channel) and run `/alerts channel` again; `/alerts status` shows what is held."
)
REFUSED = (
    "Missing permissions in <#{channel}> (403, error 50013): the bot needs View Channel, "
    "Send Messages and Embed Links there."
)


def notice_text(channel: int) -> str:
    return f"slipwatch cannot post alerts in <#{channel}>: {REFUSED.format(channel=channel)}\n" + (
        NOTICE_END
    )


async def notices(w: World) -> list[OutboxRow]:
    rows = await w.bot.app.store.read.outbox.all_outbox()
    return [r for r in rows if r.payload.notice is not None]


async def notice_sent(w: World) -> list[OutboxRow]:
    rows = await notices(w)
    return rows if rows and all(r.state is OutboxState.SENT for r in rows) else []


async def test_broken_channel_holds_alerts_tells_owner_once_and_recovers(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await setup_alerts(w)
        await add_grok(w, announced_on="2024-07-01")
        await add_grok(w, product="Grok 4", announced_on="2024-07-01")
        w.server.fail_channel(w.alerts, status=403, code=50013)
        await w.advance(JAN1 + dt.timedelta(seconds=1))
        # The two alerts are held; the managers' notice went through the outbox and is sent.
        await eventually(lambda: _states_are(w, ["held", "held", "sent"]), what="alerts held")
        dms = w.server.dms(w.owner)
        assert [m.content for m in dms] == [notice_text(w.alerts)]
        (row,) = await notices(w)
        assert (row.dest_kind, row.dest_id, row.sent_message_id) == (
            DestinationKind.CHANNEL,
            w.guild,
            dms[0].id,
        )
        assert dms[0].nonce == row.nonce
        status = await w.cmd("alerts status")
        fields = {f["name"]: f["value"] for f in status.embeds[0]["fields"]}
        assert "2 held since" in fields["Problems"]
        assert "Managers told <t:" in fields["Problems"]
        assert "held" in fields["Outbox"]
        (broken,) = await w.bot.app.store.read.destinations.broken_destinations(w.guild)
        assert broken["notified_at"] == row.sent_at is not None
        # A later alert to the same broken channel is held too, and the owner is not told again.
        await w.advance(dt.datetime(2025, 1, 7, 0, 0, 1, tzinfo=UTC))
        await eventually(lambda: _states_are(w, ["held"] * 4 + ["sent"]), what="milestones held")
        assert len(w.server.dms(w.owner)) == 1
        w.server.heal_channel(w.alerts)
        fixed = await w.cmd("alerts channel", channel=str(w.alerts))
        assert fixed.content == (
            f"Alerts will be posted in <#{w.alerts}>. 4 held alerts are being sent there now."
        )
        await eventually(lambda: len(w.server.messages(w.alerts)) == 4, what="held alerts")
        # The last row is marked sent once Discord's answer is back, just after it arrived.
        await eventually(lambda: _states_are(w, ["sent"] * 5), what="rows marked sent")
        assert len(w.server.dms(w.owner)) == 1


async def test_broken_channel_notice_survives_a_500_and_arrives_once(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await setup_alerts(w)
        await add_grok(w, announced_on="2024-07-01")
        dm = w.server.dm_channel_id(w.owner)
        # discord.py retries a 500 by itself; the 503 after it reaches the outbox, which
        # retries the notice later.
        w.server.inject(rf"POST /channels/{dm}/messages", 500, times=1)
        w.server.inject(rf"POST /channels/{dm}/messages", 503, times=1)
        w.server.fail_channel(w.alerts, status=403, code=50013)
        await w.advance(JAN1 + dt.timedelta(seconds=1))
        (row,) = await eventually(lambda: notice_sent(w), what="the notice sent")
        assert [m.content for m in w.server.dms(w.owner)] == [notice_text(w.alerts)]
        posts = w.server.requests_matching(rf"POST /channels/{dm}/messages")
        assert [p.status for p in posts] == [500, 503, 200]
        assert {p.json["nonce"] for p in posts} == {row.nonce}
        assert row.attempts == 2 and row.last_error is None
        (broken,) = await w.bot.app.store.read.destinations.broken_destinations(w.guild)
        assert broken["notified_at"] == row.sent_at


async def test_broken_channel_notice_goes_to_the_system_channel_then_the_owner(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await setup_alerts(w)
        w.server.set_system_channel(w.guild, w.general)
        guild = w.bot.get_guild(w.guild)
        assert guild is not None
        await eventually(lambda: guild.system_channel is not None, what="system channel known")
        await add_grok(w, announced_on="2024-07-01")
        w.server.fail_channel(w.alerts, status=403, code=50013)
        await w.advance(JAN1 + dt.timedelta(seconds=1))
        await eventually(lambda: notice_sent(w), what="the first notice sent")
        posted = w.server.messages(w.general, kind="channel")
        assert [m.content for m in posted] == [notice_text(w.alerts)]
        assert posted[0].payload["allowed_mentions"]["parse"] == []  # mentions off
        assert posted[0].nonce == (await notices(w))[0].nonce
        assert w.server.dms(w.owner) == []
        # Fixed, then broken again while the system channel refuses too: a new notice, by DM.
        w.server.heal_channel(w.alerts)
        await w.cmd("alerts channel", channel=str(w.alerts))
        await eventually(lambda: _states_are(w, ["sent", "sent"]), what="held alert sent")
        w.server.fail_channel(w.alerts, status=403, code=50013)
        w.server.fail_channel(w.general, status=403, code=50001)
        test = await w.cmd("alerts test")
        assert test.content.startswith("A test alert is on its way")
        rows = await eventually(lambda: _two_sent(w), what="the second notice sent", limit_s=20)
        assert rows[0].idem_key != rows[1].idem_key
        assert [m.content for m in w.server.dms(w.owner)] == [notice_text(w.alerts)]
        assert len(w.server.messages(w.general, kind="channel")) == 1
        # The system channel is the broken channel itself: the owner hears of it instead.
        w.server.heal_channel(w.general)
        w.server.heal_channel(w.alerts)
        await w.cmd("alerts channel", channel=str(w.alerts))
        w.server.set_system_channel(w.guild, w.alerts)
        await eventually(
            lambda: guild.system_channel is not None and guild.system_channel.id == w.alerts,
            what="system channel moved",
        )
        w.server.fail_channel(w.alerts, status=404, code=10003)
        await w.cmd("alerts test")
        await eventually(lambda: len(w.server.dms(w.owner)) == 2, what="the third notice")
        assert w.server.dms(w.owner)[1].content.startswith(
            f"slipwatch cannot post alerts in <#{w.alerts}>: The alert channel <#{w.alerts}> "
            "no longer exists (404, error 10003)."
        )


async def _two_sent(w: World) -> list[OutboxRow]:
    rows = await notices(w)
    return rows if len(rows) == 2 and all(r.state is OutboxState.SENT for r in rows) else []


async def test_broken_channel_notice_with_nobody_to_tell_fails_and_says_so(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await setup_alerts(w)
        await add_grok(w, announced_on="2024-07-01")
        w.server.close_dms(w.owner)
        w.server.fail_channel(w.alerts, status=403, code=50013)
        await w.advance(JAN1 + dt.timedelta(seconds=1))
        await eventually(lambda: _states_are(w, ["held", "failed"]), what="the notice failed")
        (row,) = await notices(w)
        why = "no other system channel; the owner's DMs refused (403, error 50007)"
        assert row.last_error == why
        assert w.server.dms(w.owner) == []
        (broken,) = await w.bot.app.store.read.destinations.broken_destinations(w.guild)
        assert broken["notified_at"] is None
        status = await w.cmd("alerts status")
        fields = {f["name"]: f["value"] for f in status.embeds[0]["fields"]}
        assert f"The managers could not be told: {why}." in fields["Problems"]


async def test_broken_channel_notice_asks_discord_for_a_guild_out_of_the_cache(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await setup_alerts(w)
        await add_grok(w, announced_on="2024-07-01")
        w.server.set_system_channel(w.guild, w.general)
        # The deliverer's cache lacks the guild (as when other processes hold its shard).
        w.server.dispatch("GUILD_DELETE", {"id": str(w.guild)})
        await eventually(lambda: w.bot.get_guild(w.guild) is None, what="guild out of cache")
        w.server.inject(rf"GET /guilds/{w.guild}$", 503, times=1)
        w.server.fail_channel(w.alerts, status=403, code=50013)
        await w.advance(JAN1 + dt.timedelta(seconds=1))
        (row,) = await eventually(lambda: notice_sent(w), what="the notice sent")
        lookups = w.server.requests_matching(rf"GET /guilds/{w.guild}$")
        assert [r.status for r in lookups] == [503, 200]  # a passing failure: retried
        assert row.attempts == 2
        posted = w.server.messages(w.general, kind="channel")
        assert [m.content for m in posted] == [notice_text(w.alerts)]
        assert w.server.dms(w.owner) == []


async def test_broken_channel_notice_for_a_server_the_bot_left_fails(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await setup_alerts(w)
        await add_grok(w, announced_on="2024-07-01")
        w.server.dispatch("GUILD_DELETE", {"id": str(w.guild)})
        await eventually(lambda: w.bot.get_guild(w.guild) is None, what="guild out of cache")
        w.server.inject(rf"GET /guilds/{w.guild}$", 404, times=1, code=10004)
        w.server.fail_channel(w.alerts, status=403, code=50013)
        await w.advance(JAN1 + dt.timedelta(seconds=1))
        await eventually(lambda: _states_are(w, ["held", "failed"]), what="the notice failed")
        (row,) = await notices(w)
        assert row.last_error == "slipwatch is no longer in this server"
        assert w.server.dms(w.owner) == []


async def test_broken_channel_notice_reopens_a_vanished_dm_and_retries_the_system_channel(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await setup_alerts(w)
        await add_grok(w, announced_on="2024-07-01")
        dm = w.server.dm_channel_id(w.owner)
        # The system channel fails first for a while (503: retry the row, system channel
        # first), then refuses for good; the owner's cached DM channel is gone once (10003).
        w.server.set_system_channel(w.guild, w.general)
        w.server.inject(rf"POST /channels/{w.general}/messages", 503, times=1)
        w.server.inject(rf"POST /channels/{w.general}/messages", 403, times=10, code=50001)
        w.server.inject(rf"POST /channels/{dm}/messages", 404, times=1, code=10003)
        w.server.fail_channel(w.alerts, status=403, code=50013)
        await w.advance(JAN1 + dt.timedelta(seconds=1))
        (row,) = await eventually(lambda: notice_sent(w), what="the notice sent")
        assert [m.content for m in w.server.dms(w.owner)] == [notice_text(w.alerts)]
        system = w.server.requests_matching(rf"POST /channels/{w.general}/messages")
        assert [r.status for r in system] == [503, 403, 403]
        assert [r.status for r in w.server.requests_matching(rf"POST /channels/{dm}/messages")] == [
            404,
            200,
        ]
        assert len(w.server.requests_matching(r"POST /users/@me/channels")) == 2
        assert row.attempts == 3 and w.server.messages(w.general, kind="channel") == []


async def test_broken_channel_notice_in_flight_at_a_crash_arrives_once_after_restart(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await setup_alerts(w)
        await add_grok(w, announced_on="2024-07-01")
        dm = w.server.dm_channel_id(w.owner)
        # The notice's send hangs for 3 s (Discord takes it in the end): the bot stops meanwhile.
        slow = w.server.inject(rf"POST /channels/{dm}/messages", None, times=1, delay=3.0)
        w.server.fail_channel(w.alerts, status=403, code=50013)
        w.clock.set(JAN1 + dt.timedelta(seconds=1))
        await w.bot.engine.rearm()  # not settled: the bot stops with the notice in flight
        await eventually(lambda: slow.hits, what="the notice in flight")
        await stop_client(w.bot)
        (row,) = await notices(w)
        assert row.state is OutboxState.PENDING
        (broken,) = await w.bot.app.store.read.destinations.broken_destinations(w.guild)
        assert broken["notified_at"] is None
        settings = settings_for(w.server, db_target)
        clock = OffsetClock(w.clock.now())
        async with running_resources(settings, clock=clock, guild_ready_timeout=0.05) as bot:
            await start_client(w.server, bot, point=False, timeout=20.0)
            try:
                w.bot = bot
                (row,) = await eventually(lambda: notice_sent(w), what="sent after the restart")
                await asyncio.sleep(3.5)  # the first send has landed too
                dms = w.server.dms(w.owner)
                assert [m.content for m in dms] == [notice_text(w.alerts)]
                assert row.sent_message_id == dms[0].id
                posts = w.server.requests_matching(rf"POST /channels/{dm}/messages")
                assert len(posts) == 2  # the resend carried the nonce: Discord kept one
                assert {p.json["nonce"] for p in posts} == {row.nonce}
                (broken,) = await bot.app.store.read.destinations.broken_destinations(w.guild)
                assert broken["notified_at"] == row.sent_at
            finally:
                await stop_client(bot)


async def _states_are(w: World, expected: list[str]) -> bool:
    return sorted(await w.outbox_states()) == sorted(expected)


async def test_storm_of_429_and_500_delays_but_loses_nothing(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await setup_alerts(w)
        users = [w.server.add_user(f"u{i}", guild_id=w.guild, permissions=0) for i in range(6)]
        for user in users:
            await w.bot.tracker.subscribe(w.guild, user, SubscriptionScope.ALL)
        await add_grok(w, announced_on="2024-07-01")
        w.server.inject(r"POST /channels/\d+/messages", 429, times=4, retry_after=0.05)
        w.server.inject(r"POST /channels/\d+/messages", 429, times=2, retry_after=0.1, global_=True)
        w.server.inject(r"POST /channels/\d+/messages", 500, times=3)
        w.server.inject(r"POST /users/@me/channels", 500, times=2)
        await w.advance(JAN1 + dt.timedelta(seconds=1))
        await eventually(
            lambda: (
                len(w.server.messages(w.alerts)) == 1
                and all(len(w.server.dms(u)) == 1 for u in users)
            ),
            limit_s=60,
            what="every alert despite the storm",
        )
        await eventually(lambda: _states_are(w, ["sent"] * 7), limit_s=30, what="all sent")
        statuses = [r.status for r in w.server.requests_matching(r"POST /channels/\d+/messages")]
        assert statuses.count(429) == 6 and statuses.count(500) == 3
        assert len(w.server.messages(w.alerts)) == 1


async def test_user_text_is_escaped_and_cut_to_discord_limits(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await setup_alerts(w)
        product = "**Grok** @everyone <@&123456789012345678> " + "x" * 40
        reply = await w.cmd(
            "launch add",
            product=product[:100],
            vendor="_xAI_ @here",
            window="end of 2024",
            announced_on="2024-07-01",
            announcer="<@42> " + "E" * 90,
            quote="`code` " + "*" * 993,
        )
        assert reply.content == "Added #1 to the watchlist."
        title = reply.embeds[0]["title"]
        assert title.startswith("#1 \\*\\*Grok\\*\\* @\u200beveryone <@\u200b&123456789012345678>")
        assert len(title) <= 256
        await w.advance(JAN1 + dt.timedelta(seconds=1))
        alert = await w.server.wait_for_message(channel_id=w.alerts, timeout=10)
        embed = alert.embeds[0]
        assert "@\u200beveryone" in embed["title"] and "\\_xAI\\_ @\u200bhere" in embed["title"]
        assert all(len(f["value"]) <= 1024 for f in embed["fields"])
        quote = {f["name"]: f["value"] for f in embed["fields"]}["The promise"]
        assert quote.startswith("> \\`code\\`") and quote.endswith("…") and len(quote) == 1024
        assert alert.content in (None, "")


async def test_a_rejected_message_is_marked_failed_without_holding_the_channel(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await setup_alerts(w)
        await add_grok(w, announced_on="2024-07-01")
        w.server.inject(r"POST /channels/\d+/messages", 400, times=1, code=50035)
        await w.advance(JAN1 + dt.timedelta(seconds=1))
        await eventually(lambda: _states_are(w, ["failed"]), what="the row marked failed")
        rows = await w.bot.app.store.read.outbox.all_outbox()
        assert rows[0].last_error == "Discord rejected the message (400, error 50035)"
        assert await w.bot.app.store.read.destinations.broken_destinations(w.guild) == []
        test = await w.cmd("alerts test")  # the channel itself still works
        assert test.content.startswith("A test alert is on its way")
        await eventually(lambda: w.server.messages(w.alerts, kind="channel"), what="test alert")


async def test_a_send_that_times_out_is_retried_and_delivered_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, db_target: str
) -> None:
    import cogs.infra.notifier

    monkeypatch.setattr(cogs.infra.notifier, "SEND_TIMEOUT_S", 0.5)
    async with world(db_target) as w:
        await setup_alerts(w)
        await add_grok(w, announced_on="2024-07-01")
        w.server.inject(r"POST /channels/\d+/messages", None, times=1, delay=3.0)
        await w.advance(JAN1 + dt.timedelta(seconds=1))
        await eventually(lambda: _states_are(w, ["sent"]), limit_s=30, what="delivered")
        rows = await w.bot.app.store.read.outbox.all_outbox()
        assert rows[0].attempts == 2
        # The slow first request may still have been accepted late: the nonce makes it one.
        assert len(w.server.messages(w.alerts, kind="channel")) == 1


async def test_a_vanished_dm_channel_is_reopened_and_the_dm_delivered(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await setup_alerts(w)
        launch_id = await add_grok(w, announced_on="2024-07-01")
        await w.cmd("subscribe launch", user=w.member, launch=str(launch_id))  # caches the DM
        dm = w.server.dm_channel_id(w.member)
        opened = len(w.server.requests_matching(r"POST /users/@me/channels"))
        w.server.inject(rf"POST /channels/{dm}/messages", 404, times=1, code=10003)
        await w.advance(JAN1 + dt.timedelta(seconds=1))
        await eventually(lambda: _states_are(w, ["sent", "sent"]), limit_s=20, what="sent")
        assert len(w.server.requests_matching(r"POST /users/@me/channels")) == opened + 1
        alerts = [m for m in w.server.dms(w.member) if m.embeds]
        assert [m.embeds[0]["title"] for m in alerts] == ["🚨 Grok 3 (xAI) missed its window"]

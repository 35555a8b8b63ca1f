"""Release detection end to end: /launch watch on a loopback feed, the proposal in the alert
channel, "Not yet", "Confirm shipped", and the shipped alert, through the loopback Discord."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from storage import repo
from tests.e2e import World, eventually, world
from tests.probe_server import ProbeServer, rss
from tests.test_discord_launch import NOT_MANAGER, add_grok
from tracker.models import LaunchState

OLD = [("Grok 2 is out", "https://x.ai/news/grok-2", "Grok 2 arrives.")]


@asynccontextmanager
async def probe_world(tmp_path: Path) -> AsyncIterator[tuple[World, ProbeServer]]:
    probe = ProbeServer()
    await probe.start()
    try:
        async with world(tmp_path, probe_allow=(probe.allow,)) as w:
            yield w, probe
    finally:
        await probe.close()


async def next_poll(w: World) -> None:
    """Jump past the probe interval so the engine's timer runs the due probes."""
    # The interval is 30 minutes with up to 10% jitter: 40 minutes is always past it.
    await w.advance(w.clock.now() + dt.timedelta(minutes=40))
    await settled(w)


async def settled(w: World) -> None:
    """The engine swept (starting any due probe round) and the round finished."""
    await w.bot.engine.settle(limit_s=20.0)
    await w.bot.probes.wait_idle(20.0)
    await w.bot.engine.settle(limit_s=20.0)


async def test_detection_is_proposed_then_not_yet_then_confirmed(tmp_path: Path) -> None:
    async with probe_world(tmp_path) as (w, probe):
        await w.cmd("alerts channel", channel=str(w.alerts))
        await w.cmd("alerts reminders", days="off")
        probe.put("/news.rss", rss(OLD), "application/rss+xml")
        launch_id = await add_grok(w, window="Q1 2025", announced_on="2024-12-01")
        refused = await w.cmd(
            "launch watch",
            user=w.member,
            launch=str(launch_id),
            kind="feed",
            target=probe.url("/news.rss"),
            pattern="Grok 3",
        )
        assert refused.content == NOT_MANAGER
        reply = await w.cmd(
            "launch watch",
            launch=str(launch_id),
            kind="feed",
            target=probe.url("/news.rss"),
            pattern="Grok 3",
        )
        assert reply.ephemeral
        assert reply.content.startswith(
            f"Watching for Grok 3 (xAI): probe #1, feed {probe.url('/news.rss')}"
        )
        await settled(w)
        assert len(probe.hits("/news.rss")) == 1  # the baseline poll; nothing proposed
        assert w.server.messages(w.alerts, kind="channel") == []

        # A rumour post matches: proposed once, with buttons; a member cannot decide.
        probe.put(
            "/news.rss",
            rss([("Grok 3 preview leaks", "https://x.ai/news/leak", "Grok 3 soon"), *OLD]),
            "application/rss+xml",
        )
        await next_poll(w)
        proposal = await w.server.wait_for_message(channel_id=w.alerts, timeout=15)
        embed = proposal.embeds[0]
        assert embed["title"] == "🔎 Grok 3 (xAI) may have been released"
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields["Seen"] == "Grok 3 preview leaks"
        assert fields["Evidence"] == "https://x.ai/news/leak"
        assert proposal.custom_ids() == ["sw:pconfirm:1", "sw:preject:1"]
        no = await w.click(proposal, "sw:pconfirm:1", w.member)
        assert no.content == NOT_MANAGER
        not_yet = await w.click(proposal, "sw:preject:1", w.manager)
        followup = (await not_yet.wait_followups(1, timeout=10))[0]
        assert followup.content == "Noted as not yet; the probe keeps watching for something new."
        assert followup.ephemeral
        assert proposal.edits and proposal.edits[-1]["components"] == []  # buttons removed
        await next_poll(w)  # the same entry is not proposed again
        assert len(w.server.messages(w.alerts, kind="channel")) == 1

        # The real release: proposed, confirmed, shipped with the evidence as source.
        probe.put(
            "/news.rss",
            rss(
                [
                    ("Grok 3 Beta is here", "https://x.ai/news/grok-3", "Grok 3 launches"),
                    ("Grok 3 preview leaks", "https://x.ai/news/leak", "Grok 3 soon"),
                    *OLD,
                ]
            ),
            "application/rss+xml",
        )
        await next_poll(w)
        await eventually(
            lambda: len(w.server.messages(w.alerts, kind="channel")) == 2, what="second proposal"
        )
        second = w.server.messages(w.alerts, kind="channel")[-1]
        assert second.custom_ids() == ["sw:pconfirm:2", "sw:preject:2"]
        done = await w.click(second, "sw:pconfirm:2", w.manager)
        confirmed = (await done.wait_followups(1, timeout=10))[0]
        assert confirmed.content.startswith("Confirmed: Grok 3 (xAI) shipped on 2024-12-20")
        launch = await w.bot.tracker.get(w.guild, launch_id)
        assert launch.state is LaunchState.SHIPPED
        events = await repo.launch_events(w.bot.db.read, launch_id)
        assert events[-1].source_url == "https://x.ai/news/grok-3"
        shipped = await eventually(
            lambda: [
                m
                for m in w.server.messages(w.alerts, kind="channel")
                if m.embeds and m.embeds[0]["title"].startswith("✅")
            ],
            what="the shipped alert",
        )
        assert shipped[0].embeds[0]["title"] == "✅ Grok 3 (xAI) shipped 101 days early"
        listing = await w.cmd("launch probes", user=w.member, launch=str(launch_id))
        assert "`#1` feed" in listing.embeds[0]["description"]
        gone = await w.cmd("launch unwatch", probe=1)
        assert gone.content == "Probe #1 stopped and removed."


async def test_watch_refuses_private_loopback_and_file_targets(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        launch_id = str(await add_grok(w))
        for target in (
            "http://127.0.0.1:9/feed",
            "http://localhost/feed",
            "http://10.1.2.3/feed",
            "http://169.254.169.254/latest/meta-data",
            "http://[::ffff:127.0.0.1]/feed",
            "file:///etc/passwd",
        ):
            reply = await w.cmd(
                "launch watch", launch=launch_id, kind="page", target=target, pattern="Grok"
            )
            assert reply.ephemeral, target
            assert "public" in reply.content or "http" in reply.content, (target, reply.content)
        assert await w.bot.probes.list_probes(w.guild) == []
        missing_key = await w.cmd(
            "launch watch",
            launch=launch_id,
            kind="models",
            target="https://api.x.ai",
            pattern="grok-3*",
        )
        assert missing_key.content.startswith("A models probe needs an API key")
        nothing = await w.cmd("launch probes", launch=launch_id)
        assert nothing.content == "Nothing watches Grok 3 (xAI). Add a probe with /launch watch."


async def test_auto_confirm_marks_shipped_and_says_so(tmp_path: Path) -> None:
    async with probe_world(tmp_path) as (w, probe):
        await w.cmd("alerts channel", channel=str(w.alerts))
        await w.cmd("alerts reminders", days="off")
        await w.cmd("alerts digest", schedule="off")
        probe.put("/news.rss", rss(OLD), "application/rss+xml")
        launch_id = await add_grok(w, window="Q1 2025", announced_on="2024-12-01")
        reply = await w.cmd(
            "launch watch",
            launch=str(launch_id),
            kind="feed",
            target=probe.url("/news.rss"),
            pattern="Grok 3",
            auto_confirm=True,
        )
        assert reply.content.endswith("(auto-confirm). The first check runs now.")
        await settled(w)
        probe.put(
            "/news.rss",
            rss([("Grok 3 Beta is here", "https://x.ai/news/grok-3", "Grok 3"), *OLD]),
            "application/rss+xml",
        )
        await next_poll(w)
        messages = await eventually(
            lambda: (
                w.server.messages(w.alerts, kind="channel")
                if len(w.server.messages(w.alerts, kind="channel")) >= 2
                else None
            ),
            what="the automatic proposal and the shipped alert",
        )
        titles = sorted(m.embeds[0]["title"] for m in messages)
        assert titles == [
            "✅ Grok 3 (xAI) shipped 101 days early",
            "🔎 Grok 3 (xAI) was released: marked shipped automatically",
        ]
        auto = next(m for m in messages if m.embeds[0]["title"].startswith("🔎"))
        assert auto.custom_ids() == []  # nothing left to decide
        launch = await w.bot.tracker.get(w.guild, launch_id)
        assert launch.state is LaunchState.SHIPPED

"""Promise discovery end to end: /launch discover on a loopback feed, the proposal in the alert
channel through the outbox, "Track it" and its modal, "Ignore", and no second proposal."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from tests.e2e import World, eventually, world
from tests.probe_server import rss
from tests.test_discord_launch import NOT_MANAGER
from tests.test_discord_probes import probe_world
from tracker.errors import Conflict, NotFound
from tracker.models import OutboxState

OLD = [("Grok 4 arrives", "https://x.ai/news/grok-4", "Grok 4 ships in Q3 2025.")]
GROK5 = (
    "Grok 5 is coming",
    "https://x.ai/news/grok-5",
    "Training is done. Grok 5 is coming by the end of this year, after the 70B model.",
)


async def settled(w: World) -> None:
    """The engine swept (starting any due round) and the discovery round finished."""
    await w.bot.engine.settle(limit_s=20.0)
    await w.bot.discovery.wait_idle(20.0)
    await w.bot.engine.settle(limit_s=20.0)


async def next_poll(w: World) -> None:
    """Jump past the 30-minute interval so the engine's timer runs the due discoveries."""
    await w.advance(w.clock.now() + dt.timedelta(minutes=31))
    await settled(w)


async def test_a_new_promise_is_proposed_once_and_tracked_with_its_deadline(
    tmp_path: Path, db_target: str
) -> None:
    async with probe_world(db_target) as (w, probe):
        probe.put("/news.rss", rss(OLD), "application/rss+xml")
        target = probe.url("/news.rss")
        early = await w.cmd("launch discover", vendor="xAI", target=target)
        assert early.ephemeral
        assert early.content == (
            "Set the alert channel first with /alerts channel: proposals are posted there."
        )
        await w.cmd("alerts channel", channel=str(w.alerts))
        await w.cmd("alerts reminders", days="off")
        refused = await w.cmd("launch discover", user=w.member, vendor="xAI", target=target)
        assert refused.content == NOT_MANAGER
        reply = await w.cmd("launch discover", vendor="xAI", target=target)
        assert reply.content == (
            f"Watching {target} for xAI's promises every 30 minutes (#1). What it says now is "
            "the baseline; each new entry that promises a window is proposed in the alert channel."
        )
        await settled(w)
        assert len(probe.hits("/news.rss")) == 1  # the baseline: Grok 4's promise is not news
        before = len(w.server.messages(w.alerts, kind="channel"))

        probe.put("/news.rss", rss([GROK5, *OLD]), "application/rss+xml")
        await next_poll(w)
        proposal = await eventually(
            lambda: w.server.messages(w.alerts, kind="channel")[before:], what="the proposal"
        )
        assert len(proposal) == 1
        message = proposal[0]
        embed = message.embeds[0]
        assert embed["title"] == "🔭 New promise from xAI: Grok 5"
        assert embed["url"] == "https://x.ai/news/grok-5"
        assert embed["description"] == (
            "> Grok 5 is coming **by the end of this year**, after the 70B model."
        )
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields["Window"] == '"by the end of this year": 2025-09-01 – 2025-12-31'
        assert fields["Entry"] == "[Grok 5 is coming](https://x.ai/news/grok-5)"
        assert message.custom_ids() == ["sw:promise-track:2", "sw:promise-ignore:2"]
        rows = await w.bot.app.store.read.outbox.all_outbox()
        assert [r.state for r in rows if r.payload.promise] == [OutboxState.SENT]

        member = await w.click(message, "sw:promise-track:2", w.member)
        assert member.content == NOT_MANAGER
        opened = await w.click(message, "sw:promise-track:2", w.manager)
        assert opened.modal is not None
        inputs = {
            c["custom_id"]: c.get("value")
            for row in opened.modal["components"]
            for c in row.get("components", [row.get("component", {})])
        }
        assert inputs == {"product": "Grok 5", "window": "by the end of this year"}
        tracked = await w.server.submit_modal(opened)
        assert tracked.content == (
            'Tracking #1 Grok 5 (xAI): "by the end of this year" read as 2025-09-01 – '
            "2025-12-31; the deadline is <t:1767225600:F>."
        )
        (launch,) = await w.bot.app.store.read.launches.all_launches(w.guild)
        assert (launch.product, launch.vendor, launch.window_end, launch.announced_on) == (
            "Grok 5",
            "xAI",
            dt.date(2025, 12, 31),
            dt.date(2025, 2, 17),
        )
        assert launch.deadline_at == dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
        assert launch.source_url == "https://x.ai/news/grok-5"
        assert launch.quote == "Grok 5 is coming by the end of this year, after the 70B model."
        await eventually(lambda: message.components == [], what="buttons removed")
        again = await w.cmd("launch discover", vendor="xAI", target=target)
        assert again.content == "This server already watches that source for promises."

        # The next poll proposes nothing: the entry is known in this server.
        await next_poll(w)
        assert len(probe.hits("/news.rss")) == 3
        assert len(w.server.messages(w.alerts, kind="channel")) == before + 1


async def test_ignore_closes_a_proposal_and_a_flood_is_capped(
    tmp_path: Path, db_target: str
) -> None:
    async with probe_world(db_target) as (w, probe):
        await w.cmd("alerts channel", channel=str(w.alerts))
        await w.cmd("alerts reminders", days="off")
        probe.put("/news.rss", rss(OLD), "application/rss+xml")
        await w.cmd("launch discover", vendor="xAI", target=probe.url("/news.rss"))
        await settled(w)
        before = len(w.server.messages(w.alerts, kind="channel"))
        posts = [
            (
                f"Model {n} update",
                f"https://x.ai/news/m{n}",
                f"Model {n} ships in Q{n % 4 + 1} 2026.",
            )
            for n in range(1, 8)
        ]
        probe.put("/news.rss", rss([*posts, *OLD]), "application/rss+xml")
        await next_poll(w)
        new = await eventually(
            lambda: (
                (m := w.server.messages(w.alerts, kind="channel")[before:]) and len(m) == 6 and m
            ),
            what="five proposals and a summary",
        )
        titles = [m.embeds[0]["title"] for m in new]
        assert titles[:5] == [f"🔭 New promise from xAI: Model {n}" for n in range(1, 6)]
        assert titles[5] == "🔭 2 more promises from xAI"
        summary = new[5]
        assert summary.custom_ids() == []
        assert summary.embeds[0]["description"] == (
            f"2 more new entries of {probe.url('/news.rss')} promise a window; only the first "
            "ones of a check are proposed one by one.\n• Model 6 update\n• Model 7 update"
        )
        first = new[0]
        assert first.custom_ids() == ["sw:promise-track:2", "sw:promise-ignore:2"]
        ignored = await w.click(first, "sw:promise-ignore:2", w.manager)
        assert ignored.message is first and first.content == "Ignored."
        assert first.components == []
        with pytest.raises(Conflict) as info:
            await w.bot.discovery.track(w.guild, 2, "Model 1", "Q2 2026", actor="test")
        assert str(info.value) == "That proposal was already ignored."
        with pytest.raises(NotFound):
            await w.bot.discovery.track(w.other_guild, 3, "Model 2", "Q3 2026", actor="test")
        assert await w.launch_count() == 0


async def test_discover_refuses_private_and_non_web_targets(tmp_path: Path, db_target: str) -> None:
    async with world(db_target) as w:
        await w.cmd("alerts channel", channel=str(w.alerts))
        for target in (
            "http://127.0.0.1:9/feed",
            "http://localhost/feed",
            "http://10.1.2.3/feed",
            "http://169.254.169.254/latest/meta-data",
            "file:///etc/passwd",
        ):
            reply = await w.cmd("launch discover", vendor="xAI", target=target, kind="page")
            assert reply.ephemeral, target
            assert "public" in reply.content or "http" in reply.content, (target, reply.content)
        assert await w.bot.app.store.read.discovery.count(w.guild) == 0


async def test_a_failing_source_backs_off_and_recovers_without_posting(
    tmp_path: Path, db_target: str
) -> None:
    async with probe_world(db_target) as (w, probe):
        await w.cmd("alerts channel", channel=str(w.alerts))
        probe.put("/news.rss", rss(OLD), "application/rss+xml")
        probe.fail("/news.rss", 500)
        await w.cmd("launch discover", vendor="xAI", target=probe.url("/news.rss"))
        await settled(w)
        failed = await w.bot.app.store.read.discovery.get(1)
        assert failed is not None
        assert (failed.consecutive_failures, failed.last_error) == (
            1,
            "the source answered 500",
        )
        # Twice the 30-minute interval after one failure.
        assert failed.last_checked_at is not None
        assert failed.next_check_at - failed.last_checked_at == dt.timedelta(minutes=60)
        probe.put("/news.rss", "<html><p>Grok 5 by the end of this year</p></html>", "text/html")
        await w.advance(w.clock.now() + dt.timedelta(minutes=61))
        await settled(w)
        not_a_feed = await w.bot.app.store.read.discovery.get(1)
        assert not_a_feed is not None and not_a_feed.consecutive_failures == 2
        assert not_a_feed.last_error == "the answer is not an RSS or Atom feed"
        probe.put("/news.rss", rss([GROK5, *OLD]), "application/rss+xml")
        await w.advance(w.clock.now() + dt.timedelta(minutes=121))
        await settled(w)
        healed = await w.bot.app.store.read.discovery.get(1)
        assert healed is not None and healed.consecutive_failures == 0 and healed.baseline_done
        # What the source said when it first answered is the baseline: nothing is posted.
        messages = w.server.messages(w.alerts, kind="channel")
        assert not [m for m in messages if m.embeds and m.embeds[0]["title"].startswith("🔭")]

"""Release detection end to end: /launch watch on a loopback feed, the proposal in the alert
channel, "Not yet", "Confirm shipped", and the shipped alert, through the loopback Discord."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from bot import running_resources
from tests.e2e import World, eventually, settings_for, world
from tests.loopback.fixtures import start_client, stop_client
from tests.probe_server import ProbeServer, html_page, rss
from tests.test_discord_launch import NOT_MANAGER, add_grok
from tracker.clock import OffsetClock
from tracker.models import DestinationKind, LaunchState, OutboxRow, OutboxState
from tracker.probes import Detection, DetectionState

OLD = [("Grok 2 is out", "https://x.ai/news/grok-2", "Grok 2 arrives.")]


@asynccontextmanager
async def probe_world(db: str) -> AsyncIterator[tuple[World, ProbeServer]]:
    probe = ProbeServer()
    await probe.start()
    try:
        async with world(db, probe_allow=(probe.allow,)) as w:
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


async def test_detection_is_proposed_then_not_yet_then_confirmed(
    tmp_path: Path, db_target: str
) -> None:
    async with probe_world(db_target) as (w, probe):
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
            f"Watching for Grok 3 (xAI): probe #1, feed {probe.url('/news.rss')}, looking for "
            "\u201cGrok 3\u201d, every 30 minutes. The first check found no release yet. Next "
            "check <t:"
        )
        assert reply.components == []
        await settled(w)
        assert len(probe.hits("/news.rss")) == 1  # the first check; nothing proposed
        assert w.server.messages(w.alerts, kind="channel") == []

        # A rumour that Grok 3 is coming soon names the launch but is no release: not proposed.
        leak = ("Grok 3 preview leaks", "https://x.ai/news/leak", "Grok 3 is coming soon.")
        probe.put("/news.rss", rss([leak, *OLD]), "application/rss+xml")
        await next_poll(w)
        assert len(probe.hits("/news.rss")) == 2
        assert w.server.messages(w.alerts, kind="channel") == []

        # A release in the app: proposed once, with buttons; a member cannot decide.
        app = ("Grok 3 in the app", "https://x.ai/news/app", "Grok 3 is available today.")
        probe.put("/news.rss", rss([app, leak, *OLD]), "application/rss+xml")
        await next_poll(w)
        proposal = await w.server.wait_for_message(channel_id=w.alerts, timeout=15)
        embed = proposal.embeds[0]
        assert embed["title"] == "🔎 Grok 3 (xAI) may have been released"
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields["Seen"] == "Grok 3 in the app"
        assert fields["Matched"] == "Grok 3 is available today."
        assert fields["Evidence"] == "https://x.ai/news/app"
        assert proposal.custom_ids() == ["sw:pconfirm:2", "sw:preject:2"]
        no = await w.click(proposal, "sw:pconfirm:2", w.member)
        assert no.content == NOT_MANAGER
        not_yet = await w.click(proposal, "sw:preject:2", w.manager)
        followup = (await not_yet.wait_followups(1, timeout=10))[0]
        assert followup.content == "Noted as not yet; the probe keeps watching for something new."
        assert followup.ephemeral
        assert proposal.edits and proposal.edits[-1]["components"] == []  # buttons removed
        await next_poll(w)  # the same entry is not proposed again
        assert len(w.server.messages(w.alerts, kind="channel")) == 1

        # The real release: proposed, confirmed, shipped with the evidence as source.
        launch_post = (
            "Grok 3 Beta \u2014 The Age of Reasoning Agents",
            "https://x.ai/news/grok-3",
            "We are pleased to introduce Grok 3, our most advanced model yet.",
        )
        probe.put("/news.rss", rss([launch_post, app, leak, *OLD]), "application/rss+xml")
        await next_poll(w)
        await eventually(
            lambda: len(w.server.messages(w.alerts, kind="channel")) == 2, what="second proposal"
        )
        second = w.server.messages(w.alerts, kind="channel")[-1]
        (newest, *_) = await w.bot.probes.list_detections(w.guild)
        assert newest.title == "Grok 3 Beta \u2014 The Age of Reasoning Agents"
        assert second.custom_ids() == [f"sw:pconfirm:{newest.id}", f"sw:preject:{newest.id}"]
        done = await w.click(second, f"sw:pconfirm:{newest.id}", w.manager)
        confirmed = (await done.wait_followups(1, timeout=10))[0]
        assert confirmed.content.startswith("Confirmed: Grok 3 (xAI) shipped on 2024-12-20")
        launch = await w.bot.tracker.get(w.guild, launch_id)
        assert launch.state is LaunchState.SHIPPED
        events = await w.bot.app.store.read.events.launch_events(launch_id)
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


async def test_watch_refuses_private_loopback_and_file_targets(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
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


async def test_auto_confirm_marks_shipped_and_says_so(tmp_path: Path, db_target: str) -> None:
    async with probe_world(db_target) as (w, probe):
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
        assert "every 30 minutes (auto-confirm). The first check found no release yet." in (
            reply.content
        )
        await settled(w)
        # A promise never ships a launch by itself, even with auto-confirm.
        soon = ("Grok 3 soon", "https://x.ai/news/soon", "Grok 3 will be released in Q1 2025.")
        probe.put("/news.rss", rss([soon, *OLD]), "application/rss+xml")
        await next_poll(w)
        assert (await w.bot.tracker.get(w.guild, launch_id)).state is LaunchState.UPCOMING
        assert w.server.messages(w.alerts, kind="channel") == []  # its window is the launch's
        probe.put(
            "/news.rss",
            rss([("Grok 3 Beta is here", "https://x.ai/news/grok-3", "Grok 3"), soon, *OLD]),
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


def content_rss(items: list[tuple[str, str, str, str, str]]) -> str:
    """An RSS 2.0 feed as WordPress writes it: (title, link, pubDate, description,
    content:encoded) items, the full post only in content:encoded."""
    body = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link>"
        f'<guid isPermaLink="false">{escape(link)}#post</guid><pubDate>{date}</pubDate>'
        f"<description>{escape(d)}</description>"
        f"<content:encoded><![CDATA[{c}]]></content:encoded></item>"
        for t, link, date, d, c in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/"><channel>'
        "<title>xAI Blog</title><link>https://x.ai/blog</link><description>News</description>"
        f"{body}</channel></rss>"
    )


async def test_a_page_going_from_coming_soon_to_available_today_is_proposed_once(
    tmp_path: Path, db_target: str
) -> None:
    async with probe_world(db_target) as (w, probe):
        await w.cmd("alerts channel", channel=str(w.alerts))
        await w.cmd("alerts reminders", days="off")
        await w.cmd("alerts digest", schedule="off")
        probe.put("/grok", html_page(["Grok 3 is coming soon."]), "text/html; charset=utf-8")
        launch_id = await add_grok(w, window="Q1 2025", announced_on="2024-12-01")
        reply = await w.cmd(
            "launch watch", launch=str(launch_id), kind="page", target=probe.url("/grok")
        )
        assert reply.content.startswith(
            f"Watching for Grok 3 (xAI): probe #1, page {probe.url('/grok')}, looking for "
            "\u201cGrok 3\u201d, every 30 minutes. The first check found no release yet; the "
            "source says it is coming. Next check <t:"
        )
        await settled(w)

        def found() -> list[Any]:
            return [
                m
                for m in w.server.messages(w.alerts, kind="channel")
                if m.embeds and m.embeds[0]["title"].startswith("\U0001f50e")
            ]

        # The page now gives a window: proposed as a re-dating, never as a release.
        probe.put("/grok", html_page(["Grok 3 arrives in Q2 2025."]), "text/html")
        await next_poll(w)
        redate = await eventually(found, what="the re-dating proposal")
        embed = redate[0].embeds[0]
        assert embed["title"] == "🔎 Grok 3 (xAI): a new window was announced"
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields["Seen"] == "Grok 3 arrives in Q2 2025."
        assert fields["New window"] == "in Q2 2025 (ends 2025-06-30)"
        detection, soon = await w.bot.probes.list_detections(w.guild)
        assert soon.title == "Grok 3 is coming soon." and soon.state.value == "baseline"
        assert redate[0].custom_ids() == [
            f"sw:predate:{detection.id}",
            f"sw:pignore:{detection.id}",
        ]
        moved = await w.click(redate[0], f"sw:predate:{detection.id}", w.manager)
        told = (await moved.wait_followups(1, timeout=10))[0]
        assert (
            told.content == "Re-dated: Grok 3 (xAI) is now due by 2025-06-30 (in Q2 2025); slip #1."
        )
        launch = await w.bot.tracker.get(w.guild, launch_id)
        assert (
            launch.state is LaunchState.UPCOMING and launch.window_end.isoformat() == "2025-06-30"
        )

        # Another window: proposed again; "Ignore" leaves the launch as it is.
        probe.put("/grok", html_page(["Grok 3 now arrives in Q3 2025."]), "text/html")
        await next_poll(w)
        later = (await eventually(lambda: found()[1:], what="the second re-dating"))[0]
        newest = (await w.bot.probes.list_detections(w.guild))[0]
        assert later.custom_ids() == [f"sw:predate:{newest.id}", f"sw:pignore:{newest.id}"]
        ignored = await w.click(later, f"sw:pignore:{newest.id}", w.manager)
        told = (await ignored.wait_followups(1, timeout=10))[0]
        assert told.content == "Ignored; the probe keeps watching."
        launch = await w.bot.tracker.get(w.guild, launch_id)
        assert launch.window_end.isoformat() == "2025-06-30"

        # Available today: proposed once as shipped.
        probe.put("/grok", html_page(["Grok 3 is available today."]), "text/html")
        await next_poll(w)
        await eventually(lambda: len(found()) == 3, what="the release proposal")
        await next_poll(w)
        await next_poll(w)
        assert len(found()) == 3
        release = found()[-1]
        assert release.embeds[0]["title"] == "🔎 Grok 3 (xAI) may have been released"
        newest = (await w.bot.probes.list_detections(w.guild))[0]
        assert newest.title == "Grok 3 is available today."
        done = await w.click(release, f"sw:pconfirm:{newest.id}", w.manager)
        confirmed = (await done.wait_followups(1, timeout=10))[0]
        assert confirmed.content.startswith("Confirmed: Grok 3 (xAI) shipped on 2024-12-20")
        assert (await w.bot.tracker.get(w.guild, launch_id)).state is LaunchState.SHIPPED


async def test_watch_says_a_release_is_already_out_and_offers_to_confirm_it(
    tmp_path: Path, db_target: str
) -> None:
    async with probe_world(db_target) as (w, probe):
        await w.cmd("alerts channel", channel=str(w.alerts))
        await w.cmd("alerts reminders", days="off")
        await w.cmd("alerts digest", schedule="off")
        probe.put(
            "/blog.rss",
            content_rss(
                [
                    (
                        "Grok 3",
                        "https://x.ai/blog/grok-3",
                        "Tue, 17 Dec 2024 04:00:00 GMT",
                        "Our newest model.",
                        "<p>Grok 3 is now available to Premium+ subscribers.</p>",
                    ),
                    *[
                        (t, link, "Mon, 02 Dec 2024 04:00:00 GMT", d, f"<p>{d}</p>")
                        for t, link, d in OLD
                    ],
                ]
            ),
            "application/rss+xml",
        )
        launch_id = await add_grok(w, window="Q1 2025", announced_on="2024-12-01")
        reply = await w.cmd(
            "launch watch", launch=str(launch_id), kind="feed", target=probe.url("/blog.rss")
        )
        assert reply.content == (
            f"Watching for Grok 3 (xAI): probe #1, feed {probe.url('/blog.rss')}, looking for "
            "\u201cGrok 3\u201d, every 30 minutes. The first check found it already out: "
            "'Grok 3' on 2024-12-17 - mark it shipped?"
        )
        (detection,) = await w.bot.probes.list_detections(w.guild)
        assert reply.message.custom_ids() == [
            f"sw:pconfirm:{detection.id}",
            f"sw:preject:{detection.id}",
        ]
        await settled(w)
        assert w.server.messages(w.alerts, kind="channel") == []  # shown in the reply only
        done = await w.click(reply.message, f"sw:pconfirm:{detection.id}", w.manager)
        confirmed = (await done.wait_followups(1, timeout=10))[0]
        assert confirmed.content == (
            "Confirmed: Grok 3 (xAI) shipped on 2024-12-17 (104 days early)."
        )
        launch = await w.bot.tracker.get(w.guild, launch_id)
        assert launch.state is LaunchState.SHIPPED and str(launch.shipped_on) == "2024-12-17"


async def test_watch_refuses_a_hugging_face_organisation_with_the_right_form(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        launch_id = str(await add_grok(w))
        reply = await w.cmd(
            "launch watch",
            launch=launch_id,
            kind="huggingface",
            target="https://huggingface.co/xai-org",
        )
        assert reply.ephemeral
        assert reply.content == (
            "xai-org is a Hugging Face organisation or user, not a model repository. Give one "
            "model repository as owner/name, like xai-org/<model> (xai-org/grok-1); to follow "
            "everything an organisation publishes, watch its feed or page instead."
        )
        assert await w.bot.probes.list_probes(w.guild) == []


async def test_watch_says_when_the_first_check_failed(tmp_path: Path, db_target: str) -> None:
    async with probe_world(db_target) as (w, probe):
        launch_id = await add_grok(w, window="Q1 2025", announced_on="2024-12-01")
        probe.fail("/down.rss", 503, times=1)
        reply = await w.cmd(
            "launch watch",
            launch=str(launch_id),
            kind="feed",
            target=probe.url("/down.rss"),
            pattern="Grok 3",
        )
        (watching,) = await w.bot.probes.list_probes(w.guild)
        retry = int(watching.next_check_at.timestamp())
        assert reply.content == (
            f"Watching for Grok 3 (xAI): probe #1, feed {probe.url('/down.rss')}, looking for "
            "\u201cGrok 3\u201d, every 30 minutes. The first check failed: the server answered "
            f"503. The probe tries again <t:{retry}:R>; see /launch probes."
        )
        assert reply.components == []
        probe.put("/beta.rss", rss(OLD), "application/rss+xml")
        beta = await w.cmd(
            "launch watch",
            launch=str(launch_id),
            kind="feed",
            target=probe.url("/beta.rss"),
            beta=True,
        )
        assert "every 30 minutes (beta). The first check found no release yet." in beta.content
        listing = await w.cmd("launch probes", launch=str(launch_id))
        lines = listing.embeds[0]["description"].splitlines()
        assert "`Grok 3` · every 30 min · beta (pre-releases count) · ok" in lines[1]


GROK_3 = ("Grok 3 is here", "https://x.ai/news/grok-3", "Grok 3 is available today.")
GROK_3_APP = ("Grok 3 in the app", "https://x.ai/news/app", "Grok 3 is available in the app.")


async def watching(w: World, probe: ProbeServer) -> int:
    """An alert channel with only proposals in it, and a feed probe past its first check."""
    await w.cmd("alerts channel", channel=str(w.alerts))
    await w.cmd("alerts reminders", days="off")
    await w.cmd("alerts digest", schedule="off")
    probe.put("/news.rss", rss(OLD), "application/rss+xml")
    launch_id = await add_grok(w, window="Q1 2025", announced_on="2024-12-01")
    await w.cmd(
        "launch watch",
        launch=str(launch_id),
        kind="feed",
        target=probe.url("/news.rss"),
        pattern="Grok 3",
    )
    await settled(w)
    return launch_id


async def proposal_rows(w: World) -> list[OutboxRow]:
    """The outbox rows that post detections, oldest first."""
    rows = await w.bot.app.store.read.outbox.all_outbox()
    return sorted((r for r in rows if r.payload.detection is not None), key=lambda r: r.id)


async def sent_proposals(w: World, count: int) -> list[OutboxRow] | None:
    rows = await proposal_rows(w)
    sent = [r for r in rows if r.state is OutboxState.SENT]
    return sent if len(sent) == count else None


async def test_a_proposal_refused_with_a_503_is_posted_once_on_the_retry(
    tmp_path: Path, db_target: str
) -> None:
    async with probe_world(db_target) as (w, probe):
        launch_id = await watching(w, probe)
        route = rf"POST /channels/{w.alerts}/messages"
        # discord.py retries a 500 by itself; the 503 after it reaches the outbox, which
        # retries the post later.
        w.server.inject(route, 500, times=1)
        w.server.inject(route, 503, times=1)
        probe.put("/news.rss", rss([GROK_3, *OLD]), "application/rss+xml")
        await next_poll(w)
        (row,) = await eventually(lambda: sent_proposals(w, 1), what="the proposal sent")
        (proposal,) = w.server.messages(w.alerts, kind="channel")
        assert proposal.embeds[0]["title"] == "🔎 Grok 3 (xAI) may have been released"
        (detection, *_) = await w.bot.probes.list_detections(w.guild, launch_id)
        assert proposal.custom_ids() == [
            f"sw:pconfirm:{detection.id}",
            f"sw:preject:{detection.id}",
        ]
        posts = w.server.requests_matching(route)
        assert [p.status for p in posts] == [500, 503, 200]
        assert {p.json["nonce"] for p in posts} == {row.nonce}
        assert row.idem_key == f"detection:{detection.id}"
        assert (row.dest_kind, row.dest_id, row.guild_id) == (
            DestinationKind.CHANNEL,
            w.alerts,
            w.guild,
        )
        assert row.attempts == 2 and row.sent_message_id == proposal.id
        assert (detection.message_id, detection.posted_at) == (proposal.id, row.sent_at)
        await next_poll(w)  # posted: never posted again
        assert len(w.server.messages(w.alerts, kind="channel")) == 1
        # The buttons work on the posted message.
        done = await w.click(proposal, f"sw:preject:{detection.id}", w.manager)
        said = (await done.wait_followups(1, timeout=10))[0]
        assert said.content == "Noted as not yet; the probe keeps watching for something new."


async def test_a_channel_that_refuses_holds_the_proposals_until_it_is_fixed(
    tmp_path: Path, db_target: str
) -> None:
    async with probe_world(db_target) as (w, probe):
        launch_id = await watching(w, probe)
        route = rf"POST /channels/{w.alerts}/messages"
        w.server.fail_channel(w.alerts, 403, 50013)
        probe.put("/news.rss", rss([GROK_3, *OLD]), "application/rss+xml")
        await next_poll(w)

        async def held(count: int) -> list[OutboxRow] | None:
            rows = [r for r in await proposal_rows(w) if r.state is OutboxState.HELD]
            return rows if len(rows) == count else None

        await eventually(lambda: held(1), what="the proposal held")
        (broken,) = await w.bot.app.store.read.destinations.broken_destinations(w.guild)
        assert (broken["dest_id"], broken["held"]) == (w.alerts, 1)
        # A second proposal is queued held: the channel is not asked again.
        probe.put("/news.rss", rss([GROK_3_APP, GROK_3, *OLD]), "application/rss+xml")
        await next_poll(w)
        await eventually(lambda: held(2), what="both proposals held")
        await w.bot.engine.settle(limit_s=20.0)
        assert [r.status for r in w.server.requests_matching(route)] == [403]
        # Fixed and chosen again: both are posted, oldest first, once each.
        w.server.heal_channel(w.alerts)
        await w.cmd("alerts channel", channel=str(w.alerts))
        rows = await eventually(lambda: sent_proposals(w, 2), what="both proposals sent")
        posted = [m for m in w.server.messages(w.alerts, kind="channel") if m.embeds]
        proposals = [m for m in posted if m.embeds[0]["title"].startswith("🔎")]
        assert [m.embeds[0]["fields"][0]["value"] for m in proposals] == [
            "Grok 3 is here",
            "Grok 3 in the app",
        ]
        detections = await w.bot.probes.list_detections(w.guild, launch_id)
        assert sorted(d.message_id or 0 for d in detections) == sorted(
            r.sent_message_id or 0 for r in rows
        )
        assert sorted(m.id for m in proposals) == sorted(r.sent_message_id or 0 for r in rows)


async def test_a_proposal_in_flight_when_the_bot_stops_is_shown_once_after_the_restart(
    tmp_path: Path, db_target: str
) -> None:
    async with probe_world(db_target) as (w, probe):
        launch_id = await watching(w, probe)
        route = rf"POST /channels/{w.alerts}/messages"
        # The post hangs for 3 s (Discord takes it in the end): the bot stops meanwhile.
        slow = w.server.inject(route, None, times=1, delay=3.0)
        probe.put("/news.rss", rss([GROK_3, *OLD]), "application/rss+xml")
        w.clock.set(w.clock.now() + dt.timedelta(minutes=40))
        await w.bot.engine.rearm()  # not settled: the bot stops with the post in flight
        await eventually(lambda: slow.hits, what="the post in flight")
        await stop_client(w.bot)
        (row,) = await proposal_rows(w)
        assert row.state is OutboxState.PENDING
        (detection, *_) = await w.bot.probes.list_detections(w.guild, launch_id)
        assert detection.posted_at is None
        clock = OffsetClock(w.clock.now())
        settings = settings_for(w.server, db_target)
        async with running_resources(settings, clock=clock, guild_ready_timeout=0.05) as bot:
            await start_client(w.server, bot, point=False, timeout=20.0)
            try:
                w.bot = bot
                (row,) = await eventually(lambda: sent_proposals(w, 1), what="sent after restart")
                await asyncio.sleep(3.5)  # the first send has landed too
                (shown,) = w.server.messages(w.alerts, kind="channel")
                assert row.sent_message_id == shown.id
                posts = w.server.requests_matching(route)
                assert len(posts) == 2  # the resend carried the nonce: Discord kept one
                assert {p.json["nonce"] for p in posts} == {row.nonce}
                found = await bot.probes.get_detection(w.guild, detection.id)
                assert (found.message_id, found.posted_at) == (shown.id, row.sent_at)
            finally:
                await stop_client(bot)


async def waiting_proposal(w: World, probe: ProbeServer) -> Detection:
    """A proposal found while the server has no alert channel: recorded, not queued."""
    await w.cmd("alerts reminders", days="off")
    await w.cmd("alerts digest", schedule="off")
    probe.put("/news.rss", rss(OLD), "application/rss+xml")
    launch_id = await add_grok(w, window="Q1 2025", announced_on="2024-12-01")
    await w.cmd(
        "launch watch",
        launch=str(launch_id),
        kind="feed",
        target=probe.url("/news.rss"),
        pattern="Grok 3",
    )
    await settled(w)
    probe.put("/news.rss", rss([GROK_3, *OLD]), "application/rss+xml")
    await next_poll(w)
    (detection,) = await w.bot.probes.list_detections(w.guild, launch_id)
    assert detection.state is DetectionState.PROPOSED and detection.posted_at is None
    assert await proposal_rows(w) == []  # nowhere to post it
    return detection


def shown_proposals(w: World) -> list[Any]:
    return [
        m
        for m in w.server.messages(w.alerts, kind="channel")
        if m.embeds and m.embeds[0]["title"].startswith("🔎")
    ]


async def test_proposals_of_a_server_without_an_alert_channel_are_posted_once_it_has_one(
    tmp_path: Path, db_target: str
) -> None:
    async with probe_world(db_target) as (w, probe):
        detection = await waiting_proposal(w, probe)
        await w.cmd("alerts channel", channel=str(w.alerts))
        (row,) = await eventually(lambda: sent_proposals(w, 1), what="posted")
        (shown,) = shown_proposals(w)
        assert shown.id == row.sent_message_id
        assert row.idem_key == f"detection:{detection.id}"
        assert shown.custom_ids() == [f"sw:pconfirm:{detection.id}", f"sw:preject:{detection.id}"]
        found = await w.bot.probes.get_detection(w.guild, detection.id)
        assert (found.message_id, found.posted_at) == (shown.id, row.sent_at)


async def test_proposals_an_older_version_left_unposted_are_posted_once_at_start(
    tmp_path: Path, db_target: str
) -> None:
    async with probe_world(db_target) as (w, probe):
        detection = await waiting_proposal(w, probe)
        await stop_client(w.bot)
        # An older version set the channel without queuing anything (it posted proposals
        # itself, from the unposted detections).
        store = w.bot.app.store
        async with store.transaction() as tx:
            config = await tx.guilds.get_guild(w.guild)
            await tx.guilds.save_guild(
                dataclasses.replace(config, alert_channel_id=w.alerts), w.clock.now()
            )
        for _ in range(2):  # two starts: queued once
            settings = settings_for(w.server, db_target)
            clock = OffsetClock(w.clock.now())
            async with running_resources(settings, clock=clock, guild_ready_timeout=0.05) as bot:
                await start_client(w.server, bot, point=False, timeout=20.0)
                try:
                    w.bot = bot
                    (row,) = await eventually(lambda: sent_proposals(w, 1), what="posted")
                    assert len(await proposal_rows(w)) == 1
                    (shown,) = shown_proposals(w)
                    assert shown.id == row.sent_message_id
                    assert row.idem_key == f"detection:{detection.id}"
                    found = await bot.probes.get_detection(w.guild, detection.id)
                    assert found.message_id == shown.id
                finally:
                    await stop_client(bot)

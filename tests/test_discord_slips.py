"""Summaries end to end: /slips stats|leaderboard|chart|summary, the scheduled digest with its
chart, /alerts digest, and /launch export|import between servers."""

from __future__ import annotations

import datetime as dt
import json
import struct
from pathlib import Path

from tests.e2e import UTC, World, eventually, world
from tests.test_discord_launch import NOT_MANAGER
from tracker import stats as score
from tracker.models import NewLaunch

PNG = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG
    width, height = struct.unpack(">II", data[16:24])
    return width, height


async def record(w: World) -> None:
    """Four resolved launches and one still late (clock: 2024-12-20)."""
    t = w.bot.tracker
    g = w.guild

    async def add(product: str, vendor: str, window: str, announced: dt.date, who: str) -> int:
        added = await t.add(NewLaunch(g, product, vendor, window, announced, announcer=who), "t")
        return added.launch.id

    # On time: window ends 2024-03-31, shipped 2024-03-20 -> 0 days late.
    a = await add("Alpha 1", "Alpha Labs", "Q1 2024", dt.date(2024, 1, 10), "Ann")
    await t.shipped(g, a, "t", on=dt.date(2024, 3, 20))
    # Late: window ends 2024-06-30, shipped 2024-07-30 -> 30 days late.
    b = await add("Alpha 2", "Alpha Labs", "Q2 2024", dt.date(2024, 4, 1), "Ann")
    await t.shipped(g, b, "t", on=dt.date(2024, 7, 30))
    # Late: window ends 2024-08-31, shipped 2024-09-10 -> 10 days late.
    c = await add("Beta 1", "Beta AI", "August 2024", dt.date(2024, 6, 1), "Bob")
    await t.shipped(g, c, "t", on=dt.date(2024, 9, 10))
    # Cancelled.
    d = await add("Beta 2", "Beta AI", "September 2024", dt.date(2024, 6, 1), "Bob")
    await t.cancelled(g, d, "t", on=dt.date(2024, 10, 15), reason="dropped")
    # Still out: window ended 2024-11-30, 20 days late on 2024-12-20.
    await add("Beta 3", "Beta AI", "November 2024", dt.date(2024, 8, 1), "Bob")
    await w.bot.engine.settle()


async def test_stats_leaderboard_and_summary(tmp_path: Path, db_target: str) -> None:
    async with world(db_target) as w:
        empty = await w.cmd("slips stats", user=w.member)
        assert empty.content == "The watchlist is empty."
        await record(w)
        reply = await w.cmd("slips stats", user=w.member)
        assert reply.ephemeral
        embed = reply.embeds[0]
        assert embed["title"] == "Track record"
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        # Scored: 3 shipped, 1 cancelled and Beta 3, 20 days past its first promise; Alpha 1
        # (11 days early) is the only one on time -> 1 of 5.
        assert fields["On time"] == "20% (1)"
        assert fields["Shipped late"] == "2"
        assert fields["Still out, overdue"] == "1"
        assert fields["Cancelled"] == "1"
        # Late ones: Alpha 2 30, Beta 1 10, Beta 3 20 (running) -> median 20.
        assert fields["Median late"] == "20 days"
        assert fields["Worst slip"] == "Alpha 2 (Alpha Labs): 30 days late"
        assert fields["Still out past the first promise (1)"] == (
            "• Beta 3 (Beta AI): 20 days late (still out)"
        )
        # Multiplier over those shipped late: Alpha 2 (120 / 90 days), Beta 1 (101 / 91 days).
        assert fields["Time multiplier"] == f"×{((120 / 90) + (101 / 91)) / 2:.2f} (median of 2)"
        assert fields["Kept the latest promise"] == "20% (1)"
        assert embed["description"] == "5 launches: 5 scored, 0 not yet due."
        assert embed["footer"]["text"] == score.RULES
        beta = await w.cmd("slips stats", user=w.member, vendor="beta ai")
        assert {f["name"]: f["value"] for f in beta.embeds[0]["fields"]}["On time"] == "0% (0)"
        board = await w.cmd("slips leaderboard", user=w.member, minimum=1)
        lines = board.embeds[0]["description"].split("\n")
        assert lines[0].startswith("**1.** Alpha Labs · 50% on time (1/2)")
        assert lines[1].startswith("**2.** Beta AI · 0% on time (0/3)")
        # The overdue launch counts: Beta AI has 3 scored launches and is ranked at 0%.
        strict = await w.cmd("slips leaderboard", user=w.member)
        assert strict.embeds[0]["description"] == (
            "**1.** Beta AI · 0% on time (0/3) · median 15 days late"
        )
        assert strict.embeds[0]["fields"] == [
            {"name": "Not enough scored launches yet", "value": "Alpha Labs", "inline": True}
        ]
        summary = await w.cmd("slips summary", user=w.member, public=True)
        assert not summary.ephemeral
        assert summary.embeds[0]["title"] == "slipwatch digest"


async def test_chart_is_a_png_of_the_timeline(tmp_path: Path, db_target: str) -> None:
    async with world(db_target) as w:
        await record(w)
        reply = await w.cmd("slips chart", user=w.member)
        files = reply.files or [f for m in reply.followups for f in m.files]
        assert len(files) == 1 and files[0].filename == "slipwatch-timeline.png"
        width, height = png_size(files[0].data)
        assert width == 1200 and height > 200
        bad = await w.cmd("slips chart", user=w.member, since="last year")
        assert bad.content == (
            "Could not read 'last year' as a date for since. "
            "Type it as YYYY-MM-DD, like 2025-02-17."
        )
        none = await w.cmd("slips chart", user=w.member, vendor="Nobody")
        assert none.content == "No launches to draw for that filter."


async def test_digest_schedule_and_the_posted_digest_with_its_chart(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await record(w)
        await w.cmd("alerts channel", channel=str(w.alerts))
        refused = await w.cmd("alerts digest", user=w.member, schedule="daily 09:00")
        assert refused.content == NOT_MANAGER
        bad = await w.cmd("alerts digest", schedule="sometimes")
        assert bad.ephemeral and bad.content.startswith(
            'Could not read "sometimes" as a digest schedule'
        )
        assert 'Type "daily 09:00", "weekly monday 09:00"' in bad.content
        ok = await w.cmd("alerts digest", schedule="daily 13:00")
        assert ok.content.startswith(
            f"Digests every day at 13:00 (UTC) in <#{w.alerts}>; an empty period gets one line."
        )
        # Setting the schedule records the period just ended as a baseline (no instant digest);
        # each scheduled time after that posts one digest.
        await w.advance(dt.datetime(2024, 12, 20, 13, 0, 1, tzinfo=UTC))
        await w.bot.tracker.shipped(w.guild, 5, "t", on=dt.date(2024, 12, 20))
        await w.advance(dt.datetime(2024, 12, 21, 13, 0, 1, tzinfo=UTC))

        def digests_posted() -> list:  # type: ignore[type-arg]
            return [
                m
                for m in w.server.messages(w.alerts, kind="channel")
                if m.embeds and m.embeds[0]["title"] == "slipwatch digest"
            ]

        # A bound, not a timing: each digest draws its chart in a worker first, slow on a busy CI.
        await eventually(lambda: len(digests_posted()) >= 2, limit_s=120, what="the digests")
        await w.bot.engine.settle()
        digests = digests_posted()
        assert len(digests) == 2  # Dec 20 13:00 and Dec 21 13:00, once each
        digest = digests[-1:]
        embed = digest[0].embeds[0]
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields["✅ Shipped (1)"] == "• Beta 3 (Beta AI): 20 days late (2024-12-20)"
        assert embed["image"]["url"] == "attachment://slipwatch-timeline.png"
        assert png_size(digest[0].files[0].data)[0] == 1200
        off = await w.cmd("alerts digest", schedule="off")
        assert off.content == "Digests are off."


async def test_export_then_import_into_another_server(tmp_path: Path, db_target: str) -> None:
    async with world(db_target) as w:
        await record(w)
        refused = await w.cmd("launch export", user=w.member)
        assert refused.content == NOT_MANAGER
        export = await w.cmd("launch export", format="json")
        assert export.content == "5 launches, every field and the full history."
        data = export.files[0].data
        rows = json.loads(data)
        assert [r["product"] for r in rows] == ["Alpha 1", "Alpha 2", "Beta 1", "Beta 2", "Beta 3"]
        dry = await w.cmd(
            "launch import",
            guild=w.other_guild,
            user=w.manager,
            file=(export.files[0].filename, data),
        )
        assert dry.content.startswith("Would import 5 launches with")
        assert await w.launch_count(w.other_guild) == 0
        done = await w.cmd(
            "launch import",
            guild=w.other_guild,
            user=w.manager,
            file=(export.files[0].filename, data),
            dry_run=False,
        )
        assert done.content.startswith("Imported 5 launches with")
        theirs = await w.bot.app.store.read.launches.all_launches(w.other_guild)
        ours = await w.bot.app.store.read.launches.all_launches(w.guild)
        assert [(x.product, x.state, x.days_late, x.shipped_on) for x in theirs] == [
            (x.product, x.state, x.days_late, x.shipped_on) for x in ours
        ]
        broken = data.replace(b'"announced_on": "2024-01-10"', b'"announced_on": "someday"')
        bad = await w.cmd(
            "launch import",
            guild=w.other_guild,
            user=w.manager,
            file=("bad.json", broken),
            dry_run=False,
        )
        assert bad.content.startswith("Nothing was imported: 1 problem in 5 rows.")
        assert "Row 1" in bad.content
        assert await w.launch_count(w.other_guild) == 5

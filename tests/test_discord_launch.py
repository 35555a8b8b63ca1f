"""/launch end to end: the real bot, the loopback Discord, a real database."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from tests.e2e import UTC, World, eventually, world
from tracker.models import EventKind, LaunchState

NOT_MANAGER = (
    "Only managers can do that: you need the Manage Server permission or the server's "
    "slipwatch manager role."
)


async def add_grok(w: World, **extra: str) -> int:
    options: dict[str, Any] = {"product": "Grok 3", "vendor": "xAI", "window": "end of 2024"}
    options.update(extra)
    reply = await w.cmd("launch add", **options)
    assert reply.content.startswith("Added #"), reply.content
    return int(reply.content.split("#")[1].split()[0])


async def test_launch_add_replies_with_the_interpretation(tmp_path: Path, db_target: str) -> None:
    async with world(db_target) as w:
        reply = await w.cmd(
            "launch add",
            product="Grok 3",
            vendor="xAI",
            window="end of 2024",
            announced_on="2024-07-01",
            announcer="Elon Musk",
            source="https://x.com/elonmusk",
            quote="Grok 3 end of year after training on 100k H100s",
        )
        assert not reply.ephemeral
        assert reply.content == "Added #1 to the watchlist."
        embed = reply.embeds[0]
        assert embed["title"] == "#1 Grok 3 (xAI)"
        assert embed["description"].startswith(
            'Read "end of 2024" as 2024-09-01 – 2024-12-31 (rule: year_part). '
            "The deadline is <t:1735689600:F>"
        )
        fields = {f["name"]: f["value"] for f in embed["fields"]}
        assert fields["State"] == "upcoming"
        assert fields["Deadline"] == "<t:1735689600:F>\n<t:1735689600:R>"
        assert fields["Announced"] == "2024-07-01 by Elon Musk"
        assert fields["The promise"] == "> Grok 3 end of year after training on 100k H100s"
        launches = await w.bot.app.store.read.launches.all_launches(w.guild)
        assert [(x.product, x.vendor, x.window_end) for x in launches] == [
            ("Grok 3", "xAI", dt.date(2024, 12, 31))
        ]
        events = await w.bot.app.store.read.events.launch_events(1)
        assert [e.kind for e in events] == [EventKind.CREATED]
        assert events[0].actor == f"mia ({w.manager})"


async def test_launch_add_refuses_unreadable_window_and_saves_nothing(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        reply = await w.cmd("launch add", product="Grok 3", vendor="xAI", window="soon")
        assert reply.ephemeral
        assert reply.content.startswith('Could not read "soon" as a launch window. Try one of:')
        assert await w.launch_count() == 0
        bad_date = await w.cmd(
            "launch add", product="Grok 3", vendor="xAI", window="Q1 2025", announced_on="July 1"
        )
        assert bad_date.ephemeral
        assert bad_date.content == (
            "Could not read 'July 1' as a date for announced_on. Type it as YYYY-MM-DD, "
            "like 2025-02-17."
        )
        bad_link = await w.cmd(
            "launch add", product="Grok 3", vendor="xAI", window="Q1 2025", source="x.com/elon"
        )
        assert bad_link.content == (
            "'x.com/elon' is not a web link. Give the full address, like https://x.com/elonmusk/..."
        )
        bad_tz = await w.cmd(
            "launch add", product="Grok 3", vendor="xAI", window="Q1 2025", timezone="Mars/Base"
        )
        assert bad_tz.content.startswith("Unknown timezone 'Mars/Base'. Use an IANA name")
        assert await w.launch_count() == 0


async def test_managing_needs_manage_server_or_the_manager_role(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        reply = await w.cmd(
            "launch add", user=w.member, product="Grok 3", vendor="xAI", window="Q1 2025"
        )
        assert reply.ephemeral and reply.content == NOT_MANAGER
        assert await w.launch_count() == 0
        role = w.server.add_role(w.guild, "launch-keepers")
        w.server.add_member(w.guild, w.member, roles=[role], permissions=0)
        await w.bot.tracker.configure(w.guild, manager_role_id=role)
        ok = await w.cmd(
            "launch add", user=w.member, product="Grok 3", vendor="xAI", window="Q1 2025"
        )
        assert ok.content == "Added #1 to the watchlist."
        # Reading is open to everyone.
        shown = await w.cmd("launch show", user=w.member, launch="1")
        assert shown.embeds[0]["title"] == "#1 Grok 3 (xAI)"


async def test_list_is_sorted_by_deadline_and_paginates_with_buttons(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        for month in range(12, 0, -1):
            await w.bot.tracker.add(
                _new(w.guild, f"Model {month:02d}", "Lab", f"2025-{month:02d}-15"), actor="t"
            )
        reply = await w.cmd("launch list", user=w.member)
        assert reply.ephemeral
        embed = reply.embeds[0]
        assert embed["title"] == "Launches (12)"
        lines = embed["description"].split("\n")
        assert len(lines) == 10
        assert lines[0].startswith("`#12` **Model 01 (Lab)**")
        assert embed["footer"]["text"] == "page 1 of 2 · sorted by deadline"
        ids = [c["custom_id"] for row in reply.components for c in row["components"]]
        assert ids[0] != ids[1]
        await w.server.click(reply.response, ids[1], w.member)
        await eventually(lambda: reply.response.edits, what="page 2")
        second = reply.response.edits[-1]["embeds"][0]
        assert second["description"].split("\n")[0].startswith("`#2` **Model 11 (Lab)**")
        assert second["footer"]["text"] == "page 2 of 2 · sorted by deadline"
        empty = await w.cmd("launch list", user=w.member, vendor="Nobody")
        assert empty.content == "No launches match. Add one with /launch add."


async def test_shipped_cancelled_delayed_and_history(tmp_path: Path, db_target: str) -> None:
    async with world(db_target, start=dt.datetime(2025, 2, 17, 18, tzinfo=UTC)) as w:
        await w.bot.tracker.configure(w.guild, alert_channel_id=w.alerts)
        launch_id = await add_grok(w, announced_on="2024-07-01")
        await w.bot.engine.settle()
        delayed = await w.cmd(
            "launch delayed", launch=str(launch_id), window="end of February 2025"
        )
        assert delayed.content.startswith(f"Re-announced #{launch_id}: new deadline <t:")
        assert delayed.content.endswith("(slip #1).")
        shipped = await w.cmd("launch shipped", launch=str(launch_id), on="2025-02-17")
        assert shipped.content == (
            "Marked Grok 3 (xAI) shipped on 2025-02-17: 48 days late against the first promise "
            "(2024-12-31), 11 days early against the latest (2025-02-28)."
        )
        again = await w.cmd("launch cancelled", launch=str(launch_id), reason="nope")
        assert again.ephemeral
        assert again.content == (
            "Grok 3 was already shipped on 2025-02-17, so it cannot be cancelled. "
            "Use /launch history to see what happened."
        )
        history = await w.cmd("launch history", user=w.member, launch="Grok 3")
        text = history.embeds[0]["description"]
        assert "**added" in text and "**missed its window" in text
        assert '**re-announced: "end of 2024" → "end of February 2025" (slip #1)**' in text
        assert "**shipped on 2025-02-17 (48 days late against the first promise)**" in text
        launch = await w.bot.tracker.get(w.guild, launch_id)
        assert launch.state is LaunchState.SHIPPED and launch.slip_count == 1
        bad = await w.cmd("launch shipped", launch=str(launch_id), on="17/02/2025")
        assert bad.content.startswith("Could not read '17/02/2025' as a date for on.")
        # The channel heard: slipped (caught up at add), re-announced, shipped.
        titles = await eventually(
            lambda: (
                [m.embeds[0]["title"] for m in w.server.messages(w.alerts)]
                if len(w.server.messages(w.alerts)) >= 3
                else None
            ),
            what="three channel alerts",
        )
        assert titles == [
            "🚨 Grok 3 (xAI) missed its window",
            "🔁 Grok 3 (xAI) was re-announced (slip #1)",
            "✅ Grok 3 (xAI) shipped 48 days late",
        ]


async def test_edit_remove_with_confirmation(tmp_path: Path, db_target: str) -> None:
    async with world(db_target) as w:
        launch_id = await add_grok(w)
        edited = await w.cmd("launch edit", launch=str(launch_id), product="Grok 3 Beta")
        assert edited.content == f"Updated #{launch_id}."
        assert edited.embeds[0]["title"] == f"#{launch_id} Grok 3 Beta (xAI)"
        nothing = await w.cmd("launch edit", launch=str(launch_id))
        assert nothing.content == "Nothing to change: give at least one field to edit."
        refused = await w.cmd("launch remove", user=w.member, launch=str(launch_id))
        assert refused.content == NOT_MANAGER
        ask = await w.cmd("launch remove", launch=str(launch_id))
        assert ask.ephemeral and ask.content.startswith(f"Remove #{launch_id} Grok 3 Beta (xAI)")
        confirm = next(
            c["custom_id"]
            for row in ask.components
            for c in row["components"]
            if c["label"] == "Remove"
        )
        await w.server.click(ask.response, confirm, w.manager)
        await eventually(lambda: ask.response.edits, what="confirmation edit")
        assert ask.response.edits[-1]["content"].startswith(f"Removed #{launch_id}")
        assert await w.launch_count() == 0


async def test_guild_isolation(tmp_path: Path, db_target: str) -> None:
    async with world(db_target) as w:
        launch_id = await add_grok(w)
        cases: list[tuple[str, dict[str, Any]]] = [
            ("launch show", {}),
            ("launch edit", {"product": "Stolen"}),
            ("launch shipped", {}),
            ("subscribe launch", {}),
        ]
        for name, extra in cases:
            reply = await w.cmd(
                name, user=w.outsider, guild=w.other_guild, launch=str(launch_id), **extra
            )
            assert reply.ephemeral, name
            assert reply.content == (
                f"No launch '{launch_id}' in this server. Pick one from the list as you type, "
                "or see /launch list."
            ), name
        choices = await w.server.autocomplete(
            w.other_guild, w.other_channel, w.outsider, "launch show", launch="Gr"
        )
        assert choices == []
        mine = await w.server.autocomplete(w.guild, w.general, w.member, "launch show", launch="Gr")
        assert mine == [{"name": "Grok 3 (xAI) · upcoming · #1", "value": "1"}]
        launch = await w.bot.tracker.get(w.guild, launch_id)
        assert launch.product == "Grok 3" and launch.state is LaunchState.UPCOMING


def _new(guild: int, product: str, vendor: str, window: str):  # type: ignore[no-untyped-def]
    from tracker.models import NewLaunch

    return NewLaunch(
        guild_id=guild,
        product=product,
        vendor=vendor,
        window_phrase=window,
        announced_on=dt.date(2024, 12, 1),
    )

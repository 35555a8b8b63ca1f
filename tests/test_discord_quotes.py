"""/launch add and /launch delayed reading the window from a quote, end to end."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.e2e import world

QUOTE = "Grok 3 by the end of the year, after training on 100k H100s."
TWO = "We will ship the small model in a couple of weeks and the full one later next year."


async def test_launch_add_reads_the_window_from_the_quote(tmp_path: Path, db_target: str) -> None:
    async with world(db_target) as w:
        reply = await w.cmd(
            "launch add", product="Grok 3", vendor="xAI", quote=QUOTE, announced_on="2024-07-01"
        )
        assert not reply.ephemeral
        assert reply.content == "Added #1 to the watchlist."
        description = reply.embeds[0]["description"]
        assert description.startswith(
            "> Grok 3 **by the end of the year**, after training on 100k H100s.\n"
            'Read "by the end of the year" as 2024-09-01 – 2024-12-31 (rule: year_part). '
            "The deadline is <t:1735689600:F>, <t:1735689600:R>."
        )
        (launch,) = await w.bot.app.store.read.launches.all_launches(w.guild)
        assert (launch.window_phrase, launch.window_end, launch.quote) == (
            "by the end of the year",
            dt.date(2024, 12, 31),
            QUOTE,
        )


async def test_several_windows_in_a_quote_are_chosen_from_a_menu(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        reply = await w.cmd("launch add", product="Grok 4", vendor="xAI", quote=TWO)
        assert reply.content == "The quote promises 2 windows: choose the one Grok 4 is held to."
        assert await w.launch_count() == 0
        embed = reply.embeds[0]
        assert [f["name"] for f in embed["fields"]] == [
            "1. in a couple of weeks",
            "2. later next year",
        ]
        assert embed["fields"][1]["value"] == (
            "> We will ship the small model in a couple of weeks and the full one "
            "**later next year**.\n2025-01-01 – 2025-12-31 (rule: year)"
        )
        menu = reply.message.component("sw:quote-window")
        assert [(o["label"], o["description"]) for o in menu["options"]] == [
            ("in a couple of weeks", "2024-12-20 – 2025-01-03"),
            ("later next year", "2025-01-01 – 2025-12-31"),
        ]
        refused = await w.server.click(reply.message, "sw:quote-window", w.member, values=["1"])
        assert refused.content == "Only whoever gave the quote can choose its window."
        assert refused.ephemeral and await w.launch_count() == 0
        picked = await w.server.click(reply.message, "sw:quote-window", w.manager, values=["1"])
        assert picked.message is not None and picked.message is reply.message
        assert reply.message.content == "Added #1 to the watchlist."
        assert reply.message.components == []
        assert "**later next year**" in reply.message.embeds[0]["description"]
        (launch,) = await w.bot.app.store.read.launches.all_launches(w.guild)
        assert (launch.product, launch.window_phrase, launch.window_end) == (
            "Grok 4",
            "later next year",
            dt.date(2025, 12, 31),
        )


async def test_a_quote_without_a_window_is_refused_and_nothing_is_saved(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        reply = await w.cmd("launch add", product="Grok 3", vendor="xAI", quote="Soon, we hope.")
        assert reply.ephemeral
        assert reply.content == (
            "The quote promises no launch window I can read. Give the window too, e.g. "
            '"end of next year", "Q3 next year", "in 6 weeks".'
        )
        neither = await w.cmd("launch add", product="Grok 3", vendor="xAI")
        assert neither.ephemeral
        assert neither.content == (
            'Give the window ("end of next year", "Q3 next year", "in 6 weeks") or a quote '
            "that states it."
        )
        assert await w.launch_count() == 0


async def test_launch_delayed_reads_the_new_window_from_the_quote(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await w.cmd("launch add", product="Grok 3", vendor="xAI", window="end of 2024")
        reply = await w.cmd(
            "launch delayed",
            launch="1",
            quote="Grok 3 was originally planned for December; it now arrives in Q1 2025.",
        )
        assert reply.content.startswith("Re-announced #1: new deadline <t:1743465600:F> (slip #1)")
        assert reply.embeds[0]["description"] == (
            "> Grok 3 was originally planned for December; it now arrives **in Q1 2025**.\n"
            'Read "in Q1 2025" as 2025-01-01 – 2025-03-31 (rule: quarter).'
        )
        (launch,) = await w.bot.app.store.read.launches.all_launches(w.guild)
        assert (launch.window_phrase, launch.window_end, launch.slip_count) == (
            "in Q1 2025",
            dt.date(2025, 3, 31),
            1,
        )


async def test_launch_revived_reads_the_new_window_from_the_quote(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target) as w:
        await w.cmd("launch add", product="o3", vendor="OpenAI", window="end of 2024")
        await w.cmd("launch cancelled", launch="1")
        quote = "Originally planned for December, o3 is back: it now ships in Q2 2025."
        reply = await w.cmd("launch revived", launch="1", quote=quote)
        assert reply.content.startswith("Revived #1 o3 (OpenAI): new deadline <t:1751328000:F>")
        assert reply.embeds[0]["description"] == (
            "> Originally planned for December, o3 is back: it now ships **in Q2 2025**.\n"
            'Read "in Q2 2025" as 2025-04-01 – 2025-06-30 (rule: quarter).'
        )
        (launch,) = await w.bot.app.store.read.launches.all_launches(w.guild)
        assert (launch.state.value, launch.window_phrase, launch.window_end) == (
            "upcoming",
            "in Q2 2025",
            dt.date(2025, 6, 30),
        )
        nothing = await w.cmd("launch revived", launch="1", quote="We will see.")
        assert nothing.ephemeral and nothing.content.startswith("The quote promises no launch")

"""The honest-accounting commands end to end: evidence on add, running lateness in /launch show
and list, an undated cancellation, /launch revived and a rumour left out of /slips stats."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.e2e import UTC, world
from tests.test_discord_launch import NOT_MANAGER, add_grok
from tracker.models import SubscriptionScope


async def test_revived_launch_keeps_its_first_promise(tmp_path: Path, db_target: str) -> None:
    async with world(db_target, start=dt.datetime(2025, 2, 12, 18, tzinfo=UTC)) as w:
        o3 = await add_grok(
            w, product="o3", vendor="OpenAI", window="early next year", announced_on="2024-12-20"
        )
        early = await w.cmd("launch revived", launch=str(o3), window="in the coming weeks")
        assert early.ephemeral and early.content == (
            "o3 is upcoming, not cancelled, so it cannot be revived. "
            "Use /launch delayed for a new window."
        )
        refused = await w.cmd("launch revived", user=w.member, launch=str(o3), window="soon")
        assert refused.content == NOT_MANAGER
        dropped = await w.cmd("launch cancelled", launch=str(o3), undated=True)
        assert dropped.content == "Marked o3 (OpenAI) cancelled (day unknown)."
        shown = await w.cmd("launch show", user=w.member, launch=str(o3))
        fields = {f["name"]: f["value"] for f in shown.embeds[0]["fields"]}
        assert fields["State"] == "cancelled (day unknown)"
        both = await w.cmd("launch cancelled", launch=str(o3), on="2025-02-12", undated=True)
        assert both.ephemeral and both.content.startswith("o3 was already cancelled")
        back = await w.cmd(
            "launch revived",
            launch=str(o3),
            window="in the coming weeks",
            announced_on="2025-04-04",
        )
        # Apr 4 + 6 weeks = May 16, later than Apr 30: a slip; the score still uses Apr 30.
        assert back.content.startswith("Revived #1 o3 (OpenAI): new deadline <t:")
        assert back.content.endswith(
            "(slip #1). Its score still counts from the first promise, 2025-04-30."
        )
        card = await w.cmd("launch show", user=w.member, launch=str(o3))
        lineage = {f["name"]: f["value"] for f in card.embeds[0]["fields"]}["Lineage"]
        assert lineage == (
            'promised "early next year" (2025-04-30) → cancelled (day unknown) → '
            'revived "in the coming weeks" (2025-05-16) → upcoming'
        )
        history = await w.cmd("launch history", user=w.member, launch=str(o3))
        text = history.embeds[0]["description"]
        assert "**cancelled (day unknown)**" in text
        assert '**revived: "early next year" → "in the coming weeks" (slip #1)**' in text
        again = await w.cmd("launch revived", launch=str(o3), window="Q3 2025")
        assert again.content == (
            "o3 is upcoming, not cancelled, so it cannot be revived. "
            "Use /launch delayed for a new window."
        )


async def test_show_and_list_give_the_running_lateness_and_the_evidence(
    tmp_path: Path, db_target: str
) -> None:
    async with world(db_target, start=dt.datetime(2025, 1, 10, 12, tzinfo=UTC)) as w:
        grok = await add_grok(w, announced_on="2024-07-01")
        rumour = await add_grok(
            w, product="GPT-4.5", vendor="OpenAI", window="Q4 2024", evidence="rumour",
            announced_on="2024-09-01",
        )  # fmt: skip
        await w.bot.engine.settle()
        # Re-dated to February: its first promise (Dec 31) stays the measure.
        delayed = await w.cmd("launch delayed", launch=str(grok), window="February 2025")
        assert delayed.content.endswith("(slip #1)."), delayed.content
        shown = await w.cmd("launch show", user=w.member, launch=str(grok))
        fields = {f["name"]: f["value"] for f in shown.embeds[0]["fields"]}
        assert fields["State"] == "upcoming (10 days late so far)"
        assert fields["First promise"] == "2024-12-31"
        assert fields["Evidence"] == "official"
        listed = await w.cmd("launch list", user=w.member)
        lines = listed.embeds[0]["description"].split("\n")
        assert '"February 2025" · upcoming (10 days late so far) · deadline' in lines[1]
        assert f"`#{rumour}`" in lines[0] and "slipped (10 days late so far) · rumour ·" in lines[0]
        # Ten days later the figure has moved without any sweep writing it.
        await w.advance(dt.datetime(2025, 1, 20, 12, tzinfo=UTC))
        later = await w.cmd("launch show", user=w.member, launch=str(grok))
        assert {f["name"]: f["value"] for f in later.embeds[0]["fields"]}["State"] == (
            "upcoming (20 days late so far)"
        )
        stats = await w.cmd("slips stats", user=w.member)
        embed = stats.embeds[0]
        assert embed["description"] == (
            "1 launch: 1 scored, 0 not yet due. 1 rumour left out (evidence:all counts them)."
        )
        everything = await w.cmd("slips stats", user=w.member, evidence="all")
        assert everything.embeds[0]["description"] == (
            "2 launches: 2 scored, 0 not yet due. Rumours included."
        )


async def test_subscriptions_show_the_vendor_as_spelt(tmp_path: Path, db_target: str) -> None:
    async with world(db_target) as w:
        await add_grok(w, announced_on="2024-07-01")
        done = await w.cmd("subscribe vendor", user=w.member, vendor="xAI")
        assert done.content == "Subscribed: you will hear about every xAI launch by DM."
        # A subscription saved before spellings were kept (label NULL, target folded).
        async with w.bot.app.store.transaction() as conn:
            await conn.subscriptions.add_subscription(
                guild_id=w.guild,
                user_id=w.manager,
                scope=SubscriptionScope.VENDOR,
                target="xai",
                mode="instant",
                now=dt.datetime(2024, 12, 20, tzinfo=UTC),
            )
        for user in (w.member, w.manager):
            listing = await w.server.run_command(None, None, user, "subscriptions", timeout=10)
            text = listing.embeds[0]["description"]
            assert "• every xAI launch in Alpha · instant" in text, text

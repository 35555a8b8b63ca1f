"""A published board with a story in every state, written through the real tracker and engine:
the fixture of the web board's tests, its browser test and its screenshots."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from storage.session import SqlStore
from tests.harness import GUILD, Harness
from tracker.board import BoardService

UTC = dt.UTC
SLUG = "ai-watch"
START = dt.datetime(2024, 6, 20, 9, tzinfo=UTC)
# The day the board is read on: Grok 3 shipped, Claude 3.5 Opus cancelled, Gemini overdue.
TODAY = dt.datetime(2025, 4, 10, 12, tzinfo=UTC)
EVIL = '<script>alert("x")</script> Model'


@dataclass(frozen=True, slots=True)
class Seeded:
    """Launch ids of the seeded story."""

    claude: int
    grok: int
    gemini: int
    gpt: int
    evil: int


async def seed_board(h: Harness, *, publish: bool = True) -> Seeded:
    """Write the story (the harness clock must be at START) and publish it as SLUG."""
    claude = await h.add(
        "Claude 3.5 Opus",
        "Anthropic",
        "later this year",
        announced_on=dt.date(2024, 6, 20),
        announcer="Anthropic",
        source_url="https://www.anthropic.com/news/claude-3-5-sonnet",
        quote="We'll be releasing Claude 3.5 Haiku and Claude 3.5 Opus later this year.",
    )
    h.clock.set(dt.datetime(2024, 7, 1, 12, tzinfo=UTC))
    grok = await h.add(
        "Grok 3",
        "xAI",
        "end of 2024",
        announced_on=dt.date(2024, 7, 1),
        announcer="Elon Musk",
        source_url="https://x.com/elonmusk",
        quote="Grok 3 end of year after training on 100k H100s should be really something special",
    )
    gemini = await h.add(
        "Gemini 2 Ultra",
        "Google",
        "end of 2024",
        announced_on=dt.date(2024, 7, 1),
        source_url="https://blog.google/",
    )
    gpt = await h.add(
        "GPT-4.5", "OpenAI", "Q1 2025", announced_on=dt.date(2024, 7, 1), announcer="Sam Altman"
    )
    evil = await h.add(EVIL, "Evil & Co", "Q4 2025", announced_on=dt.date(2024, 7, 1))
    await h.run_until(dt.datetime(2024, 12, 20, 10, tzinfo=UTC))
    await h.tracker.reannounce(
        GUILD,
        gemini,
        "tester",
        window_phrase="Q1 2025",
        announced_on=dt.date(2024, 12, 20),
        source_url="https://blog.google/technology/",
        quote="Coming early next year.",
    )
    await h.run_until(dt.datetime(2025, 1, 15, 10, tzinfo=UTC))
    await h.tracker.cancelled(
        GUILD, claude, "tester", on=dt.date(2025, 1, 15), reason="Never released."
    )
    await h.run_until(dt.datetime(2025, 2, 17, 18, tzinfo=UTC))
    await h.tracker.shipped(
        GUILD, grok, "tester", on=dt.date(2025, 2, 17), source_url="https://x.ai/news/grok-3"
    )
    await h.run_until(dt.datetime(2025, 2, 27, 18, tzinfo=UTC))
    await h.tracker.shipped(GUILD, gpt, "tester", on=dt.date(2025, 2, 27))
    await h.run_until(TODAY)
    if publish:
        await BoardService(SqlStore(h.db), h.clock).publish(GUILD, SLUG)
    return Seeded(claude=claude, grok=grok, gemini=gemini, gpt=gpt, evil=evil)

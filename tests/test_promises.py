"""Tests for tracker.promise_reading: entries of a feed or page read into promise proposals."""

from __future__ import annotations

import datetime as dt

import pytest

from tracker.models import Message
from tracker.outbox.alert_text import render_text
from tracker.probes.reader import Feed, FeedEntry, PageText
from tracker.promise_reading import product_from_title, promises_in
from tracker.promises import PromiseProposal, ProposalState

TODAY = dt.date(2025, 2, 3)
UTC = dt.UTC


@pytest.mark.parametrize(
    ("title", "product"),
    [
        ("Grok 5 is coming", "Grok 5"),
        ("Introducing GPT-5: our smartest model", "GPT-5"),
        ("Announcing Claude 4.5 Opus", "Claude 4.5 Opus"),
        ("xAI Grok 5 preview", "Grok 5"),
        ("Gemini 3 Pro - what's next", "Gemini 3 Pro"),
        ("what we are building next", "what we are building next"),
    ],
)
def test_product_from_title(title: str, product: str) -> None:
    assert product_from_title(title, "xAI") == product


def entry(title: str, summary: str, *, key: str = "1", published: bool = True) -> FeedEntry:
    return FeedEntry(
        id=f"tag:{key}",
        title=title,
        link=f"https://x.ai/news/{key}",
        published=dt.datetime(2025, 2, 17, 9, tzinfo=UTC) if published else None,
        summary=summary,
        content="",
    )


def test_feed_entries_that_promise_a_window_become_proposals() -> None:
    feed = Feed(
        title="xAI News",
        entries=(
            entry("Grok 5 is coming", "Grok 5 is coming by the end of this year.", key="a"),
            entry("Grok 4 is out", "Grok 4 launched today. More details to come.", key="b"),
            entry("Voice", "Voice mode follows in Q3. Sign up now.", key="c", published=False),
        ),
    )
    found = promises_in(feed, "https://x.ai/rss", "xAI", TODAY)
    assert [(p.entry_key, p.product, p.window_phrase, p.window_end) for p in found] == [
        ("entry:tag:a", "Grok 5", "by the end of this year", dt.date(2025, 12, 31)),
        ("entry:tag:c", "Voice", "in Q3", dt.date(2025, 9, 30)),
    ]
    first, voice = found
    assert first.announced_on == dt.date(2025, 2, 17)  # the entry's own day
    assert voice.announced_on == TODAY  # no date: the day it was seen
    assert first.sentence == "Grok 5 is coming by the end of this year."
    assert first.sentence[first.span[0] : first.span[1]] == "by the end of this year"
    assert voice.sentence == "Voice mode follows in Q3."
    assert first.url == "https://x.ai/news/a"


def test_page_passages_are_entries_and_long_sentences_are_cut_around_the_phrase() -> None:
    long = "word " * 300 + "and the API opens in early March, " + "more " * 300
    page = PageText(
        title="Roadmap",
        text="",
        passages=("Our roadmap.", long, "Thanks for reading."),
    )
    (found,) = promises_in(page, "https://x.ai/roadmap", "xAI", TODAY)
    assert found.entry_key.startswith("passage:")
    assert found.title == "Roadmap" and found.url == "https://x.ai/roadmap"
    assert len(found.sentence) <= 600
    assert found.sentence[found.span[0] : found.span[1]] == "in early March"
    again = promises_in(page, "https://x.ai/roadmap", "xAI", TODAY)
    assert again[0].entry_key == found.entry_key  # the same passage is the same entry


def test_console_rendering_of_a_promise_and_of_the_summary() -> None:
    feed = Feed(title="x", entries=(entry("Grok 5 is coming", "Grok 5 by the end of this year."),))
    (found,) = promises_in(feed, "https://x.ai/rss", "xAI", TODAY)
    proposal = PromiseProposal(
        id=7,
        guild_id=1,
        discovery_id=1,
        entry_key=found.entry_key,
        vendor="xAI",
        promised=found,
        state=ProposalState.PROPOSED,
        launch_id=None,
        decided_by=None,
        created_at=dt.datetime(2025, 2, 17, tzinfo=UTC),
    )
    assert render_text(Message(alerts=(), promise=proposal.to_payload())) == (
        "New promise from xAI: Grok 5\n"
        '    Window: "by the end of this year" (2025-09-01 to 2025-12-31)\n'
        "    Said: Grok 5 by the end of this year.\n"
        "    Entry: https://x.ai/news/1"
    )
    summary = {"kind": "summary", "vendor": "xAI", "target": "https://x.ai/rss", "count": 2}
    assert render_text(Message(alerts=(), promise=summary)) == (
        "2 more promises from xAI in https://x.ai/rss"
    )
    again = Message.from_json(Message(alerts=(), promise=summary).to_json())
    assert again.promise == summary

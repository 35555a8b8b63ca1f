"""feed: an RSS or Atom feed. The pattern is the launch's name, looked for in each entry's
title, summary and content (RSS ``content:encoded`` included), ignoring case, spacing and
punctuation. Each sentence that names the launch is read (tracker.probes.classify): an entry
that says the launch is out is a release; one that only promises it is a promise (with its
window, read on the entry's date); one that says neither is not evidence.

An entry is identified by its id (else its link, else its title): the same entry is proposed
once as a release and once as a promise at most, however often it is edited."""

from __future__ import annotations

import datetime as dt

from tracker.probes import Probe, ProbeKind, Verdict
from tracker.probes.kinds.matching import (
    TEXT_EXAMPLES,
    Mention,
    TextPattern,
    best_readings,
    read_lead,
    read_mentions,
    read_text_pattern,
    read_url_target,
)
from tracker.probes.kinds.records import (
    MAX_ITEMS,
    MAX_MATCHED,
    MAX_TITLE,
    Endpoints,
    Evidence,
    KeyUse,
    KindSpec,
    PlannedRequest,
    evidence_key,
    http_url,
)
from tracker.probes.reader import Feed, FeedEntry, Read, Reading
from tracker.text import cut

EXAMPLE = "https://openai.com/news/rss.xml"
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"
MAX_PART = 100_000  # characters of one entry's body read


def _plan(probe: Probe, endpoints: Endpoints) -> list[PlannedRequest]:
    return [PlannedRequest("feed", probe.target, headers={"Accept": ACCEPT})]


def entry_parts(entry: FeedEntry) -> list[tuple[str, str]]:
    """(part, text) of an entry: its title, summary and content (every content value, RSS
    content:encoded included, as the reader joined them), cut to MAX_PART characters."""
    parts = [
        ("title", entry.title),
        ("summary", entry.summary[:MAX_PART]),
        ("content", entry.content[:MAX_PART]),
    ]
    return [(name, text) for name, text in parts if text]


def read_entry(
    pattern: TextPattern, parts: list[tuple[str, str]], day: dt.date
) -> tuple[Mention | None, Mention | None]:
    """(the release, the promise) an entry's parts say about the launch. When the title names
    the launch but says nothing of it ("Grok 3"), the first sentences of the body speak."""
    mentions: list[Mention] = []
    for name, text in parts:
        mentions.extend(read_mentions(pattern, text, day, name))
    if not mentions:
        return None, None
    release, promise = best_readings(mentions)
    titled = any(m.part == "title" for m in mentions)
    if release is None and promise is None and titled:
        for name, text in parts:
            if name != "title" and (lead := read_lead(text, day, name)) is not None:
                return (lead, None) if lead.reading.verdict is Verdict.RELEASE else (None, lead)
    return release, promise


def _parse(
    probe: Probe, request: PlannedRequest, answer: Read, endpoints: Endpoints, today: dt.date
) -> list[Evidence]:
    feed: Feed = answer.data
    pattern = TextPattern.of(probe.pattern)
    found: list[Evidence] = []
    for entry in feed.entries[:MAX_ITEMS]:
        parts = entry_parts(entry)
        published = entry.published
        day = min(published.date(), today) if published else today
        release, promise = read_entry(pattern, parts, day)
        chosen = release or promise
        if chosen is None:
            continue
        link = http_url(entry.link)
        ident = entry.id or link or entry.title
        reading = chosen.reading
        found.append(
            Evidence(
                key=evidence_key("entry" if release else "promise", ident),
                title=cut(entry.title or reading.passage, MAX_TITLE),
                url=link or http_url(answer.url),
                matched=cut(reading.passage, MAX_MATCHED),
                published_at=published,
                verdict=reading.verdict,
                window=reading.window,
                read_on=day,
            )
        )
    return found


KIND = KindSpec(
    kind=ProbeKind.FEED,
    target_name="feed address",
    example=EXAMPLE,
    key=KeyUse(),
    parse_target=read_url_target(EXAMPLE),
    parse_pattern=read_text_pattern,
    plan=_plan,
    parse=_parse,
    pattern_help=TEXT_EXAMPLES,
    reads=Reading.FEED,
)

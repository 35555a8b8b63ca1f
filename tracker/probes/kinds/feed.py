"""feed: an RSS or Atom feed. The pattern is text looked for in each entry's title, then its
summary. A feed reports what is *new*: entries that already match at the first successful poll
are the baseline and are not proposed."""

from __future__ import annotations

import io

import feedparser  # type: ignore[import-untyped]

from tracker.probes import Probe, ProbeKind
from tracker.probes.fetch import Fetched
from tracker.probes.kinds.html import html_text
from tracker.probes.kinds.matching import (
    TextPattern,
    find_text,
    read_text_pattern,
    read_url_target,
)
from tracker.probes.kinds.records import (
    MAX_ITEMS,
    MAX_TITLE,
    Endpoints,
    Evidence,
    KeyUse,
    KindSpec,
    ParseError,
    PlannedRequest,
    evidence_key,
    http_url,
    struct_time,
)
from tracker.text import cut

EXAMPLE = "https://openai.com/news/rss.xml"
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"


def _plan(probe: Probe, endpoints: Endpoints) -> list[PlannedRequest]:
    return [PlannedRequest("feed", probe.target, headers={"Accept": ACCEPT})]


def _parse(
    probe: Probe, request: PlannedRequest, answer: Fetched, endpoints: Endpoints
) -> list[Evidence]:
    # A stream, never a string: feedparser fetches URLs and opens files given as strings.
    parsed = feedparser.parse(
        io.BytesIO(answer.body),
        response_headers={"content-type": answer.content_type, "content-location": answer.url},
    )
    entries = parsed.get("entries") or []
    if parsed.get("bozo") and not entries and not parsed.get("version"):
        raise ParseError("the answer is not an RSS or Atom feed")
    pattern = TextPattern.of(probe.pattern)
    found: list[Evidence] = []
    for entry in entries[:MAX_ITEMS]:
        title = html_text(str(entry.get("title") or ""))
        summary = html_text(str(entry.get("summary") or ""))
        found_text = find_text(pattern, title) or find_text(pattern, summary)
        if found_text is None:
            continue
        matched = found_text[1]
        link = http_url(entry.get("link"))
        ident = str(entry.get("id") or link or title)
        published = entry.get("published_parsed") or entry.get("updated_parsed")
        found.append(
            Evidence(
                key=evidence_key("entry", ident),
                title=cut(title or matched, MAX_TITLE),
                url=link or http_url(answer.url),
                matched=matched,
                published_at=struct_time(published),
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
)

"""feed: an RSS or Atom feed. The pattern is text looked for in each entry's title, then its
summary, then its content (``content:encoded`` included). A feed reports what is *new*: entries
that already match at the first successful poll are the baseline and are not proposed."""

from __future__ import annotations

from tracker.probes import Probe, ProbeKind
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
    PlannedRequest,
    evidence_key,
    http_url,
)
from tracker.probes.reader import Feed, Read, Reading
from tracker.text import cut

EXAMPLE = "https://openai.com/news/rss.xml"
ACCEPT = "application/rss+xml, application/atom+xml, application/xml;q=0.9, */*;q=0.5"


def _plan(probe: Probe, endpoints: Endpoints) -> list[PlannedRequest]:
    return [PlannedRequest("feed", probe.target, headers={"Accept": ACCEPT})]


def _parse(
    probe: Probe, request: PlannedRequest, answer: Read, endpoints: Endpoints
) -> list[Evidence]:
    feed: Feed = answer.data
    pattern = TextPattern.of(probe.pattern)
    found: list[Evidence] = []
    for entry in feed.entries[:MAX_ITEMS]:
        found_text = (
            find_text(pattern, entry.title)
            or find_text(pattern, entry.summary)
            or find_text(pattern, entry.content)
        )
        if found_text is None:
            continue
        matched = found_text[1]
        link = http_url(entry.link)
        ident = entry.id or link or entry.title
        found.append(
            Evidence(
                key=evidence_key("entry", ident),
                title=cut(entry.title or matched, MAX_TITLE),
                url=link or http_url(answer.url),
                matched=matched,
                published_at=entry.published,
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
    reads=Reading.FEED,
)

"""page: the visible text of a web page. The pattern is the launch's name (``*`` stands for up
to 200 characters in between), found ignoring case, spacing and punctuation. Each sentence
that names the launch is read (tracker.probes.classify); the page's evidence is its first
release sentence and its first promise sentence (preferring one with a window).

Evidence is identified by what the sentence says and the sentence itself: a page that said
"Grok 3 is coming soon" and now says "Grok 3 is available today" has new evidence, a release,
while the same sentence seen again is not new."""

from __future__ import annotations

import datetime as dt

from tracker.probes import Probe, ProbeKind
from tracker.probes.kinds.matching import (
    TEXT_EXAMPLES,
    TextPattern,
    best_readings,
    passage_key,
    read_mentions,
    read_text_pattern,
    read_url_target,
)
from tracker.probes.kinds.records import (
    MAX_MATCHED,
    MAX_TITLE,
    Endpoints,
    Evidence,
    KeyUse,
    KindSpec,
    PlannedRequest,
    http_url,
)
from tracker.probes.reader import PageText, Read, Reading
from tracker.text import cut

EXAMPLE = "https://x.ai/news"
MAX_PAGE_MENTIONS = 50


def _plan(probe: Probe, endpoints: Endpoints) -> list[PlannedRequest]:
    return [PlannedRequest("page", probe.target, headers={"Accept": "text/html, */*;q=0.5"})]


def _parse(
    probe: Probe, request: PlannedRequest, answer: Read, endpoints: Endpoints, today: dt.date
) -> list[Evidence]:
    page: PageText = answer.data
    text = page.text  # a line per block: a heading never runs into the next sentence
    mentions = read_mentions(TextPattern.of(probe.pattern), text, today, "page", MAX_PAGE_MENTIONS)
    found: list[Evidence] = []
    for mention in best_readings(mentions):
        if mention is None:
            continue
        reading = mention.reading
        found.append(
            Evidence(
                key=passage_key(reading.verdict, reading.passage),
                title=cut(reading.passage, MAX_TITLE),
                url=http_url(answer.url),
                matched=cut(reading.passage, MAX_MATCHED),
                verdict=reading.verdict,
                window=reading.window,
                read_on=today,
            )
        )
    return found


KIND = KindSpec(
    kind=ProbeKind.PAGE,
    target_name="page address",
    example=EXAMPLE,
    key=KeyUse(),
    parse_target=read_url_target(EXAMPLE),
    parse_pattern=read_text_pattern,
    plan=_plan,
    parse=_parse,
    pattern_help=TEXT_EXAMPLES,
    reads=Reading.PAGE,
)

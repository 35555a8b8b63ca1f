"""page: the visible text of a web page. The pattern is text to look for (``*`` stands for up
to 200 characters in between). A page reports what is *new*: text that already matches at the
first successful poll is the baseline and is not proposed."""

from __future__ import annotations

import hashlib

from tracker.probes import Probe, ProbeKind
from tracker.probes.kinds.matching import (
    TextPattern,
    find_text,
    read_text_pattern,
    read_url_target,
)
from tracker.probes.kinds.records import (
    MAX_TITLE,
    Endpoints,
    Evidence,
    KeyUse,
    KindSpec,
    PlannedRequest,
    evidence_key,
    http_url,
)
from tracker.probes.reader import PageText, Read, Reading
from tracker.text import cut

EXAMPLE = "https://x.ai/news"


def _plan(probe: Probe, endpoints: Endpoints) -> list[PlannedRequest]:
    return [PlannedRequest("page", probe.target, headers={"Accept": "text/html, */*;q=0.5"})]


def _parse(
    probe: Probe, request: PlannedRequest, answer: Read, endpoints: Endpoints
) -> list[Evidence]:
    page: PageText = answer.data
    text = page.text
    found_text = find_text(TextPattern.of(probe.pattern), text)
    if found_text is None:
        return []
    # Keyed on the matched text only, not its context: a timestamp next to it that changes at
    # every poll must not make the same news new again.
    core, matched = found_text[0].lower(), found_text[1]
    return [
        Evidence(
            key=evidence_key("text", hashlib.sha256(core.encode()).hexdigest()[:32]),
            title=cut(matched, MAX_TITLE),
            url=http_url(answer.url),
            matched=matched,
        )
    ]


KIND = KindSpec(
    kind=ProbeKind.PAGE,
    target_name="page address",
    example=EXAMPLE,
    key=KeyUse(),
    parse_target=read_url_target(EXAMPLE),
    parse_pattern=read_text_pattern,
    plan=_plan,
    parse=_parse,
    reads=Reading.PAGE,
)

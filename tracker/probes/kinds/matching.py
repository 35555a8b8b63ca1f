"""How patterns are read and matched, per kind (the matchers live in tracker.probes.match, the
release/promise reading in tracker.probes.classify).

- models, anthropic-models: a model id or display name ("grok-3", "Claude 3.5 Haiku");
  ``*`` and ``?`` are wildcards ("grok-3*").
- github: a tag or release name ("v2.0.0", "v2.*", "Grok 1").
- feed, page: text ("Grok 3", which also finds "Grok-3" and "grok3"; "Grok 3*available").
- Without a pattern, the launch's product name is the pattern.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tracker.errors import InvalidInput
from tracker.probes import ProbeKind
from tracker.probes.classify import Reading, Verdict, classify, passage_around, sentence_spans
from tracker.probes.match import IdPattern, TextPattern, check_id_pattern, compact

MAX_ID_PATTERN = 100
MAX_TEXT_PATTERN = 200
MAX_MENTIONS = 20  # sentences naming the launch read per text

__all__ = [
    "MAX_ID_PATTERN",
    "MAX_MENTIONS",
    "MAX_TEXT_PATTERN",
    "IdPattern",
    "Mention",
    "TextPattern",
    "best_readings",
    "id_pattern_reader",
    "passage_key",
    "read_mentions",
    "read_text_pattern",
    "read_url_target",
]


@dataclass(frozen=True, slots=True)
class Mention:
    """A passage naming the launch, read."""

    reading: Reading
    part: str  # which part of the source: "title", "summary", "content", "page"


def read_mentions(
    pattern: TextPattern, text: str, today: dt.date, part: str, limit: int = MAX_MENTIONS
) -> list[Mention]:
    """Every sentence of *text* naming the launch (up to *limit*), read as release, promise
    or neither against *today*."""
    out: list[Mention] = []
    seen: set[tuple[int, int]] = set()
    for span in pattern.find_all(text, limit):
        passage, inner = passage_around(text, span)
        key = (span[0] - inner[0], len(passage))
        if key in seen:
            continue  # the name twice in one sentence: read it once
        seen.add(key)
        out.append(Mention(classify(passage, today, mention=inner), part))
    return out


def read_lead(text: str, today: dt.date, part: str, sentences: int = 2) -> Mention | None:
    """The first sentences of *text* read as a whole (an entry whose title names the launch
    and whose body says "It is available today"), or None when they say nothing."""
    spans = sentence_spans(text)[:sentences]
    if not spans:
        return None
    lead = text[spans[0][0] : spans[-1][1]][:400]
    reading = classify(lead, today)
    return Mention(reading, part) if reading.verdict is not Verdict.NEITHER else None


def best_readings(mentions: Sequence[Mention]) -> tuple[Mention | None, Mention | None]:
    """(the first release, the first promise, preferring one that gives a window)."""
    release = next((m for m in mentions if m.reading.verdict is Verdict.RELEASE), None)
    promises = [m for m in mentions if m.reading.verdict is Verdict.PROMISE]
    promise = next((m for m in promises if m.reading.window is not None), None)
    return release, promise or (promises[0] if promises else None)


_CLOCK = re.compile(
    r"\b\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\.?|utc|gmt|[a-z]{2,4}t)?\b"
    r"|\b\d+\s+(?:seconds?|minutes?|mins?|hours?|hrs?|days?)\s+ago\b",
    re.IGNORECASE,
)


def passage_key(verdict: Verdict, passage: str) -> str:
    """A page's evidence identity: what it says and the sentence it says it in (spacing,
    case, punctuation and times of day such as "Updated 11:30" or "5 minutes ago" aside), so
    a sentence that changes is new evidence while a ticking timestamp is not."""
    digest = hashlib.sha256(compact(_CLOCK.sub(" ", passage)).encode()).hexdigest()[:32]
    return f"{verdict.value}:{digest}"


def id_pattern_reader(kind: ProbeKind, examples: str, what: str) -> Callable[[str], str]:
    """The pattern reader of the kinds matched on ids (model ids, tags). *examples* shows
    patterns that work for the kind; *what* names the thing matched ("model id", "tag")."""

    def read(text: str) -> str:
        if not text:
            raise InvalidInput(f"Please give a pattern for the {what}, like {examples}.")
        if len(text) > MAX_ID_PATTERN:
            raise InvalidInput(
                f"A {kind.value} pattern is at most {MAX_ID_PATTERN} characters, like {examples}."
            )
        problem = check_id_pattern(text)
        if problem is not None:
            raise InvalidInput(f"That pattern will not work ({problem}); try {examples}.")
        return text

    return read


TEXT_EXAMPLES = '"Grok 3" (also finds Grok-3 and grok3) or "Grok 3*available"'


def read_text_pattern(text: str) -> str:
    """The pattern reader of the kinds that look for text (feed, page)."""
    if not text:
        raise InvalidInput(f"Please give the name to look for, like {TEXT_EXAMPLES}.")
    if len(text) > MAX_TEXT_PATTERN:
        raise InvalidInput(f"The text to look for is at most {MAX_TEXT_PATTERN} characters long.")
    if len("".join(TextPattern.of(text).pieces)) < 2:
        raise InvalidInput(f"That text is too short to find anything; try {TEXT_EXAMPLES}.")
    return text


def read_url_target(example: str) -> Callable[[str], tuple[str, str | None]]:
    """The target reader of the kinds that watch a full address (feed, page)."""

    def read(text: str) -> tuple[str, str | None]:
        if "://" not in text:
            raise InvalidInput(f"Give the full address with https://, like {example}.")
        return text, text

    return read

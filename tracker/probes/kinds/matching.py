"""How patterns are read and matched: whole-id wildcards for model ids and tags, ordered
pieces of text for feeds and pages (plain ``str.find``, no regular expressions: a pattern typed
in a chat must not be able to stall the bot on a 2 MB page)."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass

from tracker.errors import InvalidInput
from tracker.probes import ProbeKind
from tracker.probes.kinds.records import (
    MAX_MATCHED,
    MAX_TITLE,
)
from tracker.text import cut

MAX_ID_PATTERN = 100
MAX_TEXT_PATTERN = 200
MAX_SPAN = 200  # how far apart the pieces of a text pattern may be


def id_matches(pattern: str, value: str) -> bool:
    """Whole-string wildcard match of a model id or tag, ignoring case."""
    return fnmatch.fnmatchcase(value[:MAX_TITLE].casefold(), pattern.casefold())


@dataclass(frozen=True, slots=True)
class TextPattern:
    """Pieces of text that must appear in order, each within MAX_SPAN of the first; found with
    plain ``str.find`` (linear, no backtracking)."""

    pieces: tuple[str, ...]

    @classmethod
    def of(cls, pattern: str) -> TextPattern:
        """Split *pattern* at ``*``; case and spacing are ignored."""
        pieces = tuple(p for p in (" ".join(s.split()).lower() for s in pattern.split("*")) if p)
        return cls(pieces)

    def search(self, low: str) -> tuple[int, int] | None:
        """The span of the first match in *low* (already lower-cased and space-normalized)."""
        if not self.pieces:
            return None
        first, rest = self.pieces[0], self.pieces[1:]
        pos = 0
        for _ in range(10_000):  # bounded even on adversarial text
            start = low.find(first, pos)
            if start < 0:
                return None
            end = start + len(first)
            limit = start + len(first) + MAX_SPAN
            for piece in rest:
                found = low.find(piece, end, limit + len(piece))
                if found < 0:
                    break
                end = found + len(piece)
            else:
                return start, end
            pos = start + 1
        return None


def find_text(pattern: TextPattern, text: str) -> tuple[str, str] | None:
    """The first match in *text*: (the matched text itself, the match with a little context
    for people to read), or None."""
    normalized = " ".join(text.split())
    low = normalized.lower()
    span = pattern.search(low)
    if span is None:
        return None
    source = normalized if len(low) == len(normalized) else low
    start, end = span
    left, right = max(0, start - 60), min(len(source), end + 60)
    snippet = source[left:right]
    if left > 0:
        snippet = "…" + snippet
    if right < len(source):
        snippet += "…"
    return source[start:end], cut(snippet, MAX_MATCHED)


def id_pattern_reader(kind: ProbeKind, example: str, what: str) -> Callable[[str], str]:
    """The pattern reader of a kind matched on whole ids: one word, ``*`` and ``?`` as
    wildcards, not everything. *what* names the thing matched ("model id", "tag")."""

    def read(text: str) -> str:
        if not text:
            raise InvalidInput(f"Please give a pattern for the {what}, like {example}.")
        if " " in text or len(text) > MAX_ID_PATTERN:
            raise InvalidInput(
                f"A {kind.value} pattern is one word of at most {MAX_ID_PATTERN} characters, "
                f"with * as a wildcard, like {example}."
            )
        if not text.strip("*?"):
            raise InvalidInput(f"That pattern matches everything; be specific, like {example}.")
        return text

    return read


def read_text_pattern(text: str) -> str:
    """The pattern reader of the kinds that look for text (feed, page)."""
    if not text:
        raise InvalidInput('Please give the text to look for, like "Grok 3 is now available".')
    if len(text) > MAX_TEXT_PATTERN:
        raise InvalidInput(f"The text to look for is at most {MAX_TEXT_PATTERN} characters long.")
    if len("".join(TextPattern.of(text).pieces)) < 3:
        raise InvalidInput(
            'That text is too short to mean anything; try "Grok 3 is now available".'
        )
    return text


def read_url_target(example: str) -> Callable[[str], tuple[str, str | None]]:
    """The target reader of the kinds that watch a full address (feed, page)."""

    def read(text: str) -> tuple[str, str | None]:
        if "://" not in text:
            raise InvalidInput(f"Give the full address with https://, like {example}.")
        return text, text

    return read

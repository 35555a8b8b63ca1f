"""Release, promise or neither: what a sentence that names a launch says about it.

A probe that reads text (a feed entry, a page) finds the product's name; this module decides
what the words around the name say. "Grok 3 is available today" is a **release**; "Grok 3 is
coming soon" and "Grok 3 arrives later this year" are **promises** (with the window, when the
window grammar reads one); "Grok 3 benchmarks leaked" is **neither**. Only a release may be
proposed as "shipped", and only a release may ever be confirmed automatically.

How a passage is read (the cue tables are in tracker.probes.cues, English and Indonesian;
sentences are cut by tracker.probes.sentences):

1. The passage is cut into clauses at ";", ", and", " but ", " while ", dashes (and "namun",
   "tetapi", "sedangkan", ", dan"); the clause holding the product's name is read first, the
   whole passage only when that clause says nothing.
2. A *strong* release cue ("now available", "is live", "resmi dirilis") makes a release, unless
   a negation or a future marker stands just before it ("will be released", "not yet
   available", "akan dirilis", "belum tersedia"): then the cue counts as a promise.
3. Otherwise a promise cue ("coming soon", "will", "segera hadir") or a window in the future
   ("later this year", "Q1 2025", "akhir tahun depan") makes a promise.
4. Otherwise a *weak* release cue ("introducing", "announcing", "memperkenalkan") makes a
   release: "Introducing Grok 3" is a release, "Introducing Grok 3, coming in the weeks ahead"
   is a promise.
5. Anything else is neither.

Windows are found by ``tracker.windows.find_windows`` (the window grammar's reader of
sentences): what only looks like a date ("Grok 3", "GPT-4") and windows already past are left
out there.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tracker.probes import Verdict
from tracker.probes.cues import (
    CLAUSE_BREAKS,
    NEGATIONS,
    PROMISE_EN,
    PROMISE_ID,
    RELEASE_STRONG_EN,
    RELEASE_STRONG_ID,
    RELEASE_WEAK_EN,
    RELEASE_WEAK_ID,
)
from tracker.probes.sentences import MAX_PASSAGE, passage_around, sentence_spans
from tracker.windows import Window, WindowError, find_windows

__all__ = [
    "MAX_PASSAGE",
    "Reading",
    "Verdict",
    "WindowFinder",
    "classify",
    "find_future_windows",
    "passage_around",
    "sentence_spans",
]


@dataclass(frozen=True, slots=True)
class Reading:
    """A passage read: its verdict, the cue that decided it (for people and tests), and a
    promise's window when one was read (``window_span``: where in ``passage``)."""

    verdict: Verdict
    passage: str
    cue: str | None = None
    window: Window | None = None
    window_span: tuple[int, int] | None = None


def _alternation(cues: Sequence[str]) -> re.Pattern[str]:
    # Longest first, so "now available" wins over "available" and "coming soon" over "soon".
    ordered = sorted(set(cues), key=len, reverse=True)
    body = "|".join(re.escape(c).replace(r"\ ", r"\s+") for c in ordered)
    return re.compile(rf"(?<![\w'])(?:{body})(?![\w'])")


_STRONG = _alternation(RELEASE_STRONG_EN + RELEASE_STRONG_ID)
_WEAK = _alternation(RELEASE_WEAK_EN + RELEASE_WEAK_ID)
_PROMISE = _alternation(PROMISE_EN + PROMISE_ID)
_NEGATION = _alternation(NEGATIONS)
_WORD = re.compile(r"[\w']+")
# A release cue followed by one of these (within three words) speaks of the future.
_LATER = _alternation(
    ("soon", "later", "shortly", "eventually", "segera", "nanti", "mendatang", "menyusul")
)


def _plain(text: str) -> str:
    """Lower case with typographic apostrophes made plain; same length as *text*."""
    return text.lower().replace("\u2019", "'").replace("\u2018", "'")


# --------------------------------------------------------------------------- windows

WindowFinder = Callable[[str, dt.date], list[tuple[Window, tuple[int, int]]]]


def _grammar_finder(text: str, announced: dt.date) -> list[tuple[Window, tuple[int, int]]]:
    """The windows ``tracker.windows.find_windows`` reads in *text* (none in a text too long
    for it: a passage is at most MAX_PASSAGE characters anyway)."""
    try:
        return [(found.window, found.span) for found in find_windows(text, announced)]
    except WindowError:
        return []


def find_future_windows(
    text: str, announced: dt.date, finder: WindowFinder | None = None
) -> list[tuple[Window, tuple[int, int]]]:
    """Windows *text* promises that have not ended before *announced*."""
    found = (finder or _grammar_finder)(text, announced)
    return [(w, span) for w, span in found if w.end >= announced]


# --------------------------------------------------------------------------- reading


def _clause(text: str, at: int) -> tuple[int, int]:
    """The clause of *text* holding position *at*."""
    start, end = 0, len(text)
    for brk in CLAUSE_BREAKS.finditer(text):
        if brk.end() <= at:
            start = brk.end()
        elif brk.start() >= at:
            end = brk.start()
            break
    return start, end


def _negated(low: str, cue_start: int) -> bool:
    """A negation or future marker within the three words before the cue."""
    before = low[max(0, cue_start - 40) : cue_start]
    words = _WORD.findall(before)[-3:]
    tail = " ".join(words)
    return bool(_NEGATION.search(tail)) or tail.endswith("n't")


def _postponed(low: str, cue_end: int, window_starts: Sequence[int]) -> bool:
    """A "later" word within the three words after the cue, or a window right after it."""
    after = " ".join(_WORD.findall(low[cue_end : cue_end + 40])[:3])
    return bool(_LATER.search(after)) or any(cue_end <= s <= cue_end + 25 for s in window_starts)


def _read_span(
    low: str, start: int, end: int, window_starts: Sequence[int]
) -> tuple[Verdict, str | None, bool]:
    """(verdict, cue, promise_cue_seen) of low[start:end] by its cues."""
    voided: str | None = None
    for m in _STRONG.finditer(low, start, end):
        if _negated(low, m.start()) or _postponed(low, m.end(), window_starts):
            voided = voided or m.group(0)
            continue
        return Verdict.RELEASE, " ".join(m.group(0).split()), False
    promise = _PROMISE.search(low, start, end)
    if promise is not None:
        return Verdict.PROMISE, " ".join(promise.group(0).split()), True
    if voided is not None:
        return Verdict.PROMISE, " ".join(voided.split()), True
    weak = _WEAK.search(low, start, end)
    if weak is not None:
        return Verdict.RELEASE, " ".join(weak.group(0).split()), False
    return Verdict.NEITHER, None, False


def classify(
    passage: str,
    announced: dt.date,
    *,
    mention: tuple[int, int] | None = None,
    finder: WindowFinder | None = None,
) -> Reading:
    """Read *passage* (a sentence or a title naming the launch; *mention* is where the name
    is, when known) as a release, a promise (with its window when one is given) or neither.
    *announced* is the day the text is read against ("later this year" of when)."""
    text = " ".join(passage.split()) if mention is None else passage
    low = _plain(text)
    at = mention[0] if mention is not None else 0
    c_start, c_end = _clause(low, at) if mention is not None else (0, len(low))
    future = find_future_windows(text, announced, finder)
    in_clause = [(w, s) for w, s in future if c_start <= s[0] < c_end]
    for start, end, windows_here in ((c_start, c_end, in_clause), (0, len(low), future)):
        verdict, cue, _ = _read_span(low, start, end, [s[0] for _, s in future])
        if verdict is Verdict.RELEASE:
            if cue is not None and _WEAK.fullmatch(cue) and windows_here:
                window, span = windows_here[0]
                return Reading(Verdict.PROMISE, text, window.phrase, window, span)
            return Reading(Verdict.RELEASE, text, cue)
        if verdict is Verdict.PROMISE or windows_here:
            if windows_here:
                window, span = windows_here[0]
                return Reading(Verdict.PROMISE, text, cue or window.phrase, window, span)
            if future:
                window, span = future[0]
                return Reading(Verdict.PROMISE, text, cue, window, span)
            return Reading(Verdict.PROMISE, text, cue)
    return Reading(Verdict.NEITHER, text)

"""Release, promise or neither: what a sentence that names a launch says about it.

A probe that reads text (a feed entry, a page) finds the product's name; this module decides
what the words around the name say. "Grok 3 is available today" is a **release**; "Grok 3 is
coming soon" and "Grok 3 arrives later this year" are **promises** (with the window, when the
window grammar reads one); "Grok 3 benchmarks leaked" is **neither**. Only a release may be
proposed as "shipped", and only a release may ever be confirmed automatically.

How a passage is read (the cue tables are below, English and Indonesian):

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
import enum
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from tracker.windows import Window, WindowError, find_windows

MAX_PASSAGE = 400  # a passage longer than this is cut around the product's name


class Verdict(enum.StrEnum):
    """What a passage says about a launch."""

    RELEASE = "release"
    PROMISE = "promise"
    NEITHER = "neither"


@dataclass(frozen=True, slots=True)
class Reading:
    """A passage read: its verdict, the cue that decided it (for people and tests), and a
    promise's window when one was read (``window_span``: where in ``passage``)."""

    verdict: Verdict
    passage: str
    cue: str | None = None
    window: Window | None = None
    window_span: tuple[int, int] | None = None


# --------------------------------------------------------------------------- the cue tables

# Strong release cues: the launch is out now. Apostrophes are normalized to ' before matching.
RELEASE_STRONG_EN: tuple[str, ...] = (
    "available today",
    "available now",
    "now available",
    "now generally available",
    "generally available",
    "available starting today",
    "available to everyone",
    "available to all",
    "is available",
    "are available",
    "is now live",
    "is live",
    "are live",
    "now live",
    "goes live",
    "went live",
    "is out",
    "are out",
    "out now",
    "is here",
    "are here",
    "has arrived",
    "have arrived",
    "arrives today",
    "released",
    "we're releasing",
    "we are releasing",
    "releasing today",
    "launched",
    "launching today",
    "launches today",
    "rolling out now",
    "rolling out today",
    "now rolling out",
    "rolls out today",
    "begins rolling out",
    "began rolling out",
    "started rolling out",
    "ships today",
    "shipping today",
    "now shipping",
    "shipped",
    "try it now",
    "try it today",
    "you can now",
    "starting today",
    "from today",
)
RELEASE_STRONG_ID: tuple[str, ...] = (
    "tersedia mulai hari ini",
    "tersedia hari ini",
    "kini tersedia",
    "sekarang tersedia",
    "telah tersedia",
    "sudah tersedia",
    "resmi tersedia",
    "resmi dirilis",
    "telah dirilis",
    "sudah dirilis",
    "dirilis hari ini",
    "resmi diluncurkan",
    "telah diluncurkan",
    "sudah diluncurkan",
    "diluncurkan hari ini",
    "resmi meluncur",
    "telah meluncur",
    "resmi hadir",
    "kini hadir",
    "telah hadir",
    "sudah hadir",
    "hadir hari ini",
    "mulai hari ini",
    "sudah bisa digunakan",
    "kini bisa digunakan",
)
# Weak release cues: they announce something, which is a release unless a promise is near.
RELEASE_WEAK_EN: tuple[str, ...] = (
    "introducing",
    "introduces",
    "introduce",
    "announcing",
    "unveils",
    "unveiling",
    "unveiled",
    "meet",
    "launches",
    "releases",
    "debuts",
)
RELEASE_WEAK_ID: tuple[str, ...] = (
    "memperkenalkan",
    "perkenalkan",
    "meluncurkan",
    "merilis",
    "rilis",
    "peluncuran",
    "hadirkan",
    "menghadirkan",
)
PROMISE_EN: tuple[str, ...] = (
    "coming soon",
    "soon",
    "is coming",
    "are coming",
    "coming",
    "upcoming",
    "will",
    "won't",
    "we'll",
    "going to",
    "plan to",
    "plans to",
    "planned",
    "planning to",
    "expected to",
    "expect to",
    "set to",
    "slated",
    "scheduled",
    "on track",
    "on the way",
    "in the works",
    "working on",
    "stay tuned",
    "waitlist",
    "wait list",
    "sign up to be notified",
    "not yet",
    "yet to",
    "isn't available",
    "is not available",
    "not available",
    "later this",
    "eventually",
)
PROMISE_ID: tuple[str, ...] = (
    "segera hadir",
    "segera",
    "akan",
    "nantikan",
    "menyusul",
    "rencananya",
    "direncanakan",
    "berencana",
    "dijadwalkan",
    "belum tersedia",
    "belum",
    "dalam waktu dekat",
    "mendatang",
)
# A release cue right after one of these (within three words) is not a release.
NEGATIONS: tuple[str, ...] = (
    "not",
    "n't",
    "never",
    "no",
    "will",
    "won't",
    "we'll",
    "to be",
    "soon",
    "once",
    "when",
    "until",
    "belum",
    "akan",
    "tidak",
    "bukan",
    "segera",
    "sebelum",
)
CLAUSE_BREAKS = re.compile(
    r";|\s[-\u2013\u2014]\s|,\s*(?:and|but|dan|tetapi|namun)\s|\s(?:but|while|whereas|though|"
    r"although|tetapi|namun|sedangkan|sementara)\s",
    re.IGNORECASE,
)


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


# --------------------------------------------------------------------------- sentences

_SENTENCE_END = re.compile(r"(?<=[.!?\u3002])[\"'\u201d\u2019)]*\s+(?=[\"'\u201c\u2018(]*[A-Z0-9])")
_ABBREVIATIONS = ("e.g.", "i.e.", "vs.", "etc.", "mr.", "ms.", "dr.", "inc.", "no.", "approx.")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Spans of the sentences of *text*: lines are cut at newlines, then at ., ! or ? followed
    by a space and a capital or a digit (not after "e.g." and friends, nor inside "3.5")."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for line in text.split("\n"):
        line_start = pos
        pos += len(line) + 1
        start = line_start
        for brk in _SENTENCE_END.finditer(line):
            head = line[: brk.start()].lower()
            if head.endswith(_ABBREVIATIONS):
                continue
            spans.append((start, line_start + brk.start()))
            start = line_start + brk.end()
        spans.append((start, line_start + len(line)))
    out = []
    for a, b in spans:
        while a < b and text[a].isspace():
            a += 1
        while b > a and text[b - 1].isspace():
            b -= 1
        if b > a:
            out.append((a, b))
    return out


def passage_around(text: str, span: tuple[int, int]) -> tuple[str, tuple[int, int]]:
    """The sentence of *text* holding *span*, cut to MAX_PASSAGE characters around it, and
    where the span is inside the passage."""
    for a, b in sentence_spans(text):
        if a <= span[0] < b:
            break
    else:
        a, b = 0, len(text)
    if b - a > MAX_PASSAGE:
        half = (MAX_PASSAGE - (span[1] - span[0])) // 2
        a = max(a, span[0] - max(half, 0))
        b = min(b, a + MAX_PASSAGE)
    return text[a:b], (span[0] - a, min(span[1], b) - a)

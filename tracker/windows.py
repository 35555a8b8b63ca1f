"""Read announced launch windows ("Q3 2025", "akhir tahun depan", "in 6 weeks") as date ranges.

The parser is pure and stdlib-only; its grammar lives in ``tracker.window_grammar`` and the
word cutting in ``tracker.window_scan``. It works in two steps:

1. ``canonical_words`` normalises a phrase: lower case, punctuation dropped (except the ``-``,
   ``.`` and ``/`` inside numeric dates and the ``..`` of ranges), hedges and connectors removed,
   and English and Indonesian words mapped onto one small canonical English vocabulary
   ("akhir" -> "end", "bulan" -> "month", "enam" -> "6", "Maret" -> "mar" ...).
   Indonesian modifiers that follow their noun ("tahun depan", "bulan ini") are moved in
   front of it, so one rule serves both languages.
2. ``RULES`` is an ordered list of ``(name, regex, handler)``; the first regex that matches
   the whole canonical text wins and its handler turns the match into dates.

Anything no rule reads raises ``WindowError``: the parser never guesses.

One grammar, two doors: ``parse_window`` reads one phrase strictly; ``find_windows`` tries the
phrases inside a sentence or paragraph with the same vocabulary and rules (words cut by
``tracker.window_scan``), so every window it finds is what ``parse_window`` reads from its span.

Product decisions the specification left open, in one place:

* ``by`` only means something before a bare year ("by 2025" ends Dec 31, 2024). Everywhere
  else it is a connector: "by Christmas" is Christmas Day, "by March" the end of March,
  "by the end of Q3" the end of Q3. "before YEAR" / "sebelum YEAR" read like "by YEAR".
* "before X" (not a holiday, year or "before the end of ...") ends the day before X starts;
  it is refused when X has already started on the announcement date.
* "winter YEAR" is December YEAR to February YEAR+1. "next SEASON" is the first one that
  starts after the announcement ("this/coming SEASON" may be the one already under way).
* Thirds: early/mid/late Month are days 1-10 / 11-20 / 21-end; early/mid/late YEAR are
  Jan-Apr / May-Aug / Sep-Dec; early/mid/late of a quarter or season are its 1st/2nd/3rd
  month. "end of X" is read like "late X" (same last day).
* Parts and names without a year ("early March", "Q3", "H2", "summer") take the first
  occurrence whose *last day* is on or after the announcement.
* "several" counts as 3, like "a few" and Indonesian "beberapa" (which means both).
  "the coming days/weeks/months" is 6 units; "the coming week/month/year" is 1 unit;
  "the coming years" is refused as too vague for a deadline.
* "within / over the next year|month|week" is a duration of one unit, while a bare
  "next year" (also "in the next year") is the calendar year.
* Numeric dates: ISO ``2025-03-31`` (also with ``/`` or ``.``). ``31/03/2025`` style dates
  are accepted only when day and month cannot be confused (one part above 12, or equal).
  Two-digit years are refused. Counts may be a range ("6-8 weeks"): the upper bound is used.
* Windows whose dates fall outside years 1970..2200 are refused.

What real announcements say (issue 10), read as stated:

* Bare "weeks" / "months" ("the next model in weeks", "weeks away", Indonesian "dalam hitungan
  minggu") are the coming six, like "the coming weeks". "days" stays refused.
* "one more month", "another month", "N more weeks" ("sebulan lagi", "dua minggu lagi") are N
  units after the announcement.
* "the first three months [of YEAR]" is Q1 and "the first six months" H1 ("tiga bulan pertama
  2027"); "the last three / six months of YEAR" is Q4 / H2 ("tiga bulan terakhir tahun ini").
  "The last three months" without a year is refused: it usually means the months just gone.
* "X or later" is X ("atau setelahnya"). "X but not Y" / "X except Y" is X ("kecuali", "tapi
  tidak"), and Y must read as a period too ("Q3 but not soon" is refused).
* "starting X", "beginning X", "from X" are X ("mulai", "dari"); "the beginning of X" and "the
  start of X" are still early X.
* Hedges are ignored, "if all goes well" and "most likely" among them, and Indonesian "semoga",
  "kemungkinan (besar)", "jika semua berjalan lancar", "paling lambat".
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Final

from tracker.window_grammar import (
    MONTH_WORDS,
    MONTHS,
    RULE_SOURCES,
    SEASONS,
    SHORT_YEAR,
    UNITS,
    VOCAB,
    Reject,
    Span,
    canonical_words,
    looks_indonesian,
    read_canonical,
    tidy,
    translate,
)
from tracker.window_scan import HARD, NONE, SOFT, clause, scan

__all__ = [
    "EXAMPLES",
    "EXAMPLES_EN",
    "EXAMPLES_ID",
    "MAX_TEXT_LENGTH",
    "Found",
    "Window",
    "WindowError",
    "find_windows",
    "parse_window",
]

# Example phrases shown in error messages. They avoid fixed years so they never go stale.
EXAMPLES_EN: Final[tuple[str, str, str]] = ("end of next year", "Q3 next year", "in 6 weeks")
EXAMPLES_ID: Final[tuple[str, str, str]] = (
    "akhir tahun depan",
    "kuartal ketiga tahun depan",
    "dalam 6 minggu",
)
# Every example phrase used in messages: each message shows the three in the phrase's language.
EXAMPLES: Final[tuple[str, ...]] = EXAMPLES_EN + EXAMPLES_ID

MAX_PHRASE_LENGTH: Final = 200
MAX_TEXT_LENGTH: Final = 5000


class WindowError(ValueError):
    """A phrase that cannot be read as a launch window; the message suggests three that can."""


@dataclass(frozen=True, slots=True)
class Window:
    """A launch window: ``start`` .. ``end`` inclusive, plus how it was read."""

    start: dt.date
    end: dt.date
    precision: str
    rule: str
    phrase: str


@dataclass(frozen=True, slots=True)
class Found:
    """A window promised inside a text: ``text[span[0]:span[1]]`` is the phrase that was read."""

    window: Window
    span: tuple[int, int]


# --------------------------------------------------------------------------- public API


def _error(phrase: str, reason: str | None) -> WindowError:
    """A WindowError naming the phrase, why it failed and three phrases that work."""
    shown = " ".join(phrase.split())
    if len(shown) > 60:
        shown = shown[:57] + "..."
    examples = EXAMPLES_ID if looks_indonesian(phrase[:MAX_PHRASE_LENGTH]) else EXAMPLES_EN
    head = f'Could not read "{shown}" as a launch window' if shown else "No launch window given"
    tail = ", ".join(f'"{example}"' for example in examples)
    return WindowError(f"{head}{': ' + reason if reason else ''}. Try one of: {tail}.")


def parse_window(phrase: str, announced: dt.date) -> Window:
    """Read an announced launch window relative to the date it was announced.

    Returns a ``Window`` whose ``end`` is the last day the launch can happen and still be
    on time, and whose ``start <= end``. Raises ``WindowError`` (and nothing else) for any
    phrase it cannot read; the message suggests three phrases that would work.
    """
    if len(phrase) > MAX_PHRASE_LENGTH:
        raise _error(phrase, f"it is longer than {MAX_PHRASE_LENGTH} characters")
    if SHORT_YEAR.search(phrase):
        # Without this, "Mar '25" would lose its apostrophe and read as March 25.
        raise _error(phrase, "write the year with four digits")
    try:
        rule, span = read_canonical(" ".join(canonical_words(phrase)), announced)
    except Reject as exc:
        raise _error(phrase, exc.reason) from None
    except (ValueError, OverflowError):
        # Date arithmetic past year 9999 or before year 1 (announcement dates at the edges).
        raise _error(phrase, "that date is outside the supported years") from None
    return Window(
        start=min(span.start, span.end),
        end=span.end,
        precision=span.precision,
        rule=rule,
        phrase=phrase,
    )


# --------------------------------------------------------------------------- finding windows
# find_windows tries phrases inside a text with the same grammar parse_window uses, then keeps
# only the promises; tracker.window_scan judges the words around each phrase.

_MAX_PIECES: Final = 12  # the longest phrase tried, in words ("no later than the end of Q3 2025")
_ANCHORS: Final = frozenset(
    {
        *MONTHS, *UNITS, *SEASONS, "fortnight", "days", "weeks", "months", "years",
        "quarters", "fortnights", "christmas", "christmaseve", "newyear", "newyearseve",
        "halloween", "thanksgiving", "q1", "q2", "q3", "q4", "1q", "2q", "3q", "4q", "h1", "h2",
        "1h", "2h",
    }
)  # fmt: skip
# The last word of a phrase that reads: a period, a number, or a word placed after its noun.
_ENDINGS: Final = _ANCHORS | {
    "end", "ahead", "@this", "@next", "i", "ii", "iii", "iv", "1st", "2nd", "3rd", "4th", "now",
    "lagi", "later", "so", "ish", "last",
}  # fmt: skip
_NUMBER_SHAPE: Final = re.compile(r"[0-9]+(?:st|nd|rd|th)?|[0-9]+(?:[-./][0-9]+)+")
_DATE_SHAPE: Final = re.compile(r"[0-9]{4}|[0-9]+(?:[-./][0-9]+)+")
_YEAR_SHAPE: Final = re.compile(r"[0-9]{4}")
# Every word the grammar can use: vocabulary keys and values, and the words of the rules.
_RULE_WORDS: Final = frozenset(
    re.findall(
        r"[a-z0-9]+",
        re.sub(r"\(\?P[<=]\w+>?|\\[a-z]", " ", " ".join(src for _, src, _ in RULE_SOURCES)),
    )
)
_KNOWN: Final = (
    frozenset(word for key in VOCAB for word in key)
    | frozenset(word for value in VOCAB.values() for word in value)
    | _RULE_WORDS
    | _ANCHORS
    | {"..", "i", "ke", "by", "before", "after", "more", "last", "later", "now"}
)
# Lead-ins kept at the start of a phrase although they add no date ("in March").
_KEEP_LEADS: Final = frozenset({"in", "dalam", "from", "starting", "beginning", "mulai", "dari"})
# A reading of one bare word ("2025", "March", "Q3", "summer") or a bare count ("6 weeks") is a
# promise only after one of these: "the 2025 roadmap" and "it took 6 weeks" are not.
_POINT_LEADS: Final = frozenset(
    {
        "in", "by", "before", "until", "till", "during", "for", "around", "about", "sometime",
        "from", "starting", "beginning", "through", "throughout", "within", "into", "to", "at",
        "on", "due", "eta", "expected", "slated", "scheduled", "planned", "targeted",
        "targeting", "target", "pada", "di", "sebelum", "hingga", "sampai", "sekitar", "mulai",
        "menjelang", "dalam", "bulan", "tahun", "musim", "tanggal", "paling", "lambat",
        "lambatnya",
    }
)  # fmt: skip
_COUNT_LEADS: Final = frozenset({"in", "within", "over", "inside", "dalam"})
_COUNT_TAILS: Final = frozenset({"now", "lagi"})
# Lower-case words that are usually not the month or season they could be ("it may", "prices
# fall"): dates only after one of these words or before a number.
_AMBIGUOUS: Final = frozenset({"may", "march", "mar", "fall", "spring"})
_AMBIGUOUS_LEADS: Final = frozenset(
    {
        "in", "by", "until", "till", "before", "after", "early", "mid", "late", "end", "of",
        "from", "through", "to", "this", "next", "coming", "during", "since", "pada", "bulan",
        "awal", "akhir", "pertengahan", "sebelum", "hingga", "sampai",
    }
)  # fmt: skip
_AFTER_ALONE: Final = frozenset(
    {"soon after", "shortly after", "just after", "right after", "immediately after"}
)
_AFTER_FIRST: Final = frozenset(
    {"soon", "shortly", "just", "right", "immediately", "not", "tak", "tidak", "segera", "sesaat"}
)
# What a piece can do, as bits.
_KNOWN_BIT: Final = 1  # every token is a word the grammar knows
_ANCHOR_BIT: Final = 2  # it names a period: no phrase reads without one
_HEDGE_BIT: Final = 4  # it only softens ("around", "the"): phrases neither start nor end on it
_END_BIT: Final = 8  # a phrase may end on it
_NUMBER_BIT: Final = 16  # a bare number, which may belong to a name ("Android 15")
_RANGE_BIT: Final = 32  # the ".." of a range
_SEEN_BIT: Final = 64  # always set, so that a word of no use is not looked at twice
_AFTER_BIT: Final = 128  # "soon", "shortly": a phrase may start on it without a period


# Per word, from the multi-word vocabulary: whether a key holding it names a period ("hari
# natal"), and whether a key ending on it ends on a word a phrase may end on ("tahun depan").
_IN_ANCHORED_KEY: Final = frozenset(
    word
    for key, value in VOCAB.items()
    if len(key) > 1 and not _ANCHORS.isdisjoint(value)
    for word in key
)
_ENDS_KEY_ENDING: Final = frozenset(
    key[-1] for key, value in VOCAB.items() if value and value[-1] in _ENDINGS
)


def _token_bits(word: str) -> int:
    if not (word in _KNOWN or _NUMBER_SHAPE.fullmatch(word)):
        return 0
    canon = VOCAB.get((word,), (word,))
    bits = _KNOWN_BIT
    if _DATE_SHAPE.fullmatch(word) or not _ANCHORS.isdisjoint(canon) or word in _IN_ANCHORED_KEY:
        bits |= _ANCHOR_BIT
    if not canon and word not in _KEEP_LEADS:
        bits |= _HEDGE_BIT
    if (
        _NUMBER_SHAPE.fullmatch(word)
        or word in _ENDINGS
        or (canon and canon[-1] in _ENDINGS)
        or word in _ENDS_KEY_ENDING
    ):
        bits |= _END_BIT
    if word[:1].isdigit() and _NUMBER_SHAPE.fullmatch(word):
        bits |= _NUMBER_BIT
    if word == "..":
        bits |= _RANGE_BIT
    return bits


_BITS: dict[tuple[str, ...], int] = {}


def _piece_bits(tokens: tuple[str, ...]) -> int:
    bits = _BITS.get(tokens)
    if bits is None:
        each = [_token_bits(word) for word in tokens]
        bits = _SEEN_BIT
        if all(b & _KNOWN_BIT for b in each):
            bits |= _KNOWN_BIT | (_HEDGE_BIT if all(b & _HEDGE_BIT for b in each) else 0)
            bits |= each[-1] & _END_BIT
            bits |= _ANCHOR_BIT if any(b & _ANCHOR_BIT for b in each) else 0
            bits |= _AFTER_BIT if tokens[0] in _AFTER_FIRST else 0
            if len(tokens) == 1:
                bits |= each[0] & (_NUMBER_BIT | _RANGE_BIT)
        if len(_BITS) < 50_000:
            _BITS[tokens] = bits
    return bits


class _Finder:
    """One find_windows call: the text's pieces, what each can do, and the readings so far."""

    def __init__(self, text: str, announced: dt.date) -> None:
        self.text = text
        self.announced = announced
        self.pieces = pieces = scan(text)
        get = _BITS.get
        self.bits = [get(tokens) or _piece_bits(tokens) for tokens in pieces.tokens]
        self.readings: dict[str, tuple[str, Span] | None] = {}
        self._known: dict[int, bool] = {}

    def known(self, i: int) -> bool:
        """Whether piece i may be part of a phrase (not a name's number, not "it may")."""
        bits = self.bits[i]
        if not bits & _KNOWN_BIT:
            return False
        if not (bits & _NUMBER_BIT or self.pieces.tokens[i][0] in _AMBIGUOUS):
            return True
        known = self._known.get(i)
        if known is None:
            known = not (
                (bits & _NUMBER_BIT and self._names_a_product(i))
                or (self.pieces.tokens[i][0] in _AMBIGUOUS and self._not_a_date(i))
            )
            self._known[i] = known
        return known

    def _names_a_product(self, i: int) -> bool:
        """A number that belongs to a name: "GPT-4", "Phi-3", "Android 15", "Gemini 1.5"."""
        pieces, bits = self.pieces, self.bits
        n = len(pieces)
        if i + 1 < n and pieces.joined(i + 1) and not bits[i + 1] & _KNOWN_BIT:
            return True  # "3-mini"
        if i == 0 or pieces.before(i) != NONE:
            return False
        previous_known = bool(bits[i - 1] & _KNOWN_BIT)
        if pieces.joined(i):
            return not previous_known  # "GPT-4", but "mid-2025"
        if previous_known:
            return False
        # "ship 3 weeks from now" counts weeks; "Grok 3 in March" names a model.
        follower = pieces.tokens[i + 1][0] if i + 1 < n else ""
        counts = VOCAB.get((follower,), (follower,))
        counted = bool(counts) and (counts[0] in _ANCHORS or counts[0] in {"more", ".."})
        return pieces.capital(i - 1) or not counted

    def _not_a_date(self, i: int) -> bool:
        """Lower-case "may", "march", "fall" used as the words they usually are."""
        pieces = self.pieces
        if pieces.capital(i):
            return False
        if i + 1 < len(pieces) and pieces.before(i + 1) == NONE and self.bits[i + 1] & _NUMBER_BIT:
            return False  # "may 15"
        k = i - 1
        if k >= 0 and pieces.before(k + 1) == NONE and pieces.tokens[k][-1] == "the":
            k -= 1
        return not (
            k >= 0 and pieces.before(k + 1) == NONE and pieces.tokens[k][-1] in _AMBIGUOUS_LEADS
        )

    def continues(self, k: int) -> bool:
        """Whether a phrase may run on from piece k-1 into piece k."""
        before = self.pieces.gaps[k]
        if before == HARD or not self.known(k):
            return False
        if before == SOFT:
            # Only "March 31, 2025" and "June, 2025" cross a comma.
            word, previous = self.pieces.tokens[k][0], self.pieces.tokens[k - 1][-1]
            return bool(_YEAR_SHAPE.fullmatch(word)) and (
                bool(_NUMBER_SHAPE.fullmatch(previous)) or previous in MONTH_WORDS or (
                    previous in MONTHS
                )
            )  # fmt: skip
        return True

    def canon(self, first: int, last: int) -> str:
        """The canonical text of pieces first..last."""
        tokens: list[str] = []
        for piece in self.pieces.tokens[first : last + 1]:
            tokens.extend(piece)
        return " ".join(tidy(translate(tokens)))

    def reading(self, canon: str) -> tuple[str, Span] | None:
        if canon not in self.readings:
            try:
                self.readings[canon] = read_canonical(canon, self.announced)
            except (Reject, ValueError, OverflowError):
                self.readings[canon] = None
        return self.readings[canon]

    def longest(self, first: int, anchor: int, last: int) -> tuple[int, Window, str] | None:
        """The longest phrase in pieces first..last starting at ``first`` that reads; every
        phrase holds an anchor, and the first one from ``first`` is at ``anchor``."""
        pieces, bits = self.pieces, self.bits
        for end in range(last, anchor - 1, -1):
            if not bits[end] & _END_BIT:
                continue
            canon = self.canon(first, end)
            found = self.reading(canon)
            if found is None:
                continue
            rule, span = found
            phrase = self.text[pieces.start(first) : pieces.end(end)]
            window = Window(min(span.start, span.end), span.end, span.precision, rule, phrase)
            if not phrase.isascii() or SHORT_YEAR.search(phrase):
                # ASCII pieces are cut exactly where parse_window cuts; anything else is
                # checked against parse_window itself, so a span always reads as found.
                try:
                    if parse_window(phrase, self.announced) != window:
                        continue
                except WindowError:
                    continue
            return end, window, canon
        return None

    def promised(self, first: int, last: int, window: Window, canon: str) -> bool:
        """Whether the text promises ``window``, read as ``canon`` from pieces first..last."""
        if window.end < self.announced:
            return False  # "launched in May 2023"
        pieces = self.pieces
        around = clause(pieces, first, last)
        relative = window.rule in ("duration", "vague_count")
        if around.dropped(relative=relative, first=pieces.tokens[first][0]):
            return False
        words = canon.split()
        lead = {pieces.tokens[first][0], around.before[0] if around.before else ""}
        if relative:
            if words[0] in ("next", "coming") or words[-1] == "ahead" or "more" in words:
                return True
            raw = {word for tokens in pieces.tokens[first : last + 1] for word in tokens}
            return bool(lead & _COUNT_LEADS or raw & _COUNT_TAILS)
        if len(words) == 1 and window.rule not in ("explicit_date", "month_year"):
            return bool(lead & _POINT_LEADS)
        return True

    def after_previous(
        self, first: int, last: int, found: list[Found]
    ) -> tuple[int, Window, str] | None:
        """ "... and general availability soon after": the week after the window before it."""
        if not found or self.pieces.tokens[first][0] not in _AFTER_FIRST:
            return None
        for end in (first + 1, first + 2):
            canon = self.canon(first, end) if end <= last else ""
            if canon in _AFTER_ALONE:
                previous = found[-1].window.end
                window = Window(
                    start=previous + dt.timedelta(days=1),
                    end=previous + dt.timedelta(days=7),
                    precision="week",
                    rule="shortly_after",
                    phrase=self.text[self.pieces.start(first) : self.pieces.end(end)],
                )
                return end, window, canon
        return None

    def slipped_range(self, first: int, last: int, window: Window) -> int | None:
        """In "delayed from Q2 to Q3" only Q3 holds: where the range's second end starts."""
        if window.rule != "range" or self.pieces.tokens[first][0] != "from":
            return None
        if not clause(self.pieces, first, last).moved_from():
            return None
        for k in range(first + 1, last + 1):
            if translate(list(self.pieces.tokens[k])) == [".."]:
                return k + 1
        return None

    def run(self) -> list[Found]:
        found: list[Found] = []
        bits = self.bits
        n = len(bits)
        # Only runs of known words that name a period (or start "soon after") can hold a
        # phrase, so only the runs around such pieces are looked at, in order.
        seeds = [k for k, each in enumerate(bits) if each & (_ANCHOR_BIT | _AFTER_BIT)]
        last = -1
        for seed in seeds:
            if seed <= last or not self.known(seed):
                continue
            first = seed
            while first - 1 > last and self.continues(first) and self.known(first - 1):
                first -= 1
            last = seed
            while last + 1 < n and self.continues(last + 1):
                last += 1
            anchors = [k for k in range(first, last + 1) if bits[k] & _ANCHOR_BIT]
            if anchors or found:
                self.run_phrases(first, last, anchors, found)
        return found

    def run_phrases(self, first: int, last: int, anchors: list[int], found: list[Found]) -> None:
        """Find the phrases in pieces first..last, a run that no unknown word breaks."""
        bits, pieces = self.bits, self.pieces
        start = first
        while start <= last:
            if bits[start] & (_HEDGE_BIT | _RANGE_BIT):
                start += 1
                continue
            stop = min(last, start + _MAX_PIECES - 1)
            while pieces.end(stop) - pieces.start(start) > MAX_PHRASE_LENGTH:
                stop -= 1
            anchor = next((k for k in anchors if k >= start), last + 1)
            hit = self.longest(start, anchor, stop) if anchor <= stop else None
            if hit is None:
                try:
                    hit = self.after_previous(start, stop, found)
                except (ValueError, OverflowError):
                    hit = None
            if hit is None:
                start += 1
                continue
            end, window, canon = hit
            second = self.slipped_range(start, end, window)
            if second is not None:
                start = second
                continue
            if self.promised(start, end, window, canon):
                found.append(Found(window=window, span=(pieces.start(start), pieces.end(end))))
            start = end + 1


def find_windows(text: str, announced: dt.date) -> list[Found]:
    """Every launch window that ``text`` promises, in order of appearance.

    Reads English and Indonesian sentences and paragraphs with the grammar of parse_window:
    each ``Found.window`` is what parse_window reads from ``text[span[0]:span[1]]``, except
    "soon after" with no date of its own, which is the week after the window before it. Left
    out: what only looks like a date ("GPT-4", "Android 15", "70B"), windows that end before
    ``announced``, plans the text abandons ("originally planned for Q2"), periods it excludes
    ("but not September") and what already happened. A text with no promise gives [].
    Raises WindowError for a text longer than MAX_TEXT_LENGTH, and nothing else.
    """
    if len(text) > MAX_TEXT_LENGTH:
        raise WindowError(
            f"The text is {len(text):,} characters long; windows are read from at most "
            f"{MAX_TEXT_LENGTH:,}."
        )
    return _Finder(text, announced).run()

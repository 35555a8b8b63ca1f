"""The lenient door: ``find_windows`` reads the promises inside a sentence or a paragraph.

It tries the phrases inside a text with the grammar ``parse_window`` uses (words cut by
``tracker.windows.pieces``, what each word can do from ``tracker.windows.roles``), then keeps
only the promises: ``tracker.windows.clause`` judges the words around each phrase.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Final

from tracker.windows.clause import clause
from tracker.windows.model import (
    MAX_PHRASE_LENGTH,
    MAX_TEXT_LENGTH,
    Found,
    Reject,
    Span,
    Window,
    WindowError,
)
from tracker.windows.phrase import parse_window
from tracker.windows.pieces import HARD, NONE, SOFT, scan
from tracker.windows.roles import (
    AFTER_BIT,
    AFTER_FIRST,
    ANCHOR_BIT,
    ANCHORS,
    END_BIT,
    HEDGE_BIT,
    KNOWN_BIT,
    NUMBER_BIT,
    NUMBER_SHAPE,
    RANGE_BIT,
    piece_bits,
)
from tracker.windows.rules import read_canonical
from tracker.windows.vocabulary import MONTH_WORDS, MONTHS, SHORT_YEAR, VOCAB, tidy, translate

_MAX_PIECES: Final = 12  # the longest phrase tried, in words ("no later than the end of Q3 2025")
_YEAR_SHAPE: Final = re.compile(r"[0-9]{4}")
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


class _Finder:
    """One find_windows call: the text's pieces, what each can do, and the readings so far."""

    def __init__(self, text: str, announced: dt.date) -> None:
        self.text = text
        self.announced = announced
        self.pieces = pieces = scan(text)
        self.bits = piece_bits(pieces.tokens)
        self.readings: dict[str, tuple[str, Span] | None] = {}
        self._known: dict[int, bool] = {}

    def known(self, i: int) -> bool:
        """Whether piece i may be part of a phrase (not a name's number, not "it may")."""
        bits = self.bits[i]
        if not bits & KNOWN_BIT:
            return False
        if not (bits & NUMBER_BIT or self.pieces.tokens[i][0] in _AMBIGUOUS):
            return True
        known = self._known.get(i)
        if known is None:
            known = not (
                (bits & NUMBER_BIT and self._names_a_product(i))
                or (self.pieces.tokens[i][0] in _AMBIGUOUS and self._not_a_date(i))
            )
            self._known[i] = known
        return known

    def _names_a_product(self, i: int) -> bool:
        """A number that belongs to a name: "GPT-4", "Phi-3", "Android 15", "Gemini 1.5"."""
        pieces, bits = self.pieces, self.bits
        n = len(pieces)
        if i + 1 < n and pieces.joined(i + 1) and not bits[i + 1] & KNOWN_BIT:
            return True  # "3-mini"
        if i == 0 or pieces.before(i) != NONE:
            return False
        previous_known = bool(bits[i - 1] & KNOWN_BIT)
        if pieces.joined(i):
            return not previous_known  # "GPT-4", but "mid-2025"
        if previous_known:
            return False
        # "ship 3 weeks from now" counts weeks; "Grok 3 in March" names a model.
        follower = pieces.tokens[i + 1][0] if i + 1 < n else ""
        counts = VOCAB.get((follower,), (follower,))
        counted = bool(counts) and (counts[0] in ANCHORS or counts[0] in {"more", ".."})
        return pieces.capital(i - 1) or not counted

    def _not_a_date(self, i: int) -> bool:
        """Lower-case "may", "march", "fall" used as the words they usually are."""
        pieces = self.pieces
        if pieces.capital(i):
            return False
        if i + 1 < len(pieces) and pieces.before(i + 1) == NONE and self.bits[i + 1] & NUMBER_BIT:
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
                bool(NUMBER_SHAPE.fullmatch(previous)) or previous in MONTH_WORDS or (
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
            if not bits[end] & END_BIT:
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
        if not found or self.pieces.tokens[first][0] not in AFTER_FIRST:
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
        seeds = [k for k, each in enumerate(bits) if each & (ANCHOR_BIT | AFTER_BIT)]
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
            anchors = [k for k in range(first, last + 1) if bits[k] & ANCHOR_BIT]
            if anchors or found:
                self.run_phrases(first, last, anchors, found)
        return found

    def run_phrases(self, first: int, last: int, anchors: list[int], found: list[Found]) -> None:
        """Find the phrases in pieces first..last, a run that no unknown word breaks."""
        bits, pieces = self.bits, self.pieces
        start = first
        while start <= last:
            if bits[start] & (HEDGE_BIT | RANGE_BIT):
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

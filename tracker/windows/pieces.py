"""Words with their places: raw text cut into the words the grammar reads.

* ``raw_tokens`` turns a phrase into lower-case words and numeric dates; ``parse_window`` reads
  those.
* ``scan`` cuts a whole paragraph into ``Pieces``: the same words, each with the character
  offsets it came from and the punctuation that separates it from the piece before, so that
  ``find_windows`` can try phrases inside sentences and point back at the text it read.

The tokens of a piece are exactly what ``raw_tokens`` gives for the piece's own text, and pieces
are only ever cut where ``raw_tokens`` would cut too, so the text between two pieces' offsets
reads as the concatenation of their tokens.
"""

from __future__ import annotations

import re
import unicodedata
from itertools import accumulate
from typing import Final

__all__ = ["HARD", "NONE", "SOFT", "Pieces", "raw_tokens", "scan"]

_NUMERIC_TOKEN: Final = re.compile(r"[0-9]+(?:[-./][0-9]+)*")
_APOSTROPHES: Final = str.maketrans("", "", "'\u2018\u2019`")
_DASHES: Final = str.maketrans(dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212", "-"))


def raw_tokens(phrase: str) -> list[str]:
    """Lower-case words and numeric dates, punctuation removed; ``..`` kept as its own token."""
    text = unicodedata.normalize("NFKC", phrase).lower().translate(_APOSTROPHES).translate(_DASHES)
    chars: list[str] = []
    for ch in text:
        if ch.isascii() and (ch.isalnum() or ch in "-./"):
            chars.append(ch)
        elif ch.isspace() or unicodedata.category(ch)[0] in "PSZC":
            chars.append(" ")
        else:
            # A non-ASCII letter or digit stays, so the phrase fails to match instead of
            # silently losing part of its meaning.
            chars.append(ch)
    text = re.sub(r"\.{2,}", " .. ", "".join(chars))
    tokens: list[str] = []
    for token in text.split():
        if token == ".." or set(token) == {"-"}:  # a spaced dash separates a range too
            tokens.append("..")
            continue
        token = token.strip("-./")
        if not token:
            continue
        if _NUMERIC_TOKEN.fullmatch(token):
            tokens.append(token)  # 2025-03-31, 31.03.2025, 6-8
        else:
            tokens.extend(part for part in re.split(r"[-./]", token) if part)  # mid-2025, Sept.
    return tokens


# How a piece is separated from the one before it.
NONE: Final = 0  # by spaces (or a dash inside a word, as in "mid-2025")
SOFT: Final = 1  # by a comma: a clause may go on, a phrase only in "March 31, 2025"
HARD: Final = 2  # by a sentence end, a line break, brackets or quotes: nothing crosses it

# Typographic punctuation folded onto ASCII, one character for one, so offsets stay valid.
_FOLD: Final = str.maketrans(
    {
        **dict.fromkeys("\u201c\u201d\u201e\u00ab\u00bb", '"'),
        **dict.fromkeys("\u2018\u2019\u201a`", "'"),
        **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212", "-"),
        **dict.fromkeys("\u00a0\u2007\u2009\u202f", " "),
        "\u2026": ".",
        "\u2022": "|",
    }
)
# A piece: a numeric date or count range ("2025-03-31", "6-8"), a word ("year's" is one), the
# ".." of a range, or a dash standing alone between spaces (a range too: "Q1 - Q2").
# The lookaheads only fail fast where a piece cannot start (a space, a letter for a number).
_PIECES: Final = re.compile(
    r"(?=\S)((?=[0-9])(?<![^\W_])(?<![-./'])[0-9]+(?:[-./][0-9]+)+(?![^\W_]|[-./'][^\W_])"
    r"|[^\W_]+(?:'[^\W_]+)*|\.{2,}|(?<!\S)-+(?!\S))"
)
_HARD_GAP: Final = re.compile(r"[!?;:()\[\]{}\"|\n\r]|\.\s")
# Words a dot follows without ending the sentence ("Sept. 3rd", "approx. Q3").
_ABBREVIATIONS: Final = frozenset(
    {
        "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
        "agt", "agu", "ags", "okt", "nop", "des", "peb", "approx", "ca", "est", "etc", "vs",
        "no", "mr", "ms", "dr", "st", "jr", "inc", "co", "ltd", "corp", "tgl",
    }
)  # fmt: skip
_JOINS: Final = frozenset({"", "-", ".", "/"})
_TOKENS: dict[str, tuple[str, ...]] = {}


def _piece_tokens(word: str) -> tuple[str, ...]:
    tokens = _TOKENS.get(word)
    if tokens is None:
        if word.isascii() and word.isalnum():
            tokens = (word.lower(),)
        else:
            tokens = tuple(raw_tokens(word)) or ("\x00",)  # "\x00": a word of no known kind
        if len(_TOKENS) < 50_000:
            _TOKENS[word] = tokens
    return tokens


class Pieces:
    """A text cut into pieces: ``tokens[i]`` is what ``raw_tokens`` reads from piece i.

    Offsets, separators and capitals are worked out only for the pieces someone asks about,
    since most of a long text is never near a date.
    """

    __slots__ = ("_offsets", "_parts", "gaps", "text", "tokens")

    def __init__(self, text: str) -> None:
        self.text = text
        flat = text.translate(_FOLD)
        lowered = flat.lower()
        # parts alternates separators and pieces: [gap 0, piece 0, gap 1, piece 1, ..., gap n].
        self._parts = parts = _PIECES.split(lowered if len(lowered) == len(flat) else flat)
        self._offsets = [0, *accumulate(map(len, parts))]
        get = _TOKENS.get
        self.tokens = [get(word) or _piece_tokens(word) for word in parts[1::2]]
        # gaps[i]: what separates piece i from the piece before (see ``before``); most are one
        # space, the rest are judged here once.
        self.gaps = gaps = [NONE if gap == " " else -1 for gap in parts[:-1:2]]
        for i, kind in enumerate(gaps):
            if kind < 0:
                gaps[i] = self._judge_gap(i)

    def __len__(self) -> int:
        return len(self.tokens)

    def start(self, i: int) -> int:
        """Where piece i starts in the text."""
        return self._offsets[2 * i + 1]

    def end(self, i: int) -> int:
        """Where piece i ends in the text."""
        return self._offsets[2 * i + 2]

    def capital(self, i: int) -> bool:
        """Whether piece i starts with a capital ("May" the month, "Grok" a name)."""
        return self.text[self.start(i)].isupper()

    def joined(self, i: int) -> bool:
        """Whether piece i is glued to the one before inside a word ("GPT-4", "mid-2025")."""
        return i > 0 and self._parts[2 * i] in _JOINS

    def before(self, i: int) -> int:
        """What separates piece i from the piece before: NONE, SOFT or HARD."""
        return self.gaps[i]

    def _judge_gap(self, i: int) -> int:
        gap = self._parts[2 * i]
        if i == 0:
            return NONE
        if _HARD_GAP.search(gap) and (
            "." not in gap
            or _HARD_GAP.search(gap.replace(".", " "))
            or not self._abbreviation(i - 1)
        ):
            return HARD
        return SOFT if "," in gap else NONE

    def _abbreviation(self, i: int) -> bool:
        word = self.tokens[i][-1]
        return word in _ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def scan(text: str) -> Pieces:
    """Cut ``text`` into pieces; see the module docstring for what a piece promises."""
    return Pieces(text)

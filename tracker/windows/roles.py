"""What each word can do in a phrase, as bits: name a period, end a phrase, only soften it...

``find_windows`` looks only at runs of words the grammar knows around a word that names a
period, and starts and ends phrases only where these bits allow; a piece's bits are worked out
once per process and kept.
"""

from __future__ import annotations

import re
from typing import Final

from tracker.windows.rules import RULE_SOURCES
from tracker.windows.vocabulary import MONTHS, SEASONS, UNITS, VOCAB

ANCHORS: Final = frozenset(
    {
        *MONTHS, *UNITS, *SEASONS, "fortnight", "days", "weeks", "months", "years",
        "quarters", "fortnights", "christmas", "christmaseve", "newyear", "newyearseve",
        "halloween", "thanksgiving", "q1", "q2", "q3", "q4", "1q", "2q", "3q", "4q", "h1", "h2",
        "1h", "2h",
    }
)  # fmt: skip
# The last word of a phrase that reads: a period, a number, or a word placed after its noun.
_ENDINGS: Final = ANCHORS | {
    "end", "ahead", "@this", "@next", "i", "ii", "iii", "iv", "1st", "2nd", "3rd", "4th", "now",
    "lagi", "later", "so", "ish", "last",
}  # fmt: skip
NUMBER_SHAPE: Final = re.compile(r"[0-9]+(?:st|nd|rd|th)?|[0-9]+(?:[-./][0-9]+)+")
_DATE_SHAPE: Final = re.compile(r"[0-9]{4}|[0-9]+(?:[-./][0-9]+)+")
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
    | ANCHORS
    | {"..", "i", "ke", "by", "before", "after", "more", "last", "later", "now"}
)
# Lead-ins kept at the start of a phrase although they add no date ("in March").
_KEEP_LEADS: Final = frozenset({"in", "dalam", "from", "starting", "beginning", "mulai", "dari"})
# Words that may start "soon after" (or "not long after"), a phrase with no period of its own.
AFTER_FIRST: Final = frozenset(
    {"soon", "shortly", "just", "right", "immediately", "not", "tak", "tidak", "segera", "sesaat"}
)
# What a piece can do, as bits.
KNOWN_BIT: Final = 1  # every token is a word the grammar knows
ANCHOR_BIT: Final = 2  # it names a period: no phrase reads without one
HEDGE_BIT: Final = 4  # it only softens ("around", "the"): phrases neither start nor end on it
END_BIT: Final = 8  # a phrase may end on it
NUMBER_BIT: Final = 16  # a bare number, which may belong to a name ("Android 15")
RANGE_BIT: Final = 32  # the ".." of a range
SEEN_BIT: Final = 64  # always set, so that a word of no use is not looked at twice
AFTER_BIT: Final = 128  # "soon", "shortly": a phrase may start on it without a period


# Per word, from the multi-word vocabulary: whether a key holding it names a period ("hari
# natal"), and whether a key ending on it ends on a word a phrase may end on ("tahun depan").
_IN_ANCHORED_KEY: Final = frozenset(
    word
    for key, value in VOCAB.items()
    if len(key) > 1 and not ANCHORS.isdisjoint(value)
    for word in key
)
_ENDS_KEY_ENDING: Final = frozenset(
    key[-1] for key, value in VOCAB.items() if value and value[-1] in _ENDINGS
)


def _token_bits(word: str) -> int:
    if not (word in _KNOWN or NUMBER_SHAPE.fullmatch(word)):
        return 0
    canon = VOCAB.get((word,), (word,))
    bits = KNOWN_BIT
    if _DATE_SHAPE.fullmatch(word) or not ANCHORS.isdisjoint(canon) or word in _IN_ANCHORED_KEY:
        bits |= ANCHOR_BIT
    if not canon and word not in _KEEP_LEADS:
        bits |= HEDGE_BIT
    if (
        NUMBER_SHAPE.fullmatch(word)
        or word in _ENDINGS
        or (canon and canon[-1] in _ENDINGS)
        or word in _ENDS_KEY_ENDING
    ):
        bits |= END_BIT
    if word[:1].isdigit() and NUMBER_SHAPE.fullmatch(word):
        bits |= NUMBER_BIT
    if word == "..":
        bits |= RANGE_BIT
    return bits


_BITS: dict[tuple[str, ...], int] = {}


def _bits(tokens: tuple[str, ...]) -> int:
    each = [_token_bits(word) for word in tokens]
    bits = SEEN_BIT
    if all(b & KNOWN_BIT for b in each):
        bits |= KNOWN_BIT | (HEDGE_BIT if all(b & HEDGE_BIT for b in each) else 0)
        bits |= each[-1] & END_BIT
        bits |= ANCHOR_BIT if any(b & ANCHOR_BIT for b in each) else 0
        bits |= AFTER_BIT if tokens[0] in AFTER_FIRST else 0
        if len(tokens) == 1:
            bits |= each[0] & (NUMBER_BIT | RANGE_BIT)
    if len(_BITS) < 50_000:
        _BITS[tokens] = bits
    return bits


def piece_bits(pieces: list[tuple[str, ...]]) -> list[int]:
    """The bits of each piece (given as its tokens), kept per process for the pieces seen."""
    get = _BITS.get
    return [get(tokens) or _bits(tokens) for tokens in pieces]

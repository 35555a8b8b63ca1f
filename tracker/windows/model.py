"""The records of reading windows: what the two doors return and raise, and what travels
inside the grammar (``Span`` from a rule, ``Reject`` for a phrase no rule reads)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Final, NamedTuple

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


# Inside the grammar: what a rule reads, and how it refuses.


class Span(NamedTuple):
    """What a rule handler produces; ``parse_window`` adds the rule name and phrase."""

    start: dt.date
    end: dt.date
    precision: str


class Reject(Exception):
    """Raised inside the parser; ``parse_window`` turns it into a WindowError with examples."""

    def __init__(self, reason: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason

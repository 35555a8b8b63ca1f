"""The strict door: ``parse_window`` reads one phrase as a window or refuses it with examples."""

from __future__ import annotations

import datetime as dt

from tracker.windows.model import (
    EXAMPLES_EN,
    EXAMPLES_ID,
    MAX_PHRASE_LENGTH,
    Reject,
    Window,
    WindowError,
)
from tracker.windows.rules import read_canonical
from tracker.windows.vocabulary import SHORT_YEAR, canonical_words, looks_indonesian


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

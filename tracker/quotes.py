"""The promised window read from the promise's own words.

A manager who has the announcement in front of them can give its quote instead of typing the
window: ``windows_in_quote`` finds the windows the quote promises (``find_windows``), each with
the phrase to store as the launch's window. When there are several, the manager chooses.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from tracker.errors import InvalidInput
from tracker.windows import EXAMPLES_EN, Window, WindowError, find_windows, parse_window

# A select menu offers at most 25 options.
MAX_CHOICES = 25


@dataclass(frozen=True, slots=True)
class QuotedWindow:
    """A window found in a quote: where (``span``) and the phrase that reads as it."""

    window: Window
    span: tuple[int, int]
    phrase: str


def windows_in_quote(quote: str, announced_on: dt.date) -> list[QuotedWindow]:
    """The windows ``quote`` promises, in order (at most MAX_CHOICES).

    Raises InvalidInput when it promises none, naming three phrases that would work.
    """
    out: list[QuotedWindow] = []
    try:
        found = find_windows(quote, announced_on)
    except WindowError as exc:
        raise InvalidInput(str(exc)) from exc
    for item in found:
        window = item.window
        # The phrase is stored as the launch's window and read again when it is added; "soon
        # after" alone leans on the window before it, so it is stored with that window's end.
        phrase = " ".join(window.phrase.split())
        if window.rule == "shortly_after" and not any(ch.isdigit() for ch in phrase):
            phrase = f"{phrase} {window.start - dt.timedelta(days=1):%Y-%m-%d}"
        try:
            again = parse_window(phrase, announced_on)
        except WindowError:
            continue
        if (again.start, again.end) != (window.start, window.end):
            continue
        out.append(QuotedWindow(window=window, span=item.span, phrase=phrase))
        if len(out) == MAX_CHOICES:
            break
    if not out:
        examples = ", ".join(f'"{e}"' for e in EXAMPLES_EN)
        raise InvalidInput(
            f"The quote promises no launch window I can read. Give the window too, e.g. {examples}."
        )
    return out

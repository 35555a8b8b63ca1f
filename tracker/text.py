"""Small text helpers every part of the bot shares, so each rule is written once."""

from __future__ import annotations

# Words whose plural is not the regular one (matched as the last word of a phrase).
_IRREGULAR = {"entry": "entries", "is": "are", "was": "were", "has": "have"}


def plural_word(n: int, word: str) -> str:
    """*word* agreeing with *n*: "launch" / "launches", "day" / "days", "entry" / "entries"."""
    if n == 1:
        return word
    head, _, last = word.rpartition(" ")
    prefix = head + " " if head else ""
    if last in _IRREGULAR:
        return prefix + _IRREGULAR[last]
    if last.endswith(("ch", "sh", "s", "x", "z")):
        return word + "es"
    if last.endswith("y") and last[-2:-1] not in ("a", "e", "i", "o", "u"):
        return word[:-1] + "ies"
    return word + "s"


def plural(n: int, word: str) -> str:
    """ "1 day", "2 days", "3 launches", "0 entries": *n* and *word* agreeing with it."""
    return f"{n} {plural_word(n, word)}"


def lateness(days: int, *, at_least: bool = False, still_out: bool = False) -> str:
    """Signed days late in words: "48 days late", "1 day early", "on time"; *at_least* for a
    month-only day (counted from the month's first day), *still_out* for a running figure."""
    if days > 0:
        text = f"{'at least ' if at_least else ''}{plural(days, 'day')} late"
    elif days == 0:
        text = "on time or up to a month late" if at_least else "on time"
    else:
        text = f"{'up to ' if at_least else ''}{plural(-days, 'day')} early"
    return text + (" (still out)" if still_out else "")


def cut(text: str, limit: int) -> str:
    """*text* cut to at most *limit* characters, ending in an ellipsis when it was longer (no
    space is left before the ellipsis). Discord's limits and the bot's own notes use it."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"

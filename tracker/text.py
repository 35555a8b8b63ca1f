"""Small text helpers every part of the bot shares, so each rule is written once."""

from __future__ import annotations


def plural(n: int, word: str) -> str:
    """ "1 day", "2 days", "3 launches": *n* and *word*, with the English plural when n != 1."""
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word}{'es' if word.endswith(('ch', 'sh', 's', 'x')) else 's'}"


def cut(text: str, limit: int) -> str:
    """*text* cut to *limit* characters, ending in an ellipsis when it was longer."""
    return text if len(text) <= limit else text[: limit - 1] + "…"

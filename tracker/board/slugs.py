"""Board names: the slug a published board is found under (/b/<slug>/)."""

from __future__ import annotations

import re

from tracker.errors import InvalidInput

__all__ = ["SLUG_MAX", "SLUG_MIN", "normalize_slug", "slug_from_name"]


_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SLUG_MIN = 3
SLUG_MAX = 40
# Paths under /b/<slug>/ that a slug may not shadow, and words that would mislead.
_RESERVED = frozenset({"static", "feed", "api", "admin", "www", "slipwatch"})


def normalize_slug(text: str) -> str:
    """The slug as stored: lower case, 3 to 40 letters, digits and single hyphens."""
    slug = text.strip().lower()
    if not SLUG_MIN <= len(slug) <= SLUG_MAX or not _SLUG.match(slug):
        raise InvalidInput(
            f"A board name is {SLUG_MIN} to {SLUG_MAX} lower-case letters, digits and single "
            'hyphens, like "ai-watch".'
        )
    if slug in _RESERVED:
        raise InvalidInput(f'"{slug}" is reserved; please pick another board name.')
    return slug


def slug_from_name(name: str) -> str | None:
    """A slug made from a server's name ("AI Watch!" -> "ai-watch"), or None if none fits."""
    words = re.findall(r"[a-z0-9]+", name.lower())
    slug = "-".join(words)[:SLUG_MAX].strip("-")
    try:
        return normalize_slug(slug)
    except InvalidInput:
        return None

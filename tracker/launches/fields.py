"""What a person types about a launch, cleaned: the length limits and the checks on text, links,
timezones and evidence that adding and editing share."""

from __future__ import annotations

from typing import Any, Final
from urllib.parse import urlsplit

from tracker import deadlines
from tracker.errors import InvalidInput
from tracker.models import Evidence

MAX_PRODUCT: Final = 100
MAX_VENDOR: Final = 60
MAX_ANNOUNCER: Final = 100
MAX_QUOTE: Final = 1000
MAX_URL: Final = 500
MAX_NOTE: Final = 1000

# The free-text fields /launch edit may correct: (what a person calls it, limit, required).
_TEXT_FIELDS: Final = {
    "product": ("product name", MAX_PRODUCT, True),
    "vendor": ("vendor name", MAX_VENDOR, True),
    "announcer": ("announcer", MAX_ANNOUNCER, False),
    "quote": ("quote", MAX_QUOTE, False),
}
EDITABLE: Final = frozenset({*_TEXT_FIELDS, "source_url", "timezone", "evidence"})


def clean_text(value: str | None, *, what: str, maximum: int, required: bool = False) -> str | None:
    """Trim a typed value; refuse empty required ones and over-long ones with a hint."""
    if value is None:
        if required:
            raise InvalidInput(f"Please give a {what}.")
        return None
    text = " ".join(value.split())
    if not text:
        if required:
            raise InvalidInput(f"Please give a {what}.")
        return None
    if len(text) > maximum:
        raise InvalidInput(f"The {what} is {len(text)} characters long; at most {maximum}, please.")
    return text


def clean_url(value: str | None) -> str | None:
    """Accept only http(s) links with a host."""
    text = clean_text(value, what="source link", maximum=MAX_URL)
    if text is None:
        return None
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in text:
        raise InvalidInput(
            f"{text!r} is not a web link. Give the full address, like https://x.com/elonmusk/..."
        )
    return text


def clean_changes(changes: dict[str, Any]) -> dict[str, Any]:
    """The fields of a /launch edit, each checked and cleaned; None values are left out.
    Refuses fields that cannot be edited (the window among them: a new promise is a
    re-announcement) and an edit that changes nothing."""
    unknown = set(changes) - EDITABLE
    if unknown:
        raise InvalidInput(f"Cannot edit {', '.join(sorted(unknown))}.")
    cleaned: dict[str, Any] = {}
    for key, value in changes.items():
        if value is None:
            continue
        if key == "source_url":
            cleaned[key] = clean_url(value)
        elif key == "timezone":
            deadlines.zone(value)
            cleaned[key] = value
        elif key == "evidence":
            try:
                cleaned[key] = Evidence(str(value).strip().lower())
            except ValueError:
                raise InvalidInput("Evidence is official, reported or rumour.") from None
        else:
            what, maximum, required = _TEXT_FIELDS[key]
            cleaned[key] = clean_text(value, what=what, maximum=maximum, required=required)
    if not cleaned:
        raise InvalidInput("Nothing to change: give at least one field to edit.")
    return cleaned

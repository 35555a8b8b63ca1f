"""What reading an answer produces: the plain data (a feed, a page's text) and the source's own
errors (:class:`Unreadable`)."""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass
from typing import Any

MAX_JSON_DEPTH = 64
MAX_ENTRIES = 2000  # feed entries read per answer
MAX_FIELD = 20_000  # characters kept of one feed field (title, summary, content)


class Reading(enum.StrEnum):
    """What an answer is read as."""

    JSON = "json"
    FEED = "feed"
    PAGE = "page"


class Unreadable(Exception):
    """The source answered something that cannot be read; ``str()`` is short and meant for
    people ("the source answered something unreadable: ...")."""

    def __init__(self, detail: str) -> None:
        super().__init__(f"the source answered something unreadable: {detail}")
        self.detail = detail

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in a worker process and raised again in the bot's: rebuilt from its detail.
        return (type(self), (self.detail,))


class NotAFeed(Unreadable):
    """An answer that reads fine but is neither RSS nor Atom."""

    def __init__(self) -> None:
        Exception.__init__(self, "the answer is not an RSS or Atom feed")
        self.detail = "not an RSS or Atom feed"

    def __reduce__(self) -> tuple[Any, ...]:
        return (NotAFeed, ())


@dataclass(frozen=True, slots=True)
class FeedEntry:
    """One RSS item or Atom entry, as plain text. ``content`` holds every content element
    (Atom ``content``, RSS ``content:encoded``) joined with newlines; HTML is reduced to its
    visible text, one passage per line."""

    id: str | None
    title: str
    link: str | None
    published: dt.datetime | None  # aware UTC: published, else updated
    summary: str
    content: str


@dataclass(frozen=True, slots=True)
class Feed:
    """An RSS or Atom feed: its title and its first :data:`MAX_ENTRIES` entries, in order."""

    title: str
    entries: tuple[FeedEntry, ...]


@dataclass(frozen=True, slots=True)
class PageText:
    """The visible text of a page: ``passages`` are the texts of its block elements (a
    paragraph, a heading, a list item...) in order, spacing collapsed; ``text`` is them joined
    with newlines."""

    title: str
    text: str
    passages: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Read:
    """A 2xx answer, read: where it came from and what it said."""

    url: str
    content_type: str
    data: Any  # a JSON value, a Feed or a PageText (as the kind's Reading says)

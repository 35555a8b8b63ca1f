"""Promises in a vendor's feed or page: the pure reading of a feed's entries or a page's
passages into :class:`tracker.promises.Promised` records (tracker.discovery polls)."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

from tracker.probes.reader import Feed, PageText
from tracker.promises import Promised
from tracker.windows import MAX_TEXT_LENGTH, WindowError, find_windows

MAX_SENTENCE = 600
MAX_TITLE = 200
MAX_PRODUCT = 100

_LEAD_WORDS = frozenset(
    {"introducing", "announcing", "meet", "coming", "soon", "new", "our", "the", "a", "an"}
)
_PRODUCT_WORD = re.compile(r"(?:[A-Z][\w.+-]*|[0-9][\w.+-]*|[a-z]+[0-9][\w.+-]*)")


def product_from_title(title: str, vendor: str) -> str:
    """A product name guessed from an entry's title ("Grok 5 is coming" -> "Grok 5"): the
    leading run of capitalised words and version numbers, after "Introducing" and the like.
    The manager edits it before anything is added."""
    head = re.split(r"\s[:|\u2013\u2014-]\s|:\s", " ".join(title.split()), maxsplit=1)[0]
    words = head.split()
    while words and words[0].casefold().strip(":") in _LEAD_WORDS:
        words.pop(0)
    if words and words[0].casefold() == vendor.casefold():
        words.pop(0)
    name: list[str] = []
    for word in words:
        if not _PRODUCT_WORD.fullmatch(word.strip(",.!?")):
            break
        name.append(word.strip(",.!?"))
    product = " ".join(name) or head
    return product[:MAX_PRODUCT].strip() or vendor[:MAX_PRODUCT]


def _sentence_around(text: str, span: tuple[int, int]) -> tuple[str, tuple[int, int]]:
    """The sentence of ``text`` holding ``span``, cut to MAX_SENTENCE around it."""
    start, end = span
    left = max(text.rfind(mark, 0, start) for mark in (". ", "! ", "? ", "\n"))
    left = 0 if left < 0 else left + 1
    rights = [i for i in (text.find(mark, end) for mark in (". ", "! ", "? ", "\n")) if i >= 0]
    right = min(rights) + 1 if rights else len(text)
    while left < start and text[left].isspace():
        left += 1
    if right - left > MAX_SENTENCE:
        left = max(left, start - MAX_SENTENCE // 2)
        right = min(right, left + MAX_SENTENCE)
    sentence = text[left:right].rstrip()
    return sentence, (start - left, end - left)


def _promise_in(
    key: str, title: str, url: str | None, text: str, announced: dt.date, vendor: str
) -> Promised | None:
    text = text[:MAX_TEXT_LENGTH]
    try:
        found = find_windows(text, announced)
    except WindowError:
        return None
    if not found:
        return None
    first = found[0]
    sentence, span = _sentence_around(text, first.span)
    return Promised(
        entry_key=key,
        title=" ".join(title.split())[:MAX_TITLE] or vendor,
        url=url,
        sentence=sentence,
        span=span,
        window_phrase=" ".join(first.window.phrase.split()),
        window_start=first.window.start,
        window_end=first.window.end,
        announced_on=announced,
        product=product_from_title(title, vendor),
    )


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def promises_in(data: Feed | PageText, url: str, vendor: str, today: dt.date) -> list[Promised]:
    """The entries of a read feed or page that promise a window, in order.

    A feed entry is read as its title, summary and content, from its publication day (or
    ``today``); a page's passages are its entries, read from ``today``."""
    out: list[Promised] = []
    if isinstance(data, Feed):
        for entry in data.entries:
            body = entry.content if entry.summary and entry.summary in entry.content else (
                f"{entry.summary}\n{entry.content}"
            )  # fmt: skip
            text = f"{entry.title}\n{body}".strip()
            key = "entry:" + (entry.id or entry.link or _digest(entry.title, text))[:300]
            announced = entry.published.date() if entry.published else today
            found = _promise_in(key, entry.title, entry.link, text, announced, vendor)
            if found is not None:
                out.append(found)
        return out
    for passage in data.passages:
        key = "passage:" + _digest(url, passage)
        found = _promise_in(key, data.title or passage, url, passage, today, vendor)
        if found is not None:
            out.append(found)
    return out

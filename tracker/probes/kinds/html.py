"""Web pages as text: the charset they declare, and their visible words (stdlib parser)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

_META_CHARSET = re.compile(rb"""<meta[^>]+charset=["']?([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)


def decode_html(body: bytes, content_type: str) -> str:
    """Bytes of a page as text: the charset of the Content-Type, else of a <meta>, else
    UTF-8 (undecodable bytes replaced)."""
    charset = None
    match = re.search(r"charset=([A-Za-z0-9_.:-]{1,40})", content_type or "", re.IGNORECASE)
    if match:
        charset = match.group(1)
    else:
        meta = _META_CHARSET.search(body[:4096])
        if meta:
            charset = meta.group(1).decode("ascii", "replace")
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


class _TextExtractor(HTMLParser):
    SKIP = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "object"})
    BLOCK = frozenset(
        {
            "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
            "figcaption", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr",
            "li", "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "title",
            "tr", "ul",
        }
    )  # fmt: skip

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Enter a skipped element, or separate a block's words from its neighbours'."""
        if tag in self.SKIP:
            self._skipping += 1
        elif tag in self.BLOCK:
            self.parts.append(" ")

    def handle_endtag(self, tag: str) -> None:
        """Leave a skipped element, or end a block."""
        if tag in self.SKIP:
            self._skipping = max(0, self._skipping - 1)
        elif tag in self.BLOCK:
            self.parts.append(" ")

    def handle_data(self, data: str) -> None:
        """Keep visible text."""
        if not self._skipping:
            self.parts.append(data)


def html_text(markup: str) -> str:
    """The visible text of an HTML document or fragment, spacing collapsed (stdlib parser)."""
    if "<" not in markup and "&" not in markup:
        return " ".join(markup.split())
    parser = _TextExtractor()
    parser.feed(markup)
    parser.close()
    return " ".join("".join(parser.parts).split())

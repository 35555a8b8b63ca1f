"""A web page's visible text, read with lxml (libxml2), which is linear on every hostile body
we tried. Measured on 200 KB: ``<a<a<a...`` stdlib html.parser 92 s, selectolax/lexbor 0.5 ms,
lxml 4.5 ms; 40,000 nested ``<div>``: stdlib 0.36 s, lexbor 8.7 s (quadratic), lxml 0.3 ms."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from tracker.probes.reader.charsets import decode
from tracker.probes.reader.records import PageText

# Elements whose words are not shown, and elements that start a new passage.
SKIP = frozenset({"script", "style", "noscript", "template", "svg", "iframe", "object", "head"})
BLOCK = frozenset(
    {
        "address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt",
        "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul",
        "body", "html", "summary", "details", "caption",
    }
)  # fmt: skip


def squash(text: str) -> str:
    """*text* with every run of spacing made one space, trimmed."""
    return " ".join(text.split())


def block_texts(root: Any) -> Iterator[str]:
    """The texts of *root*'s block elements, in document order (iterative: no recursion)."""
    from lxml import etree

    current: list[str] = []
    walker = etree.iterwalk(root, events=("start", "end"))
    for event, element in walker:
        tag = element.tag if isinstance(element.tag, str) else ""
        name = tag.rsplit("}", 1)[-1].lower()
        if event == "start":
            if name in SKIP or not tag:
                walker.skip_subtree()
                if element.tail:
                    current.append(element.tail)
                continue
            if name in BLOCK:
                text = squash("".join(current))
                current.clear()
                if text:
                    yield text
            if element.text:
                current.append(element.text)
        else:
            if name in BLOCK:
                text = squash("".join(current))
                current.clear()
                if text:
                    yield text
            if element.tail:
                current.append(element.tail)
    text = squash("".join(current))
    if text:
        yield text


def _html_root(markup: str) -> Any:
    from lxml import etree, html

    parser = html.HTMLParser(
        recover=True, no_network=True, remove_comments=True, remove_pis=True, huge_tree=False
    )
    try:
        return html.document_fromstring(markup, parser=parser)
    except (etree.ParserError, ValueError):
        return None  # nothing but whitespace or comments


def read_page(body: bytes, content_type: str) -> PageText:
    """The visible text of an HTML page."""
    root = _html_root(decode(body, content_type))
    if root is None:
        return PageText("", "", ())
    titles = root.xpath("//title")
    title = squash(titles[0].text_content()) if titles else ""
    passages = tuple(block_texts(root))
    return PageText(title, "\n".join(passages), passages)


def html_fragment_text(markup: str, sep: str = "\n") -> str:
    """The visible text of an HTML fragment (a feed's summary), passages joined by *sep*."""
    if "<" not in markup and "&" not in markup:
        return squash(markup)
    root = _html_root(f"<html><body><div>{markup}</div></body></html>")
    return "" if root is None else sep.join(block_texts(root))

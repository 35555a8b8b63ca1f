"""RSS 2.0, RSS 1.0 (RDF) and Atom feeds, read with lxml without DTDs, entities or network
access; each entry's fields as plain text."""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from typing import Any

from tracker.probes.reader.charsets import decode
from tracker.probes.reader.markup import block_texts, html_fragment_text, squash
from tracker.probes.reader.records import MAX_ENTRIES, MAX_FIELD, Feed, FeedEntry, NotAFeed

_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"


def _local(element: Any) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _field_text(element: Any, sep: str = "\n") -> str:
    """The text of a feed element: XHTML content as its text, escaped HTML unescaped and
    reduced to its visible text."""
    if len(element):  # Atom type="xhtml": markup inside the element
        return sep.join(block_texts(element))[:MAX_FIELD]
    raw = "".join(element.itertext())[: MAX_FIELD * 4]
    return html_fragment_text(raw, sep)[:MAX_FIELD]


def _date(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    text = text.strip()[:100]
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        try:
            when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            return None
    if when.tzinfo is None:
        return None
    try:
        return when.astimezone(dt.UTC)
    except (OverflowError, ValueError):
        return None


def _entry(item: Any, atom: bool) -> FeedEntry:
    fields: dict[str, Any] = {}
    contents: list[str] = []
    link: str | None = None
    for child in item:
        name = _local(child)
        if not name:
            continue
        namespace = child.tag[1:].split("}", 1)[0] if child.tag.startswith("{") else ""
        if (name == "encoded" and namespace == _CONTENT_NS) or (name == "content" and atom):
            text = _field_text(child)
            if text:
                contents.append(text)
        elif name == "link":
            href = child.get("href")
            if atom or href:
                if link is None and child.get("rel", "alternate") == "alternate" and href:
                    link = href.strip()
            elif child.text and link is None:
                link = child.text.strip()
        elif name in ("title", "summary", "description") and name not in fields:
            fields[name] = _field_text(child, " " if name == "title" else "\n")
        elif name in ("id", "guid") and "id" not in fields:
            fields["id"] = squash("".join(child.itertext()))[:1000] or None
        elif name in ("published", "pubdate", "issued", "date") and "published" not in fields:
            fields["published"] = _date("".join(child.itertext()))
        elif name in ("updated", "modified") and "updated" not in fields:
            fields["updated"] = _date("".join(child.itertext()))
    return FeedEntry(
        id=fields.get("id"),
        title=fields.get("title", ""),
        link=link[:2000] if link else None,
        published=fields.get("published") or fields.get("updated"),
        summary=fields.get("summary", fields.get("description", "")),
        content="\n".join(contents),
    )


def read_feed(body: bytes, content_type: str) -> Feed:
    """An RSS 2.0, RSS 1.0 (RDF) or Atom feed."""
    from lxml import etree

    text = _XML_DECL.sub("", decode(body, content_type, xml=True), count=1)
    parser = etree.XMLParser(
        recover=True,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(text.encode("utf-8"), parser=parser)
    except etree.XMLSyntaxError:
        root = None
    if root is None:
        raise NotAFeed
    kind = _local(root)
    if kind == "feed":
        atom, container, items = True, root, [e for e in root if _local(e) == "entry"]
    elif kind in ("rss", "rdf"):
        channel = next((e for e in root if _local(e) == "channel"), root)
        atom, container = False, channel
        items = [e for e in channel if _local(e) == "item"]
        if kind == "rdf":
            items += [e for e in root if _local(e) == "item"]
    else:
        raise NotAFeed
    title_element = next((e for e in container if _local(e) == "title"), None)
    title = "" if title_element is None else _field_text(title_element, " ")
    entries = tuple(_entry(item, atom) for item in items[:MAX_ENTRIES])
    return Feed(title, entries)

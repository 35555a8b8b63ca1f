"""Reading answers: bytes from a source become plain data (a JSON value, a feed, a page's
text), in worker processes with a hard budget, so that no body can stall the bot.

A probe's source is chosen by a server manager and may be hostile. The stdlib HTML parser is
quadratic on bodies like ``<a<a<a...`` (200 KB took 92 s here), feedparser took 15 s of CPU on
a 2 MB feed, and a page declaring the "punycode" charset decodes in quadratic time. So:

- HTML and XML are read with lxml (libxml2), linear on every body we tried (markup.py, feeds.py);
  XML without DTDs, entities or network access.
- Only well-known text encodings are used (charsets.py); any other declared charset is read as
  UTF-8.
- JSON is decoded with a depth limit (:data:`MAX_JSON_DEPTH`, bodies.py).
- Every read runs in a worker process with a CPU budget the kernel enforces and a wall-clock
  limit (workers.py): a runaway read is killed, not waited for. Workers are shared fairly
  between servers.

Whatever goes wrong while reading is the probe's own error (:class:`Unreadable`, "the source
answered something unreadable"), never an internal error.
"""

from tracker.probes.reader.bodies import read_body, read_json
from tracker.probes.reader.charsets import KNOWN_ENCODINGS, charset_of, decode
from tracker.probes.reader.feeds import read_feed
from tracker.probes.reader.markup import BLOCK, SKIP, html_fragment_text, read_page
from tracker.probes.reader.records import (
    MAX_ENTRIES,
    MAX_FIELD,
    MAX_JSON_DEPTH,
    Feed,
    FeedEntry,
    NotAFeed,
    PageText,
    Read,
    Reading,
    Unreadable,
)
from tracker.probes.reader.workers import BodyReader, ReaderSettings

__all__ = [
    "BLOCK",
    "KNOWN_ENCODINGS",
    "MAX_ENTRIES",
    "MAX_FIELD",
    "MAX_JSON_DEPTH",
    "SKIP",
    "BodyReader",
    "Feed",
    "FeedEntry",
    "NotAFeed",
    "PageText",
    "Read",
    "ReaderSettings",
    "Reading",
    "Unreadable",
    "charset_of",
    "decode",
    "html_fragment_text",
    "read_body",
    "read_feed",
    "read_json",
    "read_page",
]

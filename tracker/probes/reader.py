"""Reading answers: bytes from a source become plain data (a JSON value, a feed, a page's
text), in worker processes with a hard budget, so that no body can stall the bot.

A probe's source is chosen by a server manager and may be hostile. The stdlib HTML parser is
quadratic on bodies like ``<a<a<a...`` (200 KB took 92 s here), feedparser took 15 s of CPU on
a 2 MB feed, and a page declaring the "punycode" charset decodes in quadratic time. So:

- HTML and XML are read with lxml (libxml2), which is linear on every body we tried. Measured
  on 200 KB: ``<a<a<a...`` stdlib 92 s, selectolax/lexbor 0.5 ms, lxml 4.5 ms; 40,000 nested
  ``<div>``: stdlib 0.36 s, lexbor 8.7 s (quadratic), lxml 0.3 ms. lxml it is.
- Only well-known text encodings are used (UTF-8/16/32, the ISO-8859 and Windows code pages,
  KOI8, the common CJK ones); any other declared charset is read as UTF-8.
- JSON is decoded with a depth limit (:data:`MAX_JSON_DEPTH`).
- XML is read without DTDs, entities or network access.
- Every read runs in a worker process (:class:`BodyReader`) with a CPU-time limit set by the
  kernel (RLIMIT_CPU) and a wall-clock limit enforced here: a runaway read is killed, not
  waited for, and the worker is replaced. Workers are shared fairly between servers
  (:class:`tracker.probes.fair.FairSlots`).

Whatever goes wrong while reading is the probe's own error (:class:`Unreadable`, "the source
answered something unreadable"), never an internal error.
"""

from __future__ import annotations

import asyncio
import codecs
import datetime as dt
import email.utils
import enum
import json
import logging
import os
import pickle
import re
import struct
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tracker.probes.fair import FairSlots

log = logging.getLogger(__name__)

MAX_JSON_DEPTH = 64
MAX_ENTRIES = 2000  # feed entries read per answer
MAX_FIELD = 20_000  # characters kept of one feed field (title, summary, content)

# Codec names (as codecs.lookup() spells them) that are read as declared.
KNOWN_ENCODINGS = frozenset(
    {
        "utf-8", "utf-8-sig", "utf-16", "utf-16-le", "utf-16-be", "utf-32", "utf-32-le",
        "utf-32-be", "ascii", "iso8859-1", "iso8859-2", "iso8859-3", "iso8859-4", "iso8859-5",
        "iso8859-6", "iso8859-7", "iso8859-8", "iso8859-9", "iso8859-10", "iso8859-13",
        "iso8859-14", "iso8859-15", "iso8859-16", "cp1250", "cp1251", "cp1252", "cp1253",
        "cp1254", "cp1255", "cp1256", "cp1257", "cp1258", "koi8-r", "koi8-u", "shift_jis",
        "cp932", "euc_jp", "iso2022_jp", "gb2312", "gbk", "gb18030", "big5", "euc_kr", "cp949",
    }
)  # fmt: skip

_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE)
_XML_ENCODING = re.compile(rb"""^\s*<\?xml[^>]*encoding\s*=\s*["']([A-Za-z0-9_.:-]{1,40})""")
_XML_DECL = re.compile(r"^\s*<\?xml[^>]*\?>")
_CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"

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


class NotAFeed(Unreadable):
    """An answer that reads fine but is neither RSS nor Atom."""

    def __init__(self) -> None:
        Exception.__init__(self, "the answer is not an RSS or Atom feed")
        self.detail = "not an RSS or Atom feed"


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


# --------------------------------------------------------------------------- pure readers


def charset_of(body: bytes, content_type: str, *, xml: bool = False) -> str:
    """The well-known codec to decode *body* with: a byte-order mark, the Content-Type's
    charset, the XML declaration's or a <meta>'s; UTF-8 otherwise or when the declared one is
    not well known."""
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32"),
        (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if body.startswith(bom):
            return name
    declared = _CHARSET.search(content_type.encode("latin-1", "replace"))
    if declared is None:
        head = body[:4096]
        declared = _XML_ENCODING.search(head) if xml else None
        declared = declared or _CHARSET.search(head)
    if declared is None:
        return "utf-8"
    name = declared.group(1).decode("ascii", "replace")
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return "utf-8"
    return codec if codec in KNOWN_ENCODINGS else "utf-8"


def decode(body: bytes, content_type: str, *, xml: bool = False) -> str:
    """*body* as text (see :func:`charset_of`); undecodable bytes are replaced."""
    return body.decode(charset_of(body, content_type, xml=xml), errors="replace")


def read_json(body: bytes) -> Any:
    """*body* as a JSON value nested at most :data:`MAX_JSON_DEPTH` deep."""
    try:
        value = json.loads(body)
    except RecursionError:
        raise Unreadable(f"JSON nested deeper than {MAX_JSON_DEPTH} levels") from None
    except (ValueError, UnicodeDecodeError) as exc:
        raise Unreadable("not JSON") from exc
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise Unreadable(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, dict | list))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return value


def _squash(text: str) -> str:
    return " ".join(text.split())


def _passages(root: Any) -> Iterator[str]:
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
                text = _squash("".join(current))
                current.clear()
                if text:
                    yield text
            if element.text:
                current.append(element.text)
        else:
            if name in BLOCK:
                text = _squash("".join(current))
                current.clear()
                if text:
                    yield text
            if element.tail:
                current.append(element.tail)
    text = _squash("".join(current))
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
    title = _squash(titles[0].text_content()) if titles else ""
    passages = tuple(_passages(root))
    return PageText(title, "\n".join(passages), passages)


def html_fragment_text(markup: str, sep: str = "\n") -> str:
    """The visible text of an HTML fragment (a feed's summary), passages joined by *sep*."""
    if "<" not in markup and "&" not in markup:
        return _squash(markup)
    root = _html_root(f"<html><body><div>{markup}</div></body></html>")
    return "" if root is None else sep.join(_passages(root))


def _local(element: Any) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _field_text(element: Any, sep: str = "\n") -> str:
    """The text of a feed element: XHTML content as its text, escaped HTML unescaped and
    reduced to its visible text."""
    if len(element):  # Atom type="xhtml": markup inside the element
        return sep.join(_passages(element))[:MAX_FIELD]
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
            fields["id"] = _squash("".join(child.itertext()))[:1000] or None
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


def read_body(reading: Reading, body: bytes, content_type: str) -> Any:
    """*body* read as *reading* says (what a worker runs); Unreadable on failure."""
    try:
        if reading is Reading.JSON:
            return read_json(body)
        if reading is Reading.FEED:
            return read_feed(body, content_type)
        return read_page(body, content_type)
    except Unreadable:
        raise
    except RecursionError:
        raise Unreadable("nested too deep") from None
    except MemoryError:
        raise Unreadable("too big to read") from None
    except Exception as exc:  # a parser's assertion or internal error on a hostile body
        raise Unreadable(f"the parser failed ({type(exc).__name__})") from exc


# --------------------------------------------------------------------------- worker process

_HEADER = struct.Struct("!I")


def _worker_main() -> None:  # pragma: no cover - runs in the worker process
    """Read requests from stdin, answer on stdout: (reading, body, content_type, cpu_s) ->
    ("ok", data) or ("error", detail). The kernel ends the process (SIGXCPU / SIGKILL) when one
    read uses more CPU than allowed."""
    import resource

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # nothing but answers on the pipe
    memory = int(os.environ.get("SLIPWATCH_READER_MEMORY", str(1024 * 1024 * 1024)))
    try:
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    except (ValueError, OSError):
        pass
    try:
        # Reading yields the CPU to the bot's event loop: a big or hostile body is read in
        # the time the loop leaves, never in the loop's.
        os.nice(5)
    except OSError:
        pass
    import lxml.etree  # noqa: F401 - loaded once, before the first budget starts

    while True:
        header = stdin.read(_HEADER.size)
        if len(header) < _HEADER.size:
            return
        (size,) = _HEADER.unpack(header)
        reading, body, content_type, cpu_s = pickle.loads(stdin.read(size))
        used = resource.getrusage(resource.RUSAGE_SELF)
        spent = used.ru_utime + used.ru_stime
        # Only the soft limit moves (SIGXCPU ends the process when it is reached); raising a
        # hard limit again needs privileges the bot should not have.
        soft = int(spent + cpu_s) + 1
        hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
        try:
            answer: tuple[str, Any] = ("ok", read_body(Reading(reading), body, content_type))
        except Unreadable as exc:
            answer = ("error", exc.detail)
        try:
            out = pickle.dumps(answer, protocol=pickle.HIGHEST_PROTOCOL)
        except (pickle.PicklingError, RecursionError, MemoryError):
            out = pickle.dumps(("error", "too complex to read"))
        stdout.write(_HEADER.pack(len(out)) + out)
        stdout.flush()


@dataclass(frozen=True, slots=True)
class ReaderSettings:
    """Limits of the body readers."""

    workers: int = 2
    cpu_budget_s: float = 5.0  # CPU seconds one read may use (the kernel enforces it)
    wall_budget_s: float = 15.0  # wall-clock seconds one read may take (a busy machine)
    # How many of the workers one server may hold while others wait.
    per_owner: int = 1


class _Worker:
    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process

    @classmethod
    async def start(cls) -> _Worker:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            "from tracker.probes.reader import _worker_main; _worker_main()",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=None,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)},
        )
        return cls(process)

    async def ask(self, payload: bytes) -> tuple[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(_HEADER.pack(len(payload)) + payload)
        await self.process.stdin.drain()
        header = await self.process.stdout.readexactly(_HEADER.size)
        (size,) = _HEADER.unpack(header)
        answer: tuple[str, Any] = pickle.loads(await self.process.stdout.readexactly(size))
        return answer

    async def kill(self) -> None:
        if self.process.returncode is None:
            try:
                self.process.kill()
            except ProcessLookupError:
                pass
        await self.process.wait()

    async def close(self) -> None:
        if self.process.stdin is not None and not self.process.stdin.is_closing():
            self.process.stdin.close()
        try:
            async with asyncio.timeout(2.0):
                await self.process.wait()
        except TimeoutError:
            await self.kill()


class BodyReader:
    """A small pool of worker processes that read bodies; ``async with BodyReader() as r``.

    ``await reader.read(Reading.FEED, body, content_type, owner=guild_id)`` returns the plain
    data or raises :class:`Unreadable`. A read over its budget is killed with its worker (a new
    one starts for the next read). ``owner`` shares the workers fairly: one server's reads wait
    behind each other, not in front of other servers'."""

    def __init__(self, settings: ReaderSettings | None = None) -> None:
        self.settings = settings or ReaderSettings()
        workers = max(1, self.settings.workers)
        self._slots = FairSlots(workers, max(1, min(self.settings.per_owner, workers)))
        self._idle: list[_Worker] = []
        self._all: set[_Worker] = set()
        self.killed = 0  # reads that ran over their budget (tests and the benchmark)
        self.reads = 0

    async def __aenter__(self) -> BodyReader:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop every worker."""
        workers, self._all, self._idle = list(self._all), set(), []
        for worker in workers:
            await worker.close()

    async def read(
        self, reading: Reading, body: bytes, content_type: str = "", *, owner: int = 0
    ) -> Any:
        """*body* read as *reading* says, in a worker, within the budget."""
        s = self.settings
        payload = pickle.dumps(
            (reading.value, body, content_type, s.cpu_budget_s), protocol=pickle.HIGHEST_PROTOCOL
        )
        async with self._slots.slot(owner):
            worker = self._idle.pop() if self._idle else None
            if worker is None:
                worker = await _Worker.start()
                self._all.add(worker)
            self.reads += 1
            try:
                async with asyncio.timeout(s.wall_budget_s):
                    status, data = await worker.ask(payload)
            except BaseException as exc:
                # Over budget, killed by the kernel, or cancelled mid-read: the worker's state
                # is unknown, so it goes.
                self._all.discard(worker)
                await worker.kill()
                if isinstance(exc, TimeoutError | asyncio.IncompleteReadError | OSError):
                    self.killed += 1
                    log.info("a body read ran over its budget; its worker was replaced")
                    raise Unreadable(
                        f"it took longer than {s.cpu_budget_s:g} s of work to read"
                    ) from None
                raise
            self._idle.append(worker)
        if status != "ok":
            if data == NotAFeed().detail:
                raise NotAFeed
            raise Unreadable(str(data))
        return data

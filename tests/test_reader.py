"""Reading answers in worker processes: hostile bodies come back as plain data or as the
probe's own error ("the source answered something unreadable"), never as a stall or a crash."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import AsyncIterator

import pytest

from tracker.probes.reader import (
    MAX_ENTRIES,
    BodyReader,
    Feed,
    FeedEntry,
    NotAFeed,
    PageText,
    ReaderSettings,
    Reading,
    Unreadable,
    charset_of,
)

UTC = dt.UTC
CONTENT = "http://purl.org/rss/1.0/modules/content/"


@pytest.fixture
async def reader() -> AsyncIterator[BodyReader]:
    async with BodyReader() as r:
        yield r


def rss(items: int, *, content: bool = True) -> bytes:
    body = "".join(
        f"<item><title>Post {i}</title><link>https://x.ai/news/{i}</link><guid>post-{i}</guid>"
        "<pubDate>Mon, 17 Feb 2025 04:00:00 GMT</pubDate>"
        f"<description>&lt;p&gt;Hello &lt;b&gt;world&lt;/b&gt; {i}&lt;/p&gt;</description>"
        + (
            "<content:encoded><![CDATA[<p>Grok 3 is <i>available</i> today.</p>"
            "<p>Second paragraph.</p>]]></content:encoded>"
            if content
            else ""
        )
        + "</item>"
        for i in range(items)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        f'<rss version="2.0" xmlns:content="{CONTENT}"><channel><title>xAI news</title>'
        f"{body}</channel></rss>"
    ).encode()


async def test_rss_entries_with_content_encoded_as_plain_text(reader: BodyReader) -> None:
    feed = await reader.read(Reading.FEED, rss(2), "application/rss+xml")
    assert feed == Feed(
        "xAI news",
        tuple(
            FeedEntry(
                id=f"post-{i}",
                title=f"Post {i}",
                link=f"https://x.ai/news/{i}",
                published=dt.datetime(2025, 2, 17, 4, tzinfo=UTC),
                summary=f"Hello world {i}",
                content="Grok 3 is available today.\nSecond paragraph.",
            )
            for i in range(2)
        ),
    )


async def test_atom_entries_with_html_and_xhtml(reader: BodyReader) -> None:
    atom = (
        b'<?xml version="1.0" encoding="iso-8859-1"?>'
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Anthropic</title>'
        b"<entry><id>tag:anthropic.com,2025:claude</id>"
        b'<title type="html">Claude &amp;lt;3.7&amp;gt; Sonnet \xe9t\xe9</title>'
        b'<link rel="self" href="https://anthropic.com/self"/>'
        b'<link rel="alternate" href="https://anthropic.com/news/claude"/>'
        b"<published>2025-02-24T18:00:00+01:00</published>"
        b"<summary>Hybrid reasoning</summary>"
        b'<content type="xhtml"><div xmlns="http://www.w3.org/1999/xhtml">'
        b"<p>Available <b>today</b>.</p><p>More.</p></div></content></entry></feed>"
    )
    feed = await reader.read(Reading.FEED, atom, "application/atom+xml")
    assert feed == Feed(
        "Anthropic",
        (
            FeedEntry(
                id="tag:anthropic.com,2025:claude",
                title="Claude <3.7> Sonnet été",
                link="https://anthropic.com/news/claude",
                published=dt.datetime(2025, 2, 24, 17, tzinfo=UTC),
                summary="Hybrid reasoning",
                content="Available today.\nMore.",
            ),
        ),
    )


async def test_xml_entities_are_never_expanded_or_fetched(reader: BodyReader) -> None:
    hostile = (
        b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">'
        b'<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">]>'
        b"<rss><channel><item><title>Hi &xxe; &c;</title></item></channel></rss>"
    )
    feed = await reader.read(Reading.FEED, hostile, "")
    assert [e.title for e in feed.entries] == ["Hi"]


async def test_a_huge_feed_is_read_up_to_the_entry_cap(reader: BodyReader) -> None:
    feed = await reader.read(Reading.FEED, rss(33_000, content=False), "")
    assert len(feed.entries) == MAX_ENTRIES
    assert feed.entries[-1].id == f"post-{MAX_ENTRIES - 1}"


async def test_page_text_in_passages_without_scripts_or_styles(reader: BodyReader) -> None:
    page = (
        b"<html><head><title>xAI  News</title><style>p{color:red}</style>"
        b"<script>var grok = 'Grok 3 is available';</script></head><body>"
        b"<h1>Grok 3</h1><p>is <b>now</b>\n available &amp; free</p>"
        b"<ul><li>one</li><li>two</li></ul>tail<!-- Grok 3 hidden --></body></html>"
    )
    assert await reader.read(Reading.PAGE, page, "text/html") == PageText(
        "xAI News",
        "Grok 3\nis now available & free\none\ntwo\ntail",
        ("Grok 3", "is now available & free", "one", "two", "tail"),
    )


@pytest.mark.parametrize(
    "body",
    [
        b"<a" * 1_000_000,  # quadratic for the stdlib parser: 200 KB took 92 s
        b"<div>" * 400_000,
        b"</" * 1_000_000,
        b"<!" * 1_000_000,
        b"&#" * 1_000_000,
    ],
)
async def test_hostile_pages_are_read_not_waited_for(reader: BodyReader, body: bytes) -> None:
    page = await reader.read(Reading.PAGE, body + b"<p>Grok 3 is here</p>", "text/html")
    assert isinstance(page, PageText)
    assert reader.killed == 0


def test_only_well_known_charsets_are_used() -> None:
    assert charset_of(b"x", "text/html; charset=punycode") == "utf-8"
    assert charset_of(b"x", "text/html; charset=idna") == "utf-8"
    assert charset_of(b"x", "text/html; charset=rot13") == "utf-8"
    assert charset_of(b"x", "text/html; charset=nonsense") == "utf-8"
    assert charset_of(b"x", "text/html; charset=ISO-8859-1") == "iso8859-1"
    assert charset_of(b"x", "text/html; charset=windows-1252") == "cp1252"
    assert charset_of(b'<meta charset="shift_jis">', "text/html") == "shift_jis"
    assert charset_of(b'<?xml version="1.0" encoding="KOI8-R"?>', "", xml=True) == "koi8-r"
    assert charset_of(b"\xff\xfeh\x00", "text/html; charset=latin-1") == "utf-16"


async def test_a_punycode_page_is_read_as_utf8(reader: BodyReader) -> None:
    body = b"<p>Grok 3 is available</p>" + b"a-" * 500_000
    page = await reader.read(Reading.PAGE, body, "text/html; charset=punycode")
    assert page.passages[0].startswith("Grok 3 is available")


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "JSON nested deeper than 64 levels"),
        (b'{"a":' * 65 + b"1" + b"}" * 65, "JSON nested deeper than 64 levels"),
        (b"<html>not json</html>", "not JSON"),
        (b"\xff\xfe\x00garbage", "not JSON"),
        (b"9" * 5000, "not JSON"),
    ],
)
async def test_unreadable_json_is_the_sources_error(
    reader: BodyReader, body: bytes, detail: str
) -> None:
    with pytest.raises(Unreadable) as caught:
        await reader.read(Reading.JSON, body)
    assert str(caught.value) == f"the source answered something unreadable: {detail}"


async def test_json_64_deep_is_read(reader: BodyReader) -> None:
    value = await reader.read(Reading.JSON, b"[" * 64 + b"]" * 64)
    depth = 0
    while isinstance(value, list) and value:
        value, depth = value[0], depth + 1
    assert depth == 63


async def test_not_a_feed(reader: BodyReader) -> None:
    for body in (b"", b"<html><body>hi</body></html>", b'{"data": []}'):
        with pytest.raises(NotAFeed) as caught:
            await reader.read(Reading.FEED, body)
        assert str(caught.value) == "the answer is not an RSS or Atom feed"


async def test_a_read_over_its_budget_is_killed_and_the_next_one_works() -> None:
    tight = ReaderSettings(workers=1, wall_budget_s=0.001)
    async with BodyReader(tight) as reader:
        with pytest.raises(Unreadable) as caught:
            await reader.read(Reading.FEED, rss(20_000), "")
        assert str(caught.value) == (
            "the source answered something unreadable: it took longer than 5 s of work to read"
        )
        assert reader.killed == 1
        reader.settings = dataclasses.replace(tight, wall_budget_s=60.0)
        feed = await reader.read(Reading.FEED, rss(1), "")
        assert [e.title for e in feed.entries] == ["Post 0"]
        assert reader.reads == 2

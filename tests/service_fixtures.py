"""Answers shaped like each real service's, written from their public API documentation, for
the release-detection fixture tests (tests/test_detection_fixtures.py).

- OpenAI / xAI ``GET /v1/models``: ``{"object": "list", "data": [{"id", "object": "model",
  "created", "owned_by"}]}``; OpenAI-style lists that page say ``has_more`` / ``last_id`` and
  take ``after``.
- Mistral ``GET /v1/models``: the same list, each model with ``name``, ``description``,
  ``aliases``, ``capabilities``, ``max_context_length``, ``deprecation`` and ``type``.
- Anthropic ``GET /v1/models``: ``{"data": [{"type": "model", "id", "display_name",
  "created_at"}], "has_more", "first_id", "last_id"}``, paged with ``limit`` and ``after_id``.
- Hugging Face ``GET /api/models/{repo_id}`` (tests.probe_server.hf_model).
- GitHub ``GET /repos/{owner}/{repo}/releases`` (``tag_name``, ``name``, ``draft``,
  ``prerelease``, ``html_url``, ``published_at``; drafts have no ``published_at``) and
  ``GET /repos/{owner}/{repo}/tags``.
- RSS 2.0 as WordPress writes it (the post only in ``content:encoded``), Atom 1.0 with
  ``<summary>`` and ``<content type="html">``, and a news page in HTML.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.sax.saxutils import escape

from tests.probe_server import display_name, gh_tags


def _epoch(day: str) -> int:
    return int(dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC).timestamp())


def openai_list(
    models: list[tuple[str, str]],
    owner: str = "system",
    *,
    has_more: bool | None = None,
) -> dict[str, Any]:
    """OpenAI's (and xAI's) model list of (id, created day) pairs."""
    body: dict[str, Any] = {
        "object": "list",
        "data": [
            {"id": i, "object": "model", "created": _epoch(day), "owned_by": owner}
            for i, day in models
        ],
    }
    if has_more is not None:
        body["has_more"] = has_more
        body["last_id"] = models[-1][0] if models else None
    return body


def mistral_list(models: list[tuple[str, list[str], str]]) -> dict[str, Any]:
    """Mistral's model list of (id, aliases, description) triples."""
    return {
        "object": "list",
        "data": [
            {
                "id": i,
                "object": "model",
                "created": 1_732_000_000,
                "owned_by": "mistralai",
                "capabilities": {
                    "completion_chat": True,
                    "completion_fim": False,
                    "function_calling": True,
                    "fine_tuning": False,
                    "vision": False,
                },
                "name": i,
                "description": description,
                "max_context_length": 131072,
                "aliases": aliases,
                "deprecation": None,
                "default_model_temperature": 0.7,
                "type": "base",
            }
            for i, aliases, description in models
        ],
    }


def anthropic_page(ids: list[str], *, has_more: bool) -> dict[str, Any]:
    """One page of Anthropic's model list."""
    return {
        "data": [
            {
                "type": "model",
                "id": i,
                "display_name": display_name(i),
                "created_at": "2024-10-22T00:00:00Z",
            }
            for i in ids
        ],
        "has_more": has_more,
        "first_id": ids[0] if ids else None,
        "last_id": ids[-1] if ids else None,
    }


def gh_release(
    repo: str,
    number: int,
    tag: str,
    name: str,
    *,
    draft: bool = False,
    prerelease: bool = False,
    published: str | None = "2025-02-17T04:00:00Z",
) -> dict[str, Any]:
    """One release as GET /repos/{owner}/{repo}/releases lists it."""
    return {
        "url": f"https://api.github.com/repos/{repo}/releases/{number}",
        "html_url": f"https://github.com/{repo}/releases/tag/{tag}",
        "id": number,
        "author": {"login": "octocat", "id": 1, "type": "User"},
        "node_id": "MDc6UmVsZWFzZTE=",
        "tag_name": tag,
        "target_commitish": "main",
        "name": name,
        "draft": draft,
        "prerelease": prerelease,
        "created_at": "2025-02-16T20:00:00Z",
        "published_at": None if draft else published,
        "assets": [],
        "tarball_url": f"https://api.github.com/repos/{repo}/tarball/{tag}",
        "zipball_url": f"https://api.github.com/repos/{repo}/zipball/{tag}",
        "body": f"## What's changed\n\n{name}",
    }


def github_tags(repo: str, tags: list[str]) -> list[Any]:
    """GET /repos/{owner}/{repo}/tags (the given order: newest first)."""
    return gh_tags(repo, list(reversed(tags)))


def wordpress_rss(items: list[tuple[str, str, str, str, str]]) -> str:
    """RSS 2.0 as WordPress writes it: (title, link, pubDate, excerpt, content:encoded HTML)."""
    body = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link>"
        f"<dc:creator><![CDATA[xAI]]></dc:creator><pubDate>{date}</pubDate>"
        f"<category><![CDATA[News]]></category>"
        f'<guid isPermaLink="false">{escape(link)}?p=1</guid>'
        f"<description><![CDATA[{excerpt}]]></description>"
        f"<content:encoded><![CDATA[{html}]]></content:encoded></item>"
        for t, link, date, excerpt, html in items
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>xAI Blog</title>'
        "<link>https://x.ai/blog</link><description>News from xAI</description>"
        f"<language>en-US</language>{body}</channel></rss>"
    )


def atom_feed(entries: list[tuple[str, str, str, str, str]]) -> str:
    """Atom 1.0: (title, link, updated, summary, content HTML) entries."""
    body = "".join(
        f'<entry><title type="text">{escape(t)}</title>'
        f'<link rel="alternate" type="text/html" href="{escape(link)}"/>'
        f"<id>{escape(link)}</id><updated>{updated}</updated><published>{updated}</published>"
        f"<author><name>Anthropic</name></author><summary>{escape(summary)}</summary>"
        f'<content type="html">{escape(html)}</content></entry>'
        for t, link, updated, summary, html in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        "<title>Anthropic News</title><id>https://www.anthropic.com/news</id>"
        '<link rel="self" href="https://www.anthropic.com/news/feed.xml"/>'
        f"<updated>2025-02-24T00:00:00Z</updated>{body}</feed>"
    )


def news_page(headline: str, paragraphs: list[str]) -> str:
    """A vendor's news page: navigation, a headline, paragraphs, scripts and a footer."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>News</title>'
        "<script>window.__data = {teaser: 'Grok 3 is now available'};</script></head><body>"
        '<nav><a href="/">Home</a><a href="/news">News</a></nav>'
        f"<main><article><h1>{headline}</h1>{body}</article></main>"
        "<footer>&copy; 2025</footer></body></html>"
    )

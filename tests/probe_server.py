"""A loopback HTTP server for the probe tests and benchmark (aiohttp, 127.0.0.1, random port).

It serves realistic payloads for every probe kind (OpenAI and Anthropic model lists, a Hugging
Face model, GitHub releases and tags, RSS 2.0 and Atom feeds, an HTML page) with ETag and
Last-Modified validation, records every request, and can misbehave on demand: scripted error
statuses with Retry-After, slow answers, endless bodies, redirects, cookies.

    python tests/probe_server.py --bench 1000   # prints "PORT <n>", serves until killed
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import ssl
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from aiohttp import web

LAST_MODIFIED = "Mon, 17 Feb 2025 04:00:00 GMT"


@dataclass
class Resource:
    """What a path answers. With ``validators`` the answer carries an ETag (and Last-Modified)
    and a matching If-None-Match / If-Modified-Since gets 304."""

    body: bytes
    content_type: str = "application/json"
    validators: bool = True
    require: dict[str, str] = field(default_factory=dict)  # header -> value, else 401

    @property
    def etag(self) -> str:
        return '"' + hashlib.sha256(self.body).hexdigest()[:16] + '"'


@dataclass
class Recorded:
    """One request the server received."""

    path: str
    query: str
    headers: dict[str, str]
    at: float  # time.monotonic()


class ProbeServer:
    """Start with ``await server.start()``; ``server.url(path)`` gives full addresses."""

    def __init__(self) -> None:
        self.resources: dict[str, Resource] = {}
        self.script: dict[str, deque[tuple[int, dict[str, str]]]] = {}
        self.requests: list[Recorded] = []
        self.big_written = 0
        self.port = 0
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self, ssl_context: ssl.SSLContext | None = None) -> ProbeServer:
        """Listen on 127.0.0.1, on a port the system picks (with TLS when given a context)."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=ssl_context)
        await site.start()
        server = site._server
        assert server is not None
        sockets = getattr(server, "sockets", None)
        assert sockets
        self.port = int(sockets[0].getsockname()[1])
        return self

    async def close(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def base(self) -> str:
        """http://127.0.0.1:<port>"""
        return f"http://127.0.0.1:{self.port}"

    @property
    def allow(self) -> str:
        """This server's SLIPWATCH_PROBE_ALLOW entry."""
        return f"127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        """The full address of *path* on this server."""
        return self.base + path

    # ------------------------------------------------------------------ content

    def put(self, path: str, body: bytes | str, content_type: str, **kw: Any) -> Resource:
        """Serve *body* at *path*."""
        data = body.encode() if isinstance(body, str) else body
        resource = Resource(data, content_type, **kw)
        self.resources[path] = resource
        return resource

    def put_json(self, path: str, value: Any, **kw: Any) -> Resource:
        """Serve *value* as JSON at *path*."""
        return self.put(path, json.dumps(value, indent=1), "application/json", **kw)

    def fail(self, path: str, status: int, times: int = 1, **headers: str) -> None:
        """Answer the next *times* requests to *path* with *status* (and *headers*)."""
        queue = self.script.setdefault(path, deque())
        for _ in range(times):
            queue.append((status, {k.replace("_", "-"): v for k, v in headers.items()}))

    def hits(self, path: str) -> list[Recorded]:
        """Requests received for *path*."""
        return [r for r in self.requests if r.path == path]

    # ------------------------------------------------------------------ handler

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.requests.append(
            Recorded(path, request.query_string, dict(request.headers), time.monotonic())
        )
        queue = self.script.get(path)
        if queue:
            status, scripted = queue.popleft()
            return web.json_response(
                {"error": f"scripted {status}"}, status=status, headers=scripted
            )
        if path == "/slow":
            return await self._slow(request)
        if path == "/big":
            return await self._big(request)
        if path.startswith("/redirect"):
            target = request.query.get("to", "/")
            return web.Response(
                status=int(request.query.get("status", "302")), headers={"Location": target}
            )
        if path == "/cookie":
            response = web.json_response({"cookie": request.headers.get("Cookie")})
            response.set_cookie("session", "s3cr3t", max_age=3600)
            return response
        if path == "/echo":
            return web.json_response({"headers": dict(request.headers)})
        # A resource put at "path?query" answers that exact query (a list's later pages).
        resource = self.resources.get(f"{path}?{request.query_string}") or self.resources.get(path)
        if resource is None:
            if path.startswith("/hf/"):  # Hugging Face answers 401 for a missing (or private) repo
                return web.json_response({"error": "Repository not found"}, status=401)
            return web.json_response({"message": "Not Found"}, status=404)
        for header, value in resource.require.items():
            if request.headers.get(header) != value:
                return web.json_response({"error": {"message": "Incorrect API key"}}, status=401)
        headers: dict[str, str] = {}
        if resource.validators:
            headers = {"ETag": resource.etag, "Last-Modified": LAST_MODIFIED}
            if request.headers.get("If-None-Match") == resource.etag or (
                "If-None-Match" not in request.headers
                and request.headers.get("If-Modified-Since") == LAST_MODIFIED
            ):
                return web.Response(status=304, headers=headers)
        return web.Response(
            body=resource.body,
            content_type=None,
            headers={**headers, "Content-Type": resource.content_type},
        )

    async def _slow(self, request: web.Request) -> web.StreamResponse:
        seconds = min(float(request.query.get("s", "5")), 10.0)
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            transport = request.transport
            if transport is None or transport.is_closing():
                break
            await asyncio.sleep(0.05)
        return web.json_response({"data": []})

    async def _big(self, request: web.Request) -> web.StreamResponse:
        total = int(float(request.query.get("mb", "5")) * 1024 * 1024)
        response = web.StreamResponse(headers={"Content-Type": "text/html"})
        if request.query.get("declared"):
            response.content_length = total
        await response.prepare(request)
        chunk = b"<p>" + b"x" * (16 * 1024 - 7) + b"</p>\n"
        try:
            while self.big_written < total:
                await response.write(chunk)
                self.big_written += len(chunk)
            await response.write_eof()
        except (ConnectionError, RuntimeError):
            pass  # the client stopped reading: that is the point
        return response


# --------------------------------------------------------------------------- payloads


def openai_models(ids: list[str], owner: str = "system") -> dict[str, Any]:
    """GET /v1/models as OpenAI, xAI and Mistral answer it."""
    return {
        "object": "list",
        "data": [
            {"id": i, "object": "model", "created": 1_700_000_000 + n * 86_400, "owned_by": owner}
            for n, i in enumerate(ids)
        ],
    }


def display_name(model_id: str) -> str:
    """Anthropic's display name for an id: claude-3-5-haiku-20241022 -> Claude 3.5 Haiku."""
    words: list[str] = []
    for part in model_id.split("-"):
        if len(part) == 8 and part.isdigit():
            continue  # the snapshot date
        if part.isdigit() and words and words[-1].isdigit():
            words[-1] += "." + part
        else:
            words.append(part if part.isdigit() else part.title())
    return " ".join(words)


def anthropic_models(ids: list[str]) -> dict[str, Any]:
    """GET /v1/models as Anthropic answers it."""
    data = [
        {
            "type": "model",
            "id": i,
            "display_name": display_name(i),
            "created_at": "2025-02-19T00:00:00Z",
        }
        for i in ids
    ]
    return {
        "data": data,
        "has_more": False,
        "first_id": ids[0] if ids else None,
        "last_id": ids[-1] if ids else None,
    }


def hf_model(repo_id: str, *, private: bool = False, gated: bool | str = False) -> dict[str, Any]:
    """GET /api/models/{repo_id} as Hugging Face answers it."""
    author = repo_id.split("/")[0]
    return {
        "_id": "65f6b4f8d3b8a7e1c5a1b2c3",
        "id": repo_id,
        "modelId": repo_id,
        "author": author,
        "sha": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
        "lastModified": "2024-03-17T19:49:18.000Z",
        "private": private,
        "gated": gated,
        "disabled": False,
        "downloads": 1234,
        "likes": 2250,
        "library_name": "grok",
        "tags": ["grok", "license:apache-2.0", "region:us"],
        "pipeline_tag": "text-generation",
        "createdAt": "2024-03-17T16:35:59.000Z",
        "siblings": [{"rfilename": "README.md"}, {"rfilename": "ckpt-0/tensor00000_000"}],
    }


def gh_releases(repo: str, tags: list[str], *, prerelease: tuple[str, ...] = ()) -> list[Any]:
    """GET /repos/{repo}/releases (newest first)."""
    out = []
    for n, tag in enumerate(reversed(tags)):
        out.append(
            {
                "url": f"https://api.github.com/repos/{repo}/releases/{1000 + n}",
                "html_url": f"https://github.com/{repo}/releases/tag/{tag}",
                "id": 1000 + n,
                "tag_name": tag,
                "target_commitish": "main",
                "name": f"Release {tag}",
                "draft": False,
                "prerelease": tag in prerelease,
                "created_at": "2025-02-17T03:00:00Z",
                "published_at": "2025-02-17T04:00:00Z",
                "body": f"What's new in {tag}",
            }
        )
    return out


def gh_tags(repo: str, tags: list[str]) -> list[Any]:
    """GET /repos/{repo}/tags (newest first)."""
    return [
        {
            "name": tag,
            "zipball_url": f"https://api.github.com/repos/{repo}/zipball/refs/tags/{tag}",
            "tarball_url": f"https://api.github.com/repos/{repo}/tarball/refs/tags/{tag}",
            "commit": {
                "sha": hashlib.sha1(tag.encode()).hexdigest(),
                "url": f"https://api.github.com/repos/{repo}/commits/{tag}",
            },
            "node_id": "MDM6UmVmMTA=",
        }
        for tag in reversed(tags)
    ]


def rss(items: list[tuple[str, str, str]], title: str = "xAI News") -> str:
    """An RSS 2.0 feed of (title, link, description) items, newest first."""
    body = "".join(
        f"<item><title>{escape(t)}</title><link>{escape(link)}</link>"
        f'<guid isPermaLink="true">{escape(link)}</guid>'
        f"<description>{escape(d)}</description>"
        f"<pubDate>Mon, 17 Feb 2025 0{n % 10}:00:00 GMT</pubDate></item>"
        for n, (t, link, d) in enumerate(items)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>https://x.ai/news</link>"
        f"<description>Updates</description>{body}</channel></rss>"
    )


def atom(entries: list[tuple[str, str, str]], title: str = "Anthropic News") -> str:
    """An Atom feed of (title, link, summary) entries, newest first."""
    body = "".join(
        f'<entry><title>{escape(t)}</title><link href="{escape(link)}"/>'
        f"<id>tag:example.com,2025:{n}-{escape(link)}</id><updated>2025-02-24T1{n % 10}:00:00Z"
        f'</updated><summary type="html">{escape(s)}</summary></entry>'
        for n, (t, link, s) in enumerate(entries)
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title><id>urn:example:feed</id>"
        f"<updated>2025-02-24T00:00:00Z</updated>{body}</feed>"
    )


def html_page(paragraphs: list[str], title: str = "News") -> str:
    """An HTML page with scripts and styles around the visible paragraphs."""
    body = "".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        '<!doctype html><html><head><meta charset="utf-8">'
        f"<title>{title}</title><style>.x{{color:red}} /* Grok 3 is now available */</style>"
        "<script>var s = 'Grok 3 is now available';</script></head><body><nav>Home</nav>"
        f"<main>{body}</main><footer>&copy; 2025</footer></body></html>"
    )


# --------------------------------------------------------------------------- benchmark


def bench_target(i: int, kind: str) -> tuple[str, str]:
    """(target, pattern) of benchmark probe *i*; paths are under /bench/<i>."""
    if kind == "models":
        return f"/bench/{i}", "grok-3*"
    if kind == "github":
        return f"bench-{i}/repo", "v3.*"
    if kind == "huggingface":
        return f"bench-{i}/model", ""
    if kind == "feed":
        return f"/bench/{i}/feed.xml", "Grok 3*available"
    return f"/bench/{i}/page.html", "Grok 3 is now available"


BENCH_KINDS = ("models", "github", "huggingface", "feed", "page")


def populate_bench(server: ProbeServer, n: int) -> None:
    """Resources for *n* benchmark probes, kinds in turn; even-numbered probes answer with
    validators (so their second poll is a 304), odd ones never do."""
    news = [
        (f"Update {k}: more tokens, fewer slips", f"https://x.ai/news/{k}", "x" * 400)
        for k in range(20)
    ]
    for i in range(n):
        kind = BENCH_KINDS[i % len(BENCH_KINDS)]
        target, _ = bench_target(i, kind)
        validators = i % 2 == 0
        if kind == "models":
            ids = [f"model-{k}-{i}" for k in range(40)] + ["grok-2-1212"]
            server.put_json(f"{target}/v1/models", openai_models(ids), validators=validators)
        elif kind == "github":
            tags = [f"v2.{k}.0" for k in range(30)]
            server.put_json(
                f"/gh/repos/{target}/releases", gh_releases(target, tags), validators=validators
            )
            server.put_json(
                f"/gh/repos/{target}/tags", gh_tags(target, tags), validators=validators
            )
        elif kind == "huggingface":
            server.put_json(
                f"/hf/api/models/{target}", hf_model(target, private=True), validators=validators
            )
        elif kind == "feed":
            server.put(target, rss(news), "application/rss+xml", validators=validators)
        else:
            paragraphs = [
                f"Paragraph {k} about training runs and launch windows." * 4 for k in range(60)
            ]
            server.put(
                target, html_page(paragraphs), "text/html; charset=utf-8", validators=validators
            )


# Hostile sources one server might point its probes at: (kind, target, pattern). Each one once
# stalled every server's probes (quadratic parsing, a slow lookup queue) or crashed a poll.
HOSTILE: tuple[tuple[str, str, str], ...] = (
    ("page", "/hostile/tags/page.html", "Grok 3"),  # "<a<a<a...": quadratic for html.parser
    ("feed", "/hostile/feed.xml", "Grok 3"),  # 2 MB, 27,000 items
    ("page", "/hostile/punycode/page.html", "Grok 3"),  # a quadratic charset, declared
    ("page", "/hostile/nested/page.html", "Grok 3"),  # 380,000 nested <div>
    ("models", "/hostile/deep", "grok-3*"),  # JSON nested 100,000 deep
    ("page", "/slow?s=5", "Grok 3"),  # answers after 5 s
    ("page", "/big?mb=5", "Grok 3"),  # 5 MB, over the cap
    ("page", "/redirect?to=javascript:alert(1)", "Grok 3"),  # a redirect to nowhere
)


def populate_hostile(server: ProbeServer) -> None:
    """The resources of :data:`HOSTILE`, each just under the 2 MB body cap."""
    server.put("/hostile/tags/page.html", b"<a" * 1_000_000, "text/html")
    item = "<item><title>Post {i}</title><link>https://h.example/{i}</link></item>"
    items = "".join(item.format(i=i) for i in range(27_000))
    server.put("/hostile/feed.xml", f"<rss><channel>{items}</channel></rss>", "application/rss+xml")
    server.put(
        "/hostile/punycode/page.html",
        b"<p>x</p>" + b"a-" * 1_000_000,
        "text/html; charset=punycode",
    )
    server.put("/hostile/nested/page.html", b"<div>" * 380_000, "text/html")
    server.put("/hostile/deep/v1/models", b"[" * 100_000 + b"]" * 100_000, "application/json")


async def _serve(n: int) -> None:
    server = ProbeServer()
    populate_bench(server, n)
    populate_hostile(server)
    await server.start()
    print(f"PORT {server.port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.close()


def main() -> None:
    """Serve the benchmark's resources until killed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--bench", type=int, default=1000)
    args = parser.parse_args()
    try:
        asyncio.run(_serve(args.bench))
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()

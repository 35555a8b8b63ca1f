"""HTTP caching and headers for the board: finished bodies, an LRU that renders each missing
entry once however many readers ask for it at the same moment, weak ETags, 304s, and the
security headers every answer carries.

A view's ETag is derived from what its content depends on (the board's data version, the
calendar day for views with running figures, the variant), so a revalidation costs one small
query and no rendering.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import gzip
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from aiohttp import web

# Bump when a template or a format changes what the same data renders to.
RENDER_VERSION = "2"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
PAGE_CACHE = "public, max-age=60"
FEED_CACHE = "public, max-age=300"
IMAGE_CACHE = "public, max-age=600"
GZIP_MIN = 512

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Rendered:
    """A finished answer body, kept in the cache."""

    body: bytes
    gzipped: bytes | None
    content_type: str


def finish(body: bytes, content_type: str, *, compress: bool = True) -> Rendered:
    """*body* ready to serve: gzipped too when it is text worth compressing."""
    # mtime=0: the same content always compresses to the same bytes.
    packed = None
    if compress and len(body) >= GZIP_MIN:
        packed = gzip.compress(body, compresslevel=6, mtime=0)
    return Rendered(body=body, gzipped=packed, content_type=content_type)


class SharedLRU(Generic[T]):
    """A small LRU of values made by coroutines: a missing value is made once, and readers
    who ask for it meanwhile wait for that one making instead of starting their own. With
    *size* 0 nothing is kept: readers only share a making that is in flight."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[str, T] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[T]] = {}

    def __contains__(self, key: str) -> bool:
        return key in self._values

    async def get(self, key: str, make: Callable[[], Awaitable[T]]) -> T:
        """The value of *key*, made by *make* when it is not kept."""
        if key in self._values:
            self._values.move_to_end(key)
            return self._values[key]
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            result = await make()
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: waiters re-raise it, nobody else should log it
            raise
        else:
            future.set_result(result)
        finally:
            del self._inflight[key]
        self._values[key] = result
        while len(self._values) > self.size:
            self._values.popitem(last=False)
        return result


def etag_of(key: str) -> str:
    """The weak ETag of a view whose cache key is *key*."""
    return 'W/"' + hashlib.sha256(key.encode()).hexdigest()[:32] + '"'


async def conditional(
    request: web.Request,
    cache: SharedLRU[Rendered],
    key: str,
    modified: dt.datetime,
    cache_control: str,
    render: Callable[[], Awaitable[Rendered]],
) -> web.Response:
    """Answer with a 304 when the reader's copy of *key* is current, else with the (cached)
    rendering, gzipped when the reader accepts it."""
    etag = etag_of(key)
    modified = modified.replace(microsecond=0)
    headers = {
        "ETag": etag,
        "Last-Modified": email.utils.format_datetime(modified, usegmt=True),
        "Cache-Control": cache_control,
        "Vary": "Accept-Encoding",
    }
    if not_modified(request, etag, modified):
        return web.Response(status=304, headers=headers)
    rendered = await cache.get(key, render)
    body = rendered.body
    if rendered.gzipped is not None and "gzip" in request.headers.get("Accept-Encoding", ""):
        body = rendered.gzipped
        headers["Content-Encoding"] = "gzip"
    headers["Content-Type"] = rendered.content_type
    return web.Response(body=body, headers=headers)


def not_modified(request: web.Request, etag: str, modified: dt.datetime) -> bool:
    """Whether the reader's conditional headers show that its copy is current."""
    match = request.headers.get("If-None-Match")
    if match is not None:
        tags = {t.strip() for t in match.split(",")}
        # Weak comparison (RFC 9110 13.1.2): W/"x" matches "x" and W/"x".
        bare = etag.removeprefix("W/")
        return "*" in tags or etag in tags or bare in tags
    since = request.headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        when = email.utils.parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        return False
    return modified <= when


def secure(answer: web.StreamResponse | web.HTTPException) -> None:
    """Add the security headers *answer* does not set itself."""
    for name, value in SECURITY_HEADERS.items():
        answer.headers.setdefault(name, value)

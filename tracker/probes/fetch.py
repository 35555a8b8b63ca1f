"""The probes' one HTTP client: guarded addresses, explicit limits, polite pacing.

- Every request and every redirect hop goes through ``GuardedTransport`` (public addresses only,
  connect to the address that was checked). Redirects are followed here, at most three, so each
  hop is checked; an API key never follows a redirect to another origin, and is only ever sent
  to a host it is bound to (``KeyHosts``: checked when the fetch starts and again, in the
  transport, on every request).
- Timeouts: 5 s to connect, 20 s for a whole fetch (all hops and the body), enforced with
  ``asyncio.timeout`` so that a server trickling bytes cannot hold a probe forever.
- Bodies are streamed and capped at 2 MB; the rest is never read. Compressed bodies are asked
  not to be sent (``Accept-Encoding: identity``) and are inflated with the same cap otherwise.
- Conditional requests (If-None-Match / If-Modified-Since): a 304 costs no body and no parsing.
- At most ``concurrency`` requests at once, at most ``per_owner`` of them for one server
  (``FairSlots``: one server's slow sources cannot hold every connection), and one request per
  ``per_host_interval_s`` to the same host. No cookies are ever stored; no proxy or other
  setting is taken from the environment; the User-Agent names the project.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import logging
import math
import os
import ssl
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Any

import httpx

from tracker.probes.fair import FairSlots
from tracker.probes.netguard import BlockedTarget, GuardedTransport, KeyHosts, NetGuard, split_url

log = logging.getLogger(__name__)

USER_AGENT = "slipwatch/0.1 (+https://github.com/slipwatch)"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
# httpcore reads at most 64 KiB per receive: a capped read stops within one chunk of the cap.
CHUNK = 64 * 1024
MAX_RETRY_AFTER_S = 24 * 3600.0


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """Limits of the probes' HTTP client."""

    connect_timeout_s: float = 5.0
    total_timeout_s: float = 20.0
    max_body_bytes: int = 2 * 1024 * 1024
    max_redirects: int = 3
    concurrency: int = 8
    per_owner: int = 2  # requests one server may have in flight at once
    # At most one request per this many seconds to the same host name. 0 turns pacing off
    # (the benchmark does, to measure 1,000 probes against one loopback server).
    per_host_interval_s: float = 1.0
    user_agent: str = USER_AGENT


@dataclass(frozen=True, slots=True)
class ApiKey:
    """How to send a key read from the environment at request time (never stored)."""

    env_name: str
    header: str = "Authorization"
    prefix: str = "Bearer "


@dataclass(frozen=True, slots=True)
class Fetched:
    """A final answer (after redirects). ``body`` is empty unless the status is 2xx."""

    url: str
    status: int
    body: bytes
    content_type: str
    etag: str | None
    last_modified: str | None
    retry_after_s: float | None
    bytes_read: int

    @property
    def not_modified(self) -> bool:
        """The server said 304: nothing changed since the validators we sent."""
        return self.status == 304

    @property
    def ok(self) -> bool:
        """A 2xx answer with a body."""
        return 200 <= self.status < 300


class FetchError(Exception):
    """A fetch that produced no usable answer; ``str(error)`` is short and holds no secret."""

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        status: int | None = None,
        retry_after_s: float | None = None,
        bytes_read: int = 0,
    ) -> None:
        super().__init__(message)
        self.kind = kind  # blocked, timeout, too_large, network, redirects, config, http, ...
        self.status = status
        self.retry_after_s = retry_after_s
        self.bytes_read = bytes_read


@dataclass
class FetchStats:
    """Counters for tests and the benchmark."""

    requests: int = 0
    not_modified: int = 0
    bytes_read: int = 0


@dataclass(frozen=True, slots=True)
class _Redirect:
    location: str


class _NeverStore(DefaultCookiePolicy):
    """A cookie policy that neither stores nor returns a cookie."""

    def set_ok(self, cookie: Any, request: Any) -> bool:
        """Never store a cookie."""
        return False

    def return_ok(self, cookie: Any, request: Any) -> bool:
        """Never send a cookie."""
        return False


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), capped at a day."""
    if not value:
        return None
    text = value.strip()
    if text.isdigit():
        return min(float(text), MAX_RETRY_AFTER_S)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:  # "-0000": the date is in UTC by RFC 5322
        when = when.replace(tzinfo=dt.UTC)
    now = now or dt.datetime.now(dt.UTC)
    return min(max(0.0, (when - now).total_seconds()), MAX_RETRY_AFTER_S)


def _origin(url: httpx.URL) -> tuple[str, bytes, int | None]:
    return (url.scheme, url.raw_host.lower(), url.port)


def _host_port(url: httpx.URL) -> tuple[str, int]:
    host = url.raw_host.decode("ascii", "replace").lower().rstrip(".")
    return host, url.port or (443 if url.scheme == "https" else 80)


def _redirect_target(current: httpx.URL, location: str) -> httpx.URL:
    """Where a redirect leads; a FetchError when it leads nowhere a probe may go. A location
    that is not a web address at all (data:, mailto:, javascript:, malformed) is the source's
    fault: "the source answered something unreadable"."""
    try:
        target = current.join(location)
    except Exception as exc:  # httpx raises several types on malformed locations
        raise FetchError(
            "the source answered something unreadable: a redirect to a malformed address",
            kind="unreadable",
        ) from exc
    if target.scheme.lower() not in ("http", "https"):
        scheme = target.scheme.lower()[:20] or "no scheme"
        raise FetchError(
            f"the source answered something unreadable: a redirect to a {scheme}: address, "
            "not a web page",
            kind="unreadable",
        )
    try:
        split_url(target)
    except BlockedTarget as exc:
        raise FetchError(f"refused redirect: {exc}", kind="blocked") from exc
    return target


class Fetcher:
    """Owns the shared httpx.AsyncClient; use ``async with Fetcher(guard) as fetcher``."""

    def __init__(
        self,
        guard: NetGuard,
        settings: FetchSettings | None = None,
        *,
        environ: Mapping[str, str] | None = None,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        """*environ* is where API keys are read at request time (default os.environ);
        *verify* replaces the default certificate store (tests, an operator's private CA)."""
        self.guard = guard
        self.settings = settings or FetchSettings()
        self._environ: Mapping[str, str] = os.environ if environ is None else environ
        self.key_hosts = KeyHosts.from_environ(self._environ)
        self.stats = FetchStats()
        inner = httpx.AsyncHTTPTransport(
            # No keep-alive: connections are keyed by the pinned IP, and a TLS connection made
            # for one name must never carry a request for another name at the same address.
            limits=httpx.Limits(
                max_connections=max(1, self.settings.concurrency) * 2,
                max_keepalive_connections=0,
            ),
            retries=0,
            trust_env=False,
            verify=verify if verify is not None else True,
        )
        self.transport = GuardedTransport(guard, inner, self.key_hosts)
        self._jar = CookieJar(policy=_NeverStore())
        total = self.settings.total_timeout_s
        self._client = httpx.AsyncClient(
            transport=self.transport,
            timeout=httpx.Timeout(total, connect=self.settings.connect_timeout_s),
            follow_redirects=False,
            trust_env=False,  # no proxy, netrc or certificate settings from the environment
            cookies=self._jar,
            headers={"User-Agent": self.settings.user_agent},
        )
        concurrency = max(1, self.settings.concurrency)
        self._slots = FairSlots(concurrency, max(1, min(self.settings.per_owner, concurrency)))
        self._host_locks: dict[str, asyncio.Lock] = {}
        self._host_last: dict[str, float] = {}

    async def __aenter__(self) -> Fetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client and its connections."""
        await self._client.aclose()

    def has_env(self, name: str) -> bool:
        """Whether the environment variable *name* is set and not empty (the value is never
        returned: only requests read it)."""
        return bool(self._environ.get(name))

    def key_refusal(self, env_name: str, url: str) -> str | None:
        """Why the key in *env_name* may not be sent to *url* (a sentence for a person), or
        None when it may."""
        return self.key_hosts.refusal(env_name, url)

    @property
    def cookie_count(self) -> int:
        """Cookies held by the client (always 0; tests check it)."""
        return len(self._jar)

    # ------------------------------------------------------------------ pacing

    async def _take_turn(self, host: str, owner: int) -> None:
        """Wait for *host*'s turn and a free slot for *owner*; the caller releases the slot."""
        interval = self.settings.per_host_interval_s
        if interval <= 0:
            await self._slots.acquire(owner)
            return
        loop = asyncio.get_running_loop()
        if len(self._host_locks) > 1024:
            self._forget_idle_hosts(loop.time())
        lock = self._host_locks.setdefault(host, asyncio.Lock())
        async with lock:
            # The last request to *host* may still be running; its end moves the mark again
            # (in get()), so wait until a full interval has passed since whichever is later.
            for _ in range(3):  # the mark moves at most once more per request in flight
                wait = self._host_last.get(host, -math.inf) + interval - loop.time()
                if wait <= 0:
                    break
                await asyncio.sleep(wait)
            await self._slots.acquire(owner)
            self._host_last[host] = loop.time()

    def _forget_idle_hosts(self, now: float) -> None:
        interval = self.settings.per_host_interval_s
        for host in [h for h, lock in self._host_locks.items() if not lock.locked()]:
            if self._host_last.get(host, -math.inf) + interval < now:
                self._host_locks.pop(host, None)
                self._host_last.pop(host, None)

    # ------------------------------------------------------------------ fetching

    async def get(
        self,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        api_key: ApiKey | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        owner: int = 0,
    ) -> Fetched:
        """GET *url*, following up to ``max_redirects`` checked redirects. Returns the final
        answer (2xx with its body, 304, or another status without body); raises FetchError
        when there is none (refused address, refused key, timeout, too large, network error).
        *owner* (a server id) shares the connections fairly between servers."""
        loop = asyncio.get_running_loop()
        try:
            start = httpx.URL(url)
        except (httpx.InvalidURL, ValueError) as exc:
            raise FetchError(
                "the probe's address is not a valid web address", kind="blocked"
            ) from exc
        current = start
        remaining = self.settings.total_timeout_s
        secret: tuple[str, str, str] | None = None
        if api_key is not None:
            refusal = self.key_hosts.refusal(api_key.env_name, start)
            if refusal is not None:
                raise FetchError(refusal, kind="config")
            value = self._environ.get(api_key.env_name, "")
            if not value:
                raise FetchError(
                    f"The environment variable {api_key.env_name} is not set, so the probe has "
                    "no API key.",
                    kind="config",
                )
            secret = (api_key.env_name, api_key.header, api_key.prefix + value)
        for _hop in range(self.settings.max_redirects + 1):
            hop_headers = {"Accept-Encoding": "identity", **(headers or {})}
            if etag:
                hop_headers["If-None-Match"] = etag
            if last_modified:
                hop_headers["If-Modified-Since"] = last_modified
            extensions: dict[str, Any] = {}
            if (
                secret is not None
                and _origin(current) == _origin(start)
                and self.key_hosts.allows(secret[0], *_host_port(current))
            ):
                extensions[GuardedTransport.SECRET] = secret
            request = self._client.build_request(
                "GET", current, headers=hop_headers, extensions=extensions
            )
            await self._take_turn(current.host, owner)
            began = loop.time()
            try:
                if remaining <= 0:
                    raise TimeoutError
                async with asyncio.timeout(remaining):
                    outcome = await self._exchange(request, str(current))
            except TimeoutError:
                total = self.settings.total_timeout_s
                raise FetchError(f"no complete answer within {total:g} s", kind="timeout") from None
            finally:
                self._slots.release(owner)
                if self.settings.per_host_interval_s > 0:
                    # Paced from the end of the exchange too: on a busy machine a request can
                    # reach the server late, and the next one must still come an interval later.
                    self._host_last[current.host] = loop.time()
            remaining -= loop.time() - began
            if isinstance(outcome, Fetched):
                return outcome
            current = _redirect_target(current, outcome.location)
        raise FetchError(f"more than {self.settings.max_redirects} redirects", kind="redirects")

    async def _exchange(self, request: httpx.Request, shown_url: str) -> Fetched | _Redirect:
        self.stats.requests += 1
        try:
            # Straight to the transport: the client would parse every Location header itself
            # (and raise on a malformed one) even with redirects off; they are judged here.
            response = await self.transport.handle_async_request(request)
            response.request = request
        except BlockedTarget as exc:
            raise FetchError(str(exc), kind="blocked") from exc
        except httpx.TimeoutException as exc:
            raise FetchError(f"timed out ({type(exc).__name__})", kind="timeout") from exc
        except httpx.HTTPError as exc:
            detail = str(exc) or type(exc).__name__
            raise FetchError(f"network error: {detail}"[:300], kind="network") from exc
        try:
            status = response.status_code
            location = response.headers.get("location")
            if status in REDIRECTS and location:
                return _Redirect(location)
            common = {
                "url": shown_url,
                "status": status,
                "content_type": response.headers.get("content-type", ""),
                "etag": response.headers.get("etag"),
                "last_modified": response.headers.get("last-modified"),
                "retry_after_s": parse_retry_after(response.headers.get("retry-after")),
            }
            if status == 304:
                self.stats.not_modified += 1
                return Fetched(body=b"", bytes_read=0, **common)
            if not 200 <= status < 300:
                return Fetched(body=b"", bytes_read=0, **common)
            body, read = await self._read_capped(response)
            return Fetched(body=body, bytes_read=read, **common)
        finally:
            await response.aclose()

    async def _read_capped(self, response: httpx.Response) -> tuple[bytes, int]:
        cap = self.settings.max_body_bytes
        shown_cap = f"{cap / 1024 / 1024:g} MB"
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise FetchError(f"the answer is larger than {shown_cap}", kind="too_large")
        parts: list[bytes] = []
        read = 0
        try:
            async for chunk in response.aiter_raw():
                read += len(chunk)
                if read > cap:
                    raise FetchError(
                        f"the answer is larger than {shown_cap}", kind="too_large", bytes_read=read
                    )
                parts.append(chunk)
        finally:
            self.stats.bytes_read += read
        body = b"".join(parts)
        encoding = response.headers.get("content-encoding", "").strip().lower()
        if encoding in ("", "identity"):
            return body, read
        if encoding in ("gzip", "x-gzip", "deflate"):
            return _inflate(body, encoding, cap, shown_cap), read
        raise FetchError(f"unsupported content encoding {encoding[:20]!r}", kind="encoding")


def _inflate(body: bytes, encoding: str, cap: int, shown_cap: str) -> bytes:
    wbits = 16 + zlib.MAX_WBITS if encoding != "deflate" else zlib.MAX_WBITS
    try:
        inflater = zlib.decompressobj(wbits)
        out = inflater.decompress(body, cap + 1)
    except zlib.error as exc:
        raise FetchError("the compressed answer is damaged", kind="encoding") from exc
    if len(out) > cap or inflater.unconsumed_tail:
        raise FetchError(f"the answer is larger than {shown_cap}", kind="too_large")
    return out

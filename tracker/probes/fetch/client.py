"""The :class:`Fetcher`: one shared httpx client for every probe, following redirects itself so
that each hop is checked, reading bodies with a cap, and sending a key only where it belongs."""

from __future__ import annotations

import asyncio
import os
import ssl
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from http.cookiejar import CookieJar, DefaultCookiePolicy
from types import TracebackType
from typing import Any

import httpx

from tracker.probes.fetch.pacing import Turns
from tracker.probes.fetch.records import (
    ApiKey,
    Fetched,
    FetchError,
    FetchSettings,
    FetchStats,
    parse_retry_after,
)
from tracker.probes.netguard import BlockedTarget, GuardedTransport, KeyHosts, NetGuard, split_url

REDIRECTS = frozenset({301, 302, 303, 307, 308})
# httpcore reads at most 64 KiB per receive: a capped read stops within one chunk of the cap.
CHUNK = 64 * 1024

# (variable name, header, header value) of a key on its way to the transport.
Secret = tuple[str, str, str]


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


def _origin(url: httpx.URL) -> tuple[str, bytes, int | None]:
    return (url.scheme, url.raw_host.lower(), url.port)


def _host_port(url: httpx.URL) -> tuple[str, int]:
    host = url.raw_host.decode("ascii", "replace").lower().rstrip(".")
    return host, url.port or (443 if url.scheme == "https" else 80)


def _start_url(url: str) -> httpx.URL:
    try:
        return httpx.URL(url)
    except (httpx.InvalidURL, ValueError) as exc:
        raise FetchError("the probe's address is not a valid web address", kind="blocked") from exc


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
        self.settings = s = settings or FetchSettings()
        self._environ: Mapping[str, str] = os.environ if environ is None else environ
        self.key_hosts = KeyHosts.from_environ(self._environ)
        self.stats = FetchStats()
        self._verify = verify
        self._jar = CookieJar(policy=_NeverStore())
        # Built at the first request: its TLS context reads the whole certificate store (about
        # a tenth of a second), which the bot's start, before any probe is due, need not wait for.
        self._client: tuple[httpx.AsyncClient, GuardedTransport] | None = None
        self._closed = False
        self.turns = Turns(s.concurrency, s.per_owner, s.per_host_interval_s)

    def _http(self) -> tuple[httpx.AsyncClient, GuardedTransport]:
        """The shared client and its guarded transport (built on first use)."""
        if self._client is None:
            if self._closed:
                raise RuntimeError("the fetcher is closed")
            s = self.settings
            inner = httpx.AsyncHTTPTransport(
                # No keep-alive: connections are keyed by the pinned IP, and a TLS connection
                # made for one name must never carry a request for another name at the same
                # address.
                limits=httpx.Limits(
                    max_connections=max(1, s.concurrency) * 2, max_keepalive_connections=0
                ),
                retries=0,
                trust_env=False,
                verify=self._verify if self._verify is not None else True,
            )
            transport = GuardedTransport(self.guard, inner, self.key_hosts)
            client = httpx.AsyncClient(
                transport=transport,
                timeout=httpx.Timeout(s.total_timeout_s, connect=s.connect_timeout_s),
                follow_redirects=False,
                trust_env=False,  # no proxy, netrc or certificate settings from the environment
                cookies=self._jar,
                headers={"User-Agent": s.user_agent},
            )
            self._client = (client, transport)
        return self._client

    @property
    def transport(self) -> GuardedTransport:
        """The guarded transport every request goes through."""
        return self._http()[1]

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
        self._closed = True
        if self._client is not None:
            await self._client[0].aclose()

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
        start = _start_url(url)
        secret = self._secret(api_key, start)
        hop_headers = {"Accept-Encoding": "identity", **(headers or {})}
        if etag:
            hop_headers["If-None-Match"] = etag
        if last_modified:
            hop_headers["If-Modified-Since"] = last_modified
        current = start
        remaining = self.settings.total_timeout_s
        for _hop in range(self.settings.max_redirects + 1):
            extensions: dict[str, Any] = {}
            # A key goes to its own origin only, and only when bound to that host.
            if (
                secret is not None
                and _origin(current) == _origin(start)
                and self.key_hosts.allows(secret[0], *_host_port(current))
            ):
                extensions[GuardedTransport.SECRET] = secret
            request = self._http()[0].build_request(
                "GET", current, headers=hop_headers, extensions=extensions
            )
            outcome, spent = await self._hop(request, current, owner, remaining)
            remaining -= spent
            if isinstance(outcome, Fetched):
                return outcome
            current = _redirect_target(current, outcome.location)
        raise FetchError(f"more than {self.settings.max_redirects} redirects", kind="redirects")

    def _secret(self, api_key: ApiKey | None, start: httpx.URL) -> Secret | None:
        """The key to send to *start*, read from the environment now; FetchError when it may
        not go there or is not set."""
        if api_key is None:
            return None
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
        return (api_key.env_name, api_key.header, api_key.prefix + value)

    async def _hop(
        self, request: httpx.Request, current: httpx.URL, owner: int, remaining: float
    ) -> tuple[Fetched | _Redirect, float]:
        """One request in its turn, within what is left of the fetch's time; the outcome and
        the seconds it took."""
        loop = asyncio.get_running_loop()
        await self.turns.take(current.host, owner)
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
            self.turns.done(current.host, owner)
        return outcome, loop.time() - began

    async def _exchange(self, request: httpx.Request, shown_url: str) -> Fetched | _Redirect:
        self.stats.requests += 1
        try:
            # Straight to the transport: the client would parse every Location header itself
            # (and raise on a malformed one) even with redirects off; they are judged here.
            response = await self._http()[1].handle_async_request(request)
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

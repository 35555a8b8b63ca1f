"""The address check itself (:class:`NetGuard`): a URL's host is resolved once, every address it
has must pass, and the result names the address to connect to. Name resolution runs on its own
small thread pool, so that lookups never queue behind other work on the event loop's default
executor."""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

from tracker.probes.netguard.addresses import (
    AllowList,
    BlockedTarget,
    IPAddress,
    UnresolvedHost,
    parse_ip,
    refusal,
    split_url,
)

log = logging.getLogger(__name__)

Resolver = Callable[[str, int], Awaitable[list[str]]]


@dataclass(frozen=True, slots=True)
class Checked:
    """A URL whose address passed the check: connect to ``ip``, speak to ``host``."""

    scheme: str
    host: str  # the name as sent in Host and TLS SNI (IDNA, lower case)
    port: int
    ip: IPAddress
    operator_allowed: bool  # reached only because of SLIPWATCH_PROBE_ALLOW


DNS_TIMEOUT_S = 5.0
# Lookups get their own threads: on the loop's default executor they waited behind other
# work (a probe of one server failed because its lookup queued behind another's parsing).
_DNS_POOL = ThreadPoolExecutor(max_workers=8, thread_name_prefix="slipwatch-dns")


async def system_resolver(host: str, port: int) -> list[str]:
    """The addresses the system resolver gives for *host* (TCP), in its order; at most
    ``DNS_TIMEOUT_S`` seconds."""
    loop = asyncio.get_running_loop()
    lookup = loop.run_in_executor(
        _DNS_POOL,
        lambda: socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP),
    )
    try:
        async with asyncio.timeout(DNS_TIMEOUT_S):
            infos = await lookup
    except TimeoutError:
        raise OSError(f"looking up {host} took longer than {DNS_TIMEOUT_S:g} s") from None
    seen: list[str] = []
    for _family, _type, _proto, _canon, sockaddr in infos:
        address = str(sockaddr[0])
        if address not in seen:
            seen.append(address)
    return seen


class NetGuard:
    """Checks probe addresses against the public-only rule and the operator's allow list."""

    def __init__(self, allow: AllowList | None = None, resolver: Resolver | None = None) -> None:
        self.allow = allow or AllowList()
        self._resolver = resolver or system_resolver

    @classmethod
    def from_settings(cls, probe_allow: Iterable[str]) -> NetGuard:
        """A guard for ``Settings.probe_allow`` (ValueError on a malformed entry)."""
        return cls(AllowList.parse(probe_allow))

    def _judge(self, host: str, ip: IPAddress, port: int, shown: str) -> bool:
        """True when *ip* is reachable only thanks to the allow list; BlockedTarget if never."""
        reason = refusal(ip)
        if reason is None:
            return False
        if self.allow.allows(host, ip, port):
            return True
        raise BlockedTarget(
            f"{shown} is {reason}; probes only reach public internet addresses. "
            "Point the probe at the public site instead (the bot's operator can allow a "
            "trusted internal address with SLIPWATCH_PROBE_ALLOW)."
        )

    async def check(self, url: str | httpx.URL) -> Checked:
        """Resolve *url*'s host once and check every address it has; the result names the
        address to connect to. Raises BlockedTarget with a short answer for a person."""
        scheme, host, port = split_url(url)
        literal = parse_ip(host)
        if literal is not None:
            allowed = self._judge(host, literal, port, literal.compressed)
            return Checked(scheme, host, port, literal, allowed)
        if host == "localhost" or host.endswith(".localhost"):
            # RFC 6761: such names are loopback whatever a resolver says.
            self._judge(host, ipaddress.IPv4Address("127.0.0.1"), port, host)
        try:
            answers = await self._resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise UnresolvedHost(f"The host {host} could not be found.") from exc
        addresses = [ip for ip in (parse_ip(a) for a in answers) if ip is not None]
        if not addresses:
            raise UnresolvedHost(f"The host {host} could not be found.")
        # Every answer must pass: a name that also points inward is not a public site.
        flags = [self._judge(host, ip, port, f"{host} ({ip.compressed})") for ip in addresses]
        return Checked(scheme, host, port, addresses[0], flags[0])

    async def validate_target(self, url: str) -> str:
        """The check made when a probe is created: syntax, scheme and, when the host can be
        looked up now, its addresses. A host that cannot be looked up yet is accepted (it is
        checked again at every request). Returns the URL as it will be fetched."""
        try:
            await self.check(url.strip())
        except UnresolvedHost:
            log.info("probe target host does not resolve yet; accepted, checked at each request")
        return str(httpx.URL(url.strip()))

"""Where a probe may connect: public addresses only, unless the operator allowed one.

A probe's address is typed by a server manager, so without this check the bot would fetch
whatever they point it at: the cloud metadata service, a database on the bot's own machine, a
router on its private network. Every address is checked when a probe is created and again at
every request and every redirect hop, and the connection is made to the very address that was
checked (never a second DNS answer), so a name that answers differently between check and
connect gains nothing. The operator can trust specific addresses with SLIPWATCH_PROBE_ALLOW:
comma-separated ``host:port`` pairs (``127.0.0.1:8080``, ``[::1]:8080``, ``mirror.lan:443``) or
CIDR ranges (``10.20.0.0/16``, any port).

API keys are bound to hosts (:class:`KeyHosts`): a key in ``SLIPWATCH_KEY_<NAME>`` is sent only
to the hosts it belongs to, built in for the known providers (``SLIPWATCH_KEY_OPENAI`` to
api.openai.com, ...) and listed by the operator in ``SLIPWATCH_KEY_<NAME>_HOSTS`` for any other
key (which also replaces a built-in list). Name resolution runs on its own small thread pool, so
that lookups never queue behind other work on the event loop's default executor.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx

log = logging.getLogger(__name__)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], Awaitable[list[str]]]

MAX_URL = 500
DEFAULT_PORTS = {"http": 80, "https": 443}
# Cloud metadata services: AWS, GCP, Azure, OpenStack use 169.254.169.254 (link-local anyway);
# AWS also answers on fd00:ec2::254 and Alibaba on 100.100.100.200.
METADATA = frozenset(
    {
        ipaddress.ip_address("169.254.169.254"),
        ipaddress.ip_address("fd00:ec2::254"),
        ipaddress.ip_address("100.100.100.200"),
    }
)
_UNIQUE_LOCAL = ipaddress.IPv6Network("fc00::/7")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


class BlockedTarget(Exception):
    """A probe address that is refused; ``str(error)`` is a short answer for a person."""


class UnresolvedHost(BlockedTarget):
    """The host name has no address (now): a failure at request time, not a refusal."""


def refusal(ip: IPAddress) -> str | None:
    """Why *ip* is not a public address (e.g. "a loopback address"), or None when it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        # IPv6 spellings of IPv4 addresses are judged by the IPv4 address inside.
        embedded: ipaddress.IPv4Address | None = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and ip.teredo is not None:
            embedded = ip.teredo[1]
        if embedded is not None:
            inner = refusal(embedded)
            if inner is not None:
                return f"{inner} written as IPv6"
    if ip in METADATA:
        return "the cloud metadata address"
    if ip.is_unspecified:
        return "the unspecified address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    if ip.is_multicast:
        return "a multicast address"
    if isinstance(ip, ipaddress.IPv6Address) and ip in _UNIQUE_LOCAL:
        return "a unique-local address"
    if ip.is_reserved:
        return "a reserved address"
    if ip.is_private:
        return "a private address"
    if isinstance(ip, ipaddress.IPv6Address) and ip.is_site_local:
        return "a site-local address"
    if not ip.is_global:
        return "not a public address"
    return None


def parse_ip(text: str) -> IPAddress | None:
    """An IP literal (brackets allowed), or None when *text* is a name."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if "%" in text:  # a zone id ("fe80::1%eth0") only makes sense on a local link
        return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class AllowList:
    """Addresses the operator trusts although they are not public (SLIPWATCH_PROBE_ALLOW)."""

    pairs: frozenset[tuple[str, int]] = frozenset()  # (lower-case name or IP text, port)
    networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str]) -> AllowList:
        """Read ``host:port`` pairs and CIDR ranges; ValueError names a bad entry."""
        pairs: set[tuple[str, int]] = set()
        networks: list[IPNetwork] = []
        for raw in entries:
            entry = raw.strip()
            if not entry:
                continue
            bad = ValueError(
                f"SLIPWATCH_PROBE_ALLOW: {entry!r} is neither host:port (127.0.0.1:8080, "
                "[::1]:8080, mirror.lan:443) nor a CIDR range (10.20.0.0/16)."
            )
            if "/" in entry:
                try:
                    networks.append(ipaddress.ip_network(entry, strict=False))
                except ValueError as exc:
                    raise bad from exc
                continue
            bare = parse_ip(entry)
            if bare is not None:  # a bare address: that one address, any port
                networks.append(ipaddress.ip_network(bare))
                continue
            host, sep, port_text = entry.rpartition(":")
            if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
                raise bad
            ip = parse_ip(host)
            if ip is not None:
                name = ip.compressed
            elif host.startswith("[") or ":" in host:
                raise bad
            else:
                name = host.lower().rstrip(".")
            pairs.add((name, int(port_text)))
        return cls(frozenset(pairs), tuple(networks))

    def allows(self, host: str, ip: IPAddress, port: int) -> bool:
        """Whether the operator trusts *ip* on *port*, reached under the name *host*."""
        if (host.lower().rstrip("."), port) in self.pairs:
            return True
        candidates: list[IPAddress] = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)
        for candidate in candidates:
            if (candidate.compressed, port) in self.pairs:
                return True
            if any(candidate.version == net.version and candidate in net for net in self.networks):
                return True
        return False

    def __bool__(self) -> bool:
        return bool(self.pairs or self.networks)


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


def split_url(url: str | httpx.URL) -> tuple[str, str, int]:
    """Scheme, host and port of an http(s) URL; BlockedTarget for anything else."""
    text = str(url)
    if len(text) > MAX_URL:
        raise BlockedTarget(f"That address is longer than {MAX_URL} characters.")
    if any(ch.isspace() or ord(ch) < 32 for ch in text):
        raise BlockedTarget("A web address cannot contain spaces; give the full https:// link.")
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(text)
    except (httpx.InvalidURL, ValueError) as exc:
        raise BlockedTarget(
            f"{text!r} is not a web address. Give the full link, like https://example.com/news."
        ) from exc
    scheme = parsed.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        shown = f"{scheme}://" if scheme else "an address without http(s)://"
        raise BlockedTarget(
            f"Probes only fetch http:// and https:// addresses, not {shown}. "
            "Give the full link, like https://example.com/news."
        )
    if parsed.userinfo:
        raise BlockedTarget(
            "Leave the user name and password out of the address (user:pass@...). "
            "For an API that needs a key, use a models probe with api_key_env."
        )
    try:
        host = parsed.raw_host.decode("ascii").lower().rstrip(".")
    except UnicodeDecodeError as exc:  # pragma: no cover - httpx always gives IDNA bytes
        raise BlockedTarget("That host name cannot be used.") from exc
    if not host:
        raise BlockedTarget("That address has no host. Give the full link, like https://x.ai/news.")
    return scheme, host, parsed.port or DEFAULT_PORTS[scheme]


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


KEY_PREFIX = "SLIPWATCH_KEY_"
HOSTS_SUFFIX = "_HOSTS"
# Where the known providers' keys go (``SLIPWATCH_KEY_<NAME>`` -> hosts, https port 443).
BUILTIN_KEY_HOSTS: Mapping[str, tuple[str, ...]] = {
    "OPENAI": ("api.openai.com",),
    "XAI": ("api.x.ai",),
    "ANTHROPIC": ("api.anthropic.com",),
    "MISTRAL": ("api.mistral.ai",),
    "GITHUB": ("api.github.com",),
    "GROQ": ("api.groq.com",),
    "DEEPSEEK": ("api.deepseek.com",),
    "TOGETHER": ("api.together.xyz",),
    "FIREWORKS": ("api.fireworks.ai",),
    "OPENROUTER": ("openrouter.ai",),
    "PERPLEXITY": ("api.perplexity.ai",),
    "CEREBRAS": ("api.cerebras.ai",),
    "GEMINI": ("generativelanguage.googleapis.com",),
    "GOOGLE": ("generativelanguage.googleapis.com",),
    "HUGGINGFACE": ("huggingface.co",),
    "HF": ("huggingface.co",),
}


def _host_entry(variable: str, raw: str) -> tuple[str, int]:
    entry = raw.strip().lower()
    bad = ValueError(
        f"{variable}: {raw.strip()!r} is not a host name or host:port "
        "(api.example.com, api.example.com:8443, 127.0.0.1:8080)."
    )
    host, port = entry, 443
    if entry.startswith("["):
        inside, sep, rest = entry[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            raise bad
        host, port_text = inside, rest[1:]
        if rest:
            if not port_text.isdigit():
                raise bad
            port = int(port_text)
    elif entry.count(":") == 1:
        host, port_text = entry.split(":")
        if not port_text.isdigit():
            raise bad
        port = int(port_text)
    ip = parse_ip(host)
    if ip is not None:
        host = ip.compressed
    elif not host or "/" in host or "@" in host or " " in host or ":" in host:
        raise bad
    if not 0 < port < 65536:
        raise bad
    return host.rstrip("."), port


@dataclass(frozen=True, slots=True)
class KeyHosts:
    """The hosts each ``SLIPWATCH_KEY_<NAME>`` may be sent to: built in for the known providers,
    replaced or added by the operator with ``SLIPWATCH_KEY_<NAME>_HOSTS`` (comma-separated
    ``host`` for https on port 443, or ``host:port``)."""

    hosts: Mapping[str, frozenset[tuple[str, int]]]

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> KeyHosts:
        """Read the built-in table and every ``SLIPWATCH_KEY_*_HOSTS`` variable; ValueError
        names a malformed one."""
        table: dict[str, frozenset[tuple[str, int]]] = {
            name: frozenset((host, 443) for host in hosts)
            for name, hosts in BUILTIN_KEY_HOSTS.items()
        }
        for variable, value in environ.items():
            if not (variable.startswith(KEY_PREFIX) and variable.endswith(HOSTS_SUFFIX)):
                continue
            name = variable[len(KEY_PREFIX) : -len(HOSTS_SUFFIX)]
            if not name:
                continue
            entries = [e for e in value.split(",") if e.strip()]
            table[name] = frozenset(_host_entry(variable, e) for e in entries)
        return cls(table)

    @staticmethod
    def key_name(env_name: str) -> str:
        """``SLIPWATCH_KEY_OPENAI`` -> ``OPENAI``."""
        return env_name.removeprefix(KEY_PREFIX)

    def allows(self, env_name: str, host: str, port: int) -> bool:
        """Whether the key in *env_name* may be sent to *host* on *port*."""
        allowed = self.hosts.get(self.key_name(env_name), frozenset())
        ip = parse_ip(host)
        name = ip.compressed if ip is not None else host.lower().rstrip(".")
        return (name, port) in allowed

    def shown(self, env_name: str) -> str:
        """The hosts of *env_name*, for a person ("api.openai.com"), or "" when there are none."""
        allowed = sorted(self.hosts.get(self.key_name(env_name), frozenset()))
        return ", ".join(
            host if port == 443 else (f"[{host}]:{port}" if ":" in host else f"{host}:{port}")
            for host, port in allowed
        )

    def refusal(self, env_name: str, url: str | httpx.URL) -> str | None:
        """Why the key in *env_name* may not be sent to *url* (a sentence for a person), or
        None when it may."""
        try:
            _scheme, host, port = split_url(url)
        except BlockedTarget as exc:
            return str(exc)
        if self.allows(env_name, host, port):
            return None
        variable = env_name + HOSTS_SUFFIX
        shown_host = host if port == 443 else f"{host}:{port}"
        listed = self.shown(env_name)
        if not listed:
            return (
                f"{env_name} is not bound to any host yet, so no probe can send it. The bot's "
                f"operator lists the hosts it belongs to in {variable} (for example "
                f"{variable}=api.example.com)."
            )
        return (
            f"{env_name} may only be sent to {listed}, and this probe's address is "
            f"{shown_host}. Point the probe at {listed}, or ask the bot's operator to add "
            f"{shown_host} to {variable}."
        )


class GuardedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that checks each request's address and connects to the checked IP,
    keeping the Host header and TLS SNI / certificate check on the original name.

    An API key travels in the request extension ``slipwatch.secret`` as (variable name,
    header, value); it is added here, after the check, only to a host the key is bound to
    (:class:`KeyHosts`) and only over https or to an address the operator allowed. A request
    carrying a key for another host is refused, whoever built it."""

    SECRET = "slipwatch.secret"

    def __init__(
        self, guard: NetGuard, inner: httpx.AsyncBaseTransport, key_hosts: KeyHosts | None = None
    ) -> None:
        self.guard = guard
        self._inner = inner
        self.key_hosts = key_hosts or KeyHosts.from_environ({})
        self.connects = 0  # requests that passed the check and went to the network

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Check, pin the address, then hand the request to the real transport."""
        checked = await self.guard.check(request.url)
        headers = httpx.Headers(request.headers)  # already holds Host for the original name
        extensions = {k: v for k, v in request.extensions.items() if k != self.SECRET}
        secret = request.extensions.get(self.SECRET)
        if secret is not None:
            env_name, header, value = secret
            if not self.key_hosts.allows(env_name, checked.host, checked.port):
                raise BlockedTarget(
                    self.key_hosts.refusal(env_name, request.url) or "refused API key"
                )
            if checked.scheme != "https" and not checked.operator_allowed:
                raise BlockedTarget("API keys are only sent over https://.")
            headers[header] = value
        if checked.scheme == "https":
            extensions["sni_hostname"] = checked.host
        pinned = httpx.Request(
            request.method,
            request.url.copy_with(host=checked.ip.compressed),
            headers=headers,
            stream=request.stream,
            extensions=extensions,
        )
        self.connects += 1
        return await self._inner.handle_async_request(pinned)

    async def aclose(self) -> None:
        """Close the real transport's connections."""
        await self._inner.aclose()

"""Which addresses a probe may reach: URL syntax (http and https only, no user name) and the
public-only rule for IP addresses (every spelling of loopback, private, link-local and cloud
metadata addresses is refused), with the operator's allow list (SLIPWATCH_PROBE_ALLOW)."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

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

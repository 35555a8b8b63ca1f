"""Who is asking, and how often: the client address behind trusted reverse proxies, and a token
bucket per client address.

Behind a reverse proxy every request comes from the proxy's address, so one bucket would hold
every reader. The operator names the proxies it trusts (SLIPWATCH_WEB_TRUSTED_PROXIES); only
when the TCP peer is one of them is X-Forwarded-For read, from the right: each trusted proxy
appends the address it received the request from, so the right-most entry that is not a
trusted proxy is the client. Entries to its left were written by the client itself and are
never believed. A peer that is not a trusted proxy is the client, whatever it sends.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_FORWARDED = 32  # hops read from X-Forwarded-For: more is a forgery or a loop


def parse_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """Addresses or networks ("10.0.0.1", "10.0.0.0/8", "::1"); ValueError names a bad one."""
    networks: list[Network] = []
    for entry in entries:
        text = entry.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ValueError(f"{text!r} is not an IP address or network") from None
    return tuple(networks)


def _address(text: str) -> Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:  # "[2001:db8::1]:443"
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # "203.0.113.7:5123"
        text = text.partition(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


class ClientAddress:
    """Reads the client's address of a request given the proxies the operator trusts."""

    def __init__(self, trusted: Sequence[Network] = ()) -> None:
        self.trusted = tuple(trusted)

    def _is_trusted(self, address: Address) -> bool:
        return any(address in network for network in self.trusted)

    def __call__(self, peer: str | None, forwarded_for: Iterable[str]) -> str:
        """The client of a request from TCP peer *peer* that carried these X-Forwarded-For
        header values (in order)."""
        peer_address = _address(peer) if peer else None
        if peer_address is None:
            return peer or "?"
        if not self.trusted or not self._is_trusted(peer_address):
            return str(peer_address)
        hops = [hop for value in forwarded_for for hop in value.split(",")][-MAX_FORWARDED:]
        client = peer_address
        for hop in reversed(hops):
            address = _address(hop)
            if address is None:
                break  # garbage a trusted proxy would not write: stop at the last good hop
            client = address
            if not self._is_trusted(address):
                break
        return str(client)


class RateLimiter:
    """A token bucket per client address: *burst* requests at once, then *rate* per second."""

    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, client: str) -> float:
        """0 when the request may go ahead, else the seconds until it may."""
        now = self.clock()
        tokens, last = self._buckets.get(client, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[client] = (tokens - 1.0, now)
            if len(self._buckets) > 10_000:
                self._forget_full(now)
            return 0.0
        self._buckets[client] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def _forget_full(self, now: float) -> None:
        # Clients whose bucket has refilled are indistinguishable from new ones: drop them.
        full = [c for c, (t, last) in self._buckets.items() if t + (now - last) * self.rate >= 1]
        for client in full:
            del self._buckets[client]

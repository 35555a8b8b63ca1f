"""The probes' httpx transport: every request's address is checked and the connection made to
the checked address; an API key is added only here, after the check, for a host it is bound
to."""

from __future__ import annotations

import httpx

from tracker.probes.netguard.addresses import BlockedTarget
from tracker.probes.netguard.guard import NetGuard
from tracker.probes.netguard.keyhosts import KeyHosts


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

"""API keys go only where they belong: to the hosts each key is bound to, over https, never
along a redirect to another origin (checked by the fetcher and again by the transport).

No test sends traffic beyond 127.0.0.1: requests to other addresses either are refused before
any connection, or go to an httpx.MockTransport standing in for the network."""

from __future__ import annotations

import ssl
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.probe_server import ProbeServer
from tests.test_netguard import FAST, self_signed, static_resolver
from tracker.probes.fetch import ApiKey, Fetcher, FetchError
from tracker.probes.netguard import AllowList, BlockedTarget, GuardedTransport, KeyHosts, NetGuard


async def test_api_keys_go_only_over_https_unless_the_address_is_allowed() -> None:
    seen: list[httpx.Request] = []

    def network(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": []})

    resolve = static_resolver({"api.test": ["93.184.216.34"]})
    hosts = KeyHosts.from_environ({"SLIPWATCH_KEY_TEST_HOSTS": "api.test, api.test:80"})
    transport = GuardedTransport(NetGuard(resolver=resolve), httpx.MockTransport(network), hosts)
    secret = {
        GuardedTransport.SECRET: ("SLIPWATCH_KEY_TEST", "Authorization", "Bearer sk-test-123")
    }
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(BlockedTarget, match="only sent over https"):
            await client.get("http://api.test/v1/models", extensions=secret)
        assert seen == []
        await client.get("https://api.test/v1/models", extensions=secret)
    assert seen[0].headers["Authorization"] == "Bearer sk-test-123"
    assert GuardedTransport.SECRET not in seen[0].extensions


async def test_a_key_is_refused_by_the_transport_for_a_host_it_is_not_bound_to() -> None:
    seen: list[httpx.Request] = []

    def network(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"data": []})

    resolve = static_resolver({"evil.test": ["93.184.216.34"], "api.openai.com": ["1.2.3.4"]})
    transport = GuardedTransport(
        NetGuard(resolver=resolve), httpx.MockTransport(network), KeyHosts.from_environ({})
    )
    secret = {GuardedTransport.SECRET: ("SLIPWATCH_KEY_OPENAI", "Authorization", "Bearer sk-1")}
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(BlockedTarget) as caught:
            await client.get("https://evil.test/v1/models", extensions=secret)
        assert str(caught.value) == (
            "SLIPWATCH_KEY_OPENAI may only be sent to api.openai.com, and this probe's address "
            "is evil.test. Point the probe at api.openai.com, or ask the bot's operator to add "
            "evil.test to SLIPWATCH_KEY_OPENAI_HOSTS."
        )
        assert seen == []
        await client.get("https://api.openai.com/v1/models", extensions=secret)
    assert [r.headers["Authorization"] for r in seen] == ["Bearer sk-1"]


def test_key_hosts_built_in_and_from_the_operator() -> None:
    hosts = KeyHosts.from_environ(
        {
            "SLIPWATCH_KEY_LAB_HOSTS": "api.lab.example, mirror.lab.example:8443, [::1]:9000",
            "SLIPWATCH_KEY_XAI_HOSTS": "xai-proxy.example",
        }
    )
    assert hosts.allows("SLIPWATCH_KEY_OPENAI", "api.openai.com", 443)
    assert not hosts.allows("SLIPWATCH_KEY_OPENAI", "api.openai.com", 8443)
    assert not hosts.allows("SLIPWATCH_KEY_OPENAI", "api.x.ai", 443)
    assert hosts.allows("SLIPWATCH_KEY_ANTHROPIC", "API.Anthropic.com.", 443)
    assert hosts.allows("SLIPWATCH_KEY_MISTRAL", "api.mistral.ai", 443)
    # The operator's list replaces the built-in one.
    assert hosts.allows("SLIPWATCH_KEY_XAI", "xai-proxy.example", 443)
    assert not hosts.allows("SLIPWATCH_KEY_XAI", "api.x.ai", 443)
    assert hosts.allows("SLIPWATCH_KEY_LAB", "mirror.lab.example", 8443)
    assert not hosts.allows("SLIPWATCH_KEY_LAB", "mirror.lab.example", 443)
    assert hosts.allows("SLIPWATCH_KEY_LAB", "0:0::1", 9000)
    assert hosts.refusal("SLIPWATCH_KEY_OTHER", "https://api.other.example/v1") == (
        "SLIPWATCH_KEY_OTHER is not bound to any host yet, so no probe can send it. The bot's "
        "operator lists the hosts it belongs to in SLIPWATCH_KEY_OTHER_HOSTS (for example "
        "SLIPWATCH_KEY_OTHER_HOSTS=api.example.com)."
    )
    with pytest.raises(ValueError, match=r"SLIPWATCH_KEY_LAB_HOSTS: 'https://x\.example' is not"):
        KeyHosts.from_environ({"SLIPWATCH_KEY_LAB_HOSTS": "https://x.example"})


async def test_a_local_https_server_never_sees_a_key_that_is_not_bound_to_it(
    tmp_path: Path,
) -> None:
    key, cert = self_signed(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    bound = await ProbeServer().start(ssl_context=server_tls)
    hostile = await ProbeServer().start(ssl_context=server_tls)
    try:
        for s in (bound, hostile):
            s.put_json("/v1/models", {"data": []})
        resolve = static_resolver({"probe.test": ["127.0.0.1"]})
        guard = NetGuard(AllowList.parse([bound.allow, hostile.allow]), resolver=resolve)
        trust = ssl.create_default_context(cafile=str(cert))
        env = {
            "SLIPWATCH_KEY_OPENAI": "sk-OPENAI-SECRET",
            "SLIPWATCH_KEY_LAB": "sk-LAB-SECRET",
            "SLIPWATCH_KEY_LAB_HOSTS": f"probe.test:{bound.port}",
        }
        bound_url = f"https://probe.test:{bound.port}"
        hostile_url = f"https://probe.test:{hostile.port}"
        async with Fetcher(guard, FAST, environ=env, verify=trust) as fetcher:
            # A manager points a probe holding the OpenAI key at their own server: refused
            # before anything is sent.
            with pytest.raises(FetchError) as caught:
                await fetcher.get(
                    f"{hostile_url}/v1/models", api_key=ApiKey("SLIPWATCH_KEY_OPENAI")
                )
            assert caught.value.kind == "config"
            assert str(caught.value).startswith(
                "SLIPWATCH_KEY_OPENAI may only be sent to api.openai.com, and this probe's "
                f"address is probe.test:{hostile.port}."
            )
            # The key's own host gets it; a redirect from there to another origin drops it.
            answer = await fetcher.get(
                f"{bound_url}/v1/models", api_key=ApiKey("SLIPWATCH_KEY_LAB")
            )
            assert answer.status == 200
            hop = quote(f"{hostile_url}/v1/models", safe="")
            answer = await fetcher.get(
                f"{bound_url}/redirect?to={hop}", api_key=ApiKey("SLIPWATCH_KEY_LAB")
            )
            assert answer.status == 200 and answer.url == f"{hostile_url}/v1/models"
        assert [r.headers.get("Authorization") for r in bound.requests] == [
            "Bearer sk-LAB-SECRET",
            "Bearer sk-LAB-SECRET",
        ]
        assert [r.path for r in hostile.requests] == ["/v1/models"]
        everything = repr([r.headers for r in hostile.requests])
        assert "SECRET" not in everything and "Authorization" not in everything
    finally:
        await bound.close()
        await hostile.close()

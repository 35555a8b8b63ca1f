"""Where probes may connect: public addresses only, checked at every hop, connected as checked.

No test sends traffic beyond 127.0.0.1: requests to other addresses either are refused before
any connection, or go to an httpx.MockTransport standing in for the network."""

from __future__ import annotations

import ipaddress
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.probe_server import ProbeServer
from tracker.probes.fetch import ApiKey, Fetcher, FetchError, FetchSettings
from tracker.probes.netguard import (
    AllowList,
    BlockedTarget,
    GuardedTransport,
    NetGuard,
    refusal,
)

FAST = FetchSettings(per_host_interval_s=0, total_timeout_s=10.0)


@pytest.fixture
async def server() -> AsyncIterator[ProbeServer]:
    s = await ProbeServer().start()
    try:
        yield s
    finally:
        await s.close()


@pytest.fixture
async def other() -> AsyncIterator[ProbeServer]:
    s = await ProbeServer().start()
    try:
        yield s
    finally:
        await s.close()


def static_resolver(table: dict[str, list[str]]):  # type: ignore[no-untyped-def]
    calls: list[str] = []

    async def resolve(host: str, port: int) -> list[str]:
        calls.append(host)
        if host not in table:
            raise OSError(f"no such host {host}")
        return table[host]

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "cloud metadata"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("fd12:3456::1", "unique-local"),
        ("fc00::1", "unique-local"),
        ("::ffff:127.0.0.1", "loopback address written as IPv6"),
        ("::ffff:10.0.0.1", "private address written as IPv6"),
        ("::ffff:169.254.169.254", "cloud metadata address written as IPv6"),
        ("2002:7f00:1::1", "loopback address written as IPv6"),  # 6to4 of 127.0.0.1
        ("64:ff9b::a00:1", "private address written as IPv6"),  # NAT64 of 10.0.0.1
        ("100.64.0.1", "not a public address"),  # carrier-grade NAT
        ("240.0.0.1", "reserved"),
    ],
)
def test_non_public_addresses_are_named(address: str, reason: str) -> None:
    found = refusal(ipaddress.ip_address(address))
    assert found is not None and reason in found


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111"])
def test_public_addresses_pass(address: str) -> None:
    assert refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://127.0.0.1:8080/feed", "loopback"),
        ("http://localhost/news", "loopback"),
        ("http://[::1]:8000/", "loopback"),
        ("http://10.0.0.5/", "private"),
        ("http://192.168.1.10/admin", "private"),
        ("http://172.16.0.1/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata"),
        ("http://[fe80::1]/", "link-local"),
        ("http://[::ffff:127.0.0.1]/", "loopback address written as IPv6"),
        ("http://0.0.0.0:9000/", "unspecified"),
        ("http://[::]/", "unspecified"),
        ("http://2130706433/", "loopback"),  # 127.0.0.1 as one number: the resolver says so
        ("file:///etc/passwd", "not file://"),
        ("ftp://example.com/feed.xml", "not ftp://"),
        ("gopher://example.com/", "not gopher://"),
        ("http://user:pw@example.com/", "user name and password"),
    ],
)
async def test_targets_are_refused_without_an_allow_entry(url: str, words: str) -> None:
    guard = NetGuard()
    with pytest.raises(BlockedTarget) as caught:
        await guard.validate_target(url)
    message = str(caught.value)
    assert words in message
    if "://" in url and url.startswith("http") and "@" not in url:
        assert "public" in message and "SLIPWATCH_PROBE_ALLOW" in message


def test_allow_list_reads_pairs_and_ranges() -> None:
    allow = AllowList.parse(
        ["127.0.0.1:8080", " [::1]:9000 ", "Mirror.LAN:443", "10.20.0.0/16", ""]
    )
    assert ("127.0.0.1", 8080) in allow.pairs and ("::1", 9000) in allow.pairs
    assert ("mirror.lan", 443) in allow.pairs
    assert allow.allows("x", ipaddress.ip_address("10.20.3.4"), 1)
    assert not allow.allows("x", ipaddress.ip_address("10.21.3.4"), 1)
    assert allow.allows("127.0.0.1", ipaddress.ip_address("127.0.0.1"), 8080)
    assert not allow.allows("127.0.0.1", ipaddress.ip_address("127.0.0.1"), 8081)
    # The IPv4-mapped spelling of an allowed address is the same address.
    assert allow.allows("x", ipaddress.ip_address("::ffff:127.0.0.1"), 8080)
    for bad in ("localhost", "127.0.0.1:http", "10.0.0.0/33", "[::1]:0", "::1:80:x"):
        with pytest.raises(ValueError, match="SLIPWATCH_PROBE_ALLOW"):
            AllowList.parse([bad])


async def test_an_allow_entry_opens_exactly_that_port() -> None:
    guard = NetGuard(AllowList.parse(["127.0.0.1:8080"]))
    checked = await guard.check("http://127.0.0.1:8080/feed.xml")
    assert checked.operator_allowed and checked.ip == ipaddress.ip_address("127.0.0.1")
    with pytest.raises(BlockedTarget, match="loopback"):
        await guard.check("http://127.0.0.1:8081/feed.xml")
    with pytest.raises(BlockedTarget, match="loopback"):
        await guard.check("http://[::1]:8080/feed.xml")


async def test_a_name_is_refused_when_any_of_its_addresses_is_not_public() -> None:
    resolve = static_resolver(
        {"mixed.test": ["93.184.216.34", "10.0.0.1"], "ok.test": ["93.184.216.34"]}
    )
    guard = NetGuard(resolver=resolve)
    with pytest.raises(BlockedTarget, match=r"mixed\.test \(10\.0\.0\.1\) is a private address"):
        await guard.check("https://mixed.test/feed")
    checked = await guard.check("https://ok.test/feed")  # checked only: nothing is connected
    assert str(checked.ip) == "93.184.216.34" and not checked.operator_allowed
    # A host that does not resolve yet is accepted at creation and checked at each request.
    assert await guard.validate_target("https://not-yet.test/x") == "https://not-yet.test/x"


async def test_the_connection_goes_to_the_checked_address_with_host_and_sni_kept() -> None:
    # A rebinding name: public at the first lookup, private afterwards. Each request resolves
    # once and connects to exactly the address it checked.
    answers = iter([["93.184.216.34"], ["10.0.0.1"]])
    lookups: list[str] = []

    async def rebinding(host: str, port: int) -> list[str]:
        lookups.append(host)
        return next(answers)

    seen: list[httpx.Request] = []

    def network(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, text="ok")

    transport = GuardedTransport(NetGuard(resolver=rebinding), httpx.MockTransport(network))
    async with httpx.AsyncClient(transport=transport) as client:
        response = await client.get("https://rebind.test/feed.xml")
        assert response.status_code == 200
        with pytest.raises(BlockedTarget, match="private"):
            await client.get("https://rebind.test/feed.xml")
    assert lookups == ["rebind.test", "rebind.test"]
    assert len(seen) == 1
    sent = seen[0]
    assert sent.url.host == "93.184.216.34" and sent.url.path == "/feed.xml"
    assert sent.headers["Host"] == "rebind.test"
    assert sent.extensions["sni_hostname"] == "rebind.test"


@pytest.mark.parametrize(
    ("location", "shown"),
    [
        ("data:text/html,<h1>hi</h1>", "a redirect to a data: address, not a web page"),
        ("mailto:someone@example.com", "a redirect to a mailto: address, not a web page"),
        ("javascript:alert(1)", "a redirect to a javascript: address, not a web page"),
        ("file:///etc/passwd", "a redirect to a file: address, not a web page"),
        ("http://[::1", "a redirect to a malformed address"),
    ],
)
async def test_a_redirect_to_something_not_a_web_address_is_the_sources_fault(
    server: ProbeServer, location: str, shown: str
) -> None:
    guard = NetGuard(AllowList.parse([server.allow]))
    async with Fetcher(guard, FAST) as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.get(server.url("/redirect?to=" + quote(location, safe="")))
    assert caught.value.kind == "unreadable"
    assert str(caught.value) == f"the source answered something unreadable: {shown}"
    assert fetcher.transport.connects == 1


async def test_redirect_to_another_loopback_port_is_refused_before_connecting(
    server: ProbeServer, other: ProbeServer
) -> None:
    other.put_json("/feed", {"ok": True})
    guard = NetGuard(AllowList.parse([server.allow]))
    async with Fetcher(guard, FAST) as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.get(server.url("/redirect?to=" + quote(other.url("/feed"), safe="")))
        assert caught.value.kind == "blocked"
        assert "loopback" in str(caught.value)
        assert fetcher.transport.connects == 1  # only the allowed server was contacted
    assert len(server.requests) == 1
    assert other.requests == []


@pytest.mark.parametrize(
    "location",
    [
        "http://10.0.0.7:8080/feed",
        "http://169.254.169.254/latest/meta-data/iam/",
        "http://[::ffff:192.168.0.1]/",
        "http://localhost:{port}/feed",
    ],
)
async def test_redirect_to_a_private_address_is_refused_before_connecting(
    server: ProbeServer, other: ProbeServer, location: str
) -> None:
    guard = NetGuard(AllowList.parse([server.allow]))
    async with Fetcher(guard, FAST) as fetcher:
        target = quote(location.format(port=other.port), safe="")
        with pytest.raises(FetchError) as caught:
            await fetcher.get(server.url("/redirect?to=" + target))
        assert caught.value.kind == "blocked"
        assert fetcher.transport.connects == 1
    assert other.requests == []


async def test_at_most_three_redirects(server: ProbeServer) -> None:
    server.put_json("/final", {"ok": True})
    guard = NetGuard(AllowList.parse([server.allow]))

    def chain(hops: int) -> str:
        url = "/final"
        for _ in range(hops):
            url = "/redirect?to=" + quote(url, safe="")
        return server.url(url)

    async with Fetcher(guard, FAST) as fetcher:
        answer = await fetcher.get(chain(3))
        assert answer.status == 200 and answer.url.endswith("/final")
        with pytest.raises(FetchError, match="more than 3 redirects"):
            await fetcher.get(chain(4))


async def test_api_key_does_not_follow_a_redirect_to_another_origin(
    server: ProbeServer, other: ProbeServer
) -> None:
    other.put_json("/v1/models", {"data": []})
    guard = NetGuard(AllowList.parse([server.allow, other.allow]))
    env = {
        "SLIPWATCH_KEY_TEST": "sk-live-abcdef",
        "SLIPWATCH_KEY_TEST_HOSTS": f"{server.allow},{other.allow}",
    }
    async with Fetcher(guard, FAST, environ=env) as fetcher:
        answer = await fetcher.get(
            server.url("/redirect?to=" + quote(other.url("/v1/models"), safe="")),
            api_key=ApiKey("SLIPWATCH_KEY_TEST"),
        )
    assert answer.status == 200
    assert server.requests[0].headers["Authorization"] == "Bearer sk-live-abcdef"
    assert "Authorization" not in other.requests[0].headers


async def test_cookies_are_never_stored_and_the_user_agent_names_the_project(
    server: ProbeServer,
) -> None:
    guard = NetGuard(AllowList.parse([server.allow]))
    async with Fetcher(guard, FAST) as fetcher:
        first = await fetcher.get(server.url("/cookie"))
        assert first.status == 200
        second = await fetcher.get(server.url("/cookie"))
        assert fetcher.cookie_count == 0
    assert b'"cookie": null' in second.body
    assert all("Cookie" not in r.headers for r in server.requests)
    agent = server.requests[0].headers["User-Agent"]
    assert agent == "slipwatch/0.1 (+https://github.com/slipwatch)"


def self_signed(tmp_path: Path) -> tuple[Path, Path]:
    """A key and a self-signed certificate for the name probe.test (openssl CLI)."""
    if shutil.which("openssl") is None:
        pytest.skip("needs the openssl command")
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=probe.test",
         "-addext", "subjectAltName=DNS:probe.test"],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return key, cert


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the name probe.test."""
    return self_signed(tmp_path)


async def test_tls_is_verified_for_the_name_while_connecting_to_the_checked_address(
    certificate: tuple[Path, Path],
) -> None:
    key, cert = certificate
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert, key)
    tls_server = await ProbeServer().start(ssl_context=server_tls)
    try:
        resolve = static_resolver({"probe.test": ["127.0.0.1"], "other.test": ["127.0.0.1"]})
        guard = NetGuard(AllowList.parse([tls_server.allow]), resolver=resolve)
        trust = ssl.create_default_context(cafile=str(cert))
        async with Fetcher(guard, FAST, verify=trust) as fetcher:
            answer = await fetcher.get(f"https://probe.test:{tls_server.port}/echo")
            assert answer.status == 200
            # The same address under a name the certificate does not carry is refused by TLS.
            with pytest.raises(FetchError) as caught:
                await fetcher.get(f"https://other.test:{tls_server.port}/echo")
            assert caught.value.kind == "network"
            assert "certificate verify failed" in str(caught.value)
        assert [r.headers["Host"] for r in tls_server.requests] == [f"probe.test:{tls_server.port}"]
    finally:
        await tls_server.close()


async def test_a_fetcher_closed_before_its_first_request_refuses_one(server: ProbeServer) -> None:
    # The client is built at the first request (the bot's start need not read the certificate
    # store): closing a fetcher that never fetched leaves nothing to build one from later.
    server.put_json("/feed", {"ok": True})
    fetcher = Fetcher(NetGuard(AllowList.parse([server.allow])), FAST)
    await fetcher.aclose()
    with pytest.raises(RuntimeError, match="the fetcher is closed"):
        await fetcher.get(server.url("/feed"))
    assert server.requests == []

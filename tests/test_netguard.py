"""The SSRF guard: unit checks of the address policy, then real fetches through it."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest
from feedserver import FeedServer, StaticResolver

from bot.config import FetchConfig
from bot.fetch import Fetcher
from bot.netguard import (
    BlockedAddressError,
    Guard,
    GuardedResolver,
    UnsupportedSchemeError,
    blocked_reason,
    parse_ip_host,
)

RSS = (
    b'<?xml version="1.0"?><rss version="2.0"><channel><title>Guarded</title>'
    b"<item><title>ok</title><guid>1</guid></item></channel></rss>"
)
HINT = "set [fetch] allow_private_networks = true to allow it"


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.254.1.1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("0.0.0.0", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.0.8", "protocol assignments"),
        ("198.18.0.1", "benchmarking"),
        ("192.0.2.1", "documentation"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "documentation"),
        # IPv4 hiding inside IPv6: Python 3.11's is_global calls several of these global.
        ("::ffff:127.0.0.1", "IPv4-mapped form of 127.0.0.1, loopback"),
        ("::ffff:169.254.169.254", "IPv4-mapped form of 169.254.169.254, link-local"),
        ("::ffff:10.0.0.1", "IPv4-mapped form of 10.0.0.1, private"),
        ("::127.0.0.1", "IPv4-compatible form of 127.0.0.1, loopback"),
        ("64:ff9b::7f00:1", "NAT64 form of 127.0.0.1, loopback"),
        ("64:ff9b::a9fe:a9fe", "NAT64 form of 169.254.169.254"),
        ("64:ff9b:1::1", "local-use NAT64"),
        ("2002:7f00:1::", "6to4 form of 127.0.0.1, loopback"),
        ("2002:c0a8:101::1", "6to4 form of 192.168.1.1, private"),
        ("2001::1", "Teredo"),
    ],
)
def test_blocked_addresses(address: str, reason: str) -> None:
    why = blocked_reason(address)
    assert why is not None and reason in why
    with pytest.raises(BlockedAddressError) as err:
        Guard().check_address(address)
    assert str(err.value) == f"address {address} is not allowed ({why}); {HINT}"


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "93.184.215.14", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8",
     "64:ff9b::808:808", "2002:808:808::1"],
)
def test_public_addresses(address: str) -> None:
    assert blocked_reason(address) is None
    Guard().check_address(address)


def test_allow_private_lifts_every_address_check() -> None:
    guard = Guard(allow_private=True)
    for address in ("127.0.0.1", "169.254.169.254", "::ffff:127.0.0.1", "10.0.0.1"):
        guard.check_address(address)


def test_exemptions_are_narrow() -> None:
    guard = Guard.with_exemptions(["127.0.0.2/32"])
    guard.check_address("127.0.0.2")
    with pytest.raises(BlockedAddressError):
        guard.check_address("127.0.0.1")


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),  # decimal
        ("127.1", "127.0.0.1"),  # short form
        ("0x7f.0.0.1", "127.0.0.1"),  # hex
        ("0177.0.0.1", "127.0.0.1"),  # octal
        ("[::1]", "::1"),
        ("::ffff:7f00:1", "::ffff:7f00:1"),
        ("1.2.3.4.", "1.2.3.4"),
        ("films.example", None),
        ("cafe.be", None),
        ("localhost", None),
    ],
)
def test_parse_ip_host(host: str, address: str | None) -> None:
    parsed = parse_ip_host(host)
    assert (str(parsed) if parsed else None) == address


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/feed",
        "http://[::1]:8080/feed",
        "http://[::ffff:127.0.0.1]/",
        "http://2130706433/",
        "http://0x7f.1/",
        "http://169.254.169.254/latest/meta-data/",
        "https://[64:ff9b::7f00:1]/",
    ],
)
def test_check_url_refuses_ip_literals(url: str) -> None:
    with pytest.raises(BlockedAddressError):
        Guard().check_url(url)
    Guard(allow_private=True).check_url(url)


@pytest.mark.parametrize(
    "url", ["ftp://films.example/", "file:///etc/passwd", "javascript:alert(1)", "gopher://x/",
            "data:text/plain,hi", "ws://films.example/"],
)
def test_check_url_refuses_other_schemes(url: str) -> None:
    with pytest.raises(UnsupportedSchemeError):
        Guard(allow_private=True).check_url(url)


def test_check_url_file_only_when_allowed() -> None:
    Guard().check_url("file:///srv/demo/feed.xml", allow_file=True)


def test_check_url_lets_names_through_to_the_resolver() -> None:
    Guard().check_url("https://films.example/feed.xml")


async def test_guarded_resolver_filters_answers() -> None:
    inner = StaticResolver({"mixed.test": ["127.0.0.1", "93.184.215.14"],
                            "evil.test": ["127.0.0.1", "::1"]})
    resolver = GuardedResolver(inner, Guard())
    answers = await resolver.resolve("mixed.test", 80)
    assert [a["host"] for a in answers] == ["93.184.215.14"]
    with pytest.raises(BlockedAddressError, match=r"127\.0\.0\.1 is not allowed"):
        await resolver.resolve("evil.test", 80)
    with pytest.raises(socket.gaierror):
        await resolver.resolve("unknown.test", 80)


# --- through the fetcher, against real servers ----------------------------------------------


def cfg(**overrides: object) -> FetchConfig:
    values: dict[str, object] = {"timeout": 5.0, "connect_timeout": 2.0}
    values.update(overrides)
    return FetchConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
async def srv() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        server.feed("/feed.xml", RSS)
        yield server


async def test_dns_answer_of_loopback_refused(srv: FeedServer) -> None:
    resolver = StaticResolver({"evil.test": "127.0.0.1"})
    async with Fetcher(cfg(), resolver=resolver) as f:
        r = await f.fetch(srv.url("/feed.xml", host="evil.test"))
    assert resolver.lookups["evil.test"] == 1
    assert r.body is None and r.permanent and r.status == 0
    assert r.error == f"evil.test resolves to a refused address: address 127.0.0.1 is not " \
                      f"allowed (loopback); {HINT}"
    assert srv.hits["/feed.xml"] == 0


async def test_dns_answer_of_loopback_allowed_when_private_networks_are(srv: FeedServer) -> None:
    resolver = StaticResolver({"evil.test": "127.0.0.1"})
    async with Fetcher(cfg(allow_private_networks=True), resolver=resolver) as f:
        r = await f.fetch(srv.url("/feed.xml", host="evil.test"))
    assert r.ok and r.body == RSS
    assert srv.requests[-1].headers["Host"].startswith("evil.test")


async def test_localhost_refused_with_the_system_resolver(srv: FeedServer) -> None:
    async with Fetcher(cfg()) as f:
        r = await f.fetch(srv.url("/feed.xml", host="localhost"))
    assert r.permanent and r.error and "is not allowed (loopback)" in r.error
    assert srv.hits["/feed.xml"] == 0


@pytest.mark.parametrize("host", ["127.0.0.1", "[::ffff:127.0.0.1]", "2130706433", "127.1"])
async def test_ip_literal_refused_before_connecting(srv: FeedServer, host: str) -> None:
    async with Fetcher(cfg()) as f:
        r = await f.fetch(srv.url("/feed.xml", host=host))
    assert r.permanent and r.body is None
    assert r.error and "is not allowed" in r.error and HINT in r.error
    assert srv.hits["/feed.xml"] == 0


async def test_file_url_refused(srv: FeedServer) -> None:
    async with Fetcher(cfg()) as f:
        r = await f.fetch("file:///etc/passwd")
    assert r.body is None and r.permanent and "file: URLs are not allowed" in (r.error or "")


@pytest.fixture
async def public() -> AsyncIterator[FeedServer]:
    """A stand-in for a public server: 127.0.0.2, exempted from the guard in these tests."""
    server = FeedServer(host="127.0.0.2")
    try:
        await server.start()
    except OSError:  # pragma: no cover - only Linux routes all of 127/8 to loopback by default
        pytest.skip("cannot listen on 127.0.0.2 here")
    try:
        yield server
    finally:
        await server.close()


EXEMPT_PUBLIC = Guard.with_exemptions(["127.0.0.2/32"])


async def test_exempt_server_is_reachable(public: FeedServer) -> None:
    public.feed("/feed.xml", RSS)
    async with Fetcher(cfg(), guard=EXEMPT_PUBLIC) as f:
        r = await f.fetch(public.url("/feed.xml"))
    assert r.ok and r.body == RSS


async def test_redirect_to_loopback_literal_refused(public: FeedServer, srv: FeedServer) -> None:
    public.redirect("/feed.xml", srv.url("/feed.xml"))
    async with Fetcher(cfg(), guard=EXEMPT_PUBLIC) as f:
        r = await f.fetch(public.url("/feed.xml"))
    assert public.hits["/feed.xml"] == 1
    assert srv.hits["/feed.xml"] == 0
    assert r.body is None and r.permanent and r.status == 302
    assert r.error == (
        f"redirected to {srv.url('/feed.xml')}: address 127.0.0.1 is not allowed (loopback); "
        f"{HINT}"
    )


async def test_redirect_to_name_resolving_to_loopback_refused(
    public: FeedServer, srv: FeedServer
) -> None:
    public.redirect("/feed.xml", srv.url("/feed.xml", host="evil.test"))
    resolver = StaticResolver({"evil.test": "127.0.0.1"})
    async with Fetcher(cfg(), resolver=resolver, guard=EXEMPT_PUBLIC) as f:
        r = await f.fetch(public.url("/feed.xml"))
    assert srv.hits["/feed.xml"] == 0
    assert r.permanent and r.error and r.error.startswith("redirected to http://evil.test")
    assert "127.0.0.1 is not allowed (loopback)" in r.error


async def test_redirect_to_mapped_ipv6_refused(public: FeedServer, srv: FeedServer) -> None:
    public.redirect("/feed.xml", srv.url("/feed.xml", host="[::ffff:127.0.0.1]"))
    async with Fetcher(cfg(), guard=EXEMPT_PUBLIC) as f:
        r = await f.fetch(public.url("/feed.xml"))
    assert r.permanent and r.error and "IPv4-mapped form of 127.0.0.1" in r.error


async def test_redirect_to_loopback_followed_when_private_networks_allowed(
    public: FeedServer, srv: FeedServer
) -> None:
    public.redirect("/feed.xml", srv.url("/feed.xml"))
    async with Fetcher(cfg(allow_private_networks=True)) as f:
        r = await f.fetch(public.url("/feed.xml"))
    assert r.ok and r.final_url == srv.url("/feed.xml")

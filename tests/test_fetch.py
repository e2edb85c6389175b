"""Fetcher against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import pytest
from aiohttp import web
from feedserver import FeedServer, StaticResolver

from bot.config import USER_AGENT, FetchConfig
from bot.fetch import Fetcher, parse_retry_after
from bot.types import FetchResult

FEEDS = Path(__file__).parent / "data" / "feeds"
RSS = (FEEDS / "rss20.xml").read_bytes()
LAST_MODIFIED = "Tue, 14 Jan 2025 16:30:00 GMT"


def config(**overrides: object) -> FetchConfig:
    # The test server is on loopback, so the address guard must be off here; the guard has
    # its own tests in test_netguard.py.
    values: dict[str, object] = {"allow_private_networks": True, "timeout": 5.0,
                                 "connect_timeout": 2.0}
    values.update(overrides)
    return FetchConfig(**values)  # type: ignore[arg-type]


@pytest.fixture
async def srv() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        yield server


@pytest.fixture
async def fetcher() -> AsyncIterator[Fetcher]:
    async with Fetcher(config()) as f:
        yield f


# --- 200 and conditional GET ----------------------------------------------------------------


async def test_200(srv: FeedServer, fetcher: Fetcher) -> None:
    srv.feed("/rss", RSS, etag='"v1"', last_modified=LAST_MODIFIED)
    r = await fetcher.fetch(srv.url("/rss"))
    assert r.ok and r.error is None
    assert r.status == 200
    assert r.body == RSS
    assert r.etag == '"v1"'
    assert r.last_modified == LAST_MODIFIED
    assert r.final_url == r.url == srv.url("/rss")
    assert 0 < r.elapsed < 5


async def test_user_agent_and_accept_headers(srv: FeedServer) -> None:
    srv.feed("/rss", RSS)
    async with Fetcher(config(user_agent="GreenlightTest/9")) as f:
        await f.fetch(srv.url("/rss"))
    headers = srv.requests[-1].headers
    assert headers["User-Agent"] == "GreenlightTest/9"
    assert "application/rss+xml" in headers["Accept"]
    assert "gzip" in headers["Accept-Encoding"]


async def test_default_user_agent(srv: FeedServer, fetcher: Fetcher) -> None:
    srv.feed("/rss", RSS)
    await fetcher.fetch(srv.url("/rss"))
    assert srv.requests[-1].headers["User-Agent"] == USER_AGENT


async def test_304_after_etag(srv: FeedServer, fetcher: Fetcher) -> None:
    srv.feed("/rss", RSS, etag='"v1"')
    first = await fetcher.fetch(srv.url("/rss"))
    second = await fetcher.fetch(srv.url("/rss"), etag=first.etag)
    assert srv.requests[-1].headers["If-None-Match"] == '"v1"'
    assert second.status == 304
    assert second.not_modified and second.ok
    assert second.body is None and second.error is None
    assert second.etag == '"v1"'
    # The feed changes: a new 200 with the new validator.
    srv.feed("/rss", RSS + b"\n", etag='"v2"')
    third = await fetcher.fetch(srv.url("/rss"), etag=first.etag)
    assert third.status == 200 and third.etag == '"v2"'
    assert srv.hits["/rss"] == 3


async def test_304_after_last_modified(srv: FeedServer, fetcher: Fetcher) -> None:
    srv.feed("/rss", RSS, last_modified=LAST_MODIFIED)
    first = await fetcher.fetch(srv.url("/rss"))
    second = await fetcher.fetch(srv.url("/rss"), last_modified=first.last_modified)
    assert srv.requests[-1].headers["If-Modified-Since"] == LAST_MODIFIED
    assert second.status == 304 and second.body is None and second.error is None
    assert second.last_modified == LAST_MODIFIED


async def test_304_keeps_validators_the_server_did_not_repeat(
    srv: FeedServer, fetcher: Fetcher
) -> None:
    async def bare_304(request: web.Request) -> web.Response:
        return web.Response(status=304)

    srv.handle("/rss", bare_304)
    r = await fetcher.fetch(srv.url("/rss"), etag='"old"', last_modified=LAST_MODIFIED)
    assert r.status == 304 and r.etag == '"old"' and r.last_modified == LAST_MODIFIED


# --- redirects --------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
async def test_redirect_followed(srv: FeedServer, fetcher: Fetcher, status: int) -> None:
    srv.feed("/new.xml", RSS, etag='"r"')
    srv.redirect("/old.xml", "/new.xml", status=status)
    r = await fetcher.fetch(srv.url("/old.xml"))
    assert r.ok and r.body == RSS
    assert r.url == srv.url("/old.xml")
    assert r.final_url == srv.url("/new.xml")
    assert r.etag == '"r"'


async def test_redirect_chain_up_to_the_cap(srv: FeedServer) -> None:
    srv.feed("/feed.xml", RSS)
    srv.redirect_chain("/hop", "/feed.xml", hops=3)
    async with Fetcher(config(max_redirects=3)) as f:
        r = await f.fetch(srv.url("/hop"))
    assert r.ok and r.final_url == srv.url("/feed.xml")
    assert srv.hits["/hop"] == srv.hits["/hop/1"] == srv.hits["/hop/2"] == 1


async def test_redirect_chain_over_the_cap(srv: FeedServer) -> None:
    srv.feed("/feed.xml", RSS)
    srv.redirect_chain("/hop", "/feed.xml", hops=4)
    async with Fetcher(config(max_redirects=3)) as f:
        r = await f.fetch(srv.url("/hop"))
    assert not r.ok and r.body is None
    assert "too many redirects (more than 3)" in (r.error or "")
    assert srv.hits["/feed.xml"] == 0


async def test_no_redirects_allowed(srv: FeedServer) -> None:
    srv.redirect("/a", "/b")
    async with Fetcher(config(max_redirects=0)) as f:
        r = await f.fetch(srv.url("/a"))
    assert "more than 0" in (r.error or "")


async def test_redirect_loop(srv: FeedServer, fetcher: Fetcher) -> None:
    srv.redirect("/a", "/b")
    srv.redirect("/b", "/a")
    r = await fetcher.fetch(srv.url("/a"))
    assert "redirect loop" in (r.error or "")


async def test_redirect_without_location(srv: FeedServer, fetcher: Fetcher) -> None:
    srv.status("/r", 302)
    r = await fetcher.fetch(srv.url("/r"))
    assert r.status == 302 and "without a Location" in (r.error or "")


async def test_redirect_to_file_is_refused_even_when_files_are_allowed(srv: FeedServer) -> None:
    srv.redirect("/r", "file:///etc/passwd")
    async with Fetcher(config(allow_file_urls=True)) as f:
        r = await f.fetch(srv.url("/r"))
    assert r.body is None and r.permanent
    assert "file: URLs are not allowed" in (r.error or "")


# --- HTTP errors ------------------------------------------------------------------------------


@pytest.mark.parametrize(("status", "phrase"), [(404, "Not Found"), (410, "Gone")])
async def test_gone_is_permanent(
    srv: FeedServer, fetcher: Fetcher, status: int, phrase: str
) -> None:
    if status != 404:  # unregistered paths are 404 already
        srv.status("/feed", status)
    r = await fetcher.fetch(srv.url("/feed"))
    assert r.status == status
    assert r.error == f"HTTP {status} {phrase}"
    assert r.permanent and r.body is None


@pytest.mark.parametrize(("status", "phrase"), [(500, "Internal Server Error"), (403, "Forbidden"),
                                                (502, "Bad Gateway")])
async def test_other_errors_are_transient(
    srv: FeedServer, fetcher: Fetcher, status: int, phrase: str
) -> None:
    srv.status("/feed", status, b"oops")
    r = await fetcher.fetch(srv.url("/feed"))
    assert r.status == status and r.error == f"HTTP {status} {phrase}"
    assert not r.permanent and r.retry_after is None and r.body is None


async def test_429_retry_after_seconds(srv: FeedServer, fetcher: Fetcher) -> None:
    srv.status("/busy", 429, retry_after="120")
    r = await fetcher.fetch(srv.url("/busy"))
    assert r.status == 429 and not r.permanent
    assert r.retry_after == 120
    assert r.error == "HTTP 429 Too Many Requests; retry after 120s"


async def test_503_retry_after_date(srv: FeedServer, fetcher: Fetcher) -> None:
    when = datetime.now(UTC) + timedelta(minutes=10)
    srv.status("/busy", 503, retry_after=format_datetime(when, usegmt=True))
    r = await fetcher.fetch(srv.url("/busy"))
    assert r.status == 503 and r.error and r.error.startswith("HTTP 503 Service Unavailable")
    assert r.retry_after is not None and 590 <= r.retry_after <= 600


async def test_503_without_retry_after(srv: FeedServer, fetcher: Fetcher) -> None:
    srv.status("/busy", 503)
    r = await fetcher.fetch(srv.url("/busy"))
    assert r.retry_after is None and r.error == "HTTP 503 Service Unavailable"


def test_parse_retry_after() -> None:
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("30", now=now) == 30
    assert parse_retry_after(" 0 ", now=now) == 0
    assert parse_retry_after("-5", now=now) == 0
    assert parse_retry_after("Wed, 01 Jan 2025 12:02:00 GMT", now=now) == 120
    assert parse_retry_after("Wed, 01 Jan 2025 11:00:00 GMT", now=now) == 0  # in the past
    assert parse_retry_after("soon", now=now) is None
    assert parse_retry_after("", now=now) is None
    assert parse_retry_after(None, now=now) is None


# --- time and size limits ---------------------------------------------------------------------


async def test_slow_drip_hits_the_total_timeout(srv: FeedServer) -> None:
    # One byte a second never trips a per-read timeout; only a total deadline stops it.
    srv.drip("/slow", RSS, interval=1.0)
    async with Fetcher(config(timeout=1.5)) as f:
        started = time.monotonic()
        r = await f.fetch(srv.url("/slow"))
    assert time.monotonic() - started < 3.5
    assert r.error == "timed out after 1.5s"
    assert r.body is None and not r.permanent


async def test_timeout_covers_slow_headers_and_redirect_hops(srv: FeedServer) -> None:
    # Each hop answers within the limit; together they do not. The deadline is per fetch.
    srv.delay("/slow", RSS, seconds=0.4)
    for path in srv.redirect_chain("/hop", "/slow", hops=2):
        srv.routes[path].delay = 0.4
    async with Fetcher(config(timeout=1.0)) as f:
        r = await f.fetch(srv.url("/hop"))
    assert r.error == "timed out after 1s"
    assert r.final_url == srv.url("/slow")
    assert srv.hits["/slow"] == 1


async def test_body_over_the_cap_with_content_length(srv: FeedServer) -> None:
    srv.huge("/big", 50_000_000)
    async with Fetcher(config(max_body_bytes=100_000)) as f:
        r = await f.fetch(srv.url("/big"))
    assert r.body is None
    assert r.error == "feed is larger than 100000 bytes (Content-Length: 50000000)"


async def test_body_over_the_cap_streamed(srv: FeedServer) -> None:
    srv.huge("/big", 50_000_000, declare_length=False)
    async with Fetcher(config(max_body_bytes=100_000)) as f:
        started = time.monotonic()
        r = await f.fetch(srv.url("/big"))
    assert r.error == "feed is larger than 100000 bytes"
    assert r.body is None
    assert time.monotonic() - started < 2  # stopped reading, did not download 50 MB


async def test_body_exactly_at_the_cap_is_fine(srv: FeedServer) -> None:
    srv.huge("/edge", 100_000, declare_length=False)
    async with Fetcher(config(max_body_bytes=100_000)) as f:
        r = await f.fetch(srv.url("/edge"))
    assert r.ok and r.body is not None and len(r.body) == 100_000


async def test_gzip_body(srv: FeedServer, fetcher: Fetcher) -> None:
    srv.feed("/z", RSS, gzip=True)
    r = await fetcher.fetch(srv.url("/z"))
    assert r.ok and r.body == RSS


async def test_deflate_body(srv: FeedServer, fetcher: Fetcher) -> None:
    async def deflated(request: web.Request) -> web.Response:
        return web.Response(body=zlib.compress(RSS), headers={"Content-Encoding": "deflate"})

    srv.handle("/d", deflated)
    r = await fetcher.fetch(srv.url("/d"))
    assert r.ok and r.body == RSS


async def test_gzip_bomb_is_capped_with_bounded_memory(srv: FeedServer) -> None:
    srv.gzip_bomb("/bomb", 200_000_000)  # ~200 KB on the wire
    cap = 1_000_000
    async with Fetcher(config(max_body_bytes=cap)) as f:
        tracemalloc.start()
        try:
            r = await f.fetch(srv.url("/bomb"))
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert r.error == f"feed is larger than {cap} bytes"
    assert r.body is None
    # The whole bomb would be 200 MB; reading stops at about the cap.
    assert peak < 20 * cap


async def test_corrupt_gzip(srv: FeedServer, fetcher: Fetcher) -> None:
    srv.feed("/bad", RSS)
    # A valid gzip header followed by bytes that are no deflate stream.
    srv.routes["/bad"].gzipped = gzip.compress(RSS)[:10] + b"\xff" * 200
    r = await fetcher.fetch(srv.url("/bad"))
    assert r.body is None and r.error and "corrupt" in r.error


# --- connection-level failures ---------------------------------------------------------------


async def test_connection_refused(fetcher: Fetcher) -> None:
    async with FeedServer() as gone:
        url = gone.url("/feed")
    r = await fetcher.fetch(url)
    assert r.status == 0 and r.body is None
    assert r.error == f"connection refused by {url.split('/')[2]}"


async def test_dns_failure() -> None:
    async with Fetcher(config(), resolver=StaticResolver({})) as f:
        r = await f.fetch("http://nowhere.test/feed")
    assert r.error and r.error.startswith("DNS lookup failed for nowhere.test")
    assert not r.permanent


async def test_server_hangs_up(srv: FeedServer, fetcher: Fetcher) -> None:
    async def hang_up(request: web.Request) -> web.StreamResponse:
        assert request.transport is not None
        request.transport.close()
        return web.Response()

    srv.handle("/rude", hang_up)
    r = await fetcher.fetch(srv.url("/rude"))
    assert r.body is None and r.error and "closed the connection" in r.error


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://films.example/feed", "unsupported URL scheme ftp:"),
        ("javascript:alert(1)", "unsupported URL scheme javascript:"),
        ("gopher://films.example/", "unsupported URL scheme gopher:"),
        ("films.example/feed", "unsupported URL scheme"),
        ("http:///nohost", "has no host"),
    ],
)
async def test_bad_urls_never_raise(fetcher: Fetcher, url: str, message: str) -> None:
    r = await fetcher.fetch(url)
    assert r.body is None and r.permanent
    assert message in (r.error or "")


async def test_connection_limits_per_host(srv: FeedServer) -> None:
    active = peak = 0

    async def slow(request: web.Request) -> web.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.1)
        active -= 1
        return web.Response(body=RSS)

    srv.handle("/slow", slow)
    async with Fetcher(config(max_connections_per_host=2, max_connections=10)) as f:
        results = await asyncio.gather(*(f.fetch(srv.url("/slow")) for _ in range(8)))
    assert all(r.ok for r in results)
    assert peak == 2


async def test_session_is_created_lazily_and_closed(srv: FeedServer) -> None:
    srv.feed("/rss", RSS)
    f = Fetcher(config())  # outside any request: no session, no loop binding yet
    try:
        assert (await f.fetch(srv.url("/rss"))).ok
        assert (await f.fetch(srv.url("/rss"))).ok
    finally:
        await f.close()
    await f.close()  # twice is fine


# --- file: URLs -------------------------------------------------------------------------------


async def test_file_urls_refused_by_default(fetcher: Fetcher) -> None:
    r = await fetcher.fetch("file:///etc/passwd")
    assert r.body is None and r.permanent
    assert r.error and "file: URLs are not allowed" in r.error
    assert "allow_file_urls" in r.error


async def test_file_urls_when_allowed(tmp_path: Path) -> None:
    path = tmp_path / "demo.xml"
    path.write_bytes(RSS)
    async with Fetcher(config(allow_file_urls=True)) as f:
        first = await f.fetch(path.as_uri())
        again = await f.fetch(path.as_uri(), etag=first.etag)
        path.write_bytes(RSS + b"\n")
        changed = await f.fetch(path.as_uri(), etag=first.etag)
        missing = await f.fetch((tmp_path / "nope.xml").as_uri())
    assert first.ok and first.status == 200 and first.body == RSS and first.etag
    assert again.status == 304 and again.body is None and again.error is None
    assert changed.status == 200 and changed.body == RSS + b"\n"
    assert missing.error == f"file not found: {tmp_path / 'nope.xml'}"


async def test_file_over_the_cap(tmp_path: Path) -> None:
    path = tmp_path / "big.xml"
    path.write_bytes(b"x" * 5000)
    async with Fetcher(config(allow_file_urls=True, max_body_bytes=4096)) as f:
        r = await f.fetch(path.as_uri())
    assert r.body is None and r.error and r.error.startswith("feed is larger than 4096 bytes")


def test_fetch_result_shape() -> None:
    # The fields other layers rely on; a reminder to tell them when this changes.
    assert set(FetchResult.__dataclass_fields__) == {
        "url", "final_url", "status", "body", "etag", "last_modified", "error", "permanent",
        "retry_after", "elapsed",
    }

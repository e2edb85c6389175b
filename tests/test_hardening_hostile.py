"""Hostile feeds and hostile addresses in one poll cycle beside a healthy control feed.

Everything runs through ``Greenlight.poll_once`` against real servers on loopback: a "public"
server on 127.0.0.2 (exempted from the address guard, as a stand-in for the internet) serves
the hostile documents, and a "private" server on 127.0.0.1 (not exempted) stands for the
bot's own network. Each attack must be refused or neutralised, the private server must never
see a request, time and memory must stay bounded, and the control feed must be polled, stored
and alerted exactly as if nothing else were going on.
"""

from __future__ import annotations

import time
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from feedgen import Item, rss
from feedserver import FeedServer, StaticResolver
from sqlalchemy import select
from support import make_config

from bot.fetch import Fetcher
from bot.netguard import Guard
from bot.service import Greenlight
from bot.store.schema import feeds, stories

HOSTILE = Path(__file__).parent / "data" / "hostile"
CRASHERS = sorted((HOSTILE / "crashers").glob("*.xml"))
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
T1 = T0 + timedelta(hours=1)
FILMS = [{"id": "gladiator-2", "title": "Gladiator II", "aliases": ["Gladiator 2"],
          "originals": ["Gladiator"]}]
CONTROL_OLD = Item("Ridley Scott talks about a Gladiator II script", "Early days, he says.",
                   T0 - timedelta(days=20), link="https://control.example/old")
CONTROL_NEW = Item("Paramount gives Gladiator II the green light",
                   "The studio has officially greenlit the sequel with Ridley Scott directing.",
                   T0 + timedelta(minutes=30), link="https://control.example/greenlit")
FETCH_TIMEOUT = 3.0
BOMB_SIZE = 200_000_000  # 200 MB of zeros, about 200 KB on the wire
MAX_BODY = 2_000_000
# Generous: the cycle is bound by the 3 s fetch deadline (the drip); parsing is milliseconds.
CYCLE_SECONDS = 60.0
# The gzip bomb inflates to 200 MB and the billion laughs to ~3 GB if anything let them; the
# fetch side may hold about one body cap plus buffers.
PEAK_BYTES = 64 * 1024 * 1024


async def _public_server() -> FeedServer:
    server = FeedServer(host="127.0.0.2")
    try:
        await server.start()
    except OSError:  # pragma: no cover - Linux routes all of 127/8 to loopback
        pytest.skip("cannot listen on 127.0.0.2 here")
    return server


@pytest.fixture
async def servers() -> AsyncIterator[tuple[FeedServer, FeedServer]]:
    public = await _public_server()
    try:
        async with FeedServer() as private:
            private.feed("/secret.xml", rss([Item("internal", "secret", T0)]))
            yield public, private
    finally:
        await public.close()


def _hostile_feeds(public: FeedServer, private: FeedServer) -> dict[str, str]:
    """name → URL of every attack, with the public server set up to serve its part."""
    for name in ("billion-laughs", "billion-laughs-utf16", "xxe-passwd", "xxe-passwd-cp500"):
        public.feed(f"/{name}.xml", (HOSTILE / f"{name}.xml").read_bytes())
    for path in CRASHERS:
        public.feed(f"/crash/{path.name}", path.read_bytes())
    public.gzip_bomb("/bomb.xml", BOMB_SIZE)
    public.drip("/drip.xml", rss([CONTROL_OLD]), interval=1.0)
    public.redirect("/to-loopback.xml", private.url("/secret.xml"))
    public.redirect("/to-mapped.xml", f"http://[::ffff:127.0.0.1]:{private.port}/secret.xml")
    public.redirect("/to-file.xml", "file:///etc/passwd")
    urls = {
        "billion-laughs": public.url("/billion-laughs.xml"),
        "billion-laughs-utf16": public.url("/billion-laughs-utf16.xml"),
        "xxe": public.url("/xxe-passwd.xml"),
        "xxe-cp500": public.url("/xxe-passwd-cp500.xml"),
        "gzip-bomb": public.url("/bomb.xml"),
        "drip": public.url("/drip.xml"),
        "redirect-to-loopback": public.url("/to-loopback.xml"),
        "redirect-to-mapped": public.url("/to-mapped.xml"),
        "redirect-to-file": public.url("/to-file.xml"),
        "dns-loopback": private.url("/secret.xml", host="evil.test"),
        "mapped-literal": f"http://[::ffff:127.0.0.1]:{private.port}/secret.xml",
        "loopback-literal": private.url("/secret.xml"),
        "file": "file:///etc/passwd",
    }
    for path in CRASHERS:
        urls[f"crash:{path.stem}"] = public.url(f"/crash/{path.name}")
    return urls


async def _open(db_url: str, public: FeedServer, feed_urls: list[str]) -> Greenlight:
    cfg = make_config(
        db_url,
        films=FILMS,
        feeds=[{"url": public.url("/control.xml"), "name": "Control"}]
        + [{"url": u} for u in feed_urls],
        fetch={"allow_private_networks": False, "timeout": FETCH_TIMEOUT,
               "connect_timeout": 2.0, "max_body_bytes": MAX_BODY},
    )
    core = await Greenlight.open(cfg, now=T0)
    # The production policy (no private networks) with one exemption: the stand-in for the
    # internet. "evil.test" resolves to 127.0.0.1, which the guard must still refuse.
    await core.fetcher.close()
    core.fetcher = Fetcher(cfg.fetch, guard=Guard.with_exemptions(["127.0.0.2/32"]),
                           resolver=StaticResolver({"evil.test": "127.0.0.1"}))
    return core


async def _rows(core: Greenlight) -> dict[str, dict[str, Any]]:
    async with core.engine.connect() as conn:
        return {r.url: dict(r._mapping) for r in await conn.execute(select(feeds))}


async def _stories(core: Greenlight, feed_id: int) -> list[dict[str, Any]]:
    async with core.engine.connect() as conn:
        rows = await conn.execute(select(stories).where(stories.c.feed_id == feed_id))
        return [dict(r._mapping) for r in rows]


# What each attack must end in: a phrase of the error stored for the feed.
EXPECTED_ERROR = {
    "billion-laughs": "declares XML entities",
    "billion-laughs-utf16": "declares XML entities",
    "xxe": "declares XML entities",
    "xxe-cp500": "declares XML entities",
    "gzip-bomb": f"larger than {MAX_BODY} bytes",
    "drip": f"timed out after {FETCH_TIMEOUT:g}s",
    "redirect-to-loopback": "address 127.0.0.1 is not allowed (loopback)",
    "redirect-to-mapped": "IPv4-mapped form of 127.0.0.1",
    "redirect-to-file": "file: URLs are not allowed",
    "dns-loopback": "evil.test resolves to a refused address",
    "mapped-literal": "IPv4-mapped form of 127.0.0.1",
    "loopback-literal": "address 127.0.0.1 is not allowed (loopback)",
    "file": "file: URLs are not allowed",
}


async def test_every_attack_is_refused_and_the_control_feed_is_untouched(
    servers: tuple[FeedServer, FeedServer], sqlite_url: str
) -> None:
    public, private = servers
    public.feed("/control.xml", rss([CONTROL_OLD], title="Control Outlet"))
    attacks = _hostile_feeds(public, private)
    core = await _open(sqlite_url, public, list(attacks.values()))
    try:
        tracemalloc.start()
        started = time.monotonic()
        first = await core.poll_once(T0)
        cycle_one = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()

        rows = await _rows(core)
        for name, url in attacks.items():
            row = rows[url]
            assert row["last_error"], f"{name}: no error recorded"
            assert await _stories(core, row["id"]) == [], name
            want = EXPECTED_ERROR.get(name, "could not parse the feed")
            assert want in row["last_error"], f"{name}: {row['last_error']}"
        assert private.hits["/secret.xml"] == 0, "the guard let a request into 127.0.0.1"
        assert cycle_one < CYCLE_SECONDS
        assert peak < PEAK_BYTES, f"peak traced memory {peak / 1e6:.0f} MB"

        control = rows[public.url("/control.xml")]
        assert control["last_error"] is None and control["failure_count"] == 0
        assert [s["link"] for s in await _stories(core, control["id"])] == [CONTROL_OLD.link]
        assert first == []  # the control's old story is backfill: recorded silently

        # Next cycle: every attack is tried again (backoff is one interval at first) and the
        # control feed's new story is news, alerted once.
        public.feed("/control.xml", rss([CONTROL_NEW, CONTROL_OLD], title="Control Outlet"))
        started = time.monotonic()
        second = await core.poll_once(T1)
        assert time.monotonic() - started < CYCLE_SECONDS
        assert [(a.film, a.to_status, a.link) for a in second] == [
            ("gladiator-2", "greenlit", CONTROL_NEW.link)
        ]
        rows = await _rows(core)
        assert all(rows[u]["failure_count"] == 2 for u in attacks.values())
        assert private.hits["/secret.xml"] == 0
        print(f"\nhostile cycle: {len(attacks)} attacks + control in {cycle_one:.1f}s, "
              f"peak traced memory {peak / 1e6:.1f} MB")
    finally:
        await core.close()


def _odd_feed() -> bytes:
    """Raw NUL and other control bytes in every text field, a javascript: link, an item titled
    with mentions. Not well-formed XML (expat refuses NUL), so feedparser's loose parser reads
    it, as it would a real broken feed."""
    return (
        b'<?xml version="1.0" encoding="utf-8"?>\n<rss version="2.0"><channel>'
        b"<title>Odd\x00 Outlet\x01</title><link>https://odd.example/</link>"
        b"<item><title>NUL\x00 in the\x1b title</title>"
        b"<link>https://odd.example/nul\x00-story</link>"
        b"<guid isPermaLink=\"false\">guid\x00-1</guid>"
        b"<description>Summary\x00 with NUL\x00 and \x7f DEL</description>"
        b"<pubDate>Sat, 01 Mar 2025 11:00:00 GMT</pubDate></item>"
        b"<item><title>Click me</title><link>javascript:alert(document.cookie)</link>"
        b"<guid isPermaLink=\"false\">js-1</guid><description>x</description></item>"
        b"<item><title>@everyone &lt;@&amp;123&gt;</title>"
        b"<link>https://odd.example/ping</link><description>@here &lt;@456&gt;</description>"
        b"</item></channel></rss>"
    )


async def test_nul_mentions_and_script_links_are_stored_as_plain_text(
    servers: tuple[FeedServer, FeedServer], db_url: str
) -> None:
    # db_url: PostgreSQL refuses NUL in text outright, so this is the backend that matters.
    public, _private = servers
    public.feed("/control.xml", rss([CONTROL_OLD], title="Control Outlet"))
    public.feed("/odd.xml", _odd_feed())
    core = await _open(db_url, public, [public.url("/odd.xml")])
    try:
        await core.poll_once(T0)
        rows = await _rows(core)
        odd = rows[public.url("/odd.xml")]
        assert odd["last_error"] is None, odd["last_error"]
        by_key = {s["key"]: s for s in await _stories(core, odd["id"])}
        assert len(by_key) == 3

        nul = by_key["guid-1"]
        assert nul["title"] == "NUL in the title"
        assert nul["summary"] == "Summary with NUL and DEL"
        assert nul["link"] == "https://odd.example/nul-story"
        assert nul["outlet"] == "Odd Outlet"

        script = by_key["js-1"]
        assert script["title"] == "Click me" and script["link"] is None

        # The core keeps mentions verbatim as plain text (the Discord side disarms them with
        # allowed_mentions); it must not mangle them into something else.
        ping = next(s for k, s in by_key.items() if k not in ("guid-1", "js-1"))
        assert ping["title"] == "@everyone <@&123>"
        assert ping["summary"] == "@here <@456>"
        control = rows[public.url("/control.xml")]
        assert control["last_error"] is None
        assert len(await _stories(core, control["id"])) == 1
    finally:
        await core.close()

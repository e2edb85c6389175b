"""The whole core against a real feed server on 127.0.0.1 and a real SQLite file: every HTTP
behaviour leaves the right stored state and never disturbs another feed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from feedgen import Item, rss
from feedserver import FeedServer
from sqlalchemy import select
from support import make_config

from bot.service import Greenlight
from bot.store.schema import feeds, stories

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
INTERVAL = timedelta(seconds=900)

FILMS = [
    {
        "id": "gladiator-2",
        "title": "Gladiator II",
        "aliases": ["Gladiator 2"],
        "originals": ["Gladiator"],
    }
]

CONTROL_ITEMS = [
    Item(
        "Paramount gives Gladiator II the green light",
        "The studio has officially greenlit the sequel with Ridley Scott directing.",
        T0 - timedelta(days=30),
        link="https://control.example/gladiator-greenlit",
    ),
]


@dataclass
class Env:
    srv: FeedServer
    core: Greenlight

    async def feed_row(self, path: str) -> dict[str, Any]:
        async with self.core.engine.connect() as conn:
            row = (await conn.execute(select(feeds).where(feeds.c.url == self.srv.url(path)))).one()
        return dict(row._mapping)

    async def story_count(self, path: str) -> int:
        row = await self.feed_row(path)
        async with self.core.engine.connect() as conn:
            return len(
                list(await conn.execute(select(stories.c.id).where(stories.c.feed_id == row["id"])))
            )

    async def control_is_healthy(self) -> None:
        row = await self.feed_row("/control.xml")
        assert row["last_error"] is None and row["failure_count"] == 0
        assert await self.story_count("/control.xml") == len(CONTROL_ITEMS)


async def open_env(srv: FeedServer, db_url: str, subject: str, **sections: Any) -> Greenlight:
    cfg = make_config(
        db_url,
        films=FILMS,
        feeds=[{"url": srv.url(subject), "name": "Subject"}, {"url": srv.url("/control.xml")}],
        **sections,
    )
    return await Greenlight.open(cfg, now=T0)


@pytest.fixture
async def srv() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        server.feed("/control.xml", rss(CONTROL_ITEMS, title="Control Outlet"))
        yield server


@pytest.fixture
async def env(
    srv: FeedServer, sqlite_url: str, request: pytest.FixtureRequest
) -> AsyncIterator[Env]:
    marker = request.node.get_closest_marker("feed_config")
    sections = marker.kwargs if marker else {}
    core = await open_env(srv, sqlite_url, "/subject.xml", **sections)
    try:
        yield Env(srv, core)
    finally:
        await core.close()


def subject_body(n: int = 2) -> bytes:
    items = [
        Item(
            f"Box office report number {i}",
            "Weekend takings across the country were steady.",
            T0 - timedelta(days=i + 1),
            link=f"https://subject.example/story-{i}",
        )
        for i in range(n)
    ]
    return rss(items, title="Subject Outlet")


async def test_200_then_304_after_etag(env: Env) -> None:
    env.srv.feed("/subject.xml", subject_body(), etag='"v1"')
    await env.core.poll_once(T0)
    row = await env.feed_row("/subject.xml")
    assert row["etag"] == '"v1"' and row["last_error"] is None
    assert await env.story_count("/subject.xml") == 2
    assert row["next_poll_at"] == T0 + INTERVAL

    await env.core.poll_once(T0 + INTERVAL)
    assert env.srv.hits["/subject.xml"] == 2
    second = [r for r in env.srv.requests if r.path == "/subject.xml"][-1]
    assert second.headers["If-None-Match"] == '"v1"'
    report = env.core.last_report
    assert report is not None and report.not_modified == 1 and report.unchanged_body == 1
    row = await env.feed_row("/subject.xml")
    assert row["last_polled_at"] == T0 + INTERVAL and row["failure_count"] == 0
    assert await env.story_count("/subject.xml") == 2
    await env.control_is_healthy()


async def test_304_after_last_modified(env: Env) -> None:
    stamp = "Sat, 01 Mar 2025 10:00:00 GMT"
    env.srv.feed("/subject.xml", subject_body(), last_modified=stamp)
    await env.core.poll_once(T0)
    assert (await env.feed_row("/subject.xml"))["last_modified"] == stamp
    await env.core.poll_once(T0 + INTERVAL)
    second = [r for r in env.srv.requests if r.path == "/subject.xml"][-1]
    assert second.headers["If-Modified-Since"] == stamp
    row = await env.feed_row("/subject.xml")
    assert row["last_error"] is None and row["last_polled_at"] == T0 + INTERVAL
    await env.control_is_healthy()


async def test_unchanged_body_without_validators_is_not_parsed_again(env: Env) -> None:
    env.srv.feed("/subject.xml", subject_body())
    await env.core.poll_once(T0)
    await env.core.poll_once(T0 + INTERVAL)
    report = env.core.last_report
    assert report is not None and report.unchanged_body == 2 and report.stories_new == 0


async def test_redirect_chain_is_followed(env: Env) -> None:
    env.srv.feed("/real.xml", subject_body())
    env.srv.redirect("/subject.xml", "/hop1", status=301)
    env.srv.redirect("/hop1", "/real.xml", status=302)
    await env.core.poll_once(T0)
    row = await env.feed_row("/subject.xml")
    assert row["last_error"] is None
    assert await env.story_count("/subject.xml") == 2
    await env.control_is_healthy()


async def test_redirect_cap(env: Env) -> None:
    env.srv.feed("/real.xml", subject_body())
    env.srv.redirect_chain("/subject.xml", "/real.xml", hops=8)
    await env.core.poll_once(T0)
    row = await env.feed_row("/subject.xml")
    assert "redirect" in row["last_error"].lower() and "5" in row["last_error"]
    assert row["failure_count"] == 1
    assert await env.story_count("/subject.xml") == 0
    await env.control_is_healthy()


async def test_404_is_permanent_and_disables_after_three(env: Env) -> None:
    env.srv.status("/subject.xml", 404)
    now = T0
    for n in range(1, 4):
        await env.core.poll_once(now)
        row = await env.feed_row("/subject.xml")
        assert row["failure_count"] == n and "404" in row["last_error"]
        now = row["next_poll_at"]
    assert row["disabled_at"] is not None
    assert "404" in row["disabled_reason"] and "3 failed polls" in row["disabled_reason"]
    await env.core.poll_once(now + timedelta(days=30))
    assert env.srv.hits["/subject.xml"] == 3  # a disabled feed is not fetched
    views = await env.core.feed_list(guild_id=1)
    subject = next(v for v in views if v.url.endswith("/subject.xml"))
    assert subject.disabled_reason and subject.failure_count == 3
    await env.control_is_healthy()


async def test_500_then_recovery_with_backoff(env: Env) -> None:
    env.srv.status("/subject.xml", 500)
    await env.core.poll_once(T0)
    row = await env.feed_row("/subject.xml")
    assert row["failure_count"] == 1 and "500" in row["last_error"]
    assert row["next_poll_at"] == T0 + INTERVAL
    await env.core.poll_once(T0 + INTERVAL)
    row = await env.feed_row("/subject.xml")
    assert row["failure_count"] == 2 and row["next_poll_at"] == T0 + INTERVAL + 2 * INTERVAL
    # Not due yet: the backoff holds the feed back, the control feed is still polled.
    await env.core.poll_once(T0 + 2 * INTERVAL)
    assert env.srv.hits["/subject.xml"] == 2
    env.srv.feed("/subject.xml", subject_body())
    await env.core.poll_once(T0 + 3 * INTERVAL)
    row = await env.feed_row("/subject.xml")
    assert row["failure_count"] == 0 and row["last_error"] is None and row["disabled_at"] is None
    assert await env.story_count("/subject.xml") == 2
    await env.control_is_healthy()


async def test_429_retry_after_is_honoured(env: Env) -> None:
    env.srv.status("/subject.xml", 429, retry_after="7200")
    await env.core.poll_once(T0)
    row = await env.feed_row("/subject.xml")
    assert "429" in row["last_error"]
    assert row["next_poll_at"] == T0 + timedelta(seconds=7200)
    await env.control_is_healthy()


@pytest.mark.feed_config(fetch={"timeout": 1.0})
async def test_slow_body_hits_total_timeout(env: Env) -> None:
    env.srv.drip("/subject.xml", subject_body(), interval=0.2)
    await env.core.poll_once(T0)
    row = await env.feed_row("/subject.xml")
    assert "timed out" in row["last_error"]
    assert await env.story_count("/subject.xml") == 0
    await env.control_is_healthy()


@pytest.mark.feed_config(fetch={"max_body_bytes": 4096})
async def test_body_over_size_cap(env: Env) -> None:
    env.srv.huge("/subject.xml", 10_000_000)
    await env.core.poll_once(T0)
    row = await env.feed_row("/subject.xml")
    assert "larger than 4096 bytes" in row["last_error"]
    await env.control_is_healthy()


async def test_gzip_body(env: Env) -> None:
    env.srv.feed("/subject.xml", subject_body(3), gzip=True)
    await env.core.poll_once(T0)
    assert (await env.feed_row("/subject.xml"))["last_error"] is None
    assert await env.story_count("/subject.xml") == 3
    await env.control_is_healthy()


async def test_html_page_is_not_a_feed(env: Env) -> None:
    page = b"<!doctype html><html><head><title>Home</title></head><body><p>Hi</p></body></html>"
    env.srv.feed("/subject.xml", page, content_type="text/html")
    await env.core.poll_once(T0)
    row = await env.feed_row("/subject.xml")
    assert "not an RSS/Atom feed" in row["last_error"] and row["failure_count"] == 1
    await env.control_is_healthy()


async def test_empty_feed_is_fine(env: Env) -> None:
    env.srv.feed("/subject.xml", rss([], title="Quiet Outlet"))
    await env.core.poll_once(T0)
    row = await env.feed_row("/subject.xml")
    assert row["last_error"] is None and row["failure_count"] == 0
    assert await env.story_count("/subject.xml") == 0
    await env.control_is_healthy()


async def test_connection_refused_is_stored(srv: FeedServer, sqlite_url: str) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead_port = s.getsockname()[1]
    cfg = make_config(
        sqlite_url,
        feeds=[
            {"url": f"http://127.0.0.1:{dead_port}/feed.xml"},
            {"url": srv.url("/control.xml")},
        ],
    )
    core = await Greenlight.open(cfg, now=T0)
    try:
        await core.poll_once(T0)
        views = {v.url: v for v in await core.feed_list(1)}
        dead = views[f"http://127.0.0.1:{dead_port}/feed.xml"]
        assert dead.failure_count == 1 and "refused" in (dead.last_error or "")
        assert views[srv.url("/control.xml")].stories == 1
    finally:
        await core.close()

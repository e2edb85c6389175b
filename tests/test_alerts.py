"""Deduplication, the transition rules and the outbox, end to end through real feeds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from feedgen import Item, rss
from feedserver import FeedServer
from support import make_config

from bot.service import Greenlight

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
STEP = timedelta(seconds=900)
FILMS = [
    {
        "id": "gladiator-2",
        "title": "Gladiator II",
        "aliases": ["Gladiator 2"],
        "originals": ["Gladiator"],
    },
    {"id": "twisters", "title": "Twisters", "originals": ["Twister"]},
]

GREENLIT = Item(
    "Paramount gives Gladiator II the green light",
    "The studio has officially greenlit the sequel, with Ridley Scott returning to direct.",
    T0 + timedelta(hours=1),
    link="https://outlet-a.example/gladiator-greenlit",
    guid="a-1",
)
FILMING = Item(
    "Cameras roll on Gladiator II in Morocco",
    "Principal photography has begun on the sequel, with Paul Mescal leading the cast.",
    T0 + timedelta(days=20),
    link="https://outlet-a.example/gladiator-filming",
    guid="a-2",
)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def tick(self) -> datetime:
        self.now += STEP
        return self.now


@pytest.fixture
async def srv() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        server.feed("/a.xml", rss([], title="Outlet A"))
        server.feed("/b.xml", rss([], title="Outlet B"))
        yield server


@pytest.fixture
async def core(srv: FeedServer, db_url: str) -> AsyncIterator[Greenlight]:
    cfg = make_config(
        db_url,
        films=FILMS,
        feeds=[
            {"url": srv.url("/a.xml"), "name": "Outlet A"},
            {"url": srv.url("/b.xml"), "name": "Outlet B"},
        ],
    )
    c = await Greenlight.open(cfg, now=T0)
    await c.poll_once(T0)  # the feeds' first poll: from now on, new stories are news
    yield c
    await c.close()


def publish(srv: FeedServer, path: str, items: list[Item], title: str) -> None:
    srv.feed(path, rss(items, title=title))


async def test_backfill_is_silent_then_news_alerts(srv: FeedServer, sqlite_url: str) -> None:
    old = Item(GREENLIT.title, GREENLIT.summary, T0 - timedelta(days=10), guid="old-1")
    publish(srv, "/a.xml", [old], "Outlet A")
    cfg = make_config(sqlite_url, films=FILMS, feeds=[{"url": srv.url("/a.xml")}])
    core = await Greenlight.open(cfg, now=T0)
    try:
        assert await core.poll_once(T0) == []
        status = await core.film_status(1, "gladiator 2")
        assert status.status == "greenlit" and status.current is not None
        assert status.current.alerted is False

        publish(srv, "/a.xml", [old, FILMING], "Outlet A")
        alerts = await core.poll_once(T0 + STEP)
        assert [(a.film, a.from_status, a.to_status) for a in alerts] == [
            ("gladiator-2", "greenlit", "filming")
        ]
        # The evidence is one of the story's own sentences.
        assert alerts[0].evidence.rstrip(".") in f"{FILMING.title} {FILMING.summary}"
        assert alerts[0].link == "https://outlet-a.example/gladiator-filming"
    finally:
        await core.close()


async def test_same_entry_across_polls_alerts_once(srv: FeedServer, core: Greenlight) -> None:
    clock = Clock()
    clock.now = T0 + timedelta(hours=2)
    publish(srv, "/a.xml", [GREENLIT], "Outlet A")
    first = await core.poll_once(clock.tick())
    assert [a.to_status for a in first] == ["greenlit"]
    # The feed changes (a new unrelated item) so it is parsed again; the old entry is not news.
    other = Item("Weekend box office", "Ticket sales were flat.", T0 + timedelta(hours=3), guid="x")
    publish(srv, "/a.xml", [other, GREENLIT], "Outlet A")
    assert await core.poll_once(clock.tick()) == []
    assert await core.poll_once(clock.tick()) == []


async def test_tracking_parameters_do_not_make_a_new_story(
    srv: FeedServer, core: Greenlight
) -> None:
    clock = Clock()
    clock.now = T0 + timedelta(hours=2)
    base = "https://outlet-a.example/gladiator-greenlit"
    v1 = Item(GREENLIT.title, GREENLIT.summary, GREENLIT.published, link=f"{base}?utm_source=rss")
    v2 = Item(
        GREENLIT.title,
        GREENLIT.summary,
        GREENLIT.published,
        link=f"{base}?utm_source=twitter&utm_medium=social&fbclid=abc#top",
    )
    publish(srv, "/a.xml", [v1], "Outlet A")
    assert len(await core.poll_once(clock.tick())) == 1
    publish(srv, "/a.xml", [v2], "Outlet A")
    assert await core.poll_once(clock.tick()) == []
    history = await core.film_history(1, "Gladiator II")
    assert len(history) == 1 and history[0].link == base


async def test_same_story_from_two_outlets_is_one_alert(srv: FeedServer, core: Greenlight) -> None:
    clock = Clock()
    clock.now = T0 + timedelta(hours=2)
    rerun = Item(
        "Gladiator II gets the green light from Paramount",
        "Paramount has officially greenlit the sequel, with Ridley Scott returning to direct.",
        GREENLIT.published + timedelta(hours=3),
        link="https://outlet-b.example/news/gladiator-ii-green-light",
        guid="b-1",
    )
    publish(srv, "/a.xml", [GREENLIT], "Outlet A")
    publish(srv, "/b.xml", [rerun], "Outlet B")
    alerts = await core.poll_once(clock.tick())
    assert len(alerts) == 1
    assert alerts[0].outlet == "Outlet A" and alerts[0].also_reported_by == ("Outlet B",)


async def test_rerun_in_a_later_cycle_attaches_to_the_first(
    srv: FeedServer, core: Greenlight
) -> None:
    clock = Clock()
    clock.now = T0 + timedelta(hours=2)
    publish(srv, "/a.xml", [GREENLIT], "Outlet A")
    assert len(await core.poll_once(clock.tick())) == 1
    rerun = Item(
        "Paramount gives Gladiator II the green light",
        "The studio has officially greenlit the sequel, with Ridley Scott returning to direct.",
        GREENLIT.published + timedelta(days=1),
        link="https://outlet-b.example/gladiator",
        guid="b-9",
    )
    publish(srv, "/b.xml", [rerun], "Outlet B")
    assert await core.poll_once(clock.tick()) == []
    history = await core.film_history(1, "gladiator-2")
    assert len(history) == 1 and history[0].also_reported_by == ("Outlet B",)


async def test_edited_entry_never_alerts_twice(srv: FeedServer, core: Greenlight) -> None:
    clock = Clock()
    clock.now = T0 + timedelta(hours=2)
    publish(srv, "/a.xml", [GREENLIT], "Outlet A")
    assert len(await core.poll_once(clock.tick())) == 1
    edited = Item(
        GREENLIT.title + " (updated)",
        GREENLIT.summary + " Production details are still being finalised.",
        GREENLIT.published,
        link=GREENLIT.link,
        guid=GREENLIT.guid,
    )
    publish(srv, "/a.xml", [edited], "Outlet A")
    assert await core.poll_once(clock.tick()) == []
    assert core.last_report is not None and core.last_report.stories_edited == 1
    history = await core.film_history(1, "gladiator-2")
    assert len(history) == 1 and history[0].title.endswith("(updated)")


async def test_backward_move_is_recorded_not_alerted(srv: FeedServer, core: Greenlight) -> None:
    clock = Clock()
    clock.now = T0 + timedelta(days=30)
    publish(srv, "/a.xml", [FILMING], "Outlet A")
    assert [a.to_status for a in await core.poll_once(clock.tick())] == ["filming"]
    stale = Item(
        "Gladiator II officially greenlit by Paramount",
        "The studio has officially greenlit the sequel.",
        FILMING.published + timedelta(days=1),
        guid="b-old",
    )
    publish(srv, "/b.xml", [stale], "Outlet B")
    assert await core.poll_once(clock.tick()) == []
    history = await core.film_history(1, "gladiator-2")
    assert [(h.from_status, h.to_status, h.alerted) for h in history] == [
        (None, "filming", True),
        ("filming", "greenlit", False),
    ]
    assert (await core.film_status(1, "gladiator-2")).status == "filming"


async def test_cancellation_and_revival_alert(srv: FeedServer, core: Greenlight) -> None:
    clock = Clock()
    clock.now = T0 + timedelta(days=90)
    cancelled = Item(
        "Warner Bros. scraps the Twisters sequel",
        "The studio has cancelled the follow-up after budget disagreements.",
        T0 + timedelta(days=40),
        guid="t-1",
    )
    revived = Item(
        "Twisters follow-up revived at Universal",
        "Universal has officially greenlit the sequel after it was scrapped last year.",
        T0 + timedelta(days=80),
        guid="t-2",
    )
    publish(srv, "/a.xml", [FILMING, cancelled], "Outlet A")
    alerts = await core.poll_once(clock.tick())
    assert [(a.film, a.to_status) for a in alerts] == [
        ("gladiator-2", "filming"),
        ("twisters", "cancelled"),
    ]
    publish(srv, "/a.xml", [FILMING, cancelled, revived], "Outlet A")
    alerts = await core.poll_once(clock.tick())
    assert [(a.film, a.from_status, a.to_status) for a in alerts] == [
        ("twisters", "cancelled", "greenlit")
    ]


async def test_outbox_fans_out_to_the_right_guilds_once(srv: FeedServer, core: Greenlight) -> None:
    clock = Clock()
    clock.now = T0 + timedelta(hours=2)
    everything = await core.subscribe(guild_id=1, channel_id=11)
    film_only = await core.subscribe(guild_id=2, channel_id=21, film="gladiator", role_id=777)
    await core.subscribe(guild_id=2, channel_id=22, film="twisters")
    await core.subscribe(guild_id=3, channel_id=31)
    await core.watch_remove(3, "gladiator-2")  # guild 3 no longer watches this film
    await core.subscribe(guild_id=4, channel_id=41)
    await core.feed_remove(4, srv.url("/a.xml"))  # guild 4 does not read outlet A

    publish(srv, "/a.xml", [GREENLIT], "Outlet A")
    assert len(await core.poll_once(clock.tick())) == 1
    items = await core.claim_outbox(limit=50, now=clock.now)
    assert sorted((i.guild_id, i.channel_id, i.role_id) for i in items) == [
        (1, 11, None),
        (2, 21, 777),
    ]
    assert {i.subscription_id for i in items} == {everything.id, film_only.id}
    assert all(i.alert.to_status == "greenlit" and i.alert.film == "gladiator-2" for i in items)
    assert len({i.nonce for i in items}) == 2
    # Leased: a second claimer does not get them while the first is sending.
    assert await core.claim_outbox(limit=50, now=clock.now) == []
    for n, item in enumerate(items):
        await core.mark_sent(item.id, 9000 + n)
    assert await core.claim_outbox(limit=50, now=clock.now + timedelta(hours=1)) == []
    assert await core.pending_alerts() == 0


async def test_outbox_retry_keeps_channel_order_and_disable_drops(
    srv: FeedServer, core: Greenlight
) -> None:
    clock = Clock()
    clock.now = T0 + timedelta(days=30)
    sub = await core.subscribe(guild_id=1, channel_id=11)
    publish(srv, "/a.xml", [GREENLIT], "Outlet A")
    await core.poll_once(clock.tick())
    publish(srv, "/a.xml", [GREENLIT, FILMING], "Outlet A")
    await core.poll_once(clock.tick())
    assert await core.pending_alerts() == 2

    now = clock.now
    first = await core.claim_outbox(limit=10, now=now)
    assert [i.alert.to_status for i in first] == ["greenlit"]  # one per channel, oldest first
    core.set_clock(now)
    await core.mark_retry(first[0].id, "HTTP 503", retry_in=30)
    # The older row waits for its retry, and the newer one waits behind it.
    assert await core.claim_outbox(limit=10, now=now + timedelta(seconds=10)) == []
    again = await core.claim_outbox(limit=10, now=now + timedelta(seconds=31))
    assert [i.alert.to_status for i in again] == ["greenlit"] and again[0].attempts == 2
    await core.mark_sent(again[0].id, 1)
    nxt = await core.claim_outbox(limit=10, now=now + timedelta(seconds=32))
    assert [i.alert.to_status for i in nxt] == ["filming"]

    assert await core.disable_subscription(sub.id, "403 Missing Permissions") is True
    assert await core.disable_subscription(sub.id, "403 Missing Permissions") is False
    assert await core.pending_alerts() == 0
    (view,) = await core.subscriptions(1)
    assert view.disabled_reason == "403 Missing Permissions"


async def test_claims_and_lease_release_are_split_by_shard(
    srv: FeedServer, core: Greenlight
) -> None:
    """``(guild_id >> 22) % shard_count`` picks the process that delivers a guild's alerts, on
    both backends (PostgreSQL has no bigint >> bigint: the shift must be typed)."""
    clock = Clock()
    clock.now = T0 + timedelta(hours=2)
    guilds = [(n << 22) | 7 for n in range(4)]  # shards 0, 1, 0, 1 of 2
    for g in guilds:
        await core.subscribe(guild_id=g, channel_id=g + 1)
    publish(srv, "/a.xml", [GREENLIT], "Outlet A")
    await core.poll_once(clock.tick())
    mine = await core.claim_outbox(limit=10, shard_count=2, shard_ids=[1], now=clock.now)
    assert sorted(i.guild_id for i in mine) == [guilds[1], guilds[3]]
    # A restarted shard-1 process takes its leased rows back at once; shard 0's are untouched.
    assert await core.release_leases(shard_count=2, shard_ids=[1]) == 2
    others = await core.claim_outbox(limit=10, shard_count=2, shard_ids=[0], now=clock.now)
    assert sorted(i.guild_id for i in others) == [guilds[0], guilds[2]]
    assert await core.release_leases(shard_count=2, shard_ids=[1]) == 0
    again = await core.claim_outbox(limit=10, shard_count=2, shard_ids=[1], now=clock.now)
    assert sorted(i.guild_id for i in again) == [guilds[1], guilds[3]]

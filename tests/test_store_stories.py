"""What a poll stores for each story, the same on SQLite and PostgreSQL: each engine has its
own bulk insert (bot/record.py), so both are held to one expected set of rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feedgen import Item, rss
from feedserver import FeedServer
from sqlalchemy import select
from support import make_config

from bot.service import Greenlight
from bot.store.schema import stories

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
FILMS = [{"id": "gladiator-2", "title": "Gladiator II", "aliases": ["Gladiator 2"]}]

ITEMS = [
    Item("Paramount gives Gladiator II the green light",
         "The studio has officially greenlit the sequel, with Ridley Scott directing.",
         T0 - timedelta(days=3), link="https://one.example/gladiator-greenlit"),
    Item("Weekend box office: a quiet frame",
         "Holdovers led a slow weekend; no new wide releases opened.",
         T0 - timedelta(days=2), link="https://one.example/box-office"),
    Item("Festival line-up announced, dates to follow",
         "Organisers named forty titles.", None, guid="lineup-2025"),
]


async def test_stored_story_rows_are_the_same_on_both_engines(db_url: str) -> None:
    async with FeedServer() as srv:
        srv.feed("/one.xml", rss(ITEMS, title="One Outlet"))
        cfg = make_config(db_url, films=FILMS, feeds=[{"url": srv.url("/one.xml")}])
        core = await Greenlight.open(cfg, now=T0)
        try:
            await core.poll_once(T0)
            # The same body again (no validators on this server): nothing new, nothing twice.
            srv.feed("/one.xml", rss(ITEMS, title="One Outlet"))
            await core.poll_once(T0 + timedelta(hours=1))
            async with core.engine.connect() as conn:
                rows = (await conn.execute(
                    select(stories.c.key, stories.c.link, stories.c.title, stories.c.outlet,
                           stories.c.published, stories.c.first_seen_at, stories.c.signals,
                           stories.c.track_pending, stories.c.duplicate_of)
                    .order_by(stories.c.id))).all()
        finally:
            await core.close()

    assert [r.title for r in rows] == [i.title for i in ITEMS]
    greenlit, box_office, lineup = rows
    assert greenlit.link == "https://one.example/gladiator-greenlit"
    assert greenlit.outlet == "One Outlet"
    assert greenlit.published == T0 - timedelta(days=3)
    assert greenlit.published.tzinfo is not None and greenlit.first_seen_at == T0
    # The classifier's finding, stored as JSON and read back as a list, and already tracked.
    film, status, evidence, confidence = greenlit.signals[0]
    assert str(film).isdigit() and status == "greenlit" and 0 < confidence <= 1
    assert evidence == ITEMS[0].title  # the sentence that proves it
    assert greenlit.track_pending is False
    assert box_office.signals is None and box_office.track_pending is False
    assert lineup.published is None and lineup.link is None and lineup.key
    assert all(r.duplicate_of is None for r in rows)

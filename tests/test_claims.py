"""Claiming due feeds (bot/store/feeds.py ``claim_due``) on both engines, by both of its
paths: one ``UPDATE … RETURNING`` where the engine has it, and select/update/select on
SQLite builds older than 3.35. Both must hand out the same feeds, leased, in the same order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from support import make_config

from bot.service import Greenlight
from bot.store import feeds as feed_store
from bot.store.schema import feeds as feeds_t

NOW = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
LEASE = timedelta(minutes=10)


@pytest.mark.parametrize("returning", [True, False], ids=["returning", "three-statements"])
async def test_claims_lease_feeds_in_due_order_and_never_twice(
    db_url: str, returning: bool
) -> None:
    urls = [f"http://127.0.0.1:9/feed{i}.xml" for i in range(7)]
    core = await Greenlight.open(make_config(db_url, feeds=[{"url": u} for u in urls]), now=NOW)
    try:
        engine = core.engine
        if not returning:
            engine.sync_engine.dialect.update_returning = False
        async with engine.begin() as conn:
            # Feed 6 is the most overdue and feed 5 is not due yet: due order, not id order.
            ids = {r.url: r.id for r in await feed_store.claim_due(conn, NOW, lease=LEASE)}
            await conn.execute(update(feeds_t).values(lease_until=None))
            await conn.execute(update(feeds_t).where(feeds_t.c.id == ids[urls[6]])
                               .values(next_poll_at=NOW - timedelta(hours=2)))
            await conn.execute(update(feeds_t).where(feeds_t.c.id == ids[urls[5]])
                               .values(next_poll_at=NOW + timedelta(minutes=1)))
            await conn.execute(update(feeds_t).where(feeds_t.c.id.not_in([ids[urls[5]],
                                                                          ids[urls[6]]]))
                               .values(next_poll_at=NOW - timedelta(hours=1)))
        async with engine.begin() as conn:
            first = await feed_store.claim_due(conn, NOW, lease=LEASE, limit=3)
        async with engine.begin() as conn:
            second = await feed_store.claim_due(conn, NOW, lease=LEASE, limit=10)
        async with engine.begin() as conn:
            third = await feed_store.claim_due(conn, NOW, lease=LEASE)

        # The most overdue feed goes first; a chunk comes back in id order, with its columns.
        assert urls[6] in {f.url for f in first}
        assert [f.id for f in first] == sorted(f.id for f in first)
        assert all(f.failure_count == 0 and f.etag is None for f in first)
        # Leased feeds are not handed out again; the not-yet-due feed is not handed out at all.
        assert {f.url for f in first}.isdisjoint({f.url for f in second})
        assert {f.url for f in first} | {f.url for f in second} == set(urls) - {urls[5]}
        assert third == []
        # A lease that ran out (a poller died) frees its feeds for the next claim.
        async with engine.begin() as conn:
            again = await feed_store.claim_due(conn, NOW + LEASE + timedelta(seconds=1),
                                               lease=LEASE)
        assert {f.url for f in again} == set(urls)
    finally:
        await core.close()

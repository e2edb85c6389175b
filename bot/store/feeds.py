"""Feed rows: which feeds are due, claiming them, and recording how a fetch went."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import FeedSpec
from bot.store.dialect import insert
from bot.store.schema import feeds, guild_feeds, stories


@dataclass(frozen=True, slots=True)
class FeedRow:
    id: int
    url: str
    name: str | None
    etag: str | None
    last_modified: str | None
    body_hash: str | None
    first_polled_at: datetime | None
    failure_count: int


_ROW_COLUMNS = (
    feeds.c.id,
    feeds.c.url,
    feeds.c.name,
    feeds.c.etag,
    feeds.c.last_modified,
    feeds.c.body_hash,
    feeds.c.first_polled_at,
    feeds.c.failure_count,
)


def watched_by_anyone():  # type: ignore[no-untyped-def]
    """A feed is polled while the config lists it or at least one guild added it."""
    return or_(
        feeds.c.shared.is_(True),
        exists().where(and_(guild_feeds.c.feed_id == feeds.c.id, guild_feeds.c.watching.is_(True))),
    )


async def claim_due(
    conn: AsyncConnection, now: datetime, *, lease: timedelta, limit: int | None = None
) -> list[FeedRow]:
    """Take the due feeds for this process and lease them, so that another poller (on
    PostgreSQL, ``SKIP LOCKED``) does not fetch the same feed in the same interval."""
    due = (
        select(feeds.c.id)
        .where(
            feeds.c.disabled_at.is_(None),
            or_(feeds.c.next_poll_at.is_(None), feeds.c.next_poll_at <= now),
            or_(feeds.c.lease_until.is_(None), feeds.c.lease_until < now),
            watched_by_anyone(),
        )
        .order_by(feeds.c.next_poll_at.is_not(None), feeds.c.next_poll_at, feeds.c.id)
        .with_for_update(skip_locked=True)
    )
    if limit is not None:
        due = due.limit(limit)
    take = update(feeds).values(lease_until=now + lease)
    if conn.dialect.update_returning:
        # One statement instead of select, update and select again: an all-304 cycle is
        # little more than its claims and its fetches, and each statement is a round trip
        # (on SQLite, a hand-over to the database thread).
        rows = (await conn.execute(take.where(feeds.c.id.in_(due.scalar_subquery()))
                                   .returning(*_ROW_COLUMNS))).all()
        return sorted((FeedRow(*r) for r in rows), key=lambda f: f.id)
    ids = list((await conn.execute(due)).scalars())  # SQLite before 3.35 has no RETURNING
    if not ids:
        return []
    await conn.execute(take.where(feeds.c.id.in_(ids)))
    rows = await conn.execute(select(*_ROW_COLUMNS).where(feeds.c.id.in_(ids)).order_by(feeds.c.id))
    return [FeedRow(*r) for r in rows]


async def mark_unchanged_many(
    conn: AsyncConnection, feed_ids: Sequence[int], now: datetime, next_poll: datetime
) -> None:
    """304, or the same body as last time: nothing to parse, these feeds are healthy. One
    statement for all: a steady cycle is mostly 304s, and an UPDATE per feed is a round trip
    per feed."""
    if not feed_ids:
        return
    await conn.execute(
        update(feeds).where(feeds.c.id.in_(list(feed_ids))).values(**_healthy(now, next_poll))
    )


def _healthy(now: datetime, next_poll: datetime) -> dict[str, object]:
    """What any successful poll writes, whether or not the body changed."""
    return {
        "last_polled_at": now,
        "last_success_at": now,
        "first_polled_at": func.coalesce(feeds.c.first_polled_at, now),
        "next_poll_at": next_poll,
        "lease_until": None,
        "failure_count": 0,
        "last_error": None,
    }


@dataclass(frozen=True, slots=True)
class Validators:
    """What a 200 leaves for the next conditional GET and the unchanged-body check."""

    feed_id: int
    etag: str | None
    last_modified: str | None
    body_hash: str


async def mark_fetched_many(
    conn: AsyncConnection, fetched: Sequence[Validators], now: datetime, next_poll: datetime
) -> None:
    """A new body, stored in this transaction: keep its validators for the next conditional
    GET and the unchanged-body check. One executemany for the batch."""
    if not fetched:
        return
    stmt = (
        update(feeds)
        .where(feeds.c.id == bindparam("b_id"))
        .values(
            etag=bindparam("b_etag"),
            last_modified=bindparam("b_lm"),
            body_hash=bindparam("b_hash"),
            **_healthy(now, next_poll),
        )
    )
    await conn.execute(
        stmt,
        [
            {"b_id": v.feed_id, "b_etag": v.etag, "b_lm": v.last_modified, "b_hash": v.body_hash}
            for v in fetched
        ],
    )


async def mark_failed(
    conn: AsyncConnection,
    feed: FeedRow,
    now: datetime,
    next_poll: datetime,
    error: str,
    *,
    disable: bool,
) -> None:
    values: dict[str, object] = {
        "last_polled_at": now,
        "next_poll_at": next_poll,
        "lease_until": None,
        "failure_count": feed.failure_count + 1,
        "last_error": error,
    }
    if disable:
        values["disabled_at"] = now
        values["disabled_reason"] = (
            f"disabled after {feed.failure_count + 1} failed polls in a row; last error: {error}"
        )
    await conn.execute(update(feeds).where(feeds.c.id == feed.id).values(**values))


async def story_counts(conn: AsyncConnection, feed_ids: Sequence[int]) -> dict[int, int]:
    if not feed_ids:
        return {}
    rows = await conn.execute(
        select(stories.c.feed_id, func.count())
        .where(stories.c.feed_id.in_(feed_ids))
        .group_by(stories.c.feed_id)
    )
    return {fid: n for fid, n in rows}


async def sync_config(conn: AsyncConnection, specs: Sequence[FeedSpec], now: datetime) -> None:
    """Shared feeds are exactly the config's; a feed dropped from the config stays (its stories
    and any guild that added it keep it) but is no longer shared."""
    urls = {s.url: s for s in specs}
    rows = await conn.execute(select(feeds.c.id, feeds.c.url, feeds.c.shared, feeds.c.name))
    known = {url: (pk, shared, name) for pk, url, shared, name in rows}
    for url, spec in urls.items():
        if url not in known:
            await conn.execute(
                insert(conn, feeds)
                .values(url=url, name=spec.name, shared=True, added_at=now, failure_count=0)
                .on_conflict_do_nothing(index_elements=["url"])
            )
        elif known[url][1:] != (True, spec.name):
            # Only rows that differ: every process runs this at start, and touching rows
            # that running pollers hold would make them wait (or deadlock) for nothing.
            await conn.execute(
                update(feeds).where(feeds.c.id == known[url][0]).values(shared=True, name=spec.name)
            )
    gone = [pk for url, (pk, shared, _) in known.items() if shared and url not in urls]
    if gone:
        await conn.execute(update(feeds).where(feeds.c.id.in_(gone)).values(shared=False))


def watched_by(guild_id: int):  # type: ignore[no-untyped-def]
    """Feeds this guild watches: shared ones it has not removed, and those it added."""
    mine = (
        select(guild_feeds.c.watching)
        .where(guild_feeds.c.guild_id == guild_id, guild_feeds.c.feed_id == feeds.c.id)
        .scalar_subquery()
    )
    return or_(
        mine.is_(True),
        and_(feeds.c.shared.is_(True), or_(mine.is_(None), mine.is_(True))),
    )


async def set_guild_watching(
    conn: AsyncConnection, guild_id: int, feed_id: int, watching: bool, now: datetime
) -> None:
    stmt = insert(conn, guild_feeds).values(
        guild_id=guild_id, feed_id=feed_id, watching=watching, changed_at=now
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["guild_id", "feed_id"],
            set_={"watching": watching, "changed_at": now},
        )
    )


async def get_or_create(conn: AsyncConnection, url: str, name: str | None, now: datetime) -> int:
    pk = (await conn.execute(select(feeds.c.id).where(feeds.c.url == url))).scalar()
    if pk is not None:
        return int(pk)
    stmt = (
        insert(conn, feeds)
        .values(url=url, name=name, shared=False, added_at=now, failure_count=0)
        .on_conflict_do_nothing(index_elements=["url"])
    )
    await conn.execute(stmt)
    return int((await conn.execute(select(feeds.c.id).where(feeds.c.url == url))).scalar_one())


async def enable(conn: AsyncConnection, feed_id: int) -> None:
    """An admin re-adding a disabled feed gets a fresh start."""
    await conn.execute(
        update(feeds)
        .where(feeds.c.id == feed_id)
        .values(disabled_at=None, disabled_reason=None, failure_count=0, next_poll_at=None)
    )

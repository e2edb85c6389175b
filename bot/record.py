"""Record one batch of fetched feeds: stories (deduplicated), status events, film status and
outbox rows, all in the caller's transaction.

Everything a batch changes — the feeds' "seen" state (ETag, body hash, next poll), the stories,
the events and the outbox rows — is written in one transaction, so a crash at any point either
keeps all of it or none of it: no story is lost, no alert is queued twice.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Integer, Text, and_, bindparam, column, select, update, values
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store import feeds as feed_store
from bot.store.feeds import FeedRow
from bot.store.schema import (
    stories,
)
from bot.types import FetchResult
from bot.work import PreparedFeed, StoryRow

#: Keys per existing-story lookup.
SELECT_CHUNK = 500
#: Rows per multi-row INSERT on SQLite: 11 columns × 500 stays far below SQLite's 32,766
#: bound parameters, and one statement per 500 rows releases the GIL once, not per row.
INSERT_ROWS = 500


@dataclass(slots=True)
class FeedOutcome:
    """One feed's fetch, and — when it returned a new body — that body parsed, classified and
    turned into story rows by a worker (``prepared``)."""

    feed: FeedRow
    fetch: FetchResult
    body_hash: str | None = None
    prepared: PreparedFeed | None = None


@dataclass(frozen=True, slots=True)
class PollPolicy:
    interval: timedelta
    max_backoff: timedelta
    disable_after_failures: int
    dedupe_window: timedelta


@dataclass(slots=True)
class BatchResult:
    alerted_event_ids: list[int] = field(default_factory=list)
    tracked: int = 0
    stories_new: int = 0
    stories_edited: int = 0
    duplicates: int = 0
    events: int = 0
    outbox_rows: int = 0


def next_poll_after_failure(
    policy: PollPolicy, failures: int, retry_after: float | None
) -> timedelta:
    """Exponential backoff from the normal interval, capped; a server's Retry-After wins when
    it asks for longer."""
    backoff = min(policy.max_backoff, policy.interval * (2 ** min(failures - 1, 20)))
    if retry_after is not None:
        backoff = max(
            backoff, timedelta(seconds=min(retry_after, policy.max_backoff.total_seconds()))
        )
    return backoff


async def record_batch(
    conn: AsyncConnection,
    outcomes: Sequence[FeedOutcome],
    *,
    policy: PollPolicy,
    now: datetime,
) -> BatchResult:
    """Store the feeds' new state and their new or edited stories. Stories the classifier found
    signals in are stored with those signals and marked ``track_pending``; the tracking pass
    (``bot.tracking``) reads them in publication order across all feeds once the cycle's
    fetches are in, and clears the mark in the same transaction that records their events."""
    result = BatchResult()
    fresh = await _record_feed_states(conn, outcomes, policy, now)
    if fresh:
        await _store_stories(conn, fresh, now, result)
    return result


async def _record_feed_states(
    conn: AsyncConnection, outcomes: Sequence[FeedOutcome], policy: PollPolicy, now: datetime
) -> list[FeedOutcome]:
    """Write how each fetch went; return the outcomes that carry entries to store.

    Healthy feeds are written with one statement per kind for the whole batch, not one per
    feed: a database round trip per feed was a third of a cold cycle's write time.
    """
    next_poll = now + policy.interval
    unchanged: list[int] = []
    fetched: list[feed_store.Validators] = []
    fresh: list[FeedOutcome] = []
    for out in outcomes:
        feed, fetch = out.feed, out.fetch
        if fetch.not_modified or (fetch.ok and out.prepared is None):
            unchanged.append(feed.id)
            continue
        error = fetch.error or (out.prepared.error if out.prepared is not None else None)
        if error is not None:
            failures = feed.failure_count + 1
            permanent_limit = min(3, policy.disable_after_failures)
            disable = failures >= policy.disable_after_failures or (
                fetch.permanent and failures >= permanent_limit
            )
            delay = next_poll_after_failure(policy, failures, fetch.retry_after)
            await feed_store.mark_failed(conn, feed, now, now + delay, error, disable=disable)
            continue
        fetched.append(
            feed_store.Validators(feed.id, fetch.etag, fetch.last_modified, out.body_hash or "")
        )
        fresh.append(out)
    await feed_store.mark_unchanged_many(conn, unchanged, now, next_poll)
    await feed_store.mark_fetched_many(conn, fetched, now, next_poll)
    return fresh


async def _store_stories(
    conn: AsyncConnection, outcomes: Sequence[FeedOutcome], now: datetime, result: BatchResult
) -> None:
    """Insert new entries and update edited ones."""
    per_feed = [(out.feed, out.prepared.stories) for out in outcomes if out.prepared is not None]
    # Only a feed polled before can have stories: a feed's first successful poll writes its
    # first_polled_at in the same transaction as its first stories. So a cold cycle (every
    # feed new) reads nothing back here.
    lookup = [
        (feed.id, row[0])
        for feed, rows in per_feed
        if feed.first_polled_at is not None
        for row in rows
    ]
    existing: dict[tuple[int, str], tuple[int, str, int | None]] = {}
    for start in range(0, len(lookup), SELECT_CHUNK):
        chunk = lookup[start : start + SELECT_CHUNK]
        for fid, key, sid, chash, dup in await _existing(conn, chunk):
            existing[(fid, key)] = (sid, chash, dup)

    new: list[tuple[int, StoryRow]] = []
    edited: list[dict[str, object]] = []
    for feed, rows in per_feed:
        fid = feed.id
        for row in rows:
            known = existing.get((fid, row[0])) if existing else None
            if known is None:
                new.append((fid, row))
                continue
            sid, old_hash, dup = known
            if old_hash == row[6]:
                continue
            # An edited entry: keep the row (and its id, which events point to), refresh the
            # text, and read it again. Events are unique per (film, story, status), so an edit
            # can never alert the same change twice.
            key, link, title, summary, _outlet, published, chash, sig = row
            edited.append(
                {
                    "b_id": sid,
                    "b_link": link,
                    "b_title": title,
                    "b_summary": summary,
                    "b_published": published,
                    "b_hash": chash,
                    "b_signals": json.loads(sig) if sig else None,
                    "b_pending": sig is not None and dup is None,
                }
            )
    if edited:
        await conn.execute(
            update(stories)
            .where(stories.c.id == bindparam("b_id"))
            .values(
                link=bindparam("b_link"),
                title=bindparam("b_title"),
                summary=bindparam("b_summary"),
                published=bindparam("b_published"),
                content_hash=bindparam("b_hash"),
                signals=bindparam("b_signals"),
                track_pending=bindparam("b_pending"),
            ),
            edited,
        )
        result.stories_edited += len(edited)
    if not new:
        return
    if conn.dialect.name == "sqlite":
        result.stories_new += await _insert_sqlite(conn, new, now)
    else:
        result.stories_new += await _insert_postgresql(conn, new, now)


async def _existing(conn: AsyncConnection, keys: Sequence[tuple[int, str]]) -> Any:
    """The stored (feed_id, key, id, content_hash, duplicate_of) of these (feed_id, key)s.

    Spelled as a join from a VALUES list, so each key is one probe of the unique
    (feed_id, key) index: SQLite plans ``(feed_id, key) IN (VALUES …)`` as a scan of the
    whole stories table per chunk, which made a steady cycle slower the more it had stored.
    """
    if conn.dialect.name == "sqlite":
        sql = _EXISTING_SQL.get(len(keys))
        if sql is None:
            sql = _EXISTING_SQL[len(keys)] = (
                "SELECT s.feed_id, s.key, s.id, s.content_hash, s.duplicate_of FROM (VALUES "
                + ",".join(["(?,?)"] * len(keys))
                + ") AS v CROSS JOIN stories AS s ON s.feed_id = v.column1 AND s.key = v.column2"
            )
        return await conn.exec_driver_sql(sql, tuple(x for k in keys for x in k))
    v = values(column("fid", Integer), column("key", Text), name="v").data(list(keys))
    return await conn.execute(
        select(
            stories.c.feed_id,
            stories.c.key,
            stories.c.id,
            stories.c.content_hash,
            stories.c.duplicate_of,
        ).join_from(v, stories, and_(stories.c.feed_id == v.c.fid, stories.c.key == v.c.key))
    )


_EXISTING_SQL: dict[int, str] = {}
_COLUMNS = (
    "feed_id, key, link, title, summary, outlet, published, first_seen_at, content_hash, "
    "signals, track_pending"
)
_ROW_MARKS = "(?,?,?,?,?,?,?,?,?,?,?)"
_INSERT_SQL: dict[int, str] = {}


def _insert_sql(rows: int) -> str:
    sql = _INSERT_SQL.get(rows)
    if sql is None:
        sql = _INSERT_SQL[rows] = (
            f"INSERT INTO stories ({_COLUMNS}) VALUES "
            + ",".join([_ROW_MARKS] * rows)
            + " ON CONFLICT (feed_id, key) DO NOTHING"
        )
    return sql


def sqlite_datetime(value: datetime | None) -> str | None:
    """A UTC datetime as SQLAlchemy's SQLite DATETIME stores it (``UTCDateTime`` reads it back
    the same way); comparisons and ORDER BY in SQL see the same text either way."""
    if value is None:
        return None
    if value.tzinfo is not UTC:
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use timezone-aware UTC")
        value = value.astimezone(UTC)
    return (
        f"{value.year:04d}-{value.month:02d}-{value.day:02d} "
        f"{value.hour:02d}:{value.minute:02d}:{value.second:02d}.{value.microsecond:06d}"
    )


async def _insert_sqlite(
    conn: AsyncConnection, new: Sequence[tuple[int, StoryRow]], now: datetime
) -> int:
    """The hot path of a cold cycle, on SQLite: multi-row INSERTs bound straight to the
    driver. SQLAlchemy's per-row parameter processing (dicts, type processors for two
    datetimes and the JSON) cost more than SQLite's own work, and ``executemany`` would hand
    the GIL back and forth once per row while the event loop is busy fetching."""
    seen_at = sqlite_datetime(now)
    inserted = 0
    for start in range(0, len(new), INSERT_ROWS):
        chunk = new[start : start + INSERT_ROWS]
        params: list[object] = []
        extend = params.extend
        for fid, (key, link, title, summary, outlet, published, chash, sig) in chunk:
            extend(
                (
                    fid,
                    key,
                    link,
                    title,
                    summary,
                    outlet,
                    sqlite_datetime(published),
                    seen_at,
                    chash,
                    sig,
                    1 if sig is not None else 0,
                )
            )
        res = await conn.exec_driver_sql(_insert_sql(len(chunk)), tuple(params))
        inserted += max(res.rowcount or 0, 0)
    return inserted


# One statement for any number of rows: the columns go as arrays and come back as rows. A
# multi-row VALUES list is new SQL for every row count, which asyncpg prepares (and
# PostgreSQL parses and plans) again for each batch size; this is prepared once per
# connection, and the driver encodes each array in one go instead of SQLAlchemy processing
# each row's parameters (which cost more than PostgreSQL's own work in a cold cycle).
_INSERT_UNNEST = (
    f"INSERT INTO stories ({_COLUMNS}) "
    "SELECT f, k, l, t, s, o, p, $8, h, g::json, g IS NOT NULL FROM unnest("
    "$1::integer[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], "
    "$7::timestamptz[], $9::text[], $10::text[]) AS u(f, k, l, t, s, o, p, h, g) "
    "ON CONFLICT (feed_id, key) DO NOTHING"
)


async def _insert_postgresql(
    conn: AsyncConnection, new: Sequence[tuple[int, StoryRow]], now: datetime
) -> int:
    cols: tuple[list[Any], ...] = ([], [], [], [], [], [], [], [], [])
    fids, keys, links, titles, summaries, outlets, published, hashes, signals = cols
    for fid, (key, link, title, summary, outlet, pub, chash, sig) in new:
        fids.append(fid)
        keys.append(key)
        links.append(link)
        titles.append(title)
        summaries.append(summary)
        outlets.append(outlet)
        published.append(pub)
        hashes.append(chash)
        signals.append(sig)
    res = await conn.exec_driver_sql(
        _INSERT_UNNEST,
        (fids, keys, links, titles, summaries, outlets, published, now, hashes, signals),
    )
    return max(res.rowcount or 0, 0)

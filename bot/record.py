"""Record one batch of fetched feeds: stories (deduplicated), status events, film status and
outbox rows, all in the caller's transaction.

Everything a batch changes — the feeds' "seen" state (ETag, body hash, next poll), the stories,
the events and the outbox rows — is written in one transaction, so a crash at any point either
keeps all of it or none of it: no story is lost, no alert is queued twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store import feeds as feed_store
from bot.store.dialect import insert
from bot.store.feeds import FeedRow
from bot.store.schema import (
    stories,
)
from bot.types import Entry, FetchResult, ParsedFeed, Signal

INSERT_CHUNK = 500


@dataclass(slots=True)
class FeedOutcome:
    """One feed's fetch, and — when it returned a new body — the parsed and classified result.

    ``signals[i]`` are the classifier's findings for ``parsed.entries[i]``.
    """

    feed: FeedRow
    fetch: FetchResult
    parsed: ParsedFeed | None = None
    signals: tuple[tuple[Signal, ...], ...] = ()
    body_hash: str | None = None


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


def content_hash(entry: Entry) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in (entry.title, entry.summary, entry.link or ""):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()


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
        if fetch.not_modified or (fetch.ok and out.parsed is None):
            unchanged.append(feed.id)
            continue
        error = fetch.error or (out.parsed.error if out.parsed else None)
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


def signals_json(signals: Sequence[Signal]) -> list[list[object]]:
    return [[sig.film, sig.status, sig.evidence, sig.confidence] for sig in signals]


async def _store_stories(
    conn: AsyncConnection, outcomes: Sequence[FeedOutcome], now: datetime, result: BatchResult
) -> None:
    """Insert new entries and update edited ones."""
    wanted: dict[tuple[int, str], tuple[Entry, tuple[Signal, ...], str]] = {}
    for out in outcomes:
        assert out.parsed is not None
        for i, entry in enumerate(out.parsed.entries):
            sig = out.signals[i] if i < len(out.signals) else ()
            wanted.setdefault((out.feed.id, entry.key), (entry, sig, content_hash(entry)))
    if not wanted:
        return

    existing: dict[tuple[int, str], tuple[int, str, int | None]] = {}
    keys = list(wanted)
    for start in range(0, len(keys), INSERT_CHUNK):
        chunk = keys[start : start + INSERT_CHUNK]
        rows = await conn.execute(
            select(
                stories.c.feed_id,
                stories.c.key,
                stories.c.id,
                stories.c.content_hash,
                stories.c.duplicate_of,
            ).where(tuple_(stories.c.feed_id, stories.c.key).in_(chunk))
        )
        for fid, key, sid, chash, dup in rows:
            existing[(fid, key)] = (sid, chash, dup)

    new_rows: list[dict[str, object]] = []
    for (fid, key), (entry, sig, chash) in wanted.items():
        known = existing.get((fid, key))
        if known is None:
            new_rows.append(
                {
                    "feed_id": fid,
                    "key": key,
                    "link": entry.link,
                    "title": entry.title,
                    "summary": entry.summary,
                    "outlet": entry.outlet,
                    "published": entry.published,
                    "first_seen_at": now,
                    "content_hash": chash,
                    "signals": signals_json(sig) if sig else None,
                    "track_pending": bool(sig),
                }
            )
            continue
        sid, old_hash, dup = known
        if old_hash == chash:
            continue
        # An edited entry: keep the row (and its id, which events point to), refresh the text,
        # and read it again. Events are unique per (film, story, status), so an edit can never
        # alert the same change twice.
        await conn.execute(
            update(stories)
            .where(stories.c.id == sid)
            .values(
                link=entry.link,
                title=entry.title,
                summary=entry.summary,
                published=entry.published,
                content_hash=chash,
                signals=signals_json(sig) if sig else None,
                track_pending=bool(sig) and dup is None,
            )
        )
        result.stories_edited += 1

    for start in range(0, len(new_rows), INSERT_CHUNK):
        chunk = new_rows[start : start + INSERT_CHUNK]
        stmt = (
            insert(conn, stories)
            .on_conflict_do_nothing(index_elements=["feed_id", "key"])
            .returning(stories.c.id)
        )
        result.stories_new += len((await conn.execute(stmt, chunk)).all())

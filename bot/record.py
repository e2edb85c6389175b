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

from sqlalchemy import and_, exists, literal, not_, or_, select, tuple_, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import dedupe
from bot.store import feeds as feed_store
from bot.store.dialect import insert
from bot.store.feeds import FeedRow
from bot.store.schema import (
    feeds,
    film_status,
    guild_feeds,
    guild_films,
    outbox,
    status_events,
    stories,
    subscriptions,
)
from bot.track import Decision, decide, is_backfill
from bot.types import Entry, FetchResult, ParsedFeed, Signal

INSERT_CHUNK = 500


@dataclass(frozen=True, slots=True)
class FilmInfo:
    pk: int
    key: str
    title: str
    owner_guild_id: int
    added_at: datetime


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
class _Seen:
    """A story already holding an event for a film: what a re-run is compared against."""

    story_id: int
    link: str | None
    published: datetime
    title_words: frozenset[str]
    text_words: frozenset[str]


@dataclass(slots=True)
class BatchResult:
    alerted_event_ids: list[int] = field(default_factory=list)
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
    films: dict[int, FilmInfo],
    policy: PollPolicy,
    now: datetime,
) -> BatchResult:
    result = BatchResult()
    fresh = [out for out in outcomes if await _record_feed_state(conn, out, policy, now)]
    if not fresh:
        return result
    candidates = await _store_stories(conn, fresh, now, result)
    if candidates:
        await _track(conn, candidates, films=films, policy=policy, now=now, result=result)
    return result


async def _record_feed_state(
    conn: AsyncConnection, out: FeedOutcome, policy: PollPolicy, now: datetime
) -> bool:
    """Write how the fetch went; True when the outcome carries entries to store."""
    feed, fetch = out.feed, out.fetch
    next_poll = now + policy.interval
    if fetch.not_modified or (fetch.ok and out.parsed is None):
        await feed_store.mark_unchanged(conn, feed, now, next_poll)
        return False
    error = fetch.error or (out.parsed.error if out.parsed else None)
    if error is not None:
        failures = feed.failure_count + 1
        permanent_limit = min(3, policy.disable_after_failures)
        disable = failures >= policy.disable_after_failures or (
            fetch.permanent and failures >= permanent_limit
        )
        delay = next_poll_after_failure(policy, failures, fetch.retry_after)
        await feed_store.mark_failed(conn, feed, now, now + delay, error, disable=disable)
        return False
    await feed_store.mark_fetched(
        conn,
        feed,
        now,
        next_poll,
        etag=fetch.etag,
        last_modified=fetch.last_modified,
        body_hash=out.body_hash or "",
    )
    return True


@dataclass(slots=True)
class _Candidate:
    story_id: int
    feed: FeedRow
    entry: Entry
    signals: tuple[Signal, ...]


async def _store_stories(
    conn: AsyncConnection, outcomes: Sequence[FeedOutcome], now: datetime, result: BatchResult
) -> list[_Candidate]:
    """Insert new entries, update edited ones; return those the classifier found signals in."""
    wanted: dict[tuple[int, str], tuple[FeedOutcome, Entry, tuple[Signal, ...], str]] = {}
    for out in outcomes:
        assert out.parsed is not None
        for i, entry in enumerate(out.parsed.entries):
            sig = out.signals[i] if i < len(out.signals) else ()
            wanted.setdefault((out.feed.id, entry.key), (out, entry, sig, content_hash(entry)))
    if not wanted:
        return []

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

    candidates: list[_Candidate] = []
    new_rows: list[dict[str, object]] = []
    new_meta: list[tuple[FeedOutcome, Entry, tuple[Signal, ...]]] = []
    for (fid, key), (out, entry, sig, chash) in wanted.items():
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
                }
            )
            new_meta.append((out, entry, sig))
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
            )
        )
        result.stories_edited += 1
        if sig and dup is None:
            candidates.append(_Candidate(sid, out.feed, entry, sig))

    for start in range(0, len(new_rows), INSERT_CHUNK):
        chunk = new_rows[start : start + INSERT_CHUNK]
        meta = new_meta[start : start + INSERT_CHUNK]
        stmt = (
            insert(conn, stories)
            .on_conflict_do_nothing(index_elements=["feed_id", "key"])
            .returning(stories.c.id, stories.c.feed_id, stories.c.key, sort_by_parameter_order=True)
        )
        returned = {(fid, key): sid for sid, fid, key in await conn.execute(stmt, chunk)}
        result.stories_new += len(returned)
        for out, entry, sig in meta:
            sid = returned.get((out.feed.id, entry.key))
            if sid is not None and sig:
                candidates.append(_Candidate(sid, out.feed, entry, sig))
    return candidates


async def _track(
    conn: AsyncConnection,
    candidates: list[_Candidate],
    *,
    films: dict[int, FilmInfo],
    policy: PollPolicy,
    now: datetime,
    result: BatchResult,
) -> None:
    # Oldest first: the first outlet to run a story is the one alerted, re-runs attach to it,
    # and the rules see changes in the order they happened.
    candidates.sort(key=lambda c: (c.entry.published or now, c.story_id))
    film_pks = {int(s.film) for c in candidates for s in c.signals if int(s.film) in films}
    if not film_pks:
        return
    current = {
        fid: status
        for fid, status in await conn.execute(
            select(film_status.c.film_id, film_status.c.status).where(
                film_status.c.film_id.in_(film_pks)
            )
        )
    }
    oldest = min((c.entry.published or now) for c in candidates) - policy.dedupe_window
    seen = await _recent_reports(conn, film_pks, oldest)

    for cand in candidates:
        entry = cand.entry
        published = entry.published or now
        title_words = dedupe.words(entry.title)
        text_words = title_words | dedupe.words(entry.summary)
        signals = [s for s in cand.signals if int(s.film) in films]
        original = _find_original(
            seen,
            signals,
            cand.story_id,
            entry.link,
            published,
            title_words,
            text_words,
            policy.dedupe_window,
        )
        if original is not None:
            await conn.execute(
                update(stories).where(stories.c.id == cand.story_id).values(duplicate_of=original)
            )
            result.duplicates += 1
            continue
        for sig in signals:
            film = films[int(sig.film)]
            backfill = is_backfill(
                entry.published,
                film_added=film.added_at,
                feed_first_polled=cand.feed.first_polled_at,
                now=now,
            )
            before = current.get(film.pk)
            decision = decide(before, sig.status, backfill=backfill)
            if not decision.record:
                continue
            event_id = await _insert_event(
                conn, film.pk, cand.story_id, before, sig, decision, entry, now
            )
            if event_id is None:
                continue
            result.events += 1
            seen.setdefault(film.pk, []).append(
                _Seen(cand.story_id, entry.link, published, title_words, text_words)
            )
            if decision.advance:
                await _set_status(conn, film.pk, sig.status, published, event_id)
                current[film.pk] = sig.status
            if decision.alert:
                result.alerted_event_ids.append(event_id)
                result.outbox_rows += await fan_out(conn, event_id, film, cand.feed.id, now)


def _find_original(
    seen: dict[int, list[_Seen]],
    signals: Sequence[Signal],
    story_id: int,
    link: str | None,
    published: datetime,
    title_words: frozenset[str],
    text_words: frozenset[str],
    window: timedelta,
) -> int | None:
    for sig in signals:
        for prior in seen.get(int(sig.film), ()):
            if prior.story_id == story_id or abs(prior.published - published) > window:
                continue
            if (link is not None and link == prior.link) or dedupe.same_story(
                title_words, text_words, prior.title_words, prior.text_words
            ):
                return prior.story_id
    return None


async def _recent_reports(
    conn: AsyncConnection, film_pks: set[int], since: datetime
) -> dict[int, list[_Seen]]:
    rows = await conn.execute(
        select(
            status_events.c.film_id,
            stories.c.id,
            stories.c.link,
            stories.c.title,
            stories.c.summary,
            stories.c.published,
            stories.c.first_seen_at,
        )
        .join(stories, stories.c.id == status_events.c.story_id)
        .where(
            status_events.c.film_id.in_(film_pks),
            or_(stories.c.published >= since, stories.c.published.is_(None)),
            stories.c.duplicate_of.is_(None),
        )
    )
    seen: dict[int, list[_Seen]] = {}
    for fid, sid, link, title, summary, published, first_seen in rows:
        tw = dedupe.words(title)
        seen.setdefault(fid, []).append(
            _Seen(sid, link, published or first_seen, tw, tw | dedupe.words(summary))
        )
    return seen


async def _insert_event(
    conn: AsyncConnection,
    film_pk: int,
    story_id: int,
    before: str | None,
    sig: Signal,
    decision: Decision,
    entry: Entry,
    now: datetime,
) -> int | None:
    stmt = (
        insert(conn, status_events)
        .values(
            film_id=film_pk,
            story_id=story_id,
            from_status=before,
            to_status=sig.status,
            evidence=sig.evidence,
            confidence=sig.confidence,
            published=entry.published,
            recorded_at=now,
            alerted=decision.alert,
            note=decision.note,
        )
        .on_conflict_do_nothing(index_elements=["film_id", "story_id", "to_status"])
        .returning(status_events.c.id)
    )
    return (await conn.execute(stmt)).scalar()


async def _set_status(
    conn: AsyncConnection, film_pk: int, status: str, since: datetime, event_id: int
) -> None:
    stmt = insert(conn, film_status).values(
        film_id=film_pk, status=status, since=since, event_id=event_id
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=["film_id"],
        set_={"status": status, "since": since, "event_id": event_id},
    )
    await conn.execute(stmt)


async def fan_out(
    conn: AsyncConnection, event_id: int, film: FilmInfo, feed_id: int, now: datetime
) -> int:
    """One outbox row per subscription that should hear of this change: its guild watches the
    film and the feed the story came from, and it is for every film or this one. The unique
    (event, subscription) key makes a second fan-out of the same event a no-op."""
    sub = subscriptions
    if film.owner_guild_id:
        watches_film = sub.c.guild_id == film.owner_guild_id
    else:
        watches_film = not_(
            exists().where(
                and_(
                    guild_films.c.guild_id == sub.c.guild_id,
                    guild_films.c.film_id == film.pk,
                    guild_films.c.watching.is_(False),
                )
            )
        )
    shared_feed = select(feeds.c.shared).where(feeds.c.id == feed_id).scalar_subquery()
    watches_feed = or_(
        and_(
            shared_feed.is_(True),
            not_(
                exists().where(
                    and_(
                        guild_feeds.c.guild_id == sub.c.guild_id,
                        guild_feeds.c.feed_id == feed_id,
                        guild_feeds.c.watching.is_(False),
                    )
                )
            ),
        ),
        exists().where(
            and_(
                guild_feeds.c.guild_id == sub.c.guild_id,
                guild_feeds.c.feed_id == feed_id,
                guild_feeds.c.watching.is_(True),
            )
        ),
    )
    source = select(
        literal(event_id),
        sub.c.id,
        sub.c.guild_id,
        sub.c.channel_id,
        sub.c.role_id,
        literal(now, type_=outbox.c.created_at.type),
        literal("pending"),
        literal(0),
        literal(now, type_=outbox.c.next_attempt_at.type),
    ).where(
        sub.c.disabled_at.is_(None),
        or_(sub.c.scope == "*", sub.c.scope == str(film.pk)),
        watches_film,
        watches_feed,
    )
    stmt = (
        insert(conn, outbox)
        .from_select(
            [
                "event_id",
                "subscription_id",
                "guild_id",
                "channel_id",
                "role_id",
                "created_at",
                "state",
                "attempts",
                "next_attempt_at",
            ],
            source,
        )
        .on_conflict_do_nothing(index_elements=["event_id", "subscription_id"])
    )
    res = await conn.execute(stmt)
    return max(res.rowcount or 0, 0)

"""The tracking pass: read the stories a cycle stored with signals, oldest first across all
feeds, and turn them into status events, film status and outbox rows.

It runs after a cycle's fetches are in, so the rules see changes in the order they were
published whatever order the feeds answered in. Stories wait in the database
(``track_pending``) rather than in memory: a poller that dies between storing and tracking
leaves them for the next pass, and the mark is cleared in the same transaction that records
their events. On PostgreSQL an advisory lock makes one poller track at a time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, exists, literal, not_, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot import dedupe
from bot.record import BatchResult, PollPolicy
from bot.store.dialect import insert
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
from bot.types import Signal

TRACK_LOCK_KEY = 0x67726E74726B  # shared by every poller of one database
TRACK_CHUNK = 2000
#: Stories the tracking pass reads between two turns of the event loop.
YIELD_EVERY = 100


@dataclass(frozen=True, slots=True)
class FilmInfo:
    pk: int
    key: str
    title: str
    owner_guild_id: int
    added_at: datetime


@dataclass(slots=True)
class _Seen:
    """A story already holding an event for a film: what a re-run is compared against."""

    story_id: int
    link: str | None
    published: datetime
    title_words: frozenset[str]
    text_words: frozenset[str]


@dataclass(slots=True)
class _Pending:
    story_id: int
    feed_id: int
    link: str | None
    title: str
    summary: str
    published: datetime | None
    first_seen_at: datetime
    signals: tuple[Signal, ...]


async def track_pending(
    conn: AsyncConnection,
    *,
    films: dict[int, FilmInfo],
    policy: PollPolicy,
    now: datetime,
) -> BatchResult:
    """Track up to TRACK_CHUNK pending stories; call again while it reports work done."""
    result = BatchResult()
    if conn.dialect.name == "postgresql":
        await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": TRACK_LOCK_KEY})
    order = (stories.c.published.is_(None), stories.c.published, stories.c.first_seen_at)
    rows = list(
        await conn.execute(
            select(
                stories.c.id,
                stories.c.feed_id,
                stories.c.link,
                stories.c.title,
                stories.c.summary,
                stories.c.published,
                stories.c.first_seen_at,
                stories.c.signals,
            )
            .where(stories.c.track_pending.is_(True))
            .order_by(*order, stories.c.id)
            .limit(TRACK_CHUNK)
        )
    )
    if not rows:
        return result
    pending = [
        _Pending(sid, fid, link, title, summary, pub, seen, _signals(raw))
        for sid, fid, link, title, summary, pub, seen, raw in rows
    ]
    await conn.execute(
        update(stories)
        .where(stories.c.id.in_([p.story_id for p in pending]))
        .values(track_pending=False)
    )
    result.tracked = len(pending)
    first_polls = dict(
        (
            await conn.execute(
                select(feeds.c.id, feeds.c.first_polled_at).where(
                    feeds.c.id.in_({p.feed_id for p in pending})
                )
            )
        ).all()
    )
    await _track(conn, pending, first_polls, films=films, policy=policy, now=now, result=result)
    return result


def _signals(raw: object) -> tuple[Signal, ...]:
    if not isinstance(raw, list):
        return ()
    return tuple(Signal(str(f), str(s), str(e), float(c)) for f, s, e, c in raw)


async def _track(
    conn: AsyncConnection,
    pending: list[_Pending],
    first_polls: dict[int, datetime | None],
    *,
    films: dict[int, FilmInfo],
    policy: PollPolicy,
    now: datetime,
    result: BatchResult,
) -> None:
    film_pks = {int(s.film) for p in pending for s in p.signals if int(s.film) in films}
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
    oldest = min((p.published or p.first_seen_at) for p in pending) - policy.dedupe_window
    seen = await _recent_reports(conn, film_pks, oldest)
    # Written once at the end, in this transaction: nothing below reads duplicate_of back.
    duplicates: list[dict[str, int]] = []
    # Events too: the decisions above read only `current` and `seen`, kept here as the rows
    # would leave them. The unique (film, story, status) key is checked up front, so a
    # story read again skips its event exactly as the insert's ON CONFLICT would.
    recorded = await _recorded_events(conn, [p.story_id for p in pending])
    new_events: list[_NewEvent] = []

    for n, story in enumerate(pending, 1):
        if n % YIELD_EVERY == 0:
            # A chunk is ~0.1 s of word sets and comparisons with no database call between
            # them now that events are inserted together: let the gateway and fetches run.
            await asyncio.sleep(0)
        published = story.published or story.first_seen_at
        title_words = dedupe.words(story.title)
        text_words = title_words | dedupe.words(story.summary)
        signals = [s for s in story.signals if int(s.film) in films]
        original = _find_original(
            seen,
            signals,
            story.story_id,
            story.link,
            published,
            title_words,
            text_words,
            policy.dedupe_window,
        )
        if original is not None:
            # The same story re-run by another outlet: "also reported by", never a new alert.
            duplicates.append({"b_id": story.story_id, "b_original": original})
            result.duplicates += 1
            continue
        for sig in signals:
            film = films[int(sig.film)]
            backfill = is_backfill(
                story.published,
                first_seen=story.first_seen_at,
                film_added=film.added_at,
                feed_first_polled=first_polls.get(story.feed_id),
            )
            before = current.get(film.pk)
            decision = decide(before, sig.status, backfill=backfill)
            if not decision.record:
                continue
            key = (film.pk, story.story_id, sig.status)
            if key in recorded:
                continue  # this story's event is in already (the story was edited, or re-read)
            recorded.add(key)
            new_events.append(_NewEvent(film, story, before, sig, decision))
            seen.setdefault(film.pk, []).append(
                _Seen(story.story_id, story.link, published, title_words, text_words)
            )
            if decision.advance:
                current[film.pk] = sig.status
    await _record_events(conn, new_events, now, result)
    if duplicates:
        await conn.execute(
            update(stories)
            .where(stories.c.id == bindparam("b_id"))
            .values(duplicate_of=bindparam("b_original")),
            duplicates,
        )


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


@dataclass(frozen=True, slots=True)
class _NewEvent:
    film: FilmInfo
    story: _Pending
    before: str | None
    signal: Signal
    decision: Decision


async def _recorded_events(
    conn: AsyncConnection, story_ids: Sequence[int]
) -> set[tuple[int, int, str]]:
    rows = await conn.execute(
        select(status_events.c.film_id, status_events.c.story_id, status_events.c.to_status)
        .where(status_events.c.story_id.in_(story_ids))
    )
    return {(f, s, t) for f, s, t in rows}


async def _record_events(
    conn: AsyncConnection, new: Sequence[_NewEvent], now: datetime, result: BatchResult
) -> None:
    """Insert a chunk's events in one statement (in decision order, so ids keep publication
    order), then each film's final status (its last advancing event) and the alerted
    events' outbox rows."""
    if not new:
        return
    rows = await conn.execute(
        insert(conn, status_events)
        .returning(status_events.c.id, status_events.c.film_id, status_events.c.story_id,
                   status_events.c.to_status),
        [
            {
                "film_id": e.film.pk,
                "story_id": e.story.story_id,
                "from_status": e.before,
                "to_status": e.signal.status,
                "evidence": e.signal.evidence,
                "confidence": e.signal.confidence,
                "published": e.story.published,
                "recorded_at": now,
                "alerted": e.decision.alert,
                "note": e.decision.note,
            }
            for e in new
        ],
    )
    # RETURNING promises no row order: match ids up by the unique key.
    ids = {(f, s, t): i for i, f, s, t in rows}
    event_ids = [ids[(e.film.pk, e.story.story_id, e.signal.status)] for e in new]
    result.events += len(new)
    final = {e.film.pk: (e, i) for e, i in zip(new, event_ids, strict=True) if e.decision.advance}
    for film_pk, (e, event_id) in final.items():
        status, since = e.signal.status, e.story.published or e.story.first_seen_at
        stmt = insert(conn, film_status).values(
            film_id=film_pk, status=status, since=since, event_id=event_id
        )
        await conn.execute(stmt.on_conflict_do_update(
            index_elements=["film_id"],
            set_={"status": status, "since": since, "event_id": event_id},
        ))
    for e, event_id in zip(new, event_ids, strict=True):
        if e.decision.alert:
            result.alerted_event_ids.append(event_id)
            result.outbox_rows += await fan_out(conn, event_id, e.film, e.story.feed_id, now)


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

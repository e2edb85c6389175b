"""One poll cycle: claim due feeds, fetch them concurrently, parse and classify in worker
processes, and record the results in batched transactions as they arrive."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.ext.asyncio import AsyncEngine

from bot.fetch import Fetcher
from bot.record import BatchResult, FeedOutcome, PollPolicy, record_batch
from bot.store import feeds as feed_store
from bot.store.feeds import FeedRow
from bot.tracking import TRACK_CHUNK, FilmInfo, track_pending
from bot.types import FetchResult, FilmRef
from bot.work import exit_with_parent, parse_for_store

log = logging.getLogger(__name__)

BATCH_FEEDS = 64
#: How long the writer waits for a batch to fill, in seconds.
BATCH_WAIT = 0.25
#: Fetched feeds waiting for the writer, at most.
QUEUE_FEEDS = 2 * BATCH_FEEDS
CLAIM_CHUNK = 100
LEASE = timedelta(minutes=10)


@dataclass(slots=True)
class CycleReport:
    feeds: int = 0
    fetched: int = 0
    not_modified: int = 0
    unchanged_body: int = 0
    failed: int = 0
    stories_new: int = 0
    stories_edited: int = 0
    duplicates: int = 0
    events: int = 0
    outbox_rows: int = 0
    alerted_event_ids: list[int] = field(default_factory=list)

    def add(self, batch: BatchResult) -> None:
        self.stories_new += batch.stories_new
        self.stories_edited += batch.stories_edited
        self.duplicates += batch.duplicates
        self.events += batch.events
        self.outbox_rows += batch.outbox_rows
        self.alerted_event_ids.extend(batch.alerted_event_ids)


def make_parse_pool(workers: int) -> ProcessPoolExecutor:
    """Parsing is CPU-bound: one worker per core. ``forkserver`` keeps workers from inheriting
    the event loop, sockets and threads of the parent."""
    size = workers or os.cpu_count() or 1
    return ProcessPoolExecutor(
        max_workers=size,
        mp_context=multiprocessing.get_context("forkserver"),
        initializer=exit_with_parent,
        initargs=(os.getpid(),),
    )


class Poller:
    def __init__(
        self,
        engine: AsyncEngine,
        fetcher: Fetcher,
        pool: Executor,
        policy: PollPolicy,
        films: Callable[[], tuple[dict[int, FilmInfo], tuple[FilmRef, ...]]],
        *,
        concurrency: int = 64,
        lease: timedelta = LEASE,
        per_host: int | None = None,
    ) -> None:
        self._engine = engine
        self._fetcher = fetcher
        self._pool = pool
        self._policy = policy
        self._films = films
        self._concurrency = concurrency
        # Fetches at once per host; by default the fetcher's own per-host connection limit.
        self._per_host = max(1, per_host or _fetcher_per_host(fetcher))
        self._lease = lease
        self._write_lock = asyncio.Lock()

    async def cycle(self, now: datetime, *, limit: int | None = None) -> CycleReport:
        """Claim due feeds a chunk at a time until none is left, so that several pollers on
        one PostgreSQL database share a cycle's feeds instead of the first taking them all."""
        report = CycleReport()
        film_info, film_refs = self._films()
        # Bounded: when the writer falls behind, finished feeds wait here (holding their task
        # open, so the producer claims no more) instead of piling up parsed stories in memory.
        queue: asyncio.Queue[FeedOutcome | None] = asyncio.Queue(maxsize=QUEUE_FEEDS)
        sem = asyncio.Semaphore(self._concurrency)
        hosts: dict[str, asyncio.Semaphore] = {}

        async def one(feed: FeedRow) -> None:
            try:
                # A host's turn first, then a fetch slot: a feed queued behind its host's other
                # feeds holds no slot, and the fetcher's deadline (which counts any wait for a
                # pooled connection) starts only once a connection is free for it. Both are
                # held through the parse too: when parsing is what limits, fetching ahead of
                # it only piles up bodies (~200 KB each) and bursts of work in this loop (a
                # version that let go after the fetch had 4 × the loop lag at p99).
                async with self._host_slot(hosts, feed.url), sem:
                    outcome = await self._fetch_and_parse(feed, film_refs, report)
            except Exception as e:  # a bug in one feed's path must not stop the cycle
                log.exception("polling %s failed", feed.url)
                outcome = _failed(feed, f"internal error while polling: {e!r}")
            await queue.put(outcome)

        async def produce() -> None:
            tasks: list[asyncio.Task[None]] = []
            pending: set[asyncio.Task[None]] = set()
            try:
                while limit is None or report.feeds < limit:
                    size = CLAIM_CHUNK if limit is None else min(CLAIM_CHUNK, limit - report.feeds)
                    async with self._write_lock, self._engine.begin() as conn:
                        due = await feed_store.claim_due(conn, now, lease=self._lease, limit=size)
                    if not due:
                        break
                    report.feeds += len(due)
                    for f in due:
                        task = asyncio.create_task(one(f))
                        tasks.append(task)
                        pending.add(task)
                        task.add_done_callback(pending.discard)
                    # Claim the next chunk only when this one is mostly under way: a poller
                    # should not hoard feeds it cannot fetch yet. Wait on the pending tasks
                    # only: waiting on all of them (done ones return at once) spun the loop
                    # over every task of the cycle, O(feeds²) at 5,000 feeds.
                    while len(pending) > self._concurrency:
                        await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
                await asyncio.gather(*tasks)
            finally:
                await queue.put(None)

        producer = asyncio.create_task(produce())
        try:
            await self._consume(queue, now, report)
        finally:
            await producer
        await self.track(film_info, now, report)
        return report

    async def track(self, films: dict[int, FilmInfo], now: datetime, report: CycleReport) -> None:
        """Read every story waiting for tracking (this cycle's, and any a crashed poller
        left), oldest first."""
        while True:
            async with self._write_lock, self._engine.begin() as conn:
                result = await track_pending(conn, films=films, policy=self._policy, now=now)
            report.add(result)
            if result.tracked < TRACK_CHUNK:
                return

    def _host_slot(self, hosts: dict[str, asyncio.Semaphore], url: str) -> asyncio.Semaphore:
        try:
            parts = urlsplit(url)
            key = f"{parts.scheme}://{(parts.hostname or '').lower()}:{parts.port}"
        except ValueError:
            key = url  # the fetcher will report the bad URL; it needs no company
        sem = hosts.get(key)
        if sem is None:
            sem = hosts[key] = asyncio.Semaphore(self._per_host)
        return sem

    async def _fetch_and_parse(
        self, feed: FeedRow, films: tuple[FilmRef, ...], report: CycleReport
    ) -> FeedOutcome:
        fetched = await self._fetcher.fetch(
            feed.url, etag=feed.etag, last_modified=feed.last_modified
        )
        if fetched.not_modified:
            report.not_modified += 1
            return FeedOutcome(feed, fetched)
        if not fetched.ok or fetched.body is None:
            report.failed += 1
            return FeedOutcome(feed, fetched)
        report.fetched += 1
        body_hash = hashlib.blake2b(fetched.body, digest_size=16).hexdigest()
        body = fetched.body
        # From here on only the fetch's status and validators are needed: do not keep ~200 KB
        # per feed alive while it waits for the writer.
        fetched = replace(fetched, body=None)
        if body_hash == feed.body_hash:
            # Servers that ignore conditional GET still send the same bytes: skip the parse.
            report.unchanged_body += 1
            return FeedOutcome(feed, fetched, body_hash=body_hash)
        loop = asyncio.get_running_loop()
        prepared = await loop.run_in_executor(
            self._pool, parse_for_store, body, fetched.final_url, feed.name, films
        )
        if prepared.error:
            report.failed += 1
        return FeedOutcome(feed, fetched, body_hash=body_hash, prepared=prepared)

    async def _consume(
        self,
        queue: asyncio.Queue[FeedOutcome | None],
        now: datetime,
        report: CycleReport,
    ) -> None:
        loop = asyncio.get_running_loop()
        # A get that outlived its wait is kept for the next one, not cancelled: a cancelled
        # get racing an arriving item is how a queue loses that item.
        getter: asyncio.Task[FeedOutcome | None] | None = None

        async def take(within: float | None) -> FeedOutcome | _Timeout | None:
            nonlocal getter
            if getter is None:
                if not queue.empty():
                    return queue.get_nowait()
                getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait((getter,), timeout=within)
            if not done:
                return _TIMEOUT
            item, getter = getter.result(), None
            return item

        try:
            done = False
            while not done:
                item = await take(None)
                if item is None or isinstance(item, _Timeout):
                    break
                batch = [item]
                # Take whatever else arrives within BATCH_WAIT: one transaction for many feeds.
                # Every transaction costs a BEGIN, a COMMIT and round trips on the cores the
                # parse workers need; with several pollers each sees a share of the feeds, and a
                # short wait made their batches a feed or two long.
                deadline = loop.time() + BATCH_WAIT
                while len(batch) < BATCH_FEEDS:
                    nxt = await take(max(0.0, deadline - loop.time()))
                    if isinstance(nxt, _Timeout):
                        break
                    if nxt is None:
                        done = True
                        break
                    batch.append(nxt)
                async with self._write_lock, self._engine.begin() as conn:
                    result = await record_batch(conn, batch, policy=self._policy, now=now)
                report.add(result)
        finally:
            if getter is not None:
                getter.cancel()


class _Timeout:
    """What the writer's ``take`` returns when nothing arrived in time."""


_TIMEOUT = _Timeout()


def _fetcher_per_host(fetcher: Fetcher) -> int:
    cfg = getattr(fetcher, "_cfg", None)
    limit = getattr(cfg, "max_connections_per_host", 0)
    return limit if isinstance(limit, int) and limit > 0 else 4


def _failed(feed: FeedRow, error: str) -> FeedOutcome:
    return FeedOutcome(feed, FetchResult(url=feed.url, final_url=feed.url, status=0, error=error))

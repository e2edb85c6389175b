"""The systems the benchmark runs over the same feeds, each in a fresh process of its own
(``python -m bench.systems SYSTEM --feeds N --base URL``, one JSON object on stdout), so each
one's peak memory is its own and starts from nothing:

* ``greenlight``: the real core (``Greenlight.open`` / ``poll_once``) on a SQLite file;
* ``naive``: what a first attempt looks like: aiohttp, feedparser with its defaults run in
  the event loop, no conditional GET, one commit per feed;
* ``reader``: lemon24/reader's ``update_feeds`` (optional dependency ``reader``);
* ``micro``: the classifier and the store on their own, and the parsers per feed.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import sqlite3
import sys
import tempfile
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.generate import FILMS, T0, render_feed
from bench.measure import Cycle, MemorySampler, keep_median, measured_async, measured_sync
from bench.server import feed_urls

#: Share of feeds that change between the cold and the steady cycle.
CHANGED = 0.10
#: Share of feeds whose server ignores conditional GET in the steady cycle.
IGNORING = 0.20
INTERVAL = timedelta(seconds=900)
#: All-304 cycles per system; the median is the figure (bench/measure.py keep_median).
ALL_304_RUNS = 3


def control(base: str, action: str, **query: float) -> dict[str, Any]:
    qs = "&".join(f"{k}={v}" for k, v in query.items())
    req = urllib.request.Request(f"{base}/_bench/{action}?{qs}", method="POST", data=b"")
    with urllib.request.urlopen(req, timeout=60) as resp:
        return dict(json.loads(resp.read()))


def film_refs() -> tuple[Any, ...]:
    from bot.types import FilmRef

    return tuple(
        FilmRef(
            id=str(f["id"]),
            title=str(f["title"]),
            aliases=tuple(f.get("aliases", ())),  # type: ignore[arg-type]
            originals=tuple(f.get("originals", ())),  # type: ignore[arg-type]
        )
        for f in FILMS
    )


# --- Greenlight ----------------------------------------------------------------------------


def greenlight_config(db: Path, urls: list[str], per_host: int) -> Any:
    from bot.config import from_mapping

    data = {
        "database": {"url": f"sqlite+aiosqlite:///{db}"},
        "fetch": {
            "allow_private_networks": True,
            # Every bench feed lives on 127.0.0.1; in the field they are spread over hundreds
            # of hosts. See bench/README.md for why this is raised here.
            "max_connections_per_host": per_host,
        },
        "poll": {"parse_workers": 0, "interval": INTERVAL.total_seconds()},
        "films": [dict(f) for f in FILMS],
        "feeds": [{"url": u} for u in urls],
    }
    return from_mapping(data, None, env={})


async def run_greenlight(base: str, n: int, per_host: int) -> dict[str, Any]:
    from bot.runner import settle_heap
    from bot.service import Greenlight
    from bot.work import parse_and_classify

    urls = feed_urls(base, n)
    out: dict[str, Any] = {"system": "greenlight", "feeds": n}
    with tempfile.TemporaryDirectory() as tmp, MemorySampler() as mem:
        core = await Greenlight.open(greenlight_config(Path(tmp) / "gl.db", urls, per_host), now=T0)
        try:
            # A running bot has its pool up long before a cycle: start the workers and load
            # the parser and classifier in each, untimed.
            pool = core._parse_pool()
            small = render_feed(0, 0)[:6000] + b"</channel></rss>"
            loop = asyncio.get_running_loop()
            refs = film_refs()
            workers = core.config.poll.parse_workers or os.cpu_count() or 1
            await asyncio.gather(
                *(
                    loop.run_in_executor(pool, parse_and_classify, small, urls[0], None, refs)
                    for _ in range(workers * 2)
                )
            )
            await asyncio.sleep(0.2)
            # As `poll` and `run` do before their first cycle (bot/runner.py).
            settle_heap()

            cycles: list[Cycle] = []

            async def cycle(name: str, now: Any) -> None:
                c = Cycle(name)
                async with measured_async(c):
                    alerts = await core.poll_once(now)
                rep = core.last_report
                assert rep is not None
                c.figures.update(
                    feeds_per_s=round(n / c.figures["wall_s"], 1),
                    stories_new=rep.stories_new,
                    stories_per_s=round(rep.stories_new / c.figures["wall_s"], 1),
                    fetched=rep.fetched,
                    not_modified=rep.not_modified,
                    unchanged_body=rep.unchanged_body,
                    failed=rep.failed,
                    events=rep.events,
                    duplicates=rep.duplicates,
                    alerts=len(alerts),
                )
                cycles.append(c)

            await cycle("cold", T0)
            control(base, "advance", fraction=CHANGED)
            control(base, "ignore", fraction=IGNORING)
            await cycle("steady", T0 + INTERVAL)
            control(base, "ignore", fraction=0)
            for i in range(ALL_304_RUNS):
                await cycle("all_304", T0 + (2 + i) * INTERVAL)
            keep_median(cycles, "all_304")
        finally:
            await core.close()
    out["cycles"] = {c.name: c.figures for c in cycles}
    out["memory"] = mem.summary()
    return out


# --- naive baseline ------------------------------------------------------------------------

_NAIVE_SCHEMA = """
CREATE TABLE IF NOT EXISTS stories (
    feed TEXT NOT NULL, key TEXT NOT NULL, link TEXT, title TEXT, summary TEXT,
    published TEXT, film TEXT, status TEXT, PRIMARY KEY (feed, key)
)
"""


async def run_naive(base: str, n: int) -> dict[str, Any]:
    """The straightforward bot: fetch everything concurrently, and in each fetch's coroutine
    parse with feedparser's defaults, classify and insert, committing per feed."""
    import aiohttp
    import feedparser

    from bot.classify import Classifier

    urls = feed_urls(base, n)
    classifier = Classifier(film_refs())
    out: dict[str, Any] = {"system": "naive", "feeds": n}
    cycles: list[Cycle] = []
    with tempfile.TemporaryDirectory() as tmp, MemorySampler() as mem:
        db = sqlite3.connect(Path(tmp) / "naive.db")
        db.execute(_NAIVE_SCHEMA)
        async with aiohttp.ClientSession() as session:
            sem = asyncio.Semaphore(64)

            async def one(url: str) -> int:
                async with sem, session.get(url) as resp:
                    body = await resp.read()
                d = feedparser.parse(io.BytesIO(body))
                stored = 0
                for e in d.entries:
                    title = e.get("title", "")
                    summary = e.get("summary", "")
                    signals = classifier.classify(title, summary, None)
                    cur = db.execute(
                        "INSERT OR IGNORE INTO stories VALUES (?,?,?,?,?,?,?,?)",
                        (
                            url,
                            e.get("id") or e.get("link") or title,
                            e.get("link"),
                            title,
                            summary,
                            e.get("published"),
                            signals[0].film if signals else None,
                            signals[0].status if signals else None,
                        ),
                    )
                    stored += cur.rowcount
                db.commit()
                return stored

            async def cycle(name: str) -> None:
                c = Cycle(name)
                async with measured_async(c):
                    stored = sum(await asyncio.gather(*(one(u) for u in urls)))
                c.figures.update(
                    feeds_per_s=round(n / c.figures["wall_s"], 1),
                    stories_new=stored,
                    stories_per_s=round(stored / c.figures["wall_s"], 1),
                )
                cycles.append(c)

            await cycle("cold")
            control(base, "advance", fraction=CHANGED)
            control(base, "ignore", fraction=IGNORING)
            # No conditional GET: the steady cycle downloads and parses every feed again, and
            # an all-304 cycle would cost the same, so it is not run.
            await cycle("steady")
        db.close()
    out["cycles"] = {c.name: c.figures for c in cycles}
    out["memory"] = mem.summary()
    return out


# --- lemon24/reader ------------------------------------------------------------------------


def run_reader(base: str, n: int) -> dict[str, Any]:
    try:
        import reader as reader_mod
    except ImportError as e:
        return {"system": "reader", "feeds": n, "unavailable": f"reader is not installed ({e})"}
    urls = feed_urls(base, n)
    out: dict[str, Any] = {
        "system": "reader",
        "feeds": n,
        "version": getattr(reader_mod, "__version__", "?"),
    }
    cycles: list[Cycle] = []
    with tempfile.TemporaryDirectory() as tmp, MemorySampler() as mem:
        r = reader_mod.make_reader(str(Path(tmp) / "reader.db"))
        for u in urls:
            r.add_feed(u)

        def cycle(name: str) -> None:
            c = Cycle(name)
            before = r.get_entry_counts().total
            with measured_sync(c):
                # scheduled=False: update every feed now, as the other systems do.
                r.update_feeds(scheduled=False)
            stored = r.get_entry_counts().total - before
            c.figures.update(
                feeds_per_s=round(n / c.figures["wall_s"], 1),
                stories_new=stored,
                stories_per_s=round(stored / c.figures["wall_s"], 1),
            )
            cycles.append(c)

        cycle("cold")
        control(base, "advance", fraction=CHANGED)
        control(base, "ignore", fraction=IGNORING)
        cycle("steady")
        control(base, "ignore", fraction=0)
        for _ in range(ALL_304_RUNS):
            cycle("all_304")
        keep_median(cycles, "all_304")
        r.close()
    out["cycles"] = {c.name: c.figures for c in cycles}
    out["memory"] = mem.summary()
    return out


# --- components on their own ---------------------------------------------------------------


async def run_micro(feeds: int = 40) -> dict[str, Any]:
    """Per-feed parse cost of each parser, the classifier's stories/s on one core, and the
    store's batched insert rate on SQLite (record_batch, as the poller calls it)."""
    import feedparser

    from bot.classify import Classifier
    from bot.parse import parse_feed

    bodies = [render_feed(f, 0) for f in range(feeds)]
    out: dict[str, Any] = {"system": "micro", "feed_bytes": sum(map(len, bodies)) // feeds}

    def per_feed(fn: Any) -> float:
        t = time.perf_counter()
        for b in bodies:
            fn(b)
        return round((time.perf_counter() - t) / len(bodies) * 1000, 2)

    out["parse_ms"] = {
        "feedparser_defaults": per_feed(lambda b: feedparser.parse(io.BytesIO(b))),
        "feedparser_no_sanitize": per_feed(
            lambda b: feedparser.parse(
                io.BytesIO(b), sanitize_html=False, resolve_relative_uris=False
            )
        ),
        "parse_feed": per_feed(lambda b: parse_feed(b, "http://127.0.0.1/feed.xml")),
    }
    try:
        from lxml import etree

        out["parse_ms"]["bare_lxml"] = per_feed(
            lambda b: [
                (i.findtext("title"), i.findtext("description"))
                for i in etree.fromstring(b).iter("item")
            ]
        )
    except ImportError:
        pass

    entries = [e for b in bodies for e in parse_feed(b, "http://127.0.0.1/f.xml").entries]
    classifier = Classifier(film_refs())
    t = time.process_time()
    rounds = 0
    signals = 0
    while True:
        for e in entries:
            signals += bool(classifier.classify(e.title, e.summary, e.published))
        rounds += 1
        if time.process_time() - t > 1.0:
            break
    dt = time.process_time() - t
    out["classifier_stories_per_s"] = round(rounds * len(entries) / dt, 1)
    out["classifier_signal_share"] = round(signals / (rounds * len(entries)), 3)
    out["store_stories_per_s"] = await _store_rate(bodies)
    return out


async def _store_rate(bodies: list[bytes]) -> float:
    from bot.parse import parse_feed
    from bot.record import FeedOutcome, record_batch
    from bot.service import Greenlight
    from bot.store import feeds as feed_store
    from bot.types import FetchResult
    from bot.work import PreparedFeed, story_rows

    n = 200
    with tempfile.TemporaryDirectory() as tmp:
        urls = [f"http://127.0.0.1:1/feeds/{i}.xml" for i in range(n)]
        core = await Greenlight.open(greenlight_config(Path(tmp) / "s.db", urls, 4), now=T0)
        try:
            async with core.engine.begin() as conn:
                rows = await feed_store.claim_due(conn, T0, lease=timedelta(minutes=5))
            outcomes = []
            for i, row in enumerate(rows):
                body = bodies[i % len(bodies)]
                parsed = parse_feed(body, row.url)
                fetched = FetchResult(url=row.url, final_url=row.url, status=200)
                # As the poller passes them: rows prepared in the parse worker (untimed here,
                # as there), the signals left out (the classifier is measured on its own).
                prepared = PreparedFeed(parsed.title, None, story_rows(parsed.entries, ()))
                outcomes.append(FeedOutcome(row, fetched, body_hash=f"h{i}", prepared=prepared))
            total = sum(len(o.prepared.stories) for o in outcomes if o.prepared is not None)
            t = time.perf_counter()
            for start in range(0, len(outcomes), 64):
                async with core.engine.begin() as conn:
                    await record_batch(
                        conn, outcomes[start : start + 64], policy=core.policy, now=T0
                    )
            return round(total / (time.perf_counter() - t), 1)
        finally:
            await core.close()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("system", choices=["greenlight", "naive", "reader", "micro"])
    ap.add_argument("--feeds", type=int, default=100)
    ap.add_argument("--base", default="")
    ap.add_argument("--per-host", type=int, default=100)
    args = ap.parse_args(argv)
    if args.system == "greenlight":
        from bot import eventloop

        # On the loop `poll` and `run` use (bot/eventloop.py).
        result = eventloop.run(run_greenlight(args.base, args.feeds, args.per_host))
    elif args.system == "naive":
        result = asyncio.run(run_naive(args.base, args.feeds))
    elif args.system == "reader":
        result = run_reader(args.base, args.feeds)
    else:
        result = asyncio.run(run_micro())
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()

"""The benchmark's feed server: N generated feeds on 127.0.0.1, in a process of its own.

It runs apart from the bot so that its CPU time and memory are not counted as the bot's
(on a 2-core machine it still competes for the cores, as a busy neighbour would). Every body
is rendered before the server reports ready, so serving a feed costs what it costs a real
server with a cache: no generation time leaks into the measured cycles.

Conditional GET: every feed sends an ETag and a Last-Modified and answers 304 when either
matches, except the share of feeds set to ignore validators, which always send the full
(unchanged) body, as many real servers do.

Control (HTTP, same server): ``POST /_bench/advance?fraction=0.1`` gives that share of the
feeds a new version; ``POST /_bench/ignore?fraction=0.2`` sets the share that ignores
conditional GET; ``POST /_bench/restore`` puts every feed back at version 0 with none
ignoring validators (each measured system starts from the same state);
``GET /_bench/stats`` and ``POST /_bench/reset`` for request counts.

Run: ``python -m bench.server --feeds 1000`` prints ``READY <port>`` when it is serving.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import threading
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from email.utils import format_datetime

from aiohttp import web

from bench.generate import feed_path, newest_seq, published, render_feed

RSS_TYPE = "application/rss+xml; charset=utf-8"


def _render_range(args: tuple[int, int, int]) -> list[bytes]:
    start, stop, version = args
    return [render_feed(f, version) for f in range(start, stop)]


def _pick(feed: int, fraction: float, salt: int) -> bool:
    """A deterministic, evenly spread choice of ``fraction`` of the feeds."""
    return ((feed * 2654435761 + salt * 40503) % 1000) < fraction * 1000


class BenchFeeds:
    def __init__(self, n: int) -> None:
        self.n = n
        self.version = [0] * n
        self.bodies: list[bytes] = []
        self.ignore: list[bool] = [False] * n
        self.rounds = 0
        self.stats: Counter[str] = Counter()

    def render_all(self) -> None:
        workers = max(1, min(os.cpu_count() or 1, 4))
        step = max(1, self.n // (workers * 4))
        ranges = [(s, min(self.n, s + step), 0) for s in range(0, self.n, step)]
        if self.n < 50:
            self.bodies = _render_range((0, self.n, 0))
            return
        with ProcessPoolExecutor(workers) as pool:
            self.bodies = [b for chunk in pool.map(_render_range, ranges) for b in chunk]

    def advance(self, fraction: float) -> int:
        self.rounds += 1
        changed = 0
        for f in range(self.n):
            if _pick(f, fraction, self.rounds):
                self.version[f] += 1
                self.bodies[f] = render_feed(f, self.version[f])
                changed += 1
        return changed

    def restore(self) -> int:
        """Every feed back at version 0, as at start: each measured system starts cold."""
        restored = 0
        for f in range(self.n):
            if self.version[f]:
                self.version[f] = 0
                self.bodies[f] = render_feed(f, 0)
                restored += 1
        self.rounds = 0
        self.ignore = [False] * self.n
        return restored

    def set_ignore(self, fraction: float) -> int:
        self.ignore = [_pick(f, fraction, 7777) for f in range(self.n)]
        return sum(self.ignore)

    def validators(self, feed: int) -> tuple[str, str]:
        v = self.version[feed]
        etag = f'"f{feed}-v{v}"'
        last_modified = format_datetime(published(newest_seq(v)), usegmt=True)
        return etag, last_modified


def make_app(feeds: BenchFeeds) -> web.Application:
    async def serve(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        try:
            feed = int(name)
        except ValueError:
            raise web.HTTPNotFound() from None
        if not 0 <= feed < feeds.n:
            raise web.HTTPNotFound()
        feeds.stats["requests"] += 1
        etag, last_modified = feeds.validators(feed)
        headers = {"ETag": etag, "Last-Modified": last_modified}
        if not feeds.ignore[feed]:
            inm = request.headers.get("If-None-Match")
            ims = request.headers.get("If-Modified-Since")
            if (inm is not None and inm == etag) or (inm is None and ims == last_modified):
                feeds.stats["304"] += 1
                return web.Response(status=304, headers=headers)
        body = feeds.bodies[feed]
        feeds.stats["200"] += 1
        feeds.stats["bytes"] += len(body)
        return web.Response(body=body, headers=headers, content_type="application/rss+xml",
                            charset="utf-8")

    async def advance(request: web.Request) -> web.Response:
        changed = feeds.advance(float(request.query.get("fraction", "0.1")))
        return web.json_response({"changed": changed})

    async def ignore(request: web.Request) -> web.Response:
        n = feeds.set_ignore(float(request.query.get("fraction", "0")))
        return web.json_response({"ignoring": n})

    async def restore(request: web.Request) -> web.Response:
        return web.json_response({"restored": feeds.restore()})

    async def stats(request: web.Request) -> web.Response:
        return web.json_response(dict(feeds.stats))

    async def reset(request: web.Request) -> web.Response:
        feeds.stats.clear()
        return web.json_response({})

    app = web.Application()
    app.router.add_get("/feeds/{name}.xml", serve)
    app.router.add_post("/_bench/advance", advance)
    app.router.add_post("/_bench/ignore", ignore)
    app.router.add_post("/_bench/restore", restore)
    app.router.add_get("/_bench/stats", stats)
    app.router.add_post("/_bench/reset", reset)
    return app


async def serve_forever(n: int, port: int) -> None:
    feeds = BenchFeeds(n)
    feeds.render_all()
    runner = web.AppRunner(make_app(feeds), access_log=None, shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port, backlog=1024)
    await site.start()
    actual = runner.addresses[0][1]
    print(f"READY {actual}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    # The parent closing our stdin also means stop, so a crashed bench leaves no server behind.
    def watch_stdin() -> None:
        while sys.stdin.buffer.read(1):
            pass
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=watch_stdin, daemon=True).start()
    await stop.wait()
    await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--feeds", type=int, required=True)
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    asyncio.run(serve_forever(args.feeds, args.port))


def feed_urls(base: str, n: int) -> list[str]:
    return [base + feed_path(f) for f in range(n)]


if __name__ == "__main__":
    main()


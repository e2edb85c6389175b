"""Parsing and classifying run off the event loop: while a large feed is polled, a ticker on
the loop keeps ticking. A generous bound only; the precise figures are bench/'s job."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta

from feedgen import Item, rss
from feedserver import FeedServer
from support import make_config

from bot.service import Greenlight

T0 = datetime(2025, 3, 1, tzinfo=UTC)


def big_feed(n: int) -> bytes:
    paragraph = (
        "<p>The studio confirmed on Tuesday that <b>Gladiator II</b> has started filming, "
        "with cameras rolling in Morocco and Malta &amp; a cast led by Paul Mescal.</p>"
    ) * 20
    return rss(
        [
            Item(
                f"Production diary {i}: Gladiator II cameras roll",
                paragraph,
                T0 + timedelta(minutes=i),
                guid=f"g{i}",
            )
            for i in range(n)
        ],
        title="Big Outlet",
    )


async def test_loop_keeps_ticking_while_a_large_feed_is_parsed(sqlite_url: str) -> None:
    body = big_feed(1500)
    assert len(body) > 3_000_000
    async with FeedServer() as srv:
        srv.feed("/big.xml", body)
        cfg = make_config(
            sqlite_url,
            films=[{"id": "gladiator-2", "title": "Gladiator II"}],
            feeds=[{"url": srv.url("/big.xml")}],
            fetch={"max_body_bytes": 20_000_000},
        )
        core = await Greenlight.open(cfg, now=T0)
        lags: list[float] = []
        stop = asyncio.Event()

        async def ticker() -> None:
            while not stop.is_set():
                start = time.perf_counter()
                await asyncio.sleep(0.01)
                lags.append(time.perf_counter() - start - 0.01)

        tick = asyncio.create_task(ticker())
        try:
            await core.poll_once(T0 - timedelta(days=1))
        finally:
            stop.set()
            await tick
            await core.close()
        assert core.last_report is not None and core.last_report.stories_new == 1500
        assert len(lags) > 10
        assert max(lags) < 1.0, f"event loop blocked for {max(lags):.3f}s"

"""Several poller processes on the real PostgreSQL server share the feeds of a cycle through
``SELECT … FOR UPDATE SKIP LOCKED``: each feed is fetched exactly once per cycle, no story is
lost or stored twice, and a poller killed mid-cycle leaves its feeds to the others."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from feedgen import Item, rss
from feedserver import FeedServer
from sqlalchemy import func, select

from bot.store.engine import create_engine
from bot.store.schema import feeds, stories

N_FEEDS = 300
POLLERS = 3
T0 = datetime(2025, 6, 1, tzinfo=UTC)
INTERVAL = timedelta(seconds=600)
# Each cycle's --now is one interval and a second after the last. Exactly one interval was a
# race: a --now clock runs on in real time, so the feeds one poller stamped a microsecond
# into its cycle came due a microsecond after the next cycle's pollers looked (seen in CI).
STEP = INTERVAL + timedelta(seconds=1)

CONFIG = """
[database]
url = "{db}"

[fetch]
allow_private_networks = true
timeout = 30.0
max_connections = 20
max_connections_per_host = 20

[poll]
interval = 600
parse_workers = 1

[logging]
level = "WARNING"

[[films]]
id = "twisters"
title = "Twisters"
"""


def body(i: int) -> bytes:
    return rss(
        [
            Item(f"Outlet {i} story {k}", "Weekend numbers were steady.",
                 T0 - timedelta(days=k + 1), guid=f"f{i}-{k}")
            for k in range(2)
        ],
        title=f"Outlet {i}",
    )


@pytest.fixture
async def setup(postgres_url: str, tmp_path: Path) -> AsyncIterator[tuple[FeedServer, Path, str]]:
    async with FeedServer() as srv:
        for i in range(N_FEEDS):
            srv.feed(f"/f{i}.xml", body(i))
        text = CONFIG.format(db=postgres_url) + "".join(
            f'\n[[feeds]]\nurl = "{srv.url(f"/f{i}.xml")}"\n' for i in range(N_FEEDS)
        )
        config = tmp_path / "greenlight.toml"
        config.write_text(text)
        yield srv, config, postgres_url


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("GREENLIGHT_")}


async def start_poller(config: Path, now: datetime) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "poll", "--once", "--config", str(config),
        "--now", now.isoformat(), stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE, env=_env(),
    )


async def run_cycle(config: Path, now: datetime) -> None:
    procs = [await start_poller(config, now) for _ in range(POLLERS)]
    for p in procs:
        _, err = await p.communicate()
        assert p.returncode == 0, err.decode()


async def stored(url: str) -> tuple[int, int, list[datetime]]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            n = (await conn.execute(select(func.count()).select_from(stories))).scalar_one()
            distinct = (
                await conn.execute(
                    select(func.count()).select_from(
                        select(stories.c.feed_id, stories.c.key).distinct().subquery()
                    )
                )
            ).scalar_one()
            polled = list((await conn.execute(select(feeds.c.last_polled_at))).scalars())
        return n, distinct, polled
    finally:
        await engine.dispose()


async def test_each_feed_fetched_once_per_cycle(setup: tuple[FeedServer, Path, str]) -> None:
    srv, config, url = setup
    migrate = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bot", "migrate", "--config", str(config), env=_env(),
        stderr=asyncio.subprocess.PIPE,
    )
    assert await migrate.wait() == 0
    for cycle in range(1, 4):
        await run_cycle(config, T0 + cycle * STEP)
        counts = [srv.hits[f"/f{i}.xml"] for i in range(N_FEEDS)]
        assert counts == [cycle] * N_FEEDS, f"cycle {cycle}: {sorted(set(counts))}"
    n, distinct, _ = await stored(url)
    assert n == distinct == 2 * N_FEEDS


async def test_killed_poller_leaves_its_feeds_to_the_others(
    setup: tuple[FeedServer, Path, str],
) -> None:
    srv, config, url = setup
    await run_cycle(config, T0)  # migrate, first poll
    # A slow server: the cycle takes long enough for a poller to die in the middle of it.
    for i in range(N_FEEDS):
        srv.delay(f"/f{i}.xml", body(i), seconds=1.0)
    srv.reset_counts()
    t1 = T0 + STEP
    procs = [await start_poller(config, t1) for _ in range(POLLERS)]
    for _ in range(300):  # until the cycle is well under way (at most 30 s)
        if sum(srv.hits.values()) >= 60:
            break
        await asyncio.sleep(0.1)
    running = [p for p in procs if p.returncode is None]
    assert running, "every poller finished before the kill: the cycle was too short to test"
    victim = running[0]
    victim.send_signal(signal.SIGKILL)
    for p in procs:
        await p.communicate()
    assert victim.returncode == -signal.SIGKILL
    assert all(p.returncode == 0 for p in procs if p is not victim)
    _, _, polled = await stored(url)
    unfinished = sum(1 for t in polled if t is None or t < t1)
    assert unfinished > 0, "the killed poller had claimed nothing; the test proves nothing"

    # The next cycle, after the dead poller's lease ran out, picks its feeds up.
    await run_cycle(config, t1 + STEP)
    _, _, polled = await stored(url)
    assert all(t is not None and t >= t1 for t in polled)
    n, distinct, _ = await stored(url)
    assert n == distinct == 2 * N_FEEDS

"""Concurrent writers on one SQLite file lose no update.

bot/store/engine.py starts every transaction with BEGIN IMMEDIATE and sets a busy timeout.
Here that is proved three ways: a bare read-modify-write race that a plain engine loses and
ours does not; two cores (two engines) racing read-modify-write service calls; and
a ``python -m bot poll`` process writing while another process's core runs admin commands.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from feedgen import Item, rss
from feedserver import FeedServer
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from support import make_config

from bot.service import Greenlight
from bot.store.engine import create_engine
from bot.store.schema import feeds, stories

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
FILMS = [{"id": "dune-3", "title": "Dune Part Three"}]


async def _increment_twice(engine: AsyncEngine) -> int:
    """Two transactions at once, each reading the counter, pausing, and writing it + 1."""

    async def one() -> None:
        async with engine.begin() as conn:
            value = (await conn.execute(select(feeds.c.failure_count))).scalar_one()
            await asyncio.sleep(0.2)  # the other transaction gets every chance to read too
            await conn.execute(update(feeds).values(failure_count=value + 1))

    await asyncio.gather(one(), one())
    async with engine.connect() as conn:
        return int((await conn.execute(select(feeds.c.failure_count))).scalar_one())


async def test_begin_immediate_prevents_the_lost_update(sqlite_url: str) -> None:
    core = await Greenlight.open(make_config(sqlite_url, feeds=[{"url": "https://a.example/"}]))
    await core.close()

    # A plain engine: pysqlite runs the SELECT outside any transaction, both read 0, and one
    # increment is silently lost. This is what the test would see without engine.py's hooks.
    plain = create_async_engine(sqlite_url, connect_args={"timeout": 10})
    try:
        assert await _increment_twice(plain) == 1
    finally:
        await plain.dispose()

    ours = create_engine(sqlite_url, busy_timeout=10)
    try:
        assert await _increment_twice(ours) == 3  # 1 from before, 2 more: none lost
        async with ours.connect() as conn:
            mode = (await conn.execute(text("PRAGMA journal_mode"))).scalar_one()
            busy = (await conn.execute(text("PRAGMA busy_timeout"))).scalar_one()
        assert mode == "wal" and busy == 10_000
    finally:
        await ours.dispose()


async def test_two_cores_race_read_modify_write_service_calls(sqlite_url: str) -> None:
    cfg = make_config(sqlite_url, films=FILMS)
    a = await Greenlight.open(cfg, now=T0)
    b = await Greenlight.open(cfg, now=T0)
    try:
        film = await a.watch_add(7, "Heat Two")

        def aliases(core: Greenlight, tag: str) -> list[Callable[[], object]]:
            return [lambda i=i: core.alias_add(7, film.key, f"{tag} name {i}") for i in range(12)]

        def subs(core: Greenlight, base: int) -> list[Callable[[], object]]:
            return [lambda i=i: core.subscribe(7, base + i) for i in range(12)]

        calls = [*aliases(a, "alpha"), *aliases(b, "beta"), *subs(a, 1000), *subs(b, 2000)]
        # Interleave the two cores' calls so their transactions overlap.
        calls = calls[::2] + calls[1::2]
        await asyncio.gather(*(c() for c in calls))  # type: ignore[misc]

        got = await b.resolve_film(7, film.key)
        assert {f"alpha name {i}" for i in range(12)} <= set(got.aliases)
        assert {f"beta name {i}" for i in range(12)} <= set(got.aliases)
        channels = {s.channel_id for s in await a.subscriptions(7)}
        assert channels == {1000 + i for i in range(12)} | {2000 + i for i in range(12)}
    finally:
        await a.close()
        await b.close()


async def test_poller_process_and_service_writers_share_one_sqlite_file(tmp_path: Path) -> None:
    """A ``poll`` process writes stories while another process's core (the Discord side, here
    the test) runs read-modify-write admin commands on the same file. A second poller on the
    same SQLite file is refused by design (bot/pollerlock.py) with one clear line."""
    n_feeds, per_feed = 30, 10
    db = tmp_path / "greenlight.db"
    async with FeedServer() as srv:
        for n in range(n_feeds):
            items = [Item(f"Story {n}-{i}", "Takings were steady.", T0,
                          link=f"https://f{n}.example/{i}") for i in range(per_feed)]
            srv.feed(f"/f{n}.xml", rss(items))
            srv.routes[f"/f{n}.xml"].delay = 0.1
        # One slow feed holds the cycle open for about 8 s: long enough for the second
        # poller to start while the first is still polling, and for our writes to overlap.
        slow = rss([Item("Slow story", "x", T0, link="https://slow.example/1")])
        srv.drip("/slow.xml", slow, interval=1.0, chunk=len(slow) // 8 + 1)
        lines = [
            "[database]", f'url = "sqlite+aiosqlite:///{db}"', "busy_timeout = 60.0",
            "[fetch]", "allow_private_networks = true",
            "[poll]", "parse_workers = 1", "[logging]", 'level = "WARNING"',
            "[[films]]", 'id = "dune-3"', 'title = "Dune Part Three"',
        ]
        for n in range(n_feeds):
            lines += ["[[feeds]]", f'url = "{srv.url(f"/f{n}.xml")}"']
        lines += ["[[feeds]]", f'url = "{srv.url("/slow.xml")}"']
        config = tmp_path / "greenlight.toml"
        config.write_text("\n".join(lines) + "\n")
        core = await Greenlight.open(make_config(f"sqlite+aiosqlite:///{db}", films=FILMS),
                                     now=T0)
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("GREENLIGHT_")}
            cmd = [sys.executable, "-m", "bot", "poll", "--once", "--config", str(config),
                   "--now", T0.isoformat()]
            poller = await asyncio.create_subprocess_exec(
                *cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE)
            while sum(srv.hits.values()) == 0:  # noqa: ASYNC110 - waiting on another process
                await asyncio.sleep(0.02)
            second = await asyncio.create_subprocess_exec(
                *cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                stderr=asyncio.subprocess.PIPE)

            film = await core.watch_add(7, "Heat Two")
            for i in range(20):  # while the poller is writing its batches
                await core.alias_add(7, film.key, f"name {i}")
                await core.subscribe(7, 1000 + i)

            _, err2 = await asyncio.wait_for(second.communicate(), 120)
            _, err = await asyncio.wait_for(poller.communicate(), 180)
            assert poller.returncode == 0, err.decode()[-2000:]
            assert b"database is locked" not in err
            assert second.returncode == 1 and b"Traceback" not in err2
            assert err2.decode().count("\n") == 1 and "another poller" in err2.decode()

            got = await core.resolve_film(7, film.key)
            assert {f"name {i}" for i in range(20)} <= set(got.aliases)
            assert {s.channel_id for s in await core.subscriptions(7)} == {
                1000 + i for i in range(20)}
            assert all(srv.hits[f"/f{n}.xml"] == 1 for n in range(n_feeds)), srv.hits
            async with core.engine.connect() as conn:
                keys = (await conn.execute(select(stories.c.key))).scalars().all()
                polled = (await conn.execute(
                    select(feeds.c.last_error, feeds.c.last_polled_at))).all()
        finally:
            await core.close()
    assert len(keys) == len(set(keys)) == n_feeds * per_feed + 1
    assert all(err is None and at is not None for err, at in polled)

"""Several pollers on one PostgreSQL database (issue 7): ``python -m bench --pollers 1,2,4
--feeds 5000 --postgres postgresql://postgres@127.0.0.1:5432/postgres``.

For each poller count P: a fresh database (created from the ``--postgres`` URL's server, and
dropped afterwards), migrated and loaded with the config's films and feeds before the clock
starts; the feed server back at its first version with its request counters at zero; then P
``python -m bot poll --once --now T0`` processes started together, timed until the last one
exits. A cold cycle: every feed is new.

What it checks, besides the time: every feed was requested exactly once (counted at the feed
server, so a feed two pollers both fetched shows up), every feed's every story is stored once,
and no feed is left unpolled. The point is correctness and no contention collapse, so the
table also says whether throughput with the most pollers is at least that with half as many.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.generate import FILMS, ITEMS_PER_FEED, T0
from bench.server import feed_urls

ROOT = Path(__file__).resolve().parent.parent


def _asyncpg_url(url: str, database: str | None = None) -> str:
    from sqlalchemy.engine import make_url

    u = make_url(url).set(drivername="postgresql+asyncpg")
    if database is not None:
        u = u.set(database=database)
    return u.render_as_string(hide_password=False)


def _plain_url(url: str, database: str | None = None) -> str:
    """The URL as asyncpg.connect() takes it (no SQLAlchemy driver suffix)."""
    return _asyncpg_url(url, database).replace("postgresql+asyncpg://", "postgresql://", 1)


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_plain_url(url))
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def _toml_str(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid TOML basic string


def write_config(
    path: Path, db_url: str, urls: list[str], per_host: int, parse_workers: int = 0
) -> None:
    lines = [
        "[database]",
        f"url = {_toml_str(db_url)}",
        "[fetch]",
        "allow_private_networks = true",
        f"max_connections_per_host = {per_host}",
        "[poll]",
        "interval = 900.0",
        f"parse_workers = {parse_workers}",
    ]
    for film in FILMS:
        lines.append("[[films]]")
        lines.append(f"id = {_toml_str(str(film['id']))}")
        lines.append(f"title = {_toml_str(str(film['title']))}")
        for key in ("aliases", "originals"):
            if film.get(key):
                items = ", ".join(_toml_str(str(a)) for a in film[key])  # type: ignore[attr-defined]
                lines.append(f"{key} = [{items}]")
    for u in urls:
        lines.append("[[feeds]]")
        lines.append(f"url = {_toml_str(u)}")
    path.write_text("\n".join(lines) + "\n")


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.pop("GREENLIGHT_DATABASE_URL", None)  # the config file names the database
    return env


async def _prepare(config: Path) -> None:
    """Migrate and load films and feeds (untimed): what a deployment has done long before a
    cycle; the timed pollers' own start-up then finds everything in place."""
    from bot.config import load
    from bot.service import Greenlight

    core = await Greenlight.open(load(config, env={}), now=T0)
    await core.close()


async def _verify(db_url: str, feeds: int) -> dict[str, Any]:
    from sqlalchemy import func, select

    from bot.store.engine import create_engine
    from bot.store.schema import feeds as feeds_t
    from bot.store.schema import stories

    engine = create_engine(db_url)
    try:
        async with engine.connect() as conn:
            n_stories = (await conn.execute(select(func.count()).select_from(stories))).scalar()
            per_feed = (
                await conn.execute(
                    select(func.count()).select_from(
                        select(stories.c.feed_id)
                        .group_by(stories.c.feed_id)
                        .having(func.count() == ITEMS_PER_FEED)
                        .subquery()
                    )
                )
            ).scalar()
            unpolled = (
                await conn.execute(
                    select(func.count())
                    .select_from(feeds_t)
                    .where(feeds_t.c.last_polled_at.is_(None))
                )
            ).scalar()
    finally:
        await engine.dispose()
    return {
        "stories": int(n_stories or 0),
        "feeds_with_all_stories": int(per_feed or 0),
        "feeds_unpolled": int(unpolled or 0),
        "stories_ok": n_stories == feeds * ITEMS_PER_FEED and per_feed == feeds,
    }


def _control(base: str, action: str, method: str = "POST") -> dict[str, Any]:
    req = urllib.request.Request(f"{base}/_bench/{action}", method=method,
                                 data=b"" if method == "POST" else None)
    with urllib.request.urlopen(req, timeout=120) as resp:
        return dict(json.loads(resp.read()))


def _children_cpu() -> float:
    import resource

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def _wait_all(procs: list[subprocess.Popen[bytes]], t0: float,
              timeout: float) -> tuple[list[int], list[float]]:
    """Each process's exit code, and the seconds after ``t0`` at which it exited."""
    codes: list[int | None] = [None] * len(procs)
    finished = [0.0] * len(procs)
    while any(c is None for c in codes):
        overdue = time.perf_counter() - t0 > timeout
        for i, p in enumerate(procs):
            if codes[i] is None and overdue:
                p.kill()
            if codes[i] is None and (code := p.wait() if overdue else p.poll()) is not None:
                codes[i], finished[i] = code, round(time.perf_counter() - t0, 2)
        time.sleep(0.02)
    return [int(c if c is not None else -1) for c in codes], finished


def run_pollers(base: str, feeds: int, pollers: int, postgres: str, per_host: int,
                timeout: float = 1800) -> dict[str, Any]:
    """One measurement: ``pollers`` processes, one fresh database, ``feeds`` cold feeds."""
    dbname = f"greenlight_bench_{os.getpid()}_{pollers}"
    db_url = _asyncpg_url(postgres, dbname)
    asyncio.run(_admin(postgres, f'DROP DATABASE IF EXISTS "{dbname}"'))
    asyncio.run(_admin(postgres, f'CREATE DATABASE "{dbname}"'))
    out: dict[str, Any] = {"pollers": pollers, "feeds": feeds}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "greenlight.toml"
            # As a deployment would: the machine's cores shared among its pollers' parse
            # workers, not a full set each (4 pollers × 2 workers on 2 cores only thrash).
            workers = max(1, (os.cpu_count() or 1) // pollers)
            write_config(config, db_url, feed_urls(base, feeds), per_host, workers)
            out["parse_workers_each"] = workers
            asyncio.run(_prepare(config))
            _control(base, "restore")
            _control(base, "reset")
            cmd = [sys.executable, "-m", "bot", "poll", "--config", str(config), "--once",
                   "--now", T0.isoformat()]
            logs = [open(Path(tmp) / f"poller{i}.err", "w+") for i in range(pollers)]
            cpu0 = _children_cpu()
            t0 = time.perf_counter()
            procs = [subprocess.Popen(cmd, cwd=tmp, env=_env(), stdout=subprocess.DEVNULL,
                                      stderr=logs[i]) for i in range(pollers)]
            codes, finished = _wait_all(procs, t0, timeout)
            wall = time.perf_counter() - t0
            # The poller processes themselves (their parse workers are the forkserver's children,
            # not theirs, and are not counted): the per-process overhead of one more poller.
            cpu = _children_cpu() - cpu0
            errors = []
            for i, (code, log) in enumerate(zip(codes, logs, strict=True)):
                if code != 0:
                    log.seek(0)
                    tail = log.read().strip().splitlines()[-3:]
                    errors.append(f"poller {i} exit {code}: " + " | ".join(tail))
                log.close()
            stats = _control(base, "stats", method="GET")
            out.update(
                wall_s=round(wall, 2),
                cpu_s=round(cpu, 1),
                feeds_per_s=round(feeds / wall, 1),
                requests=int(stats.get("requests", 0)),
                each_fetched_once=int(stats.get("requests", 0)) == feeds,
                exit_codes=codes,
                # When each poller was done: a wide spread says the last feeds were badly shared.
                finished_s=finished,
            )
            if errors:
                out["errors"] = errors
            out.update(asyncio.run(_verify(db_url, feeds)))
    finally:
        asyncio.run(_admin(postgres, f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)'))
    return out


def render(results: list[dict[str, Any]]) -> str:
    out = ["", "Pollers on one PostgreSQL database (cold cycle, `poll --once` processes):", "",
           "| feeds | pollers | wall s | pollers done at s | CPU s (poller mains) | feeds/s | "
           "requests at server | each fetched once | stories stored (all, once) | "
           "unpolled feeds |",
           "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "wall_s" not in r:
            out.append(f"| {r['feeds']} | {r['pollers']} | — | | | {r.get('error')} | | | | |")
            continue
        out.append(
            f"| {r['feeds']:,} | {r['pollers']} | {r['wall_s']:.1f} | "
            f"{' / '.join(f'{t:.1f}' for t in sorted(r.get('finished_s', [])))} | "
            f"{r['cpu_s']:.1f} | "
            f"{r['feeds_per_s']:,.1f} | "
            f"{r['requests']:,} | {'yes' if r['each_fetched_once'] else 'NO'} | "
            f"{r['stories']:,} ({'yes' if r['stories_ok'] else 'NO'}) | {r['feeds_unpolled']} |"
        )
        for e in r.get("errors", []):
            out.append(f"|   | error: {e} | | | | | | | | |")
    ok = [r for r in results if "feeds_per_s" in r]
    if len(ok) >= 2:
        most = max(ok, key=lambda r: r["pollers"])
        below = [r for r in ok if r["pollers"] < most["pollers"]]
        prev = max(below, key=lambda r: r["pollers"])
        verdict = "MET " if most["feeds_per_s"] >= prev["feeds_per_s"] else "MISS"
        out.append("")
        out.append(f"  {verdict} throughput with {most['pollers']} pollers "
                   f"({most['feeds_per_s']:,.1f} feeds/s) ≥ with {prev['pollers']} "
                   f"({prev['feeds_per_s']:,.1f} feeds/s)")
    every = all(r.get("each_fetched_once") and r.get("stories_ok") for r in results)
    out.append(f"  {'MET ' if every else 'MISS'} every feed fetched exactly once and every "
               "story stored once, in every run")
    return "\n".join(out)

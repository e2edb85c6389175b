"""Crash test for the poller: ``python -m bot poll --once`` is SIGKILLed at seeded random points
(during start-up and migration, while fetching, between batch commits, while tracking) and
restarted, over and over, against a real feed server with many feeds and stories.

What must hold, compared with a reference run of the same scenario that is never killed:

* no story is lost and none is stored twice: the stored (feed, key) pairs are exactly the
  served entries;
* the status events and outbox rows are exactly the reference's (no duplicate, none missing);
* each alert is printed at most once across all the runs.

Printed *exactly* once is impossible by design, and the test does not ask for it: ``poll``
prints a cycle's alerts after the cycle's transactions commit, so a kill between the commit
and the print loses the line while the change is safely stored, and the next run (rightly)
does not alert it again. The outbox row is the durable, exactly-once record of an alert; it is
what the Discord side delivers from.

Each restart runs with ``--now`` eleven minutes later than the last: a killed run leaves its
claimed feeds leased for ten minutes (bot.poller.LEASE), as a crashed poller would, and the
next run must pick them up once the lease has lapsed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from feedgen import Item, rss
from feedserver import FeedServer
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from bot.config import load
from bot.service import Greenlight
from bot.store.schema import feeds, films, outbox, status_events, stories, subscriptions

ROOT = Path(__file__).resolve().parent.parent
T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
PHASE_B = T0 + timedelta(days=2)
STEP = timedelta(minutes=11)  # longer than the poller's 10-minute lease
KILLS_PER_PHASE = 10  # 20 kills in all
RUN_TIMEOUT = 120.0
LINGER_LIMIT = 5  # seconds

FILMS = [
    ("romy-2", "Romy and Michele 2"),
    ("gladiator-3", "Gladiator III"),
    ("beetlejuice-3", "Beetlejuice 3"),
    ("twister-2", "Twisters Two"),
    ("shrek-5", "Shrek 5"),
    ("matrix-5", "The Matrix 5"),
]
NOISE_FEEDS = 18
NOISE_OLD = 15
NOISE_NEW = 5


def _film_items(title: str, n: int, phase: str) -> list[Item]:
    base = f"https://film{n}.example"
    old = [Item(f"{title}: the stars would love to return, they say",
                f"Both stars said they would love to make {title}, though nothing is planned.",
                T0 - timedelta(days=10), link=f"{base}/rumour")]
    if phase == "A":
        return old
    return [
        Item(f"Studio officially greenlights {title}",
             f"The studio has officially greenlit {title}, with the original director "
             "returning.", PHASE_B - timedelta(hours=20), link=f"{base}/greenlit"),
        Item(f"{title} is in development",
             f"A writer has been hired to write the script for {title}, which is now in "
             "development.", PHASE_B - timedelta(hours=30), link=f"{base}/development"),
        *old,
    ]


def _noise_items(n: int, phase: str) -> list[Item]:
    count = NOISE_OLD + (NOISE_NEW if phase == "B" else 0)
    return [
        Item(f"Weekend box office report {n}-{i}",
             f"Takings were steady across {i + 3} markets this weekend.",
             (T0 - timedelta(days=5, hours=i)) if i < NOISE_OLD
             else PHASE_B - timedelta(hours=i),
             link=f"https://noise{n}.example/story-{i}")
        for i in range(count)
    ]


def _serve(srv: FeedServer, phase: str) -> dict[str, set[str]]:
    """Serve the phase's documents; return path → links it serves (the story keys)."""
    served: dict[str, set[str]] = {}
    for n, (_key, title) in enumerate(FILMS):
        items = _film_items(title, n, phase)
        srv.feed(f"/film{n}.xml", rss(items, title=f"Film outlet {n}"))
        served[f"/film{n}.xml"] = {it.link or "" for it in items}
    for n in range(NOISE_FEEDS):
        items = _noise_items(n, phase)
        srv.feed(f"/noise{n}.xml", rss(items, title=f"Noise outlet {n}"))
        served[f"/noise{n}.xml"] = {it.link or "" for it in items}
    # A little latency per answer spreads a cycle over time, so kills land inside it.
    for route in srv.routes.values():
        route.delay = 0.03
    return served


def _write_config(path: Path, srv: FeedServer, db: Path) -> Path:
    lines = [
        "[database]", f'url = "sqlite+aiosqlite:///{db}"',
        "[fetch]", "allow_private_networks = true", "timeout = 20.0",
        "[poll]", "interval = 60.0", "parse_workers = 1",
        "[logging]", 'level = "WARNING"',
    ]
    for key, title in FILMS:
        lines += ["[[films]]", f'id = "{key}"', f'title = "{title}"']
    for n in range(len(FILMS)):
        lines += ["[[feeds]]", f'url = "{srv.url(f"/film{n}.xml")}"']
    for n in range(NOISE_FEEDS):
        lines += ["[[feeds]]", f'url = "{srv.url(f"/noise{n}.xml")}"']
    path.write_text("\n".join(lines) + "\n")
    return path


async def _subscribe(config: Path) -> None:
    """Subscriptions made through the service, so that alerts fan out to outbox rows."""
    core = await Greenlight.open(load(config), now=T0)
    try:
        await core.subscribe(1, 100)  # every film
        await core.subscribe(1, 101, film="Romy and Michele 2", role_id=555)
        await core.subscribe(2, 200, film="Shrek 5")
        await core.subscribe(2, 201)
    finally:
        await core.close()


class Runner:
    """Starts ``python -m bot poll --once`` and optionally kills it at a chosen point."""

    def __init__(self, config: Path, srv: FeedServer, cwd: Path) -> None:
        self.config = config
        self.srv = srv
        self.cwd = cwd
        self.printed: list[dict[str, Any]] = []
        self.kills = 0
        self.runs = 0
        self.leftovers = 0

    async def run(self, now: datetime, kill: tuple[str, float, float] | None) -> int:
        env = {k: v for k, v in os.environ.items() if not k.startswith("GREENLIGHT_")}
        self.runs += 1
        out_path = self.cwd / f"run{self.runs}.out"
        err_path = self.cwd / f"run{self.runs}.err"
        # Files, not pipes: a pipe stays open while any process of the group holds it.
        # subprocess, not asyncio's: its child watcher can mistake a killed child's status.
        with out_path.open("wb") as out, err_path.open("wb") as err:
            proc = subprocess.Popen(  # noqa: ASYNC220 - a fork/exec, not a wait
                [sys.executable, "-m", "bot", "poll", "--once", "--config", str(self.config),
                 "--now", now.isoformat()],
                cwd=self.cwd, env=env, stdout=out, stderr=err, start_new_session=True,
            )
        try:
            if kill is not None:
                await self._wait_for_kill_point(proc, kill)
                if proc.poll() is None:
                    proc.send_signal(signal.SIGKILL)
            deadline = time.monotonic() + RUN_TIMEOUT
            while proc.poll() is None:
                assert time.monotonic() < deadline, "poll --once did not finish"
                await asyncio.sleep(0.02)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        await self._reap_group(proc.pid, killed=proc.returncode == -signal.SIGKILL)
        for line in out_path.read_text().splitlines():
            # A kill can cut the last line short: only whole lines count as printed.
            with contextlib.suppress(json.JSONDecodeError):
                self.printed.append(json.loads(line))
        if proc.returncode == -signal.SIGKILL:
            self.kills += 1
        elif proc.returncode != 0:
            raise AssertionError(f"poll exited {proc.returncode}: {err_path.read_text()[-2000:]}")
        return proc.returncode or 0

    async def _wait_for_kill_point(
        self, proc: subprocess.Popen[bytes], kill: tuple[str, float, float]
    ) -> None:
        mode, amount, extra = kill
        start_hits = sum(self.srv.hits.values())
        deadline = time.monotonic() + RUN_TIMEOUT
        if mode == "after":  # seconds after start: start-up, migration, or anywhere later
            until = time.monotonic() + amount
        else:  # "requests": once the server has answered that many requests of this run
            while sum(self.srv.hits.values()) - start_hits < amount and proc.poll() is None:
                if time.monotonic() > deadline:
                    return
                await asyncio.sleep(0.005)
            until = time.monotonic() + extra
        while time.monotonic() < until and proc.poll() is None:  # noqa: ASYNC110 - a process
            await asyncio.sleep(0.005)

    async def _reap_group(self, pgid: int, *, killed: bool) -> None:
        """End what is left of the run's process group. After a clean exit nothing may be
        left. After a SIGKILL the parse worker, its forkserver and the resource tracker stay
        behind (see test_parse_workers_exit_when_the_poller_is_killed); they are ended here
        so that runs never pile up."""
        if not killed:
            for _ in range(LINGER_LIMIT * 20):
                try:
                    os.killpg(pgid, 0)
                except ProcessLookupError:
                    return
                await asyncio.sleep(0.05)
            self.leftovers += 1
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pgid, signal.SIGKILL)


async def _phase(runner: Runner, rng: random.Random, start: datetime, kills: int,
                 typical: float) -> datetime:
    """Run with kills until ``kills`` runs really died by SIGKILL, then once to completion."""
    now = start
    attempts = 0
    target = runner.kills + kills
    n_feeds = len(FILMS) + NOISE_FEEDS
    while runner.kills < target:
        attempts += 1
        assert attempts < kills * 4, "the poller kept finishing before the kill point"
        if rng.random() < 0.3:
            kill = ("after", rng.uniform(0.0, typical * 1.2), 0.0)
        else:
            kill = ("requests", float(rng.randint(1, n_feeds)), rng.uniform(0.0, 0.4))
        await runner.run(now, kill)
        now += STEP
    assert await runner.run(now, None) == 0
    return now + STEP


async def _state(db: Path) -> dict[str, Any]:
    engine = create_async_engine(f"sqlite+aiosqlite:///{db}")
    try:
        async with engine.connect() as conn:
            feed_url = dict((await conn.execute(select(feeds.c.id, feeds.c.url))).all())
            film_key = dict((await conn.execute(select(films.c.id, films.c.key))).all())
            story_rows = (await conn.execute(
                select(stories.c.id, stories.c.feed_id, stories.c.key))).all()
            story = {sid: (feed_url[fid].rsplit("/", 1)[1], key) for sid, fid, key in story_rows}
            events = (await conn.execute(select(
                status_events.c.id, status_events.c.film_id, status_events.c.story_id,
                status_events.c.from_status, status_events.c.to_status,
                status_events.c.alerted))).all()
            event = {eid: (film_key[f], story[s], frm, to, bool(al))
                     for eid, f, s, frm, to, al in events}
            subs = dict((await conn.execute(select(
                subscriptions.c.id, subscriptions.c.guild_id.concat(":").concat(
                    subscriptions.c.channel_id).concat(":").concat(subscriptions.c.scope)))).all())
            out = (await conn.execute(select(outbox.c.event_id, outbox.c.subscription_id))).all()
            dups = (await conn.execute(select(stories.c.duplicate_of))).scalars().all()
    finally:
        await engine.dispose()
    return {
        "stories": Counter(story.values()),
        "events": Counter(event.values()),
        "outbox": Counter((event[e], subs[s]) for e, s in out),
        "duplicates": sum(1 for d in dups if d is not None),
    }


async def _scenario(tmp: Path, srv: FeedServer, seed: int | None
                    ) -> tuple[dict[str, Any], Runner, dict[str, set[str]], float]:
    db = tmp / "greenlight.db"
    config = _write_config(tmp / "greenlight.toml", srv, db)
    await _subscribe(config)
    runner = Runner(config, srv, tmp)
    rng = random.Random(seed)
    served: dict[str, set[str]] = {}
    started = time.monotonic()
    now = T0
    for phase, clock in (("A", T0), ("B", PHASE_B)):
        served = _serve(srv, phase)
        now = max(now, clock)
        if seed is None:
            assert await runner.run(now, None) == 0
            now += STEP
        else:
            now = await _phase(runner, rng, now, KILLS_PER_PHASE, typical=_TYPICAL[0])
        if seed is None:
            _TYPICAL[0] = max(_TYPICAL[0], time.monotonic() - started)
            started = time.monotonic()
    return await _state(db), runner, served, time.monotonic() - started


_TYPICAL = [1.0]  # seconds one undisturbed run takes; measured by the reference run


@pytest.mark.parametrize("seed", [20250301])
async def test_sigkill_at_random_points_loses_and_duplicates_nothing(
    tmp_path: Path, seed: int
) -> None:
    async with FeedServer() as srv:
        (tmp_path / "ref").mkdir()
        (tmp_path / "crash").mkdir()
        reference, ref_runner, served, _ = await _scenario(tmp_path / "ref", srv, None)
        crashed, runner, _, _ = await _scenario(tmp_path / "crash", srv, seed)

    expected_stories = Counter((path.lstrip("/"), link) for path, links in served.items()
                               for link in links)
    # The scenario is only a test if it produces work: stories, alerts and outbox rows.
    assert reference["stories"] == expected_stories
    alerted = [e for e in reference["events"] if e[4]]
    assert len(alerted) >= len(FILMS), reference["events"]
    assert sum(reference["outbox"].values()) >= 2 * len(alerted)
    assert sorted(json.dumps(p, sort_keys=True) for p in ref_runner.printed) == sorted(
        {json.dumps(p, sort_keys=True) for p in ref_runner.printed})

    assert runner.kills >= 2 * KILLS_PER_PHASE
    assert crashed["stories"] == expected_stories, "stories lost or stored twice"
    assert crashed["events"] == reference["events"]
    assert max(crashed["events"].values()) == 1
    assert crashed["outbox"] == reference["outbox"]
    assert max(crashed["outbox"].values()) == 1
    assert crashed["duplicates"] == reference["duplicates"]

    printed = Counter((p["film"], p["to"], p["link"]) for p in runner.printed)
    assert not printed or max(printed.values()) == 1, "an alert was printed twice"
    stored_alerts = {(film, to) for (film, _story, _frm, to, al) in crashed["events"] if al}
    assert {(f, t) for f, t, _ in printed} <= stored_alerts
    assert runner.leftovers == 0 and ref_runner.leftovers == 0, "processes outlived a clean exit"
    print(f"\ncrash test: {runner.runs} runs, {runner.kills} SIGKILLs, "
          f"{sum(crashed['stories'].values())} stories, {len(crashed['events'])} events "
          f"({len(alerted)} alerted), {sum(crashed['outbox'].values())} outbox rows, "
          f"{len(runner.printed)} of them printed")


async def test_parse_workers_exit_when_the_poller_is_killed(tmp_path: Path) -> None:
    async with FeedServer() as srv:
        srv.feed("/quick.xml", rss(_noise_items(0, "A"), title="Quick"))
        # Keeps the cycle open (and the pool alive) after the quick feed has been parsed.
        srv.drip("/slow.xml", rss(_noise_items(1, "A")), interval=1.0)
        config = tmp_path / "greenlight.toml"
        config.write_text(
            f'[database]\nurl = "sqlite+aiosqlite:///{tmp_path / "g.db"}"\n'
            "[fetch]\nallow_private_networks = true\ntimeout = 60.0\n"
            "[poll]\nparse_workers = 1\n"
            f'[[feeds]]\nurl = "{srv.url("/quick.xml")}"\n'
            f'[[feeds]]\nurl = "{srv.url("/slow.xml")}"\n'
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("GREENLIGHT_")}
        proc = subprocess.Popen(  # noqa: ASYNC220 - a fork/exec, not a wait
            [sys.executable, "-m", "bot", "poll", "--once", "--config", str(config)],
            cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            # The quick feed fetched, then time for it to be parsed in the worker.
            while srv.hits["/quick.xml"] == 0 and time.monotonic() < deadline:  # noqa: ASYNC110
                await asyncio.sleep(0.05)
            await asyncio.sleep(2.0)
            assert proc.poll() is None, "the poll finished before the kill"
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            left = True
            for _ in range(100):  # 5 s
                try:
                    os.killpg(proc.pid, 0)
                except ProcessLookupError:
                    left = False
                    break
                await asyncio.sleep(0.05)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
    assert not left, "processes of the killed poller are still running after 5 s"

"""Replay feed snapshots in time order through the real command line (``poll --once --now``)
and check the exact alert sequence against the transition rules."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from feedgen import Item, rss
from feedserver import FeedServer

START = datetime(2023, 1, 1, tzinfo=UTC)


def day(n: int) -> datetime:
    return START + timedelta(days=n)


# Two outlets' stories about two films, in the order they appeared.
A = [
    Item(
        "Beetlejuice 2? Michael Keaton reportedly in early talks",
        "Michael Keaton is said to be in early talks to return for a sequel, though nothing is "
        "signed.",
        day(5),
        guid="a1",
    ),
    Item(
        "Warner Bros. greenlights Beetlejuice Beetlejuice",
        "The studio has officially given the sequel the go-ahead, with Tim Burton directing.",
        day(40),
        guid="a2",
    ),
    Item(
        "Twisters is officially a go at Universal",
        "Universal has greenlit the standalone follow-up with Lee Isaac Chung directing.",
        day(60),
        guid="a3",
    ),
    Item(
        "Beetlejuice Beetlejuice wraps production",
        "Tim Burton has wrapped filming and the sequel is now in post-production.",
        day(200),
        guid="a4",
    ),
]
B = [
    Item(
        "Cameras roll on Beetlejuice Beetlejuice in London",
        "Principal photography has begun, with Jenna Ortega joining the cast.",
        day(120),
        guid="b1",
    ),
    Item(
        "Twisters begins shooting in Oklahoma",
        "Filming has started on the sequel with Daisy Edgar-Jones and Glen Powell.",
        day(130),
        guid="b2",
    ),
    # A retrospective look back: an old stage, read but never alerted.
    Item(
        "Looking back: when Beetlejuice Beetlejuice was greenlit",
        "Warner Bros. officially greenlit the sequel back in February, a long wait for fans.",
        day(210),
        guid="b3",
    ),
]

# (clock for the poll, how many of A's and B's items are live then, expected alerts)
STEPS = [
    (day(1), 0, 0, []),
    (day(10), 1, 0, [("beetlejuice-2", None, "rumored")]),
    (day(45), 2, 0, [("beetlejuice-2", "rumored", "greenlit")]),
    (day(65), 3, 0, [("twisters", None, "greenlit")]),
    (
        day(135),
        3,
        2,
        [("beetlejuice-2", "greenlit", "filming"), ("twisters", "greenlit", "filming")],
    ),
    (day(215), 4, 3, [("beetlejuice-2", "filming", "post_production")]),
    (day(216), 4, 3, []),
]

CONFIG = """
[database]
url = "sqlite+aiosqlite:///{db}"

[fetch]
allow_private_networks = true

[poll]
interval = 60
parse_workers = 1

[logging]
level = "WARNING"

[[films]]
id = "beetlejuice-2"
title = "Beetlejuice Beetlejuice"
aliases = ["Beetlejuice 2"]
originals = ["Beetlejuice"]

[[films]]
id = "twisters"
title = "Twisters"
originals = ["Twister"]

[[feeds]]
url = "{a}"
name = "Outlet A"

[[feeds]]
url = "{b}"
name = "Outlet B"
"""


@pytest.fixture
async def srv() -> AsyncIterator[FeedServer]:
    async with FeedServer() as server:
        yield server


async def poll(config: Path, now: datetime) -> list[dict[str, object]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENLIGHT_")}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "poll",
        "--config",
        str(config),
        "--once",
        "--now",
        now.isoformat().replace("+00:00", "Z"),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, err.decode()
    return [json.loads(line) for line in out.decode().splitlines()]


async def test_replay_gives_the_exact_alert_sequence(srv: FeedServer, tmp_path: Path) -> None:
    config = tmp_path / "greenlight.toml"
    config.write_text(
        CONFIG.format(db=tmp_path / "replay.db", a=srv.url("/a.xml"), b=srv.url("/b.xml"))
    )
    seen: list[tuple[object, object, object]] = []
    for now, live_a, live_b, expected in STEPS:
        srv.feed("/a.xml", rss(list(reversed(A[:live_a])), title="Outlet A"))
        srv.feed("/b.xml", rss(list(reversed(B[:live_b])), title="Outlet B"))
        lines = await poll(config, now)
        got = [(a["film"], a["from"], a["to"]) for a in lines]
        assert got == expected, f"at {now:%Y-%m-%d}"
        for line in lines:
            assert set(line) == {
                "film",
                "from",
                "to",
                "link",
                "title",
                "evidence",
                "published",
                "also_reported_by",
            }
            assert line["evidence"] and datetime.fromisoformat(str(line["published"]))
        seen.extend(got)
    assert len(seen) == 6

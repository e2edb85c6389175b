"""The bot as a real process (``python -m fakediscord.launch`` → ``cogs._runtime.run``):
killed with SIGKILL mid-delivery, stopped with SIGTERM, started without or with a bad token."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fakediscord import FakeDiscord
from fakediscord.botharness import (
    ROMY,
    BotProcess,
    Newsroom,
    config_data,
    make_config,
    write_config,
)
from feedserver import FeedServer

from bot.service import Greenlight

SO_CLOSE = (
    "Romy and Michele sequel 'so close to being greenlit,' say Lisa Kudrow and Mira Sorvino",
    "The stars of the 1997 comedy say the sequel's script, by original writer Robin Schiff, is "
    "really good and a director has been hired. It is so close to being greenlit, they said, "
    "but it is not officially greenlit.",
)
#: The outbox lease (bot/service.py OUTBOX_LEASE): a row a dead process had claimed is taken
#: again only after it runs out, so the restart test waits that long.
LEASE_WAIT = 90.0


@dataclass
class Env:
    fake: FakeDiscord
    core: Greenlight  # the test's own core on the same database: the "poll worker"
    news: Newsroom
    channels: list[Any]
    config_path: Path
    tmp: Path

    def bot(self, **options: Any) -> BotProcess:
        return BotProcess(self.fake, self.config_path, cwd=self.tmp, **options)


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[Env]:
    db_url = f"sqlite+aiosqlite:///{tmp_path / 'greenlight.db'}"
    async with FakeDiscord() as fake, FeedServer() as srv:
        channels = []
        for n in range(2):
            guild = fake.add_guild(f"Club {n}")
            channels += [fake.add_channel(guild, "film-news"), fake.add_channel(guild, "romy")]
        newsroom = Newsroom(srv)
        feeds = [newsroom.feed_entry("/reel.xml", "Reel Wire")]
        core = await newsroom.open_core(make_config(db_url, films=[ROMY], feeds=feeds))
        data = config_data(
            db_url,
            films=[ROMY],
            feeds=feeds,
            discord={"delivery_interval": 0.05, "sync_commands": True},
        )
        path = write_config(tmp_path / "greenlight.toml", data)
        try:
            yield Env(fake, core, newsroom, channels, path, tmp_path)
        finally:
            await core.close()


async def queue_alerts(env: Env) -> int:
    """Subscribe every channel and publish one story: one pending outbox row per channel."""
    for ch in env.channels:
        await env.core.subscribe(ch.guild_id, ch.id)
    env.news.publish("/reel.xml", *SO_CLOSE)
    assert await env.news.poll(env.core)
    pending = await env.core.pending_alerts()
    assert pending == len(env.channels)
    return pending


async def until(probe: Any, expected: Any, what: str, within: float = 15.0) -> None:
    """Re-check ``probe()`` (the database, which the fake cannot see) until it returns
    ``expected``; the limit only stops a hung test."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if await probe() == expected:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"gave up waiting for {what}")


async def test_sigkill_mid_delivery_then_restart_delivers_everything_once(env: Env) -> None:
    await queue_alerts(env)
    sends = "POST /channels/{channel_id}/messages"
    # The first alert goes through; Discord creates the second but its answer never comes:
    # the process dies knowing nothing of it. The rest were never tried.
    lost = env.fake.faults.hang(commit=True, after=1, seconds=300)
    first = env.bot(retry_base=0.05)
    await first.start()
    try:
        await env.fake.wait_for(lambda: lost.hits == 1, what="the second send", within=60)
        first.kill()
        assert await first.wait() == -9
    finally:
        await first.stop()
        lost.release()
    assert len(env.fake.all_posts()) == 2  # the sent one, and the one whose answer was lost

    second = env.bot(retry_base=0.05)
    await second.start()
    try:
        await until(
            env.core.pending_alerts, 0, "every alert delivered after the restart", within=LEASE_WAIT
        )
        await env.fake.wait_for(
            lambda: len(env.fake.all_posts()) >= len(env.channels), what="every channel's alert"
        )
    finally:
        second.terminate()
        await second.wait()
    for ch in env.channels:
        assert len(env.fake.posts(ch)) == 1, f"#{ch.name} in guild {ch.guild_id}"
    # The re-send of the lost one carried the same nonce and was collapsed by Discord.
    nonces = [r.body["nonce"] for r in env.fake.requests_to(sends)]
    assert len(nonces) == len(set(nonces)) + 1


async def test_sigterm_finishes_the_message_in_flight_then_exits_cleanly(env: Env) -> None:
    await queue_alerts(env)
    slow = env.fake.faults.delay(seconds=60)  # Discord is slow to answer the first send
    proc = env.bot()
    await proc.start()
    try:
        await env.fake.wait_for(lambda: slow.hits == 1, what="the first send", within=60)
        proc.terminate()
        await proc.wait_for_log("SIGTERM received")  # while the send is still in flight
        slow.release()
        assert await proc.wait() == 0, proc.log()
    finally:
        await proc.stop()
    assert "SIGTERM received" in proc.log()
    [posted] = env.fake.all_posts()
    # It was marked sent before the exit: only the untried rows are still pending.
    assert await env.core.pending_alerts() == len(env.channels) - 1
    assert posted.nonce is not None


def run_bot_cli(config: Path, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=60,
    )


def test_missing_token_is_one_clear_line(tmp_path: Path) -> None:
    config = write_config(
        tmp_path / "c.toml", config_data(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}", films=[ROMY])
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("GREENLIGHT_")}
    result = run_bot_cli(config, env, tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "error: no Discord token: set GREENLIGHT_DISCORD_TOKEN or [discord] token"
    )


async def test_invalid_token_is_one_line_without_a_traceback(env: Env) -> None:
    data = config_data(
        f"sqlite+aiosqlite:///{env.tmp / 'g2.db'}", films=[ROMY], logging={"level": "WARNING"}
    )
    path = write_config(env.tmp / "bad-token.toml", data)
    proc = BotProcess(env.fake, path, cwd=env.tmp, token="not-the-bot-token")
    await proc.start()
    try:
        assert await proc.wait() == 1
    finally:
        await proc.stop()
    lines = [line for line in proc.log().splitlines() if line.strip()]
    assert lines == [lines[-1]] and lines[-1].startswith("error: Discord rejected the token"), lines
    assert "Traceback" not in proc.log()

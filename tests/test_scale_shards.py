"""Two Discord processes, shards 0 and 1 of 2, on the real PostgreSQL server and a fake
Discord with guilds on both shards: each delivers exactly the alerts of its own guilds."""

from __future__ import annotations

import asyncio
from pathlib import Path

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

SO_CLOSE = (
    "Romy and Michele sequel 'so close to being greenlit,' say its stars",
    "The script by original writer Robin Schiff is really good and a director has been hired. "
    "It is so close to being greenlit, they said, but it is not officially greenlit.",
)


async def until(probe, expected, what: str, within: float = 60.0) -> None:  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if await probe() == expected:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what}")


async def test_each_shard_process_delivers_its_own_guilds_once(
    postgres_url: str, tmp_path: Path
) -> None:
    async with FakeDiscord() as fake, FeedServer() as srv:
        guilds = [fake.add_guild(f"club {n}", shard=(n % 2, 2)) for n in range(4)]
        channels = [fake.add_channel(g, "film-news") for g in guilds]
        newsroom = Newsroom(srv)
        feeds = [newsroom.feed_entry("/reel.xml", "Reel Wire")]
        core = await newsroom.open_core(make_config(postgres_url, films=[ROMY], feeds=feeds))
        bots: list[BotProcess] = []
        try:
            for ch in channels:
                await core.subscribe(ch.guild_id, ch.id)
            for shard in (0, 1):
                folder = tmp_path / f"shard{shard}"
                folder.mkdir()
                data = config_data(
                    postgres_url,
                    films=[ROMY],
                    feeds=feeds,
                    discord={"shard_count": 2, "shard_ids": [shard], "delivery_interval": 0.1},
                )
                bots.append(
                    BotProcess(
                        fake,
                        write_config(folder / "greenlight.toml", data),
                        cwd=folder,
                        guild_ready_timeout=0.1,
                    )
                )

            # Only shard 0 runs: its two guilds get the alert, shard 1's wait in the outbox.
            await bots[0].start()
            newsroom.publish("/reel.xml", *SO_CLOSE)
            assert await newsroom.poll(core)
            await fake.wait_for_messages(channels[0], within=60)
            await fake.wait_for_messages(channels[2])
            await until(core.pending_alerts, 2, "shard 0's alerts to be sent")
            await asyncio.sleep(1.0)  # several delivery rounds: shard 0 must not touch the rest
            assert await core.pending_alerts() == 2
            assert fake.posts(channels[1]) == [] and fake.posts(channels[3]) == []

            # Shard 1 starts and delivers its own; nothing arrives twice anywhere.
            await bots[1].start()
            await until(core.pending_alerts, 0, "shard 1's alerts to be sent")
            await asyncio.sleep(0.5)
            assert [len(fake.posts(ch)) for ch in channels] == [1, 1, 1, 1]
            assert "took back" not in bots[0].log()
        finally:
            for b in bots:
                await b.stop()
            await core.close()

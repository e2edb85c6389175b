"""Discord-side hardening (issue 6): the bot process killed over and over mid-delivery, and
Discord down for a while. Afterwards every alert is in its channel exactly once, in order.

* Crash: the real bot process (``python -m fakediscord.launch``) is SIGKILLed 20 times at
  seeded points of a run that must deliver 26 alerts to 4 channels in 3 guilds: at start-up,
  right after a send was answered, while Discord holds a send it has not acted on, after
  Discord created the message but before the answer arrived, and with a send Discord acts on
  only after the process is dead. A restart takes its shards' leases back at once
  (``release_leases``) and re-sends with the row's nonce, which Discord collapses.
* Outage: every send answers 503, then hangs past the bot's send timeout, then hangs after
  Discord created the message, for several seconds. The bot backs off (doubling from
  ``retry_base``), so the failed requests stay within a bound derived from that schedule, and
  once Discord is back everything arrives once, in order.

What is checked is what the fake recorded: one message per outbox row, each carrying that
row's nonce, per channel in the rows' (= the alerts') order, and the row marked sent with
that very message id.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import math
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fakediscord import FakeDiscord, Message
from fakediscord.botharness import (
    GLADIATOR,
    ROMY,
    BotProcess,
    Newsroom,
    config_data,
    make_config,
    running_bot,
    write_config,
)
from fakediscord.faults import Fault
from feedserver import FeedServer
from sqlalchemy import select

from bot.service import Greenlight
from bot.store.delivery import nonce_for
from bot.store.schema import outbox
from bot.types import Alert
from cogs import _render as render
from cogs._runtime import GreenlightBot

SENDS = "POST /channels/{channel_id}/messages"
WAIT = 60.0  # only stops a hung test

BEETLEJUICE = {
    "id": "beetlejuice-2",
    "title": "Beetlejuice Beetlejuice",
    "aliases": ["Beetlejuice 2"],
    "originals": ["Beetlejuice"],
}
#: Status changes, in publication order (one poll each): Beetlejuice through every stage,
#: Romy twice, Gladiator once; the stories are the ones tests/test_discord_*.py rely on.
STORIES: list[tuple[str, str]] = [
    (
        "Seth Grahame-Smith hired to write Beetlejuice 2",
        "Warner Bros. has tapped the Abraham Lincoln: Vampire Hunter writer to script a sequel "
        "to Tim Burton's 1988 comedy.",
    ),
    (
        "Romy and Michele sequel 'so close to being greenlit,' say Lisa Kudrow and Mira Sorvino",
        "The stars of the 1997 comedy Romy and Michele's High School Reunion say the sequel's "
        "script, by original writer Robin Schiff, is really good and a director has been "
        "hired. It is so close to being greenlit, they said, with shooting rumoured for Q2, "
        "but it is not officially greenlit.",
    ),
    (
        "Warner Bros. officially moves forward on Beetlejuice 2 with Tim Burton at the helm",
        "The studio has given the long-gestating follow-up the go-ahead, with Michael Keaton "
        "set to reprise the title role. Plan B is producing.",
    ),
    (
        "Paramount officially moves forward on Gladiator 2 with Ridley Scott at the helm",
        "The studio has given the follow-up the go-ahead, with Ridley Scott back to direct.",
    ),
    (
        "Jenna Ortega cast in Beetlejuice 2",
        "The Wednesday star will play Lydia's daughter in the sequel, which starts shooting in "
        "London in May.",
    ),
    (
        "Touchstone officially greenlights Romy and Michele 2",
        "The studio has given the long-awaited sequel the go-ahead, with Lisa Kudrow and Mira "
        "Sorvino set to return. Robin Schiff wrote the script.",
    ),
    (
        "Cameras roll in London on Beetlejuice Beetlejuice",
        "Production kicked off this week at Leavesden, a Warner Bros. spokesperson said. Jenna "
        "Ortega joins Michael Keaton and Winona Ryder.",
    ),
    (
        "Tim Burton's Beetlejuice sequel has officially wrapped",
        "The director shared a photo from the final day on set, thanking the crew. The film "
        "now heads into the edit ahead of a September 2024 date.",
    ),
    (
        "Beetlejuice Beetlejuice haunts theaters this weekend",
        "The sequel opened across North America on Friday with strong previews. Critics have "
        "singled out Catherine O'Hara.",
    ),
]
FILMS = [ROMY, GLADIATOR, BEETLEJUICE]


@dataclass
class Sub:
    channel: Any
    film: str | None = None  # None: every film
    role: Any = None


@dataclass
class World:
    fake: FakeDiscord
    core: Greenlight  # the test's own core: the "poll worker"
    news: Newsroom
    subs: list[Sub]
    alerts: list[Alert] = field(default_factory=list)

    async def queue_everything(self, bot: GreenlightBot | None = None) -> None:
        for sub in self.subs:
            await self.core.subscribe(
                sub.channel.guild_id,
                sub.channel.id,
                sub.film,
                sub.role.id if sub.role is not None else None,
            )
        for title, summary in STORIES:
            self.news.publish("/reel.xml", title, summary)
            got = await self.news.poll(self.core, bot)
            assert len(got) == 1, (title, got)
            self.alerts += got

    def expected(self, sub: Sub) -> list[Alert]:
        return [a for a in self.alerts if sub.film is None or a.film == sub.film]

    async def rows(self) -> list[Any]:
        async with self.core.engine.connect() as conn:
            result = await conn.execute(
                select(
                    outbox.c.id, outbox.c.channel_id, outbox.c.state, outbox.c.message_id
                ).order_by(outbox.c.id)
            )
            return list(result)

    async def delivered_exactly_once_in_order(self) -> None:
        """The heart of both tests, from what the fake recorded."""
        rows = await self.rows()
        assert [r.state for r in rows] == ["sent"] * len(rows)
        assert len(rows) == sum(len(self.expected(s)) for s in self.subs)
        assert len(self.fake.all_posts()) == len(rows)  # one message per row, no more
        for sub in self.subs:
            ch = sub.channel
            mine = [r for r in rows if r.channel_id == ch.id]
            posts: list[Message] = self.fake.posts(ch)
            where = f"#{ch.name} in guild {ch.guild_id}"
            assert [m.nonce for m in posts] == [nonce_for(r.id) for r in mine], where
            assert [m.id for m in posts] == [r.message_id for r in mine], where
            # The rows' order is the alerts' order: each message is the alert it should be.
            expected = self.expected(sub)
            assert [m.embeds[0]["title"] for m in posts] == [a.film_title for a in expected]
            for m, a in zip(posts, expected, strict=True):
                assert f"{render.label(a.to_status)}**" in m.embeds[0]["description"], where
                if sub.role is None:
                    assert not m.pinged_anyone, where
                else:
                    assert m.mention_roles == [sub.role.id] and not m.mention_everyone, where


def build_world(fake: FakeDiscord) -> list[Sub]:
    """3 guilds, 4 subscribed channels: every film, one film with a role ping, every film in
    another guild, and one film in a third."""
    a, b, c = (fake.add_guild(f"Club {n}") for n in "ABC")
    fans = fake.add_role(a, "Beetlejuice fans", mentionable=True)
    return [
        Sub(fake.add_channel(a, "film-news")),
        Sub(fake.add_channel(a, "beetlejuice"), BEETLEJUICE["id"], fans),
        Sub(fake.add_channel(b, "news")),
        Sub(fake.add_channel(c, "romy"), ROMY["id"]),
    ]


# --- the crash test ---------------------------------------------------------------------------

KILLS = 20
SEED = 20250114
MODES = ("startup", "answered", "held", "lost", "late")


@dataclass
class Kill:
    mode: str
    k: int  # the k-th send of this life (send modes)
    delay: float  # seconds after spawn (startup mode)


def kill_schedule(seed: int, count: int) -> list[Kill]:
    """Every mode equally often, in a seeded order, each at a seeded send or moment."""
    rng = random.Random(seed)
    modes = [MODES[n % len(MODES)] for n in range(count)]
    rng.shuffle(modes)
    return [Kill(mode, rng.randint(1, 3), rng.uniform(0.0, 1.5)) for mode in modes]


async def until(probe: Any, what: str, within: float = WAIT) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while loop.time() < deadline:
        if result := await probe():
            return result
        await asyncio.sleep(0.02)
    raise AssertionError(f"gave up waiting for {what}")


async def test_sigkilled_twenty_times_mid_delivery_every_alert_arrives_once_in_order(
    db_url: str, tmp_path: Path
) -> None:
    """On SQLite (one bot process, the test polling) and PostgreSQL (the multi-process
    set-up): a kill can land inside a database transaction too."""
    async with FakeDiscord() as fake, FeedServer() as srv:
        subs = build_world(fake)
        news = Newsroom(srv)
        feeds = [news.feed_entry("/reel.xml", "Reel Wire")]
        core = await news.open_core(make_config(db_url, films=FILMS, feeds=feeds))
        try:
            world = World(fake, core, news, subs)
            await world.queue_everything()
            total = await core.pending_alerts()
            assert total == 26
            path = write_config(
                tmp_path / "greenlight.toml",
                config_data(
                    db_url,
                    films=FILMS,
                    feeds=feeds,
                    # A bot-wide 3 sends/s: a life ends within a send or two of its kill
                    # point, so 26 alerts outlast 20 lives however fast a process starts.
                    discord={"delivery_interval": 0.05, "sync_commands": False,
                             "send_rate": 3.0},
                    logging={"level": "INFO"},
                ),
            )

            def spawn() -> BotProcess:
                # send_timeout: longer than any hold here, so the kill, not a timeout, ends it.
                return BotProcess(
                    fake,
                    path,
                    cwd=tmp_path,
                    retry_base=0.05,
                    send_timeout=30.0,
                    guild_ready_timeout=0.05,
                )

            done: list[str] = []
            left: list[int] = []
            for kill in kill_schedule(SEED, KILLS):
                pending = await core.pending_alerts()
                left.append(pending)
                assert pending > 0, f"all delivered after only {len(done)} kills: add alerts"
                # Never wait for a send that cannot come: each pending row is sent at least once.
                k = min(kill.k, pending)
                sends_before = len(fake.requests_to(SENDS))
                fault: Fault | None = None
                if kill.mode == "held":  # Discord holds the send and has not acted on it
                    fault = fake.faults.hang(after=k - 1, seconds=WAIT)
                elif kill.mode == "lost":  # Discord created the message; the answer is lost
                    fault = fake.faults.hang(after=k - 1, commit=True, seconds=WAIT)
                elif kill.mode == "late":  # Discord acts on the send only after the death
                    fault = fake.faults.delay(after=k - 1, seconds=WAIT)
                proc = await spawn().start()
                try:
                    if kill.mode == "startup":
                        # In start-up: at the drawn moment, or at this life's first send if
                        # that comes sooner (a process that starts fast would otherwise send
                        # half the outbox before a "start-up" kill lands).
                        async def first_send(before: int = sends_before) -> bool:
                            return len(fake.requests_to(SENDS)) > before

                        with contextlib.suppress(AssertionError):
                            await until(first_send, "a first send", within=kill.delay)
                    elif kill.mode == "answered":

                        async def answered(before: int = sends_before, k: int = k) -> bool:
                            sends = fake.requests_to(SENDS)[before:]
                            return len([r for r in sends if r.status]) >= k

                        await until(answered, f"send #{k} answered", within=WAIT)
                    else:
                        assert fault is not None
                        await fake.wait_for(
                            lambda f=fault: f.hits >= 1, what=f"send #{k} held", within=WAIT
                        )
                    proc.kill()
                    assert await proc.wait() == -9, proc.log()[-3000:]
                finally:
                    await proc.stop()
                    if fault is not None:
                        fault.end()  # a "late" send now goes through, to a dead process
                done.append(kill.mode)

            # The last life: nothing is killed, everything left must arrive.
            last = await spawn().start()
            try:
                await until(lambda: _all_sent(core), "every alert delivered after the last restart")
            finally:
                last.terminate()
                assert await last.wait() == 0, last.log()[-3000:]

            assert len(done) == KILLS
            await world.delivered_exactly_once_in_order()
            sends = fake.requests_to(SENDS)
            nonces = [r.body["nonce"] for r in sends]
            # Some rows were sent more than once (their first try died with a process); the
            # fake (like Discord) answered the repeats with the first message.
            assert len(nonces) > len(set(nonces)) == total
            print(
                f"\n{KILLS} kills {dict((m, done.count(m)) for m in MODES)}; {total} alerts; "
                f"{len(sends)} send requests for them, {len(nonces) - len(set(nonces))} repeats; "
                f"{left[-1]} still undelivered before the last kill"
            )
        finally:
            await core.close()


async def _all_sent(core: Greenlight) -> bool:
    return await core.pending_alerts() == 0


# --- the outage test --------------------------------------------------------------------------

RETRY_BASE = 0.05
SEND_TIMEOUT = 0.4


def max_attempts(window: float, base: float) -> int:
    """The most sends ``cogs/alerts.py`` makes for one row within ``window`` seconds of its
    first failure: attempt n waits base·2^(n-1) after failing, so n attempts take at least
    base·(2^(n-1) − 1) seconds."""
    return 1 + math.floor(math.log2(1 + window / base))


@pytest.fixture
async def outage_world(sqlite_url: str) -> AsyncIterator[tuple[World, GreenlightBot]]:
    async with FakeDiscord() as fake, FeedServer() as srv:
        subs = build_world(fake)
        news = Newsroom(srv)
        config = make_config(sqlite_url, films=FILMS, feeds=[news.feed_entry("/reel.xml", "Reel")])
        poller = await news.open_core(config)
        # The bot gets its own core: Newsroom.poll sets the poller's clock days back while it
        # polls, and a retry scheduled on that clock would be due at once.
        bot_core = await Greenlight.open(config)
        try:
            async with running_bot(
                fake, config, bot_core, retry_base=RETRY_BASE, send_timeout=SEND_TIMEOUT
            ) as bot:
                yield World(fake, poller, news, subs), bot
        finally:
            await bot_core.close()
            await poller.close()


async def test_an_outage_queues_alerts_backs_off_and_delivers_each_once_after(
    outage_world: tuple[World, GreenlightBot],
) -> None:
    world, bot = outage_world
    fake = world.fake
    loop = asyncio.get_running_loop()
    forever = 10**9
    started = loop.time()
    # Phase 1: Discord answers every send with 503.
    phase = fake.faults.server_error(times=forever)
    await world.queue_everything(bot)
    await asyncio.sleep(2.0)
    # Phase 2: sends hang until the bot's own timeout gives up on them.
    phase.end()
    phase = fake.faults.hang(times=forever, seconds=WAIT)
    await asyncio.sleep(1.5)
    # Phase 3: Discord creates the message, but the answer never arrives.
    phase.end()
    phase = fake.faults.hang(times=forever, seconds=WAIT, commit=True)
    await asyncio.sleep(1.5)
    phase.end()
    window = loop.time() - started
    during = list(fake.requests_to(SENDS))

    await until(lambda: _all_sent(world.core), "the queue to drain after the outage")
    await world.delivered_exactly_once_in_order()

    failed = [r for r in during if r.status != 200]
    assert failed, "the outage never hit a send"
    # Only the oldest pending row of a channel is ever tried (order), and it backs off.
    heads = len(world.subs)
    bound = heads * max_attempts(window, RETRY_BASE)
    assert len(failed) <= bound, f"{len(failed)} failed sends in {window:.1f}s, bound {bound}"
    # Never a tight loop: each retry of a row came at least its back-off after the last try.
    by_nonce: dict[str, list[float]] = {}
    for r in fake.requests_to(SENDS):
        by_nonce.setdefault(r.body["nonce"], []).append(r.at)
    for nonce, times in by_nonce.items():
        for n, (a, b) in enumerate(itertools.pairwise(times), 1):
            wanted = RETRY_BASE * 2 ** (n - 1)
            assert b - a >= 0.9 * wanted, f"{nonce}: try {n + 1} {b - a:.3f}s after try {n}"
    # A server error says nothing about the channel: nothing was switched off, nobody told.
    for g in {s.channel.guild_id for s in world.subs}:
        assert all(s.disabled_reason is None for s in await world.core.subscriptions(g))
    print(
        f"\noutage {window:.1f}s: {len(failed)} failed sends for {heads} channels "
        f"(bound {bound}); {len(fake.requests_to(SENDS))} sends in all for "
        f"{len(fake.all_posts())} messages"
    )


def test_production_back_off_keeps_far_from_discords_invalid_request_limit() -> None:
    """With the bot's default ``retry_base`` a failing channel costs at most a handful of
    requests per 10 minutes (Discord bans at 10,000 401/403/429s in 10 minutes; a 403 or
    404 switches the subscription off after one)."""
    default = inspect.signature(GreenlightBot.__init__).parameters["retry_base"].default
    assert default >= 30.0
    assert max_attempts(600.0, default) <= 5

"""Alert delivery, end to end: a feed story → the real core → the outbox → the real bot →
the fake Discord, including what Discord does wrong (429, 403, 404, 503, lost answers)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fakediscord import FakeDiscord, Message, Perm
from fakediscord.botharness import (
    GLADIATOR,
    ROMY,
    Newsroom,
    make_config,
    newsroom_bot,
    running_bot,
)
from feedserver import FeedServer

from bot.service import Greenlight
from cogs._runtime import GreenlightBot

SO_CLOSE = (
    "Romy and Michele sequel 'so close to being greenlit,' say Lisa Kudrow and Mira Sorvino",
    "The stars of the 1997 comedy Romy and Michele's High School Reunion say the sequel's "
    "script, by original writer Robin Schiff, is really good and a director has been hired. "
    "It is so close to being greenlit, they said, with shooting rumoured for Q2, but it is "
    "not officially greenlit.",
)
GREENLIT = (
    "Touchstone officially greenlights Romy and Michele 2",
    "The studio has given the long-awaited sequel the go-ahead, with Lisa Kudrow and Mira "
    "Sorvino set to return. Robin Schiff wrote the script.",
)
GLADIATOR_GO = (
    "Paramount officially moves forward on Gladiator 2 with Ridley Scott at the helm",
    "The studio has given the follow-up the go-ahead, with Ridley Scott back to direct.",
)


@dataclass
class Env:
    fake: FakeDiscord
    core: Greenlight
    bot: GreenlightBot
    news: Newsroom
    guild: Any
    other: Any
    news_ch: Any
    romy_ch: Any
    chat_ch: Any
    other_ch: Any
    fans: Any

    async def subscribe(self, channel: Any, film: str | None = None, role: Any = None) -> int:
        guild = self.guild if channel.guild_id == self.guild.id else self.other
        sub = await self.core.subscribe(guild.id, channel.id, film, role.id if role else None)
        return sub.id

    async def story(
        self, title: str, summary: str, *, path: str = "/reel.xml", link: str | None = None
    ) -> list[Any]:
        """Publish a story, poll, and return the alerts (the bot is told about them)."""
        self.news.publish(path, title, summary, link=link)
        return await self.news.poll(self.core, self.bot)

    async def settled(self) -> None:
        """Until the outbox is empty: every row sent, or dropped with its subscription."""
        await until(lambda: self.core.pending_alerts(), 0, "the outbox to empty")


async def until(probe: Callable[[], Awaitable[Any]], expected: Any, what: str) -> None:
    """Re-check ``probe()`` until it returns ``expected``. For state the fake cannot see (the
    core's database); the limit only stops a hung test."""
    for _ in range(750):
        if await probe() == expected:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"gave up waiting for {what}")


@pytest.fixture
async def env(sqlite_url: str) -> AsyncIterator[Env]:
    async with FakeDiscord() as fake, FeedServer() as srv:
        guild = fake.add_guild("Film Club")
        news_ch = fake.add_channel(guild, "film-news")
        romy_ch = fake.add_channel(guild, "romy-fans")
        chat_ch = fake.add_channel(guild, "chat")
        guild.system_channel_id = chat_ch.id
        fans = fake.add_role(guild, "Romy Fans", mentionable=True)
        other = fake.add_guild("Other Club")
        other_ch = fake.add_channel(other, "news")
        newsroom = Newsroom(srv)
        config = make_config(
            sqlite_url,
            films=[ROMY, GLADIATOR],
            feeds=[
                newsroom.feed_entry("/reel.xml", "Reel Wire"),
                newsroom.feed_entry("/cut.xml", "Cut Print"),
            ],
        )
        async with newsroom_bot(fake, newsroom, config) as (core, bot):
            yield Env(
                fake,
                core,
                bot,
                newsroom,
                guild,
                other,
                news_ch,
                romy_ch,
                chat_ch,
                other_ch,
                fans,
            )


def alert_posts(env: Env) -> list[Message]:
    return env.fake.all_posts()


async def test_a_change_is_posted_once_in_each_subscribed_channel_and_nowhere_else(
    env: Env,
) -> None:
    await env.subscribe(env.news_ch)  # every film
    await env.subscribe(env.romy_ch, ROMY["id"], env.fans)  # Romy only, pinging a role
    await env.subscribe(env.other_ch, GLADIATOR["id"])  # another server, another film
    alerts = await env.story(*SO_CLOSE, link="https://reelwire.example/romy-so-close")
    assert [(a.film, a.to_status) for a in alerts] == [(ROMY["id"], "in_development")]

    [in_news] = await env.fake.wait_for_messages(env.news_ch)
    [in_romy] = await env.fake.wait_for_messages(env.romy_ch)
    await env.settled()
    assert {m.channel_id for m in alert_posts(env)} == {env.news_ch.id, env.romy_ch.id}
    assert len(alert_posts(env)) == 2

    embed = in_news.embeds[0]
    assert embed["title"] == "Romy and Michele 2"
    assert embed["url"] == "https://reelwire.example/romy-so-close"
    assert "**In development** (first report)" in embed["description"]
    assert "\n\n> " in embed["description"]  # the evidence, quoted
    assert {f["name"] for f in embed["fields"]} >= {"Outlet", "Published", "Story"}
    assert embed["color"] == 0x3498DB and embed["timestamp"]
    # No role named: nothing at all may ping.
    assert in_news.content == "" and in_news.request["allowed_mentions"] == {"parse": []}
    assert not in_news.pinged_anyone
    # The role subscription pings that role and nothing else.
    assert in_romy.content == f"<@&{env.fans.id}>"
    allowed = in_romy.request["allowed_mentions"]
    assert allowed["parse"] == [] and [int(r) for r in allowed["roles"]] == [env.fans.id]
    assert "users" not in allowed and not allowed.get("replied_user")
    assert in_romy.mention_roles == [env.fans.id] and not in_romy.mention_everyone
    # Each send carried its outbox row's stable nonce, enforced.
    assert in_news.nonce != in_romy.nonce
    assert in_news.request["enforce_nonce"] is True

    # Another outlet re-running the story: no second alert anywhere.
    assert await env.story(*SO_CLOSE, path="/cut.xml", link="https://cutprint.example/romy") == []
    await env.settled()
    assert len(alert_posts(env)) == 2


async def test_the_next_change_shows_from_and_to(env: Env) -> None:
    await env.subscribe(env.news_ch)
    await env.story(*SO_CLOSE)
    await env.fake.wait_for_messages(env.news_ch, 1)
    alerts = await env.story(*GREENLIT)
    assert [(a.from_status, a.to_status) for a in alerts] == [("in_development", "greenlit")]
    _, second = await env.fake.wait_for_messages(env.news_ch, 2)
    assert "**In development → Greenlit**" in second.embeds[0]["description"]
    assert second.embeds[0]["color"] == 0x2ECC71


async def test_a_429_is_retried_and_the_alert_appears_exactly_once(env: Env) -> None:
    await env.subscribe(env.news_ch)
    limited = env.fake.faults.rate_limit(times=2, retry_after=0.05, channel_id=env.news_ch.id)
    await env.story(*SO_CLOSE)
    await env.fake.wait_for_messages(env.news_ch)
    await env.settled()
    assert limited.hits == 2
    assert len(env.fake.posts(env.news_ch)) == 1
    sends = env.fake.requests_to("POST /channels/{channel_id}/messages")
    assert [r.status for r in sends] == [429, 429, 200]


async def test_a_403_disables_the_subscription_and_is_never_retried(env: Env) -> None:
    sub = await env.subscribe(env.news_ch)
    await env.subscribe(env.romy_ch)
    env.fake.faults.forbidden(times=100, channel_id=env.news_ch.id)
    await env.story(*SO_CLOSE)
    await env.fake.wait_for_messages(env.romy_ch)
    await env.settled()
    [news_sub] = [s for s in await env.core.subscriptions(env.guild.id) if s.id == sub]
    assert news_sub.disabled_reason is not None and "403" in news_sub.disabled_reason

    def alert_sends() -> int:
        targets = {f"/channels/{env.news_ch.id}/messages", f"/channels/{env.romy_ch.id}/messages"}
        return sum(
            r.path in targets for r in env.fake.requests_to("POST /channels/{channel_id}/messages")
        )

    assert alert_sends() == 2  # one each

    # Later changes skip the disabled channel, and /subscriptions says why.
    await env.story(*GREENLIT)
    await env.fake.wait_for_messages(env.romy_ch, 2)
    await env.settled()
    assert env.fake.posts(env.news_ch) == []
    assert alert_sends() == 3
    owner = env.guild.members[env.guild.owner_id].user
    listed = await env.fake.invoke_slash(env.guild, env.chat_ch, owner, "subscriptions")
    assert "switched off" in listed.embed["description"]
    # The server's admins were told once, in its system channel, pinging nobody.
    [notice] = env.fake.posts(env.chat_ch)
    assert f"stopped posting alerts in <#{env.news_ch.id}>" in notice.content
    assert "403" in notice.content and not notice.pinged_anyone


async def test_a_rejected_message_is_marked_failed_not_retried(env: Env) -> None:
    """A 400 means the message itself is wrong: retrying can only repeat the refusal."""
    await env.subscribe(env.news_ch)
    rejected = env.fake.faults.server_error(times=1, status=400, channel_id=env.news_ch.id)
    await env.story(*SO_CLOSE)
    await env.settled()
    assert rejected.hits == 1
    assert len(env.fake.requests_to("POST /channels/{channel_id}/messages")) == 1
    [s] = await env.core.subscriptions(env.guild.id)
    assert s.disabled_reason is None  # the channel is fine; only that message failed


async def test_losing_send_permission_disables_with_the_permission_named(env: Env) -> None:
    sub = await env.subscribe(env.news_ch)
    # An admin takes Send Messages away from the bot's role in that channel.
    await env.fake.set_overwrite(env.news_ch, env.fake.bot_role(env.guild), deny=Perm.SEND_MESSAGES)
    await env.story(*SO_CLOSE)
    await until(lambda: _reason(env, sub), True, "the subscription to be disabled")
    [s] = await env.core.subscriptions(env.guild.id)
    assert "Send Messages" in (s.disabled_reason or "")
    assert env.fake.posts(env.news_ch) == []


async def _reason(env: Env, sub_id: int) -> bool:
    subs = {s.id: s for s in await env.core.subscriptions(env.guild.id)}
    return subs[sub_id].disabled_reason is not None


async def test_a_deleted_channel_disables_its_subscription(env: Env) -> None:
    sub = await env.subscribe(env.news_ch)
    await env.fake.delete_channel(env.news_ch)
    await env.story(*SO_CLOSE)
    await until(lambda: _reason(env, sub), True, "the subscription to be disabled")
    [s] = await env.core.subscriptions(env.guild.id)
    assert "404" in (s.disabled_reason or "")


async def test_a_503_is_retried_later_and_delivered_once(env: Env) -> None:
    await env.subscribe(env.news_ch)
    failing = env.fake.faults.server_error(times=2, channel_id=env.news_ch.id)
    await env.story(*SO_CLOSE)
    await env.fake.wait_for_messages(env.news_ch)
    await env.settled()
    assert failing.hits == 2
    assert len(env.fake.posts(env.news_ch)) == 1
    # Still subscribed: a server error says nothing about the channel.
    [s] = await env.core.subscriptions(env.guild.id)
    assert s.disabled_reason is None


async def test_a_lost_answer_is_resent_with_the_same_nonce_and_posted_once(env: Env) -> None:
    """Discord creates the message but the answer never arrives: the bot times out, retries
    with the row's nonce, and Discord hands back the first message."""
    env.bot.send_timeout = 0.3
    await env.subscribe(env.news_ch)
    lost = env.fake.faults.hang(commit=True, seconds=1.0, channel_id=env.news_ch.id)
    await env.story(*SO_CLOSE)
    await env.settled()
    assert lost.hits == 1
    [posted] = env.fake.posts(env.news_ch)
    sends = env.fake.requests_to("POST /channels/{channel_id}/messages")
    assert len(sends) == 2 and sends[0].body["nonce"] == sends[1].body["nonce"] == posted.nonce


async def test_a_feed_item_titled_everyone_pings_nobody(env: Env) -> None:
    await env.subscribe(env.news_ch)
    await env.subscribe(env.romy_ch, role=env.fans)
    env.fake.bot_role(env.guild).permissions |= Perm.MENTION_EVERYONE  # even if it could
    await env.story(f"@everyone {GREENLIT[0]} <@&{env.fans.id}> @here", f"@everyone {GREENLIT[1]}")
    [plain] = await env.fake.wait_for_messages(env.news_ch)
    [with_role] = await env.fake.wait_for_messages(env.romy_ch)
    assert not plain.pinged_anyone
    assert plain.request["allowed_mentions"] == {"parse": []}
    assert with_role.mention_roles == [env.fans.id] and not with_role.mention_everyone
    assert with_role.request["allowed_mentions"]["parse"] == []
    text = plain.text()
    assert "@everyone" not in text.replace("@\u200beveryone", "")  # escaped wherever it appears
    assert "@here" not in text.replace("@\u200bhere", "")


async def test_a_gateway_disconnect_does_not_stop_delivery(env: Env) -> None:
    await env.subscribe(env.news_ch)
    await env.fake.gateway.drop()
    await env.story(*SO_CLOSE)  # queued while the gateway is down: REST still works
    await env.fake.wait_for_resume()
    await env.fake.wait_for_messages(env.news_ch)
    await env.settled()
    assert len(env.fake.posts(env.news_ch)) == 1


async def test_each_shard_process_delivers_only_its_own_guilds(sqlite_url: str) -> None:
    """Bot processes running one of two shards each (here: two bots in one process) share the
    database; each sends only the alerts of the guilds its shard owns."""
    async with FakeDiscord() as fake, FeedServer() as srv:
        guilds = [fake.add_guild(f"club {n}", shard=(n % 2, 2)) for n in range(4)]
        channels = [fake.add_channel(g, "film-news") for g in guilds]
        shard0, shard1 = channels[0::2], channels[1::2]
        newsroom = Newsroom(srv)
        feeds = [newsroom.feed_entry("/reel.xml", "Reel Wire")]
        configs = [
            make_config(
                sqlite_url,
                films=[ROMY],
                feeds=feeds,
                discord={"shard_count": 2, "shard_ids": [shard]},
            )
            for shard in (0, 1)
        ]
        core = await newsroom.open_core(configs[0])
        try:
            # Shard 1's rows come first: were shard 0's bot to take them, it would send them
            # before its own, so they would be there by the time its own are.
            for ch in shard1 + shard0:
                await core.subscribe(ch.guild_id, ch.id)
            newsroom.publish("/reel.xml", *SO_CLOSE)
            assert await newsroom.poll(core)
            async with running_bot(fake, configs[0], core) as bot0:
                assert {g.id for g in bot0.guilds} == {ch.guild_id for ch in shard0}
                for ch in shard0:
                    await fake.wait_for_messages(ch)
                await until(core.pending_alerts, 2, "shard 0's alerts to be marked sent")
                assert all(fake.posts(ch) == [] for ch in shard1)
                async with running_bot(fake, configs[1], core) as bot1:
                    assert {g.id for g in bot1.guilds} == {ch.guild_id for ch in shard1}
                    for ch in shard1:
                        await fake.wait_for_messages(ch)
                    await until(core.pending_alerts, 0, "the outbox to empty")
        finally:
            await core.close()
    assert [len(fake.posts(ch)) for ch in channels] == [1, 1, 1, 1]


def test_embeds_stay_within_discord_limits_and_feed_text_is_inert() -> None:
    """Whatever a feed says, the embeds pass Discord's validation (the fake's) and neither
    ping nor format anything."""
    from datetime import UTC, datetime

    from fakediscord.rest import validate_message

    from bot.types import Alert
    from bot.views import ChangeView, FilmView, StatusView
    from cogs import _render as render

    noisy = "@everyone **bold** <@&123> `code` [link](https://evil.example) \\ "
    alert = Alert(
        film="romy-and-michele-2",
        film_title="Romy " * 100,
        from_status="rumored",
        to_status="greenlit",
        link="https://news.example/" + "a" * 3000,
        title=noisy * 200,
        evidence=noisy * 500,
        published=datetime(2025, 1, 14, tzinfo=UTC),
        outlet=noisy * 50,
        also_reported_by=tuple(f"{noisy}{n}" for n in range(300)),
    )
    embed = render.alert_embed(alert).to_dict()
    assert validate_message({"embeds": [embed]}) == {}
    assert "url" not in embed  # too long to be a link Discord accepts: left out, not sent
    text = str(embed)
    assert "@everyone" not in text.replace("@\u200beveryone", "")
    assert "<@&123>" not in text and "**bold**" not in text

    film = FilmView(
        key="romy-and-michele-2", title="Romy " * 100, aliases=(), status="greenlit", shared=True
    )
    change = ChangeView(
        from_status="rumored",
        to_status="greenlit",
        at=None,
        evidence=noisy * 500,
        title=noisy * 100,
        link="https://news.example/x",
        outlet=noisy * 40,
        alerted=True,
        also_reported_by=tuple(noisy for _ in range(100)),
    )
    view = StatusView(
        film=film,
        status="greenlit",
        since=None,
        current=change,
        recent=tuple(change for _ in range(5)),
    )
    assert validate_message({"embeds": [render.status_embed(view).to_dict()]}) == {}
    for page in render.history_pages(film, [change] * 12):
        assert validate_message({"embeds": [page.to_dict()]}) == {}

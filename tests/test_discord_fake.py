"""The fake Discord (tests/fakediscord) against real, unmodified discord.py.

These tests need no Greenlight core: they pin down that the fake behaves like Discord where
discord.py (and so the bot) can tell the difference: login, gateway compression, READY and
GUILD_CREATE, permissions, slash commands and autocomplete, buttons, rate limits and errors,
nonces, resume after a dropped connection, and sharding.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import discord
import pytest
from discord import app_commands
from discord.ext import commands
from fakediscord import CommandNotInvocable, FakeDiscord, Perm, shard_of


def make_bot(
    *, message_content: bool = True, sharded: bool = False, **options: Any
) -> commands.Bot:
    intents = discord.Intents.none()
    intents.guilds = True
    intents.guild_messages = True
    intents.message_content = message_content
    cls = commands.AutoShardedBot if sharded else commands.Bot
    bot = cls(
        command_prefix="!",
        intents=intents,
        guild_ready_timeout=0.05,
        allowed_mentions=discord.AllowedMentions.none(),
        **options,
    )

    @bot.command()
    async def ping(ctx: commands.Context[Any]) -> None:
        await ctx.send("pong")

    @bot.tree.command(description="Say hello to someone in a channel")
    @app_commands.describe(where="a channel", who="someone's name", role="a role")
    async def hello(
        interaction: discord.Interaction,
        where: discord.TextChannel,
        who: str,
        role: discord.Role | None = None,
    ) -> None:
        pinged = f" {role.mention}" if role else ""
        await interaction.response.send_message(
            f"hi {who} in {where.mention}{pinged}", ephemeral=True
        )

    @hello.autocomplete("who")
    async def who_choices(
        interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        names = ["romy", "michele", "sandy"]
        return [app_commands.Choice(name=n, value=n) for n in names if n.startswith(current)]

    @bot.tree.command(description="Think first, answer later")
    async def slow(interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        await interaction.followup.send("done thinking")

    @bot.tree.command(description="Admins only")
    @app_commands.default_permissions(manage_guild=True)
    async def secret(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("ok", ephemeral=True)

    class Counter(discord.ui.View):
        def __init__(self) -> None:
            super().__init__(timeout=60)
            self.count = 0

        @discord.ui.button(label="+1")
        async def plus(
            self, interaction: discord.Interaction, button: discord.ui.Button[Any]
        ) -> None:
            self.count += 1
            await interaction.response.edit_message(content=f"count {self.count}", view=self)

    @bot.tree.command(description="A message with a button")
    async def counter(interaction: discord.Interaction) -> None:
        await interaction.response.send_message("count 0", view=Counter())

    async def setup_hook() -> None:
        await bot.tree.sync()

    async def before_identify_hook(shard_id: int | None, *, initial: bool = False) -> None:
        pass  # discord.py waits 5 s between IDENTIFYs by default; the fake has no such limit

    bot.setup_hook = setup_hook  # type: ignore[method-assign]
    bot.before_identify_hook = before_identify_hook  # type: ignore[method-assign]
    return bot


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as server:
        yield server


@pytest.fixture
def world(fake: FakeDiscord) -> dict[str, Any]:
    guild = fake.add_guild("Film Club")
    news = fake.add_channel(guild, "news")
    # A channel where the bot's role may read but not post.
    readonly = fake.add_channel(
        guild,
        "read-only",
        overwrites=[fake.overwrite(fake.bot_role(guild), deny=Perm.SEND_MESSAGES)],
    )
    fans = fake.add_role(guild, "Fans", mentionable=True)
    alice = fake.add_user("alice")
    fake.add_member(guild, alice, roles=[fans])
    return {"guild": guild, "news": news, "readonly": readonly, "fans": fans, "alice": alice}


async def test_login_ready_and_cache(fake: FakeDiscord, world: dict[str, Any]) -> None:
    async with fake.running(make_bot()) as bot:
        guild = bot.get_guild(world["guild"].id)
        assert guild is not None and guild.me is not None
        assert {c.name for c in guild.text_channels} == {"news", "read-only"}
        # discord.py computes the bot's permissions from GUILD_CREATE; it must agree with
        # what the fake enforces.
        news, readonly = (
            guild.get_channel(world["news"].id),
            guild.get_channel(world["readonly"].id),
        )
        assert news.permissions_for(guild.me).send_messages
        assert not readonly.permissions_for(guild.me).send_messages
        assert readonly.permissions_for(guild.me).view_channel
        assert bot.application_id == fake.application_id
    assert fake.state.unhandled == []


async def test_gateway_uses_the_compression_discord_py_asks_for(
    fake: FakeDiscord, world: dict[str, Any]
) -> None:
    async with fake.running(make_bot()):
        pass
    query = fake.gateway.connect_queries[0]
    assert query["v"] == "10" and query["encoding"] == "json"
    assert query["compress"] == discord.utils._ActiveDecompressionContext.COMPRESSION_TYPE


async def test_prefix_command_and_recorded_reply(fake: FakeDiscord, world: dict[str, Any]) -> None:
    async with fake.running(make_bot()):
        asked = await fake.send_message(world["guild"], world["news"], world["alice"], "!ping")
        [reply] = await fake.wait_for_messages(world["news"], after=asked)
    assert reply.content == "pong"
    assert reply.author.id == fake.bot_user.id
    assert reply.request is not None and reply.request["enforce_nonce"] is True


async def test_without_message_content_intent_text_is_blank(
    fake: FakeDiscord, world: dict[str, Any]
) -> None:
    bot = make_bot(message_content=False)
    async with fake.running(bot):
        seen = asyncio.ensure_future(bot.wait_for("message", timeout=15))
        await fake.send_message(world["guild"], world["news"], world["alice"], "!ping")
        message = await seen
    assert message.content == ""
    assert fake.posts(world["news"]) == []


async def test_slash_command_resolves_channel_and_role(
    fake: FakeDiscord, world: dict[str, Any]
) -> None:
    async with fake.running(make_bot()):
        result = await fake.invoke_slash(
            world["guild"],
            world["news"],
            world["alice"],
            "hello",
            {"where": world["readonly"], "who": "romy", "role": world["fans"]},
        )
    assert result.ephemeral
    assert result.content == f"hi romy in <#{world['readonly'].id}> <@&{world['fans'].id}>"
    # The client's AllowedMentions.none() means the role mention pings nobody.
    assert not result.message.pinged_anyone


async def test_autocomplete_returns_choices(fake: FakeDiscord, world: dict[str, Any]) -> None:
    async with fake.running(make_bot()):
        choices = await fake.autocomplete(
            world["guild"], world["news"], world["alice"], "hello", {"who": "m"}, focused="who"
        )
    assert [c["value"] for c in choices] == ["michele"]


async def test_defer_then_followup_replaces_the_thinking_message(
    fake: FakeDiscord, world: dict[str, Any]
) -> None:
    async with fake.running(make_bot()):
        result = await fake.invoke_slash(world["guild"], world["news"], world["alice"], "slow")
    assert result.deferred
    assert result.content == "done thinking"
    assert result.messages == [result.message]


async def test_fake_refuses_what_discord_would_not_send(
    fake: FakeDiscord, world: dict[str, Any]
) -> None:
    async with fake.running(make_bot()):
        g, news, alice = world["guild"], world["news"], world["alice"]
        with pytest.raises(CommandNotInvocable, match="no option"):
            await fake.invoke_slash(
                g, news, alice, "hello", {"where": news, "who": "x", "bogus": 1}
            )
        with pytest.raises(CommandNotInvocable, match="requires"):
            await fake.invoke_slash(g, news, alice, "hello", {"who": "x"})
        with pytest.raises(CommandNotInvocable, match="not registered"):
            await fake.invoke_slash(g, news, alice, "nope")
        # default_member_permissions hides /secret from a member without Manage Server…
        with pytest.raises(CommandNotInvocable, match="does not show"):
            await fake.invoke_slash(g, news, alice, "secret")
        # …but not from the owner.
        owner = g.members[g.owner_id].user
        assert (await fake.invoke_slash(g, news, owner, "secret")).content == "ok"


async def test_button_press_updates_the_message(fake: FakeDiscord, world: dict[str, Any]) -> None:
    async with fake.running(make_bot()):
        result = await fake.invoke_slash(world["guild"], world["news"], world["alice"], "counter")
        pressed = await fake.click(result, world["alice"], label="+1")
        await fake.click(pressed, world["alice"], label="+1")
    assert result.message is not None and result.message.content == "count 2"


async def test_late_interaction_answer_is_unknown_interaction(world: dict[str, Any]) -> None:
    async with FakeDiscord(interaction_deadline=0.0) as strict:
        g = strict.add_guild("Strict")
        ch = strict.add_channel(g, "general")
        bob = strict.add_user("bob")
        strict.add_member(g, bob)
        bot = make_bot()
        failed: asyncio.Future[BaseException] = asyncio.get_running_loop().create_future()

        @bot.tree.error
        async def on_error(
            interaction: discord.Interaction, error: app_commands.AppCommandError
        ) -> None:
            failed.set_result(error)

        async with strict.running(bot):
            await strict.invoke_slash(g, ch, bob, "hello", {"where": ch, "who": "x"}, wait=False)
            error = await asyncio.wait_for(failed, 15)
    cause = error.__cause__ or error
    assert isinstance(cause, discord.NotFound) and cause.code == 10062


async def test_429_is_retried_by_discord_py_and_posts_once(
    fake: FakeDiscord, world: dict[str, Any]
) -> None:
    fault = fake.faults.rate_limit(times=2, retry_after=0.01, channel_id=world["news"].id)
    async with fake.running(make_bot()) as bot:
        sent = await bot.get_channel(world["news"].id).send("hello")
    assert fault.hits == 2
    assert [m.id for m in fake.posts(world["news"])] == [sent.id]
    statuses = [r.status for r in fake.requests_to("POST /channels/{channel_id}/messages")]
    assert statuses == [429, 429, 200]


@pytest.mark.parametrize(
    ("kind", "exc", "status", "code"),
    [
        ("forbidden", discord.Forbidden, 403, 50013),
        ("not_found", discord.NotFound, 404, 10003),
        ("server_error", discord.DiscordServerError, 503, 0),
    ],
)
async def test_injected_errors_reach_discord_py(
    fake: FakeDiscord,
    world: dict[str, Any],
    kind: str,
    exc: type[discord.HTTPException],
    status: int,
    code: int,
) -> None:
    getattr(fake.faults, kind)(channel_id=world["news"].id)
    async with fake.running(make_bot()) as bot:
        with pytest.raises(exc) as raised:
            await bot.get_channel(world["news"].id).send("hello")
    assert raised.value.status == status and raised.value.code == code
    assert fake.posts(world["news"]) == []


async def test_missing_send_permission_is_403_50013(
    fake: FakeDiscord, world: dict[str, Any]
) -> None:
    async with fake.running(make_bot()) as bot:
        with pytest.raises(discord.Forbidden) as raised:
            await bot.get_channel(world["readonly"].id).send("hello")
        await fake.delete_channel(world["news"])
        with pytest.raises(discord.NotFound) as gone:
            await bot.get_partial_messageable(world["news"].id).send("hello")
    assert raised.value.code == 50013
    assert gone.value.code == 10003


async def test_invalid_embed_is_rejected_like_discord(
    fake: FakeDiscord, world: dict[str, Any]
) -> None:
    async with fake.running(make_bot()) as bot:
        with pytest.raises(discord.HTTPException) as raised:
            await bot.get_channel(world["news"].id).send(embed=discord.Embed(title="x" * 257))
    assert raised.value.status == 400 and raised.value.code == 50035


async def test_repeated_nonce_returns_the_first_message(
    fake: FakeDiscord, world: dict[str, Any]
) -> None:
    async with fake.running(make_bot()) as bot:
        channel = bot.get_channel(world["news"].id)
        first = await channel.send("alert", nonce="greenlight-1")
        again = await channel.send("alert", nonce="greenlight-1")
        other = await channel.send("alert", nonce="greenlight-2")
    assert again.id == first.id != other.id
    assert len(fake.posts(world["news"])) == 2


async def test_lost_answer_then_resend_with_same_nonce_posts_once(
    fake: FakeDiscord, world: dict[str, Any]
) -> None:
    """The request takes effect but the answer never comes (a crash or a timeout): sending
    again with the same nonce gets the first message back."""
    fault = fake.faults.hang(commit=True, channel_id=world["news"].id)
    async with fake.running(make_bot()) as bot:
        channel = bot.get_channel(world["news"].id)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(channel.send("alert", nonce="greenlight-7"), 0.5)
        fault.release()
        again = await channel.send("alert", nonce="greenlight-7")
    [posted] = fake.posts(world["news"])
    assert again.id == posted.id


async def test_allowed_mentions_decide_who_is_pinged(
    fake: FakeDiscord, world: dict[str, Any]
) -> None:
    g, fans = world["guild"], world["fans"]
    fake.bot_role(g).permissions |= Perm.MENTION_EVERYONE
    async with fake.running(make_bot()) as bot:
        channel = bot.get_channel(world["news"].id)
        quiet = await channel.send(f"@everyone <@&{fans.id}>")  # client default: none
        role_only = await channel.send(
            f"@everyone <@&{fans.id}>",
            allowed_mentions=discord.AllowedMentions(
                everyone=False, roles=[discord.Object(fans.id)]
            ),
        )
    by_id = {m.id: m for m in fake.posts(world["news"])}
    assert not by_id[quiet.id].pinged_anyone
    assert by_id[quiet.id].allowed_mentions == {"parse": []}
    assert by_id[role_only.id].mention_roles == [fans.id]
    assert not by_id[role_only.id].mention_everyone


@pytest.mark.parametrize("abrupt", [False, True])
async def test_dropped_gateway_is_resumed_and_missed_events_replayed(
    fake: FakeDiscord,
    world: dict[str, Any],
    abrupt: bool,
) -> None:
    async with fake.running(make_bot()):
        [session] = fake.gateway.live_sessions()
        await fake.gateway.drop(abrupt=abrupt)
        # Sent while the bot is disconnected: Discord keeps it for the RESUME.
        asked = await fake.send_message(world["guild"], world["news"], world["alice"], "!ping")
        await fake.wait_for_resume()
        [reply] = await fake.wait_for_messages(world["news"], after=asked)
    assert reply.content == "pong"
    assert fake.gateway.live_sessions() == [session]
    assert len(fake.gateway.identifies) == 1
    assert fake.gateway.resume_requests[0]["session_id"] == session.id


async def test_invalidated_session_identifies_again(
    fake: FakeDiscord, world: dict[str, Any]
) -> None:
    async with fake.running(make_bot()):
        await fake.gateway.invalidate()
        await fake.wait_for(
            lambda: (
                len(fake.gateway.identifies) == 2
                and fake.gateway.live_sessions()
                and fake.gateway.live_sessions()[0].ws is not None
            ),
            what="a second IDENTIFY",
        )
        asked = await fake.send_message(world["guild"], world["news"], world["alice"], "!ping")
        [reply] = await fake.wait_for_messages(world["news"], after=asked)
    assert reply.content == "pong"


async def test_each_shard_gets_only_its_guilds(fake: FakeDiscord) -> None:
    guilds = [fake.add_guild(f"g{n}", shard=(n % 2, 2)) for n in range(4)]
    channels = [fake.add_channel(g, "general") for g in guilds]
    bob = fake.add_user("bob")
    for g in guilds:
        fake.add_member(g, bob)
    async with fake.running(make_bot(sharded=True, shard_count=2)) as bot:
        assert sorted(s["shard"] for s in fake.gateway.identifies) == [[0, 2], [1, 2]]
        for g in guilds:
            assert bot.get_guild(g.id).shard_id == shard_of(g.id, 2)
        for session in fake.gateway.live_sessions():
            created = [p["d"]["id"] for p in session.backlog if p["t"] == "GUILD_CREATE"]
            assert created == [str(g.id) for g in guilds if shard_of(g.id, 2) == session.shard_id]
        for g, ch in zip(guilds, channels, strict=True):
            asked = await fake.send_message(g, ch, bob, "!ping")
            await fake.wait_for_messages(ch, after=asked)


async def test_a_process_running_some_shards_sees_only_their_guilds(fake: FakeDiscord) -> None:
    mine, theirs = fake.add_guild("mine", shard=(1, 2)), fake.add_guild("theirs", shard=(0, 2))
    async with fake.running(make_bot(sharded=True, shard_count=2, shard_ids=[1])) as bot:
        assert [g.id for g in bot.guilds] == [mine.id]
        assert bot.get_guild(theirs.id) is None


async def test_auto_sharded_bot_asks_gateway_bot_for_the_shard_count() -> None:
    async with FakeDiscord(recommended_shards=3) as fake:
        fake.add_guild("solo")
        async with fake.running(make_bot(sharded=True)) as bot:
            assert bot.shard_count == 3
        assert len(fake.requests_to("GET /gateway/bot")) == 1
        assert sorted(s["shard"][0] for s in fake.gateway.identifies) == [0, 1, 2]


async def test_unknown_routes_are_recorded(fake: FakeDiscord, world: dict[str, Any]) -> None:
    async with fake.running(make_bot()) as bot:
        with pytest.raises(discord.NotFound):
            await bot.http.request(discord.http.Route("GET", "/voice/regions"))
    assert [r.path for r in fake.state.unhandled] == ["/voice/regions"]


async def test_wrong_token_is_a_login_failure(fake: FakeDiscord) -> None:
    bot = make_bot()
    with fake.patch_discord_py(), pytest.raises(discord.LoginFailure):
        async with bot:
            await bot.start("not-the-token")


async def test_commands_in_direct_messages(fake: FakeDiscord, world: dict[str, Any]) -> None:
    bot = make_bot()

    @bot.tree.command(description="Works anywhere")
    async def anywhere(interaction: discord.Interaction, word: str) -> None:
        where = "DM" if interaction.guild is None else "server"
        await interaction.response.send_message(f"{word} from a {where}")

    async with fake.running(bot):
        result = await fake.invoke_slash_dm(world["alice"], "anywhere", {"word": "hi"})
        assert result.content == "hi from a DM"
        assert result.message is not None and result.message.guild_id is None


async def test_live_changes_reach_the_bot_cache(fake: FakeDiscord, world: dict[str, Any]) -> None:
    g, news = world["guild"], world["news"]
    async with fake.running(make_bot()) as bot:
        channel = bot.get_channel(news.id)
        assert channel.permissions_for(channel.guild.me).send_messages
        mute = await fake.create_role(g, "muted")
        await fake.set_overwrite(news, mute, deny=Perm.SEND_MESSAGES)
        changed = asyncio.ensure_future(bot.wait_for("member_update", timeout=15))
        await fake.set_member_roles(g, fake.bot_user, [fake.bot_role(g), mute])
        await changed
        assert not bot.get_channel(news.id).permissions_for(channel.guild.me).send_messages
        created = asyncio.ensure_future(bot.wait_for("guild_channel_create", timeout=15))
        await fake.create_channel(g, "fresh")
        assert (await created).name == "fresh"

"""Greenlight's commands, end to end: the real bot (cogs/, discord.py unmodified) and the real
core on a SQLite file, talking to the fake Discord (tests/fakediscord)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from fakediscord import CommandNotInvocable, FakeDiscord, Perm
from fakediscord.botharness import ROMY, Newsroom, make_config, newsroom_bot, running_bot
from feedserver import FeedServer

from bot.service import Greenlight
from cogs import _render as render
from cogs._runtime import GreenlightBot
from cogs.errors import SORRY, explain, unwrap

SO_CLOSE = (
    "Romy and Michele sequel 'so close to being greenlit,' say Lisa Kudrow and Mira Sorvino",
    "The stars of the 1997 comedy Romy and Michele's High School Reunion say the sequel's "
    "script, by original writer Robin Schiff, is really good and a director has been hired. "
    "It is so close to being greenlit, they said, with shooting rumoured for Q2, but it is "
    "not officially greenlit.",
)
MAYBE = (
    "A Romy and Michele sequel may be in the works, according to Lisa Kudrow",
    "Kudrow hinted on a talk show that there might be news soon about a follow-up to the "
    "cult comedy.",
)


BEETLEJUICE = {
    "id": "beetlejuice-2",
    "title": "Beetlejuice Beetlejuice",
    "aliases": ["Beetlejuice 2"],
    "originals": ["Beetlejuice"],
}
#: One story per stage (from tests/data/corpus.jsonl), in production order.
BEETLEJUICE_STORIES = [
    (
        "Seth Grahame-Smith hired to write Beetlejuice 2",
        "Warner Bros. has tapped the Abraham Lincoln: Vampire Hunter writer to script a sequel to "
        "Tim Burton's 1988 comedy.",
    ),
    (
        "Warner Bros. officially moves forward on Beetlejuice 2 with Tim Burton at the helm",
        "The studio has given the long-gestating follow-up the go-ahead, with Michael Keaton set "
        "to reprise the title role. Plan B is producing.",
    ),
    (
        "Jenna Ortega cast in Beetlejuice 2",
        "The Wednesday star will play Lydia's daughter in the sequel, which starts shooting in "
        "London in May.",
    ),
    (
        "Cameras roll in London on Beetlejuice Beetlejuice",
        "Production kicked off this week at Leavesden, a Warner Bros. spokesperson said. Jenna "
        "Ortega joins Michael Keaton and Winona Ryder.",
    ),
    (
        "Tim Burton's Beetlejuice sequel has officially wrapped",
        "The director shared a photo from the final day on set, thanking the crew. The film now "
        "heads into the edit ahead of a September 2024 date.",
    ),
    (
        "Beetlejuice Beetlejuice haunts theaters this weekend",
        "The sequel opened across North America on Friday with strong previews. Critics have "
        "singled out Catherine O'Hara.",
    ),
]


@dataclass
class Env:
    fake: FakeDiscord
    core: Greenlight
    bot: GreenlightBot
    news: Newsroom
    guild: Any
    other: Any
    general: Any
    quiet: Any
    other_general: Any
    admin: Any
    alice: Any
    fans: Any


@pytest.fixture
async def env(sqlite_url: str) -> AsyncIterator[Env]:
    async with FakeDiscord() as fake, FeedServer() as srv:
        guild = fake.add_guild("Film Club")
        general = fake.add_channel(guild, "general")
        quiet = fake.add_channel(
            guild,
            "announcements",
            overwrites=[fake.overwrite(guild.everyone, deny=Perm.SEND_MESSAGES)],
        )
        mods = fake.add_role(guild, "Mods", permissions=Perm.MANAGE_GUILD)
        fans = fake.add_role(guild, "Fans", mentionable=True)
        admin, alice = fake.add_user("admin"), fake.add_user("alice")
        fake.add_member(guild, admin, roles=[mods])
        fake.add_member(guild, alice, roles=[fans])
        other = fake.add_guild("Other Club")
        other_general = fake.add_channel(other, "general")
        fake.add_member(other, alice)
        newsroom = Newsroom(srv)
        config = make_config(
            sqlite_url,
            films=[ROMY, BEETLEJUICE],
            feeds=[newsroom.feed_entry("/reel.xml", "Reel Wire")],
        )
        async with newsroom_bot(fake, newsroom, config) as (core, bot):
            yield Env(
                fake,
                core,
                bot,
                newsroom,
                guild,
                other,
                general,
                quiet,
                other_general,
                admin,
                alice,
                fans,
            )


def field(embed: dict[str, Any], name: str) -> str:
    for f in embed.get("fields", []):
        if f["name"] == name:
            return str(f["value"])
    raise AssertionError(f"no field {name!r} in {[f['name'] for f in embed.get('fields', [])]}")


async def ask(env: Env, text: str, channel: Any = None, who: Any = None) -> Any:
    channel = channel or env.general
    asked = await env.fake.send_message(env.guild, channel, who or env.alice, text)
    [answer] = await env.fake.wait_for_messages(channel, after=asked)
    return answer


# --- /status and !status ------------------------------------------------------------------------


async def test_prefix_status_replies_with_the_status_embed(env: Env) -> None:
    env.news.publish("/reel.xml", *SO_CLOSE, link="https://reelwire.example/romy-so-close")
    await env.news.poll(env.core)
    view = await env.core.film_status(env.guild.id, "romy")
    assert view.status == "in_development"  # what the core says; the embed must show it

    answer = await ask(env, "!status romy")
    [embed] = answer.embeds
    assert embed["title"] == "Romy and Michele 2"
    assert embed["description"].startswith("**In development** since <t:")
    assert field(embed, "Evidence").startswith("> ")
    assert view.current is not None
    assert render.safe(view.current.evidence)[:40] in field(embed, "Evidence")
    source = field(embed, "Source")
    assert "Reel Wire" in source and "(https://reelwire.example/romy-so-close)" in source
    assert "Recent changes" in [f["name"] for f in embed["fields"]]
    assert not answer.pinged_anyone


async def test_status_before_any_news_says_so_plainly(env: Env) -> None:
    answer = await ask(env, "!status Romy and Michele sequel")
    assert "Watched, but no news yet" in answer.embeds[0]["description"]


async def test_unknown_film_suggests_the_close_one(env: Env) -> None:
    answer = await ask(env, "!status Romy and Michelle 2")
    assert "Did you mean 'Romy and Michele 2'" in answer.content
    assert answer.embeds == []


async def test_status_without_a_film_explains_the_usage(env: Env) -> None:
    answer = await ask(env, "!status")
    assert answer.content == "!status needs a `film`. For example: `!status romy`."


async def test_slash_status_with_autocomplete(env: Env) -> None:
    choices = await env.fake.autocomplete(
        env.guild, env.general, env.alice, "status", {"film": "rom"}, focused="film"
    )
    assert [c["value"] for c in choices] == [ROMY["id"]]
    assert choices[0]["name"].startswith("Romy and Michele 2")
    result = await env.fake.invoke_slash(
        env.guild, env.general, env.alice, "status", {"film": choices[0]["value"]}
    )
    assert result.embed["title"] == "Romy and Michele 2"
    assert not result.ephemeral


async def test_slash_status_error_is_ephemeral(env: Env) -> None:
    result = await env.fake.invoke_slash(
        env.guild, env.general, env.alice, "status", {"film": "Jaws 19"}
    )
    assert result.ephemeral
    assert "No watched film matches 'Jaws 19'" in result.content


async def test_history_lists_changes_oldest_first(env: Env) -> None:
    env.news.publish("/reel.xml", *MAYBE)
    await env.news.poll(env.core)
    env.news.publish("/reel.xml", *SO_CLOSE)
    await env.news.poll(env.core)
    changes = await env.core.film_history(env.guild.id, "romy")
    assert [c.to_status for c in changes] == ["rumored", "in_development"]

    result = await env.fake.invoke_slash(
        env.guild, env.general, env.alice, "history", {"film": "romy"}
    )
    names = [f["name"] for f in result.embed["fields"]]
    # One field per change, oldest first, each headed "date · from → to".
    assert [n.split(" · ", 1)[1] for n in names] == [render._arrow(c) for c in changes]
    assert result.buttons() == []  # one page: no page buttons


async def test_a_long_history_is_paged_with_buttons(env: Env) -> None:
    for story in BEETLEJUICE_STORIES:
        env.news.publish("/reel.xml", *story)
        await env.news.poll(env.core)
    changes = await env.core.film_history(env.guild.id, "beetlejuice")
    assert len(changes) > render.HISTORY_PAGE  # more than one page's worth

    result = await env.fake.invoke_slash(
        env.guild, env.general, env.alice, "history", {"film": "beetlejuice-2"}
    )
    pages = (len(changes) + render.HISTORY_PAGE - 1) // render.HISTORY_PAGE
    assert result.embed["footer"]["text"].startswith(f"Page 1 of {pages}")
    older, newer = result.buttons()
    assert older["disabled"] and not newer.get("disabled")
    await env.fake.click(result, env.alice, label="Newer ▶")
    assert result.message is not None
    last = result.message.embeds[0]
    assert last["footer"]["text"].startswith(f"Page 2 of {pages}")
    assert last["fields"][0]["name"].split(" · ", 1)[1] == render._arrow(
        changes[render.HISTORY_PAGE]
    )


# --- admins: /watch and /feeds --------------------------------------------------------------------


async def test_watch_add_is_hidden_from_and_refused_to_non_admins(env: Env) -> None:
    before = await env.core.watch_list(env.guild.id)
    with pytest.raises(CommandNotInvocable, match="does not show"):
        await env.fake.invoke_slash(
            env.guild, env.general, env.alice, "watch", {"title": "Twisters"}, subcommand="add"
        )
    # A server may override command visibility; the bot still refuses.
    result = await env.fake.invoke_slash(
        env.guild,
        env.general,
        env.alice,
        "watch",
        {"title": "Twisters"},
        subcommand="add",
        bypass_visibility=True,
    )
    assert result.ephemeral
    assert result.content == "You need the Manage Server permission to use /watch add."
    assert await env.core.watch_list(env.guild.id) == before


async def test_admin_watch_add_affects_only_that_server(env: Env) -> None:
    result = await env.fake.invoke_slash(
        env.guild,
        env.general,
        env.admin,
        "watch",
        {"title": "Twisters", "aliases": "Twister 2, Twisters (2024)"},
        subcommand="add",
    )
    assert "Now watching" in result.content and "Twisters" in result.content
    mine = {f.title: f for f in await env.core.watch_list(env.guild.id)}
    assert set(mine["Twisters"].aliases) >= {"Twister 2", "Twisters (2024)"}
    assert "Twisters" not in {f.title for f in await env.core.watch_list(env.other.id)}
    choices = await env.fake.autocomplete(
        env.other, env.other_general, env.alice, "status", {"film": "twi"}, focused="film"
    )
    assert choices == []


async def test_watch_alias_and_remove(env: Env) -> None:
    g, ch, admin = env.guild, env.general, env.admin
    await env.fake.invoke_slash(g, ch, admin, "watch", {"title": "Twisters"}, subcommand="add")
    added = await env.fake.invoke_slash(
        g, ch, admin, "watch", {"film": "twisters", "alias": "Twister II"}, subcommand="alias add"
    )
    assert "Twister II" in added.content
    removed = await env.fake.invoke_slash(
        g, ch, admin, "watch", {"film": "twisters"}, subcommand="remove"
    )
    assert "No longer watching **Twisters**" in removed.content
    shared = await env.fake.invoke_slash(
        g, ch, admin, "watch", {"film": "romy", "alias": "R&M2"}, subcommand="alias add"
    )
    assert "shared by every server" in shared.content  # a config film's names are the operator's


async def test_watch_list_pages_turn_only_for_the_asker(env: Env) -> None:
    for n in range(30):
        await env.core.watch_add(
            env.guild.id,
            f"A film with a rather long title, part {n + 2}",
            [f"Long alias number {n} for paging"],
        )
    result = await env.fake.invoke_slash(
        env.guild, env.general, env.admin, "watch", subcommand="list"
    )
    assert [b["label"] for b in result.buttons()] == ["◀ Older", "Newer ▶"]
    first = result.embed["description"]
    await env.fake.click(result, env.admin, label="Newer ▶")
    assert result.message is not None and result.message.embeds[0]["description"] != first
    refused = await env.fake.click(result, env.alice, label="◀ Older")
    assert refused.ephemeral and "Only the person who asked" in refused.content


async def test_feeds_add_list_status_remove(env: Env) -> None:
    g, ch, admin = env.guild, env.general, env.admin
    bad = await env.fake.invoke_slash(g, ch, admin, "feeds", {"url": "not a url"}, subcommand="add")
    assert "is not a web address" in bad.content
    url = env.news.url("/extra.xml", "Cut Print")
    added = await env.fake.invoke_slash(
        g, ch, admin, "feeds", {"url": url, "name": "Cut Print"}, subcommand="add"
    )
    assert added.deferred and "Added" in added.content and "Cut Print" in added.content
    listed = await env.fake.invoke_slash(g, ch, admin, "feeds", subcommand="list")
    assert url in listed.embed["description"]
    health = await env.fake.invoke_slash(g, ch, admin, "feeds", subcommand="status")
    assert "last polled" in health.embed["description"]
    feed_id = next(f.id for f in await env.core.feed_list(g.id) if f.url == url)
    choices = await env.fake.autocomplete(
        g, ch, admin, "feeds", {"feed": "cut"}, focused="feed", subcommand="remove"
    )
    assert [c["value"] for c in choices] == [str(feed_id)]
    gone = await env.fake.invoke_slash(
        g, ch, admin, "feeds", {"feed": str(feed_id)}, subcommand="remove"
    )
    assert "No longer reading" in gone.content
    assert url not in {f.url for f in await env.core.feed_list(g.id)}


# --- subscriptions -----------------------------------------------------------------------------


async def test_subscribe_refuses_a_channel_the_bot_cannot_post_in(env: Env) -> None:
    # @everyone may not post in #announcements, and the bot's role gets no exception there.
    result = await env.fake.invoke_slash(
        env.guild, env.general, env.admin, "subscribe", {"channel": env.quiet}
    )
    assert result.ephemeral
    assert "missing the **Send Messages** permission" in result.content
    assert f"<#{env.quiet.id}>" in result.content
    assert await env.core.subscriptions(env.guild.id) == []


async def test_subscribe_list_and_unsubscribe(env: Env) -> None:
    g, ch, admin = env.guild, env.general, env.admin
    done = await env.fake.invoke_slash(
        g, ch, admin, "subscribe", {"channel": env.general, "film": "romy", "role": env.fans}
    )
    assert "**Romy and Michele 2**" in done.content and f"<@&{env.fans.id}>" in done.content
    [sub] = await env.core.subscriptions(g.id)
    assert (sub.channel_id, sub.film_key, sub.role_id) == (env.general.id, ROMY["id"], env.fans.id)

    listed = await env.fake.invoke_slash(g, ch, env.alice, "subscriptions")
    assert (
        f"<#{env.general.id}> · Romy and Michele 2 · pings <@&{env.fans.id}>"
        in listed.embed["description"]
    )
    assert not listed.message.pinged_anyone

    refused = await env.fake.invoke_slash(
        g, ch, env.alice, "unsubscribe", {"channel": env.general}, bypass_visibility=True
    )
    assert "Manage Server" in refused.content
    gone = await env.fake.invoke_slash(
        g, ch, admin, "unsubscribe", {"channel": env.general, "film": "romy"}
    )
    assert "No more alerts" in gone.content
    assert await env.core.subscriptions(g.id) == []

    # By number, as /subscriptions lists it: the way out for a deleted channel.
    await env.fake.invoke_slash(g, ch, admin, "subscribe", {"channel": env.general})
    [sub] = await env.core.subscriptions(g.id)
    listed = await env.fake.invoke_slash(g, ch, admin, "subscriptions")
    assert f"#{sub.id} · <#{env.general.id}>" in listed.embed["description"]
    wrong = await env.fake.invoke_slash(g, ch, admin, "unsubscribe", {"number": sub.id + 100})
    assert f"no subscription #{sub.id + 100}" in wrong.content
    removed = await env.fake.invoke_slash(g, ch, admin, "unsubscribe", {"number": sub.id})
    assert f"Removed subscription #{sub.id}" in removed.content
    assert await env.core.subscriptions(g.id) == []


# --- help, resilience, the error handler ------------------------------------------------


async def test_help_explains_the_bot_to_a_newcomer(env: Env) -> None:
    answer = await ask(env, "!help")
    text = answer.text()
    assert "follow the films this server cares about" in text
    for command in ("!status", "/status", "/history", "/subscribe", "/watch add", "/feeds add"):
        assert command in text, command
    admin_field = next(f for f in answer.embeds[0]["fields"] if "admins" in f["name"])
    assert "/watch add" in admin_field["value"] and "/status" not in admin_field["value"]
    one = await ask(env, "!help status")
    assert one.content.startswith("`!status <film>`") and "Also works as `/status`" in one.content


async def test_a_slash_command_typed_with_the_prefix_gets_a_hint(env: Env) -> None:
    answer = await ask(env, "!watch add Twisters")
    assert "is a slash command: type `/watch`" in answer.content


async def test_gateway_drop_is_resumed_and_the_bot_keeps_answering(env: Env) -> None:
    await env.fake.gateway.drop()
    await env.fake.wait_for_resume()
    answer = await ask(env, "!status romy")
    assert answer.embeds[0]["title"] == "Romy and Michele 2"
    assert len(env.fake.gateway.identifies) == 1


def test_error_handler_unwraps_and_explains() -> None:
    from discord import app_commands
    from discord.ext import commands

    from bot.errors import UnknownFilm

    wrapped = commands.HybridCommandError(
        app_commands.CommandInvokeError.__new__(app_commands.CommandInvokeError)
    )
    wrapped.original.original = UnknownFilm("jaws")  # type: ignore[attr-defined]
    assert isinstance(unwrap(wrapped), UnknownFilm)
    assert explain(UnknownFilm("jaws"), "/status") == str(UnknownFilm("jaws"))
    assert explain(app_commands.MissingPermissions(["manage_guild"]), "/feeds add") == (
        "You need the Manage Server permission to use /feeds add."
    )
    assert explain(app_commands.NoPrivateMessage(), "/watch list") == (
        "/watch list only works in a server, not in direct messages."
    )
    assert explain(ZeroDivisionError(), "/status") is None  # → SORRY, traceback logged
    assert "something went wrong" in SORRY


async def test_server_commands_are_refused_in_direct_messages(env: Env) -> None:
    for name, sub in (("watch", "list"), ("subscriptions", None), ("status", None)):
        options = {"film": "romy"} if name == "status" else {}
        with pytest.raises(CommandNotInvocable, match="does not offer"):
            await env.fake.invoke_slash_dm(env.admin, name, options, subcommand=sub)
        # Should a client send it anyway, the bot still refuses before touching anything.
        result = await env.fake.invoke_slash_dm(
            env.admin, name, options, subcommand=sub, bypass_visibility=True
        )
        where = f"/{name} {sub}" if sub else f"/{name}"
        assert result.content == f"{where} only works in a server, not in direct messages."


async def test_dev_guild_gets_the_commands_at_once(sqlite_url: str) -> None:
    """``[discord] dev_guild_id``: commands are synced to that guild (they appear at once)
    instead of globally."""
    async with FakeDiscord() as fake:
        guild = fake.add_guild("Dev")
        channel = fake.add_channel(guild, "testing")
        config = make_config(sqlite_url, films=[ROMY], discord={"dev_guild_id": guild.id})
        core = await Greenlight.open(config)
        try:
            async with running_bot(fake, config, core):
                owner = guild.members[guild.owner_id].user
                result = await fake.invoke_slash(guild, channel, owner, "status", {"film": "romy"})
        finally:
            await core.close()
    assert fake.state.global_commands == []
    assert {c.name for c in fake.state.guild_commands[guild.id]} >= {"status", "watch", "feeds"}
    assert result.embed["title"] == "Romy and Michele 2"

"""Server admins (Manage Server) choose what the server watches: ``/watch …`` and ``/feeds …``.

Guarded twice: ``default_permissions`` hides the commands from members in Discord's UI (which
a server can override), and ``admin_only`` checks at run time before anything changes.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from cogs import _render as render
from cogs._ui import admin_only, film_choices, reply, reply_pages

if TYPE_CHECKING:
    from cogs._runtime import GreenlightBot

MANAGE_SERVER = discord.Permissions(manage_guild=True)


async def feed_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    if interaction.guild_id is None:
        return []
    core = interaction.client.core  # type: ignore[attr-defined]
    needle = current.casefold().strip()
    feeds = [
        f
        for f in await core.feed_list(interaction.guild_id)
        if needle in f"{f.id} {f.name or ''} {f.url}".casefold()
    ]
    return [
        app_commands.Choice(
            name=render.clip(f"{f.id}: {f.name or f.url}", render.CHOICE_MAX), value=str(f.id)
        )
        for f in feeds[:25]
    ]


def _pages(title: str, lines: list[str], empty: str) -> list[discord.Embed]:
    if not lines:
        return [discord.Embed(title=title, description=empty, colour=render.colour(None))]
    blocks = render.paginate_lines(lines)
    return [
        discord.Embed(title=title, description=block, colour=render.colour(None)).set_footer(
            text=f"Page {n} of {len(blocks)}"
        )
        for n, block in enumerate(blocks, 1)
    ]


class Admin(commands.Cog):
    """What this server watches: films and news feeds."""

    watch = app_commands.Group(
        name="watch",
        description="Choose the films this server follows (Manage Server).",
        guild_only=True,
        default_permissions=MANAGE_SERVER,
    )
    alias = app_commands.Group(
        name="alias", description="Other names a film goes by.", parent=watch
    )
    feeds = app_commands.Group(
        name="feeds",
        description="Choose the news feeds this server reads (Manage Server).",
        guild_only=True,
        default_permissions=MANAGE_SERVER,
    )

    def __init__(self, bot: GreenlightBot) -> None:
        self.bot = bot
        self.core = bot.core

    # --- /watch ------------------------------------------------------------------------------
    @watch.command(name="add", description="Start following a film in this server.")
    @app_commands.describe(
        title="The film's title, e.g. Romy and Michele 2",
        aliases="Other names the news uses, comma-separated",
    )
    @admin_only()
    async def watch_add(
        self, interaction: discord.Interaction, title: str, aliases: str | None = None
    ) -> None:
        assert interaction.guild_id is not None
        names = [a.strip() for a in (aliases or "").split(",") if a.strip()]
        film = await self.core.watch_add(interaction.guild_id, title, names)
        await reply(
            interaction,
            f"Now watching {render.film_line(film)}.\n"
            "Alerts go to the channels set up with /subscribe.",
        )

    @watch.command(name="remove", description="Stop following a film in this server.")
    @app_commands.describe(film="The film to stop following")
    @app_commands.autocomplete(film=film_choices)
    @admin_only()
    async def watch_remove(self, interaction: discord.Interaction, film: str) -> None:
        assert interaction.guild_id is not None
        gone = await self.core.watch_remove(interaction.guild_id, film)
        await reply(
            interaction,
            f"No longer watching **{render.safe(gone.title)}** in this server "
            "(its subscriptions here were removed too).",
        )

    @watch.command(name="list", description="The films this server follows.")
    @admin_only()
    async def watch_list(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        films = await self.core.watch_list(interaction.guild_id)
        pages = _pages(
            "Watched films",
            [render.film_line(f) for f in films],
            "This server watches no films. Add one with /watch add.",
        )
        await reply_pages(interaction, pages)

    @alias.command(name="add", description="Teach the bot another name for a film.")
    @app_commands.describe(film="The film", alias="Another name the news uses for it")
    @app_commands.autocomplete(film=film_choices)
    @admin_only()
    async def alias_add(self, interaction: discord.Interaction, film: str, alias: str) -> None:
        assert interaction.guild_id is not None
        updated = await self.core.alias_add(interaction.guild_id, film, alias)
        await reply(interaction, f"Added. {render.film_line(updated)}")

    @alias.command(name="remove", description="Forget one of a film's other names.")
    @app_commands.describe(film="The film", alias="The name to forget")
    @app_commands.autocomplete(film=film_choices)
    @admin_only()
    async def alias_remove(self, interaction: discord.Interaction, film: str, alias: str) -> None:
        assert interaction.guild_id is not None
        updated = await self.core.alias_remove(interaction.guild_id, film, alias)
        await reply(interaction, f"Removed. {render.film_line(updated)}")

    # --- /feeds ------------------------------------------------------------------------------
    @feeds.command(name="add", description="Read another news feed (RSS or Atom) in this server.")
    @app_commands.describe(url="The feed's address (https://…)", name="A short name for the outlet")
    @admin_only()
    async def feeds_add(
        self, interaction: discord.Interaction, url: str, name: str | None = None
    ) -> None:
        assert interaction.guild_id is not None
        # Adding fetches the feed, which can take longer than Discord's 3 seconds.
        await interaction.response.defer(ephemeral=True, thinking=True)
        feed = await self.core.feed_add(interaction.guild_id, url, name)
        await reply(interaction, f"Added {render.feed_line(feed)}. It is read with the next poll.")

    @feeds.command(name="remove", description="Stop reading a news feed in this server.")
    @app_commands.describe(feed="The feed's number (see /feeds list) or address")
    @app_commands.autocomplete(feed=feed_choices)
    @admin_only()
    async def feeds_remove(self, interaction: discord.Interaction, feed: str) -> None:
        assert interaction.guild_id is not None
        gone = await self.core.feed_remove(interaction.guild_id, feed)
        await reply(interaction, f"No longer reading {render.feed_line(gone)} in this server.")

    @feeds.command(name="list", description="The news feeds this server reads.")
    @admin_only()
    async def feeds_list(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        feeds = await self.core.feed_list(interaction.guild_id)
        pages = _pages(
            "News feeds",
            [render.feed_line(f) for f in feeds],
            "This server reads no feeds. Add one with /feeds add.",
        )
        await reply_pages(interaction, pages)

    @feeds.command(name="status", description="How each feed is doing: last read, errors, stories.")
    @admin_only()
    async def feeds_status(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None
        feeds = await self.core.feed_list(interaction.guild_id)
        pages = _pages(
            "Feed health",
            [render.feed_line(f, detail=True) for f in feeds],
            "This server reads no feeds. Add one with /feeds add.",
        )
        await reply_pages(interaction, pages)


async def setup(bot: GreenlightBot) -> None:
    await bot.add_cog(Admin(bot))

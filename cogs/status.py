"""What members ask: where is a film (``!status`` / ``/status``) and how did it get there
(``!history`` / ``/history``). Both work as prefix and slash commands."""

from __future__ import annotations

from typing import TYPE_CHECKING

from discord import app_commands
from discord.ext import commands

from cogs import _render as render
from cogs._ui import film_choices, send_pages

if TYPE_CHECKING:
    from cogs._runtime import GreenlightBot

    Context = commands.Context[GreenlightBot]
else:
    Context = commands.Context


class Status(commands.Cog):
    """Film status for everyone in the server."""

    def __init__(self, bot: GreenlightBot) -> None:
        self.bot = bot
        self.core = bot.core

    @commands.hybrid_command(
        name="status",
        description="Where a film stands now (rumored … released), with the quote and source.",
        usage="<film>",
    )
    @commands.guild_only()
    @app_commands.guild_only()
    @app_commands.describe(film="Title, alias or id of a film this server watches")
    @app_commands.autocomplete(film=film_choices)
    async def status(self, ctx: Context, *, film: str) -> None:
        """Where a film stands now, e.g. `!status romy`."""
        assert ctx.guild is not None  # guild_only
        view = await self.core.film_status(ctx.guild.id, film)
        await ctx.send(embed=render.status_embed(view))

    @commands.hybrid_command(
        name="history",
        description="Every recorded change of a film's status, oldest first, with sources.",
        usage="<film>",
    )
    @commands.guild_only()
    @app_commands.guild_only()
    @app_commands.describe(film="Title, alias or id of a film this server watches")
    @app_commands.autocomplete(film=film_choices)
    async def history(self, ctx: Context, *, film: str) -> None:
        """A film's whole timeline, e.g. `!history romy`."""
        assert ctx.guild is not None
        found = await self.core.resolve_film(ctx.guild.id, film)
        changes = await self.core.film_history(ctx.guild.id, found.key)
        await send_pages(ctx, render.history_pages(found, changes))


async def setup(bot: GreenlightBot) -> None:
    await bot.add_cog(Status(bot))

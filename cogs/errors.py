"""The one error handler, for prefix, hybrid and slash commands alike.

* ``GreenlightError`` (from the core, or raised by a cog): its message, as it is.
* A failed check or bad input: a specific sentence saying what to do.
* Anything else: a short apology to the user, the traceback to the log.

Slash-command answers are ephemeral: an error is for the person who ran the command.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import GreenlightError
from cogs._ui import command_name, permission_name, reply

if TYPE_CHECKING:
    from cogs._runtime import GreenlightBot

log = logging.getLogger("greenlight.errors")

SORRY = "Sorry, something went wrong on my side. It has been logged; please try again later."


def unwrap(error: BaseException) -> BaseException:
    """The exception that actually happened, under discord.py's wrappers
    (CommandInvokeError, HybridCommandError, app_commands.CommandInvokeError)."""
    seen = 0
    while seen < 5 and isinstance(
        error,
        commands.CommandInvokeError
        | commands.HybridCommandError
        | app_commands.CommandInvokeError
        | commands.ConversionError,
    ):
        inner = getattr(error, "original", None)
        if not isinstance(inner, BaseException):
            break
        error, seen = inner, seen + 1
    return error


def explain(error: BaseException, where: str) -> str | None:
    """What to tell the user about ``error`` from ``where`` (e.g. "/watch add"); None means
    "not the user's fault": apologise and log."""
    if isinstance(error, GreenlightError):
        return str(error)
    if isinstance(error, app_commands.MissingPermissions | commands.MissingPermissions):
        names = " and ".join(permission_name(p) for p in error.missing_permissions)
        return f"You need the {names} permission to use {where}."
    if isinstance(error, app_commands.BotMissingPermissions | commands.BotMissingPermissions):
        names = " and ".join(permission_name(p) for p in error.missing_permissions)
        return f"I need the {names} permission here to do {where}."
    if isinstance(error, app_commands.NoPrivateMessage | commands.NoPrivateMessage):
        return f"{where} only works in a server, not in direct messages."
    if isinstance(error, commands.MissingRequiredArgument):
        return f"{where} needs a `{error.param.name}`. For example: `{where} romy`."
    if isinstance(error, app_commands.TransformerError):
        return f"I couldn't use {error.value!r} there: pick one from the list Discord offers."
    if isinstance(error, app_commands.CommandOnCooldown | commands.CommandOnCooldown):
        return f"Slow down: try {where} again in {error.retry_after:.0f} seconds."
    if isinstance(error, commands.UserInputError):
        return f"{error} See `!help` for how to use {where}."
    if isinstance(error, app_commands.CheckFailure | commands.CheckFailure):
        return f"You can't use {where} here."
    return None


class Errors(commands.Cog):
    def __init__(self, bot: GreenlightBot) -> None:
        self.bot = bot
        self._previous_tree_handler: Any = None

    async def cog_load(self) -> None:
        tree = self.bot.tree
        self._previous_tree_handler = tree.on_error
        tree.on_error = self.on_app_command_error  # type: ignore[method-assign]

    async def cog_unload(self) -> None:
        self.bot.tree.on_error = self._previous_tree_handler  # type: ignore[method-assign]

    async def on_app_command_error(
        self, interaction: discord.Interaction, error: app_commands.AppCommandError
    ) -> None:
        where = command_name(interaction)
        cause = unwrap(error)
        message = explain(cause, where)
        if message is None:
            log.error(
                "%s failed (guild %s, user %s)",
                where,
                interaction.guild_id,
                interaction.user.id,
                exc_info=cause,
            )
            message = SORRY
        try:
            await reply(interaction, message, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the user about an error in %s", where, exc_info=True)

    @commands.Cog.listener()
    async def on_command_error(
        self, ctx: commands.Context[GreenlightBot], error: Exception
    ) -> None:
        if isinstance(error, commands.CommandNotFound):
            await self._maybe_point_to_slash(ctx)
            return
        if ctx.command is not None and ctx.command.has_error_handler():
            return
        where = command_name(ctx)
        cause = unwrap(error)
        message = explain(cause, where)
        if message is None:
            log.error(
                "%s failed (guild %s, user %s)",
                where,
                ctx.guild and ctx.guild.id,
                ctx.author.id,
                exc_info=cause,
            )
            message = SORRY
        try:
            await ctx.send(message, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the user about an error in %s", where, exc_info=True)

    async def _maybe_point_to_slash(self, ctx: commands.Context[GreenlightBot]) -> None:
        """``!watch add …`` is a natural guess; say it is a slash command instead of
        ignoring it. Unknown words stay ignored, so other bots' prefixes don't draw noise."""
        name = (ctx.invoked_with or "").lower()
        if name and self.bot.tree.get_command(name) is not None:
            try:
                await ctx.send(
                    f"`{ctx.clean_prefix}{name}` is a slash command: type `/{name}` "
                    "and pick it from Discord's list."
                )
            except discord.HTTPException:
                pass


async def setup(bot: GreenlightBot) -> None:
    await bot.add_cog(Errors(bot))

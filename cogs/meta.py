"""``!help``: what the bot is for and every command, in words a newcomer understands.

Built from the commands actually registered (prefix and slash), so it cannot drift from them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from cogs import _render as render

if TYPE_CHECKING:
    from cogs._runtime import GreenlightBot

INTRO = (
    "I read entertainment news feeds and follow the films this server cares about through "
    "production: {stages}, or cancelled. When a film moves, I post the news in the channels "
    "that subscribed, with the sentence that shows it and a link to the story. Re-runs of the "
    "same story by other outlets don't get a second alert."
)


def _slash_lines(tree: app_commands.CommandTree[Any]) -> tuple[list[str], list[str]]:
    """(everyone, admins) lines for every slash command and subcommand."""
    everyone: list[str] = []
    admins: list[str] = []
    for top in sorted(tree.get_commands(), key=lambda c: c.name):
        if not isinstance(top, app_commands.Command | app_commands.Group):
            continue
        perms = top.default_permissions
        target = admins if perms is not None and perms.value else everyone
        leaves = top.walk_commands() if isinstance(top, app_commands.Group) else [top]
        for cmd in leaves:
            if isinstance(cmd, app_commands.Group):
                continue
            params = " ".join(
                f"{p.name}:" if p.required else f"[{p.name}:]" for p in cmd.parameters
            )
            target.append(
                f"`/{cmd.qualified_name}{' ' + params if params else ''}` — {cmd.description}"
            )
    return everyone, admins


def _usage(prefix: str, command: commands.Command[Any, ..., Any]) -> str:
    return f"{prefix}{command.qualified_name} {command.usage or command.signature}".strip()


class GreenlightHelp(commands.HelpCommand):
    def __init__(self) -> None:
        super().__init__(command_attrs={"help": "How to use Greenlight."})

    async def send_bot_help(
        self, mapping: Mapping[commands.Cog | None, list[commands.Command[Any, ..., Any]]]
    ) -> None:
        bot = self.context.bot
        prefix = self.context.clean_prefix
        stages = " → ".join(render.label(s) for s in render.LABELS if s != "cancelled")
        embed = discord.Embed(
            title="Greenlight: film production news",
            description=INTRO.format(stages=stages),
            colour=render.colour("greenlit"),
        )
        typed = [
            f"`{_usage(prefix, c)}` — {c.description or c.short_doc}"
            for c in await self.filter_commands(bot.commands, sort=True)
            if c.name != "help"
        ]
        everyone, admins = _slash_lines(bot.tree)
        if typed:
            embed.add_field(
                name="Ask about a film", value=render.clip("\n".join(typed), 1024), inline=False
            )
        if everyone:
            embed.add_field(
                name="Slash commands", value=render.clip("\n".join(everyone), 1024), inline=False
            )
        if admins:
            embed.add_field(
                name="For admins (Manage Server)",
                value=render.clip("\n".join(admins), 1024),
                inline=False,
            )
        embed.add_field(
            name="Getting started",
            value=(
                f"1. An admin runs `/subscribe channel:#news` so alerts have somewhere to go.\n"
                f"2. Anyone asks `{prefix}status <film>` (or `/status`) at any time.\n"
                f"3. `{prefix}help status` explains one command."
            ),
            inline=False,
        )
        await self.get_destination().send(embed=render.fit(embed))

    async def send_command_help(self, command: commands.Command[Any, ..., Any]) -> None:
        text = f"`{_usage(self.context.clean_prefix, command)}`\n"
        text += command.description or command.help or ""
        if command.help and command.description:
            text += f"\n{command.help}"
        if isinstance(command, commands.HybridCommand):
            text += f"\nAlso works as `/{command.qualified_name}`, with suggestions as you type."
        await self.get_destination().send(text)

    def command_not_found(self, string: str, /) -> str:
        tree = self.context.bot.tree
        if tree.get_command(string) is not None:
            return (
                f"`{string}` is a slash command: type `/{string}` and Discord shows its "
                "options as you go."
            )
        prefix = self.context.clean_prefix
        return f"There is no command called `{string}`. `{prefix}help` lists them all."

    async def send_error_message(self, error: str) -> None:
        await self.get_destination().send(error)


class Meta(commands.Cog):
    """Help for people new to the bot."""

    def __init__(self, bot: GreenlightBot) -> None:
        self.bot = bot
        self._previous_help = bot.help_command
        bot.help_command = GreenlightHelp()
        bot.help_command.cog = self

    async def cog_unload(self) -> None:
        self.bot.help_command = self._previous_help


async def setup(bot: GreenlightBot) -> None:
    await bot.add_cog(Meta(bot))

"""Shared Discord plumbing for the cogs: checks, film autocomplete, replies that work
before or after a defer, and a page-turning view."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from cogs import _render

T = TypeVar("T")

#: Discord's own names for the permissions the bot talks about (its UI says "Manage Server",
#: the API says manage_guild).
PERMISSION_NAMES: dict[str, str] = {
    "manage_guild": "Manage Server",
    "manage_channels": "Manage Channels",
    "view_channel": "View Channel",
    "read_messages": "View Channel",
    "send_messages": "Send Messages",
    "embed_links": "Embed Links",
    "read_message_history": "Read Message History",
    "mention_everyone": "Mention @everyone, @here, and All Roles",
    "administrator": "Administrator",
}


def permission_name(name: str) -> str:
    return PERMISSION_NAMES.get(name, name.replace("_", " ").replace("guild", "server").title())


def admin_only() -> Callable[[T], T]:
    """Slash-command check: in a server, and the member has Manage Server.

    ``default_permissions`` only hides a command in Discord's UI, and server admins can
    override it, so this check is what actually guards the data.
    """

    def predicate(interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        if not interaction.permissions.manage_guild:
            raise app_commands.MissingPermissions(["manage_guild"])
        return True

    return app_commands.check(predicate)


def in_guild() -> Callable[[T], T]:
    """Slash-command check: refuses DMs (``guild_only`` alone just hides the command)."""

    def predicate(interaction: discord.Interaction) -> bool:
        if interaction.guild_id is None:
            raise app_commands.NoPrivateMessage()
        return True

    return app_commands.check(predicate)


async def film_choices(
    interaction: discord.Interaction, current: str
) -> list[app_commands.Choice[str]]:
    """Autocomplete for any ``film`` option: the films this server watches that match."""
    if interaction.guild_id is None:
        return []
    core = interaction.client.core  # type: ignore[attr-defined]
    films = await core.search_films(interaction.guild_id, current, limit=25)
    return [
        app_commands.Choice(
            name=_render.clip(f"{f.title} · {_render.label(f.status)}", _render.CHOICE_MAX),
            value=f.key,
        )
        for f in films
    ]


def command_name(source: discord.Interaction | commands.Context[Any]) -> str:
    """``/watch add`` or ``!status``: how the user invoked what failed."""
    if isinstance(source, discord.Interaction):
        cmd = source.command
        return f"/{cmd.qualified_name}" if cmd is not None else "that command"
    if source.interaction is not None and source.command is not None:
        return f"/{source.command.qualified_name}"
    prefix = source.clean_prefix or "!"
    return f"{prefix}{source.command.qualified_name}" if source.command else "that command"


async def reply(
    interaction: discord.Interaction,
    content: str | None = None,
    *,
    embed: discord.Embed | None = None,
    ephemeral: bool = True,
    view: discord.ui.View | None = None,
) -> discord.Message | discord.InteractionMessage | discord.WebhookMessage | None:
    """Answer an interaction whether or not it was already answered or deferred; returns the
    message when there is a view on it (the view needs it to tidy up on timeout)."""
    kwargs: dict[str, Any] = {"ephemeral": ephemeral}
    if content is not None:
        kwargs["content"] = content
    if embed is not None:
        kwargs["embed"] = embed
    if view is not None:
        kwargs["view"] = view
    if interaction.response.is_done():
        # wait=True: discord.py only routes button presses to a followup's view when it
        # knows the message it is on.
        if view is not None:
            return await interaction.followup.send(wait=True, **kwargs)
        await interaction.followup.send(**kwargs)
        return None
    await interaction.response.send_message(**kwargs)
    return await interaction.original_response() if view is not None else None


class Pages(discord.ui.View):
    """◀ ▶ buttons over a list of embeds; only the person who asked can turn the pages."""

    def __init__(self, pages: Sequence[discord.Embed], *, owner_id: int, timeout: float = 300.0):
        super().__init__(timeout=timeout)
        self.pages = list(pages)
        self.owner_id = owner_id
        self.index = 0
        self.message: discord.Message | discord.InteractionMessage | None = None
        self._sync()

    @property
    def current(self) -> discord.Embed:
        return self.pages[self.index]

    def _sync(self) -> None:
        self.previous.disabled = self.index == 0
        self.next.disabled = self.index >= len(self.pages) - 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                "Only the person who asked can turn these pages; run the command yourself "
                "to get your own copy.",
                ephemeral=True,
            )
            return False
        return True

    async def _show(self, interaction: discord.Interaction, index: int) -> None:
        self.index = max(0, min(index, len(self.pages) - 1))
        self._sync()
        await interaction.response.edit_message(embed=self.current, view=self)

    @discord.ui.button(label="◀ Older", style=discord.ButtonStyle.secondary)
    async def previous(
        self, interaction: discord.Interaction, button: discord.ui.Button[Any]
    ) -> None:
        await self._show(interaction, self.index - 1)

    @discord.ui.button(label="Newer ▶", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, button: discord.ui.Button[Any]) -> None:
        await self._show(interaction, self.index + 1)

    async def on_timeout(self) -> None:
        # Leave the last page readable but show that the buttons no longer work.
        for item in self.children:
            if isinstance(item, discord.ui.Button):
                item.disabled = True
        if self.message is not None:
            try:
                await self.message.edit(view=self)
            except discord.HTTPException:
                pass  # deleted, or the interaction token expired: nothing left to tidy


async def send_pages(
    ctx: commands.Context[Any],
    pages: Sequence[discord.Embed],
    *,
    ephemeral: bool = False,
) -> None:
    """Send one embed, or the first of several with page buttons (prefix or slash)."""
    if len(pages) == 1:
        await ctx.send(embed=pages[0], ephemeral=ephemeral)
        return
    view = Pages(pages, owner_id=ctx.author.id)
    view.message = await ctx.send(embed=view.current, view=view, ephemeral=ephemeral)


async def reply_pages(
    interaction: discord.Interaction,
    pages: Sequence[discord.Embed],
    *,
    ephemeral: bool = True,
) -> None:
    if len(pages) == 1:
        await reply(interaction, embed=pages[0], ephemeral=ephemeral)
        return
    view = Pages(pages, owner_id=interaction.user.id)
    view.message = await reply(interaction, embed=view.current, view=view, ephemeral=ephemeral)

"""Where alerts go: ``/subscribe``, ``/unsubscribe`` and ``/subscriptions``."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import InvalidInput
from bot.views import SubscriptionView
from cogs import _render as render
from cogs._ui import admin_only, film_choices, in_guild, permission_name, reply, reply_pages

if TYPE_CHECKING:
    from cogs._runtime import GreenlightBot

#: What the bot needs in a channel to post an alert there.
NEEDED = ("view_channel", "send_messages", "embed_links")


def missing_permissions(channel: discord.abc.GuildChannel) -> list[str]:
    """Discord's names for what the bot lacks in ``channel`` to post alerts.

    Only the first of View Channel → Send Messages → Embed Links that is missing counts:
    Discord takes away the later ones implicitly when an earlier one is missing, so granting
    that one is the fix.
    """
    mine = channel.permissions_for(channel.guild.me)
    for name in NEEDED:
        if not getattr(mine, name):
            return [permission_name(name)]
    return []


class Subscriptions(commands.Cog):
    """Which channels get alerts, for which films, pinging which role."""

    def __init__(self, bot: GreenlightBot) -> None:
        self.bot = bot
        self.core = bot.core

    @app_commands.command(
        name="subscribe", description="Post status-change alerts in a channel (all films, or one)."
    )
    @app_commands.describe(
        channel="Where to post the alerts",
        film="Only this film (leave empty for every film this server watches)",
        role="A role to ping with each alert (nobody is pinged otherwise)",
    )
    @app_commands.autocomplete(film=film_choices)
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @admin_only()
    async def subscribe(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel,
        film: str | None = None,
        role: discord.Role | None = None,
    ) -> None:
        guild = channel.guild  # Discord's picker offers only this server's channels
        missing = missing_permissions(channel)
        if missing:
            raise InvalidInput(
                f"I can't post alerts in {channel.mention}: I'm missing the **{missing[0]}** "
                "permission there. Give my role that permission in the channel's settings, "
                "then run /subscribe again."
            )
        if role is not None and role.is_default():
            raise InvalidInput("Alerts never ping @everyone; pick a role members can opt into.")
        what = "every film this server watches"
        if film:
            found = await self.core.resolve_film(guild.id, film)
            what, film = f"**{render.safe(found.title)}**", found.key
        await self.core.subscribe(guild.id, channel.id, film, role.id if role else None)
        text = f"Alerts for {what} will be posted in {channel.mention}"
        text += f", pinging {role.mention}." if role else "."
        if (
            role is not None
            and not role.mentionable
            and not channel.permissions_for(guild.me).mention_everyone
        ):
            text += (
                f"\nNote: {role.mention} is not mentionable and I don't have the "
                f"**{permission_name('mention_everyone')}** permission, so Discord will "
                "show the mention without notifying anyone. Make the role mentionable to "
                "fix that."
            )
        await reply(interaction, text)

    @app_commands.command(name="unsubscribe", description="Stop posting alerts in a channel.")
    @app_commands.describe(
        channel="The channel to stop posting alerts in",
        film="Only stop this film's alerts (leave empty for the every-film subscription)",
        number="Or the subscription's number from /subscriptions (for a deleted channel)",
    )
    @app_commands.autocomplete(film=film_choices)
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    @admin_only()
    async def unsubscribe(
        self,
        interaction: discord.Interaction,
        channel: discord.TextChannel | None = None,
        film: str | None = None,
        number: app_commands.Range[int, 1] | None = None,
    ) -> None:
        assert interaction.guild_id is not None  # admin_only
        if number is not None:
            removed = await self.core.remove_subscription(interaction.guild_id, number)
            await reply(interaction, f"Removed subscription #{number} (<#{removed.channel_id}>).")
            return
        if channel is None:
            raise InvalidInput(
                "Name the channel, or the subscription's number from /subscriptions."
            )
        await self.core.unsubscribe(interaction.guild_id, channel.id, film)
        scope = f"for {render.safe(film)}" if film else "for every film"
        await reply(interaction, f"No more alerts {scope} in {channel.mention}.")

    @app_commands.command(
        name="subscriptions",
        description="Which channels get alerts, and any that were switched off.",
    )
    @app_commands.guild_only()
    @in_guild()
    async def subscriptions(self, interaction: discord.Interaction) -> None:
        assert interaction.guild_id is not None  # in_guild
        subs = await self.core.subscriptions(interaction.guild_id)
        if not subs:
            await reply(
                interaction,
                "No channel gets alerts yet. An admin can use `/subscribe channel:#news` to start.",
            )
            return
        titles = {f.key: f.title for f in await self.core.watch_list(interaction.guild_id)}
        lines = [self._line(s, titles) for s in subs]
        pages = [
            discord.Embed(
                title="Alert subscriptions", description=block, colour=render.colour(None)
            )
            for block in render.paginate_lines(lines)
        ]
        await reply_pages(interaction, pages)

    @staticmethod
    def _line(sub: SubscriptionView, titles: dict[str, str]) -> str:
        film = render.safe(titles.get(sub.film_key, sub.film_key)) if sub.film_key else "every film"
        line = f"#{sub.id} · <#{sub.channel_id}> · {film}"
        if sub.role_id:
            line += f" · pings <@&{sub.role_id}>"
        if sub.disabled_reason:
            line += (
                f"\n  ⚠ **switched off**: {render.safe(sub.disabled_reason)}. Fix that, then "
                "run /subscribe again to switch it back on."
            )
        return line


async def setup(bot: GreenlightBot) -> None:
    await bot.add_cog(Subscriptions(bot))

"""Alert delivery: the outbox, sent to Discord one row at a time.

Each row is one status change for one subscribed channel. It is posted with a nonce that is
stable per row and ``enforce_nonce``, so if the process dies after Discord created the message
but before ``mark_sent``, the re-send is answered with the first message, not a duplicate.

What a failure means:

* 429: discord.py waits and retries by itself (it reads ``retry_after``); only a wait longer
  than its ``max_ratelimit_timeout`` surfaces, as ``RateLimited``, and is retried later here.
* 5xx, timeouts, connection trouble: ``mark_retry`` with a doubling back-off.
* 403 / 404: the channel is gone or closed to the bot. Retrying cannot help, so the
  subscription is disabled with a reason ``/subscriptions`` shows (and the server's admins
  are told once); never retried.
* Any other 4xx: Discord rejected the message itself; it is marked failed, not retried.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

import aiohttp
import discord
from discord.ext import commands

from bot.types import Alert
from bot.views import OutboxItem
from cogs import _render as render
from cogs._ui import permission_name

if TYPE_CHECKING:
    from cogs._runtime import GreenlightBot

log = logging.getLogger("greenlight.alerts")

BATCH = 20
MAX_BACKOFF = 3600.0


class Alerts(commands.Cog):
    def __init__(self, bot: GreenlightBot) -> None:
        self.bot = bot
        self.core = bot.core
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def cog_load(self) -> None:
        self._task = asyncio.create_task(self._deliver_forever(), name="greenlight-delivery")

    async def cog_unload(self) -> None:
        # Graceful: the loop checks _stopping between messages, so the one being sent now
        # is finished (and marked sent) before the bot disconnects.
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), self.bot.send_timeout + 5)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            self._task = None

    @commands.Cog.listener()
    async def on_greenlight_alerts(self, alerts: list[Alert]) -> None:
        self._wake.set()

    async def _deliver_forever(self) -> None:
        await self.bot.wait_until_ready()  # the shard count is only known once connected
        shard_count, shard_ids = self.bot.delivery_shards
        # Our shards' rows are ours alone: a crashed predecessor's leases need not be waited
        # out (a re-send carries the same nonce, so Discord collapses it).
        try:
            released = await self.core.release_leases(shard_count=shard_count, shard_ids=shard_ids)
        except Exception:  # delivery must start even if this housekeeping fails
            log.exception("could not take back leased alerts; they return when leases expire")
        else:
            if released:
                log.info("took back %d alert(s) a previous process had leased", released)
        interval = self.bot.config.discord.delivery_interval
        while not self._stopping.is_set():
            try:
                busy = await self.deliver_once()
            except Exception:
                log.exception("alert delivery failed; trying again in %.1fs", interval)
                busy = False
            if busy:
                continue  # a full batch: there may be more waiting
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), interval)

    async def deliver_once(self) -> bool:
        """Send what is due now; True when the batch was full."""
        shard_count, shard_ids = self.bot.delivery_shards
        items = await self.core.claim_outbox(BATCH, shard_count=shard_count, shard_ids=shard_ids)
        for item in items:
            if self._stopping.is_set():
                break  # unsent rows stay leased, and are taken again when the lease runs out
            await self.deliver(item)
        return len(items) == BATCH and not self._stopping.is_set()

    async def deliver(self, item: OutboxItem) -> None:
        channel = self.bot.get_partial_messageable(item.channel_id, guild_id=item.guild_id)
        content, mentions = None, discord.AllowedMentions.none()
        if item.role_id is not None:
            # The one ping an alert may make: the role its subscription names.
            content = f"<@&{item.role_id}>"
            mentions = discord.AllowedMentions(
                everyone=False,
                users=False,
                replied_user=False,
                roles=[discord.Object(id=item.role_id)],
            )
        # The bot-wide budget, shared with the other shard processes through the database.
        await self.core.acquire_send_slot()
        try:
            message = await asyncio.wait_for(
                channel.send(
                    content=content,
                    embed=render.alert_embed(item.alert),
                    allowed_mentions=mentions,
                    nonce=item.nonce,
                ),
                self.bot.send_timeout,
            )
        except (discord.Forbidden, discord.NotFound) as e:
            reason = self._refusal(item, e)
            log.warning("disabling subscription %s: %s", item.subscription_id, reason)
            if await self.core.disable_subscription(item.subscription_id, reason):
                self.bot.dispatch("greenlight_subscription_disabled", item, reason)
            return
        except discord.RateLimited as e:
            await self.core.mark_retry(
                item.id, f"rate limited for {e.retry_after:.0f}s", e.retry_after
            )
            return
        except discord.HTTPException as e:
            if e.status >= 500:
                await self._retry(item, f"Discord answered {e.status}: {e.text or e}")
            else:
                log.error("Discord rejected alert %s (%s): %s", item.id, e.status, e.text)
                await self.core.mark_failed(item.id, f"Discord rejected it ({e.status}): {e.text}")
            return
        except (TimeoutError, aiohttp.ClientError, OSError) as e:
            await self._retry(item, f"no answer from Discord ({type(e).__name__})")
            return
        await self.core.mark_sent(item.id, message.id)

    @commands.Cog.listener()
    async def on_greenlight_subscription_disabled(self, item: OutboxItem, reason: str) -> None:
        """Tell the server's admins, once (the subscription is off until they act): in the
        server's system channel when the bot may post there, else by DM to the owner."""
        guild = self.bot.get_guild(item.guild_id)
        if guild is None:
            return
        text = (
            f"⚠ Greenlight stopped posting alerts in <#{item.channel_id}>: {render.safe(reason)}. "
            "Fix that, then run `/subscribe` for that channel again. "
            "`/subscriptions` shows every subscription and its state."
        )
        target: discord.abc.Messageable | None = None
        system = guild.system_channel
        if (
            system is not None
            and system.id != item.channel_id
            and system.permissions_for(guild.me).send_messages
        ):
            target = system
        else:
            try:
                owner = guild.owner or await self.bot.fetch_user(guild.owner_id or 0)
                target = owner
            except discord.HTTPException:
                target = None
        if target is None:
            log.warning("could not tell guild %s's admins: %s", guild.id, reason)
            return
        with contextlib.suppress(discord.HTTPException):
            await target.send(text, allowed_mentions=discord.AllowedMentions.none())

    async def _retry(self, item: OutboxItem, error: str) -> None:
        delay = min(self.bot.retry_base * 2 ** max(0, item.attempts - 1), MAX_BACKOFF)
        log.info(
            "alert %s to channel %s will be retried in %.0fs: %s",
            item.id,
            item.channel_id,
            delay,
            error,
        )
        await self.core.mark_retry(item.id, error, delay)

    def _refusal(self, item: OutboxItem, error: discord.HTTPException) -> str:
        """Why Discord refused, in words an admin can act on (naming the missing permission
        when the bot's cached view of the channel can tell)."""
        if isinstance(error, discord.NotFound):
            return "the channel no longer exists, or the bot can no longer see it (404)"
        channel = self.bot.get_channel(item.channel_id)
        if isinstance(channel, discord.abc.GuildChannel):
            perms = channel.permissions_for(channel.guild.me)
            for name in ("view_channel", "send_messages", "embed_links"):
                if not getattr(perms, name):
                    return (
                        f"the bot lacks the {permission_name(name)} permission "
                        f"in #{channel.name} (403)"
                    )
        return f"Discord refused the bot in that channel (403, code {error.code}: {error.text})"


async def setup(bot: GreenlightBot) -> None:
    await bot.add_cog(Alerts(bot))

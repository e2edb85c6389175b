"""The Discord process: the bot class, its background work, and ``run(config)`` for the CLI.

``python -m bot run`` imports :func:`run` lazily, so the core never imports discord.py.
The bot is an :class:`~discord.ext.commands.AutoShardedBot`: with ``[discord] shard_count``
unset it asks Discord how many shards to run (one, for a hobby bot); with ``shard_count`` and
``shard_ids`` set it runs just those shards, and delivers only the alerts of their guilds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pkgutil
import signal
import sys
from collections.abc import Sequence
from typing import Any

import aiohttp
import discord
from discord.ext import commands

import cogs
from bot import eventloop
from bot.config import Config
from bot.health import HealthServer
from bot.runner import poll_forever
from bot.service import Greenlight
from bot.types import Alert

log = logging.getLogger("greenlight.discord")

# Greenlight has no voice features: discord.py's start-up warnings about missing voice
# libraries would only send operators looking for a problem that is not there.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False

NO_TOKEN = "no Discord token: set GREENLIGHT_DISCORD_TOKEN or [discord] token"


def extensions() -> list[str]:
    """Every public module in ``cogs/`` (a leading underscore marks a helper module)."""
    return sorted(
        f"{cogs.__name__}.{m.name}"
        for m in pkgutil.iter_modules(cogs.__path__)
        if not m.name.startswith("_")
    )


def intents() -> discord.Intents:
    """The least the bot needs: guild and channel cache, messages, and their text for ``!``
    commands (Message Content is privileged: it must be enabled in the Developer Portal)."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.message_content = True
    return wanted


class GreenlightBot(commands.AutoShardedBot):
    """The bot: cogs talk to ``self.core`` (the service API) and nothing else.

    ``poll=False`` leaves feed polling to separate ``python -m bot poll`` workers (and lets
    tests drive the poller themselves). ``send_timeout`` bounds one alert send;
    ``retry_base`` is the first back-off after a failed send (doubling, capped at an hour).
    Other keyword arguments go to discord.py's ``Client``.
    """

    def __init__(
        self,
        config: Config,
        core: Greenlight,
        *,
        poll: bool = True,
        send_timeout: float = 30.0,
        retry_base: float = 30.0,
        **options: Any,
    ) -> None:
        dc = config.discord
        if dc.shard_count:
            options.setdefault("shard_count", dc.shard_count)
        if dc.shard_ids:
            options.setdefault("shard_ids", list(dc.shard_ids))
        super().__init__(
            command_prefix=commands.when_mentioned_or(dc.prefix),
            intents=intents(),
            # Nothing the bot says pings anyone unless a send opts in (alerts naming a role).
            allowed_mentions=discord.AllowedMentions.none(),
            help_command=None,  # cogs/meta.py installs a newcomer-friendly one
            **options,
        )
        self.config = config
        self.core = core
        self.run_poller = poll
        self.send_timeout = send_timeout
        self.retry_base = retry_base
        self._poller: asyncio.Task[None] | None = None

    async def setup_hook(self) -> None:
        for name in extensions():
            await self.load_extension(name)
        dc = self.config.discord
        # With several processes, one (the one running shard 0) registers the commands.
        if dc.sync_commands and (not dc.shard_ids or 0 in dc.shard_ids):
            await self.sync_commands()
        if self.run_poller:
            self._poller = asyncio.create_task(self._poll_forever(), name="greenlight-poller")

    async def sync_commands(self) -> None:
        dev = self.config.discord.dev_guild_id
        if dev:
            # A guild sync shows up at once; global commands can take a while to appear.
            guild = discord.Object(id=dev)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d application command(s) to dev guild %s", len(synced), dev)
        else:
            synced = await self.tree.sync()
            log.info("synced %d global application command(s)", len(synced))

    @property
    def delivery_shards(self) -> tuple[int, list[int] | None]:
        """``(shard_count, shard_ids)`` for ``claim_outbox``: only our own guilds' alerts."""
        count = self.shard_count or 1
        mine = self.shard_ids
        if mine is None or sorted(mine) == list(range(count)):
            return count, None
        return count, list(mine)

    async def _poll_forever(self) -> None:
        # Never stopped by the event: close() cancels this task.
        await poll_forever(self.core, asyncio.Event(), on_alerts=self._polled)

    def _polled(self, alerts: Sequence[Alert]) -> None:
        if alerts:
            self.dispatch("greenlight_alerts", list(alerts))

    def alerts_queued(self, alerts: list[Alert]) -> None:
        """Tell the delivery loop that new outbox rows exist (when polling happens elsewhere
        in this process, e.g. a test driving the core)."""
        self.dispatch("greenlight_alerts", alerts)

    async def close(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        # Unloads the cogs first: alerts.py finishes the message in flight there.
        await super().close()


def run(config: Config, role: str = "all", **options: Any) -> int:
    """``python -m bot run``: serve Discord until SIGTERM/SIGINT; the process exit code.
    ``role`` "all" also polls the feeds here; "discord" leaves that to ``--role poller``
    processes. ``options`` go to :class:`GreenlightBot` (tests tune timeouts with them)."""
    token = (config.discord.token or "").strip()
    if not token:
        print(f"error: {NO_TOKEN}", file=sys.stderr)
        return 1
    _setup_logging(config.logging.level)
    try:
        return eventloop.run(_serve(config, token, role, options))
    except KeyboardInterrupt:
        return 130


def _setup_logging(level: str) -> None:
    # The Discord process uses discord.py's log format; drop a handler the CLI may have set
    # so lines are not printed twice.
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    discord.utils.setup_logging(level=getattr(logging, level, logging.INFO), root=True)


async def _serve(config: Config, token: str, role: str, options: dict[str, Any]) -> int:
    core = await Greenlight.open(config)
    health = HealthServer(core, role, config.health.host, config.health.port)
    lag = asyncio.create_task(core.metrics.watch_loop_lag(), name="greenlight-loop-lag")
    try:
        if config.health.port:
            log.info("health on http://%s:%d/healthz", config.health.host, await health.start())
        options.setdefault("poll", role == "all")
        bot = GreenlightBot(config, core, **options)
        loop = asyncio.get_running_loop()
        closing: list[asyncio.Task[None]] = []

        def stop(signame: str) -> None:
            if closing:
                return
            log.info("%s received: finishing the message in flight, then closing", signame)
            closing.append(asyncio.create_task(bot.close()))

        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError):  # not on Windows' default loop
                loop.add_signal_handler(sig, stop, sig.name)
        try:
            async with bot:
                await bot.start(token)
        except discord.LoginFailure:
            print(
                "error: Discord rejected the token (check GREENLIGHT_DISCORD_TOKEN or "
                "[discord] token)",
                file=sys.stderr,
            )
            return 1
        except discord.PrivilegedIntentsRequired:
            print(
                "error: Discord refused the Message Content intent: enable it for this bot "
                "in the Developer Portal (Bot → Privileged Gateway Intents)",
                file=sys.stderr,
            )
            return 1
        except (
            discord.GatewayNotFound,
            discord.ConnectionClosed,
            discord.HTTPException,
            aiohttp.ClientError,
            OSError,
        ) as e:
            # Discord down or unreachable at start-up: one line, and a non-zero exit so a
            # supervisor (systemd, Docker) tries again later.
            print(f"error: could not connect to Discord: {e}", file=sys.stderr)
            return 1
        return 0
    finally:
        lag.cancel()
        await health.close()
        await core.close()

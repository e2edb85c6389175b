"""Greenlight-specific glue for tests: run the real bot (``cogs/``) with a real core against
``FakeDiscord``, in this process or as a separate one.

The rest of the package knows nothing about Greenlight; this module is where the two meet.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .server import FakeDiscord

if TYPE_CHECKING:
    from feedserver import FeedServer

    from bot.config import Config
    from bot.service import Greenlight
    from bot.types import Alert
    from cogs._runtime import GreenlightBot

TESTS_DIR = Path(__file__).resolve().parent.parent

ROMY: dict[str, Any] = {
    "id": "romy-and-michele-2",
    "title": "Romy and Michele 2",
    "aliases": ["Romy and Michele sequel", "Romy & Michele 2"],
    "originals": ["Romy and Michele's High School Reunion", "Romy and Michele"],
}
GLADIATOR: dict[str, Any] = {
    "id": "gladiator-2",
    "title": "Gladiator II",
    "aliases": ["Gladiator 2"],
    "originals": ["Gladiator"],
}


def config_data(
    db_url: str,
    *,
    token: str | None = None,
    films: list[dict[str, Any]] | None = None,
    feeds: list[dict[str, Any]] | None = None,
    **sections: dict[str, Any],
) -> dict[str, Any]:
    """A config as a user would write it (TOML-shaped), tuned for loopback tests: feeds on
    127.0.0.1 allowed, fast delivery, and a poll interval long enough that the bot's own
    poller (when on) never races a test's explicit polls."""
    data: dict[str, Any] = {
        "database": {"url": db_url},
        "fetch": {"allow_private_networks": True, "timeout": 5.0, "connect_timeout": 2.0},
        "poll": {"interval": 3600.0, "parse_workers": 1},
        "discord": {"delivery_interval": 0.05},
        "logging": {"level": "INFO"},
        "films": films if films is not None else [ROMY],
        "feeds": feeds or [],
    }
    if token is not None:
        data["discord"]["token"] = token
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return data


def make_config(db_url: str, **kwargs: Any) -> Config:
    from bot.config import from_mapping

    return from_mapping(config_data(db_url, **kwargs), None, env={})


def write_config(path: Path, data: dict[str, Any]) -> Path:
    """The same, as a TOML file (for a bot run as a separate process)."""

    def value(v: Any) -> str:
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, str):
            return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return repr(v)

    lines: list[str] = []
    for name, body in data.items():
        if isinstance(body, list):
            for item in body:
                lines.append(f"[[{name}]]")
                lines += [f"{k} = {value(v)}" for k, v in item.items()]
        else:
            lines.append(f"[{name}]")
            lines += [f"{k} = {value(v)}" for k, v in body.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class Newsroom:
    """News feeds served on 127.0.0.1 (the lead's ``FeedServer``) and a poll clock the test
    drives: each ``poll`` is one poll interval later, each story is published between polls,
    and all of it lies in the past so the bot (on the real clock) sees the outbox rows due.

    ``open_core`` makes the core's films and feeds older than every story, and polls once
    before any story exists, so nothing published later counts as silent backfill.
    """

    INTERVAL = timedelta(hours=1)

    def __init__(self, srv: FeedServer) -> None:
        self.srv = srv
        self.base = datetime.now(UTC).replace(microsecond=0) - timedelta(days=7)
        self.tick = 0
        self.items: dict[str, list[Any]] = {}
        self.outlets: dict[str, str] = {}

    def url(self, path: str, outlet: str) -> str:
        """Serve an (empty for now) feed at ``path`` for ``outlet``; its URL."""
        self.items.setdefault(path, [])
        self.outlets[path] = outlet
        self._serve(path)
        return self.srv.url(path)

    def feed_entry(self, path: str, outlet: str) -> dict[str, str]:
        return {"url": self.url(path, outlet), "name": outlet}

    def publish(
        self,
        path: str,
        title: str,
        summary: str,
        *,
        link: str | None = None,
        guid: str | None = None,
    ) -> Any:
        from feedgen import Item

        n = sum(len(v) for v in self.items.values()) + 1
        item = Item(
            title=title,
            summary=summary,
            published=self.now + self.INTERVAL / 2,
            link=link or f"https://news.example/{n}",
            guid=guid,
        )
        self.items[path].append(item)
        self._serve(path)
        return item

    def _serve(self, path: str) -> None:
        from feedgen import rss

        self.srv.feed(path, rss(self.items[path], title=self.outlets[path]))

    @property
    def now(self) -> datetime:
        return self.base + self.INTERVAL * self.tick

    async def open_core(self, config: Config) -> Greenlight:
        from bot.service import Greenlight

        core = await Greenlight.open(config, now=self.base)
        await self.poll(core)  # the feeds' first poll: nothing published yet
        return core

    async def poll(self, core: Greenlight, bot: GreenlightBot | None = None) -> list[Alert]:
        """One poll, one interval after the last; wakes the bot's delivery when given."""
        self.tick += 1
        core.set_clock(self.now)
        try:
            alerts = await core.poll_once(self.now)
        finally:
            core.set_clock(None)  # delivery runs on the real clock, after every poll time
        if bot is not None and alerts:
            bot.alerts_queued(alerts)
        return alerts


@contextlib.asynccontextmanager
async def running_bot(
    fake: FakeDiscord, config: Config, core: Greenlight, **options: Any
) -> AsyncIterator[GreenlightBot]:
    """The real GreenlightBot, in this process, connected and ready. The bot does not poll
    (tests poll the core themselves, with a fixed clock); failed sends are retried quickly."""
    from cogs._runtime import GreenlightBot

    options.setdefault("poll", False)
    options.setdefault("retry_base", 0.05)
    options.setdefault("send_timeout", 5.0)
    options.setdefault("guild_ready_timeout", 0.05)
    bot = GreenlightBot(config, core, **options)
    async with fake.running(bot):
        yield bot


@contextlib.asynccontextmanager
async def newsroom_bot(
    fake: FakeDiscord, newsroom: Newsroom, config: Config, **options: Any
) -> AsyncIterator[tuple[Greenlight, GreenlightBot]]:
    """A core on ``newsroom``'s clock and :func:`running_bot` on it; the core is closed
    afterwards."""
    core = await newsroom.open_core(config)
    try:
        async with running_bot(fake, config, core, **options) as bot:
            yield core, bot
    finally:
        await core.close()


class BotProcess:
    """``python -m fakediscord.launch``: the real bot process, pointed at ``fake``."""

    def __init__(
        self,
        fake: FakeDiscord,
        config_path: Path,
        *,
        cwd: Path,
        token: str | None = None,
        **options: Any,
    ) -> None:
        self.fake = fake
        self.token = token if token is not None else fake.token
        self.config_path = config_path
        self.cwd = cwd
        # SQLite allows one polling process, and the test's own core is it.
        self.options = {"poll": False, **options}
        self.proc: asyncio.subprocess.Process | None = None
        self.log_path = cwd / "bot-process.log"

    async def start(self) -> BotProcess:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(TESTS_DIR), env.get("PYTHONPATH", "")) if p
        )
        env.pop("GREENLIGHT_DATABASE_URL", None)
        env["GREENLIGHT_DISCORD_TOKEN"] = self.token
        args = [
            sys.executable,
            "-m",
            "fakediscord.launch",
            "--api",
            self.fake.api_base,
            "--gateway",
            self.fake.gateway_url,
            "--config",
            str(self.config_path),
        ]
        for name, v in self.options.items():
            args += ["--option", f"{name}={v}"]
        log = self.log_path.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            *args, cwd=self.cwd, env=env, stdout=log, stderr=log
        )
        log.close()
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    async def wait(self, within: float = 30.0) -> int:
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), within)

    async def wait_for_log(self, text: str, within: float = 30.0) -> None:
        """Until the process has written ``text`` to its log (stderr is line-buffered)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while text not in self.log():
            if loop.time() > deadline or (self.proc and self.proc.returncode is not None):
                raise AssertionError(f"the bot process never logged {text!r}:\n{self.log()}")
            await asyncio.sleep(0.05)

    def log(self) -> str:
        return (
            self.log_path.read_text(encoding="utf-8", errors="replace")
            if self.log_path.exists()
            else ""
        )

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.kill()
            await self.proc.wait()

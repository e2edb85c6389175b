"""Command line: the contract of DESIGN.md (``run``, ``poll``, ``classify``, ``migrate``,
``check-config``) plus ``demo``. Alerts and results go to stdout as JSON lines; logs and errors
go to stderr, so the two never mix."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import signal
import sys
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from importlib import resources
from pathlib import Path
from typing import TextIO

from bot import eventloop
from bot.config import Config, ConfigError, load
from bot.errors import GreenlightError
from bot.types import Alert

log = logging.getLogger("bot")

ENV_CONFIG = "GREENLIGHT_CONFIG"
DEFAULT_CONFIG = "greenlight.toml"
DEMO_START = "2023-01-01T00:00:00+00:00"


def _parse_now(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--now expects an ISO 8601 time such as 2025-01-15T09:00:00Z, got {text!r}"
        ) from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _parse_shards(text: str) -> tuple[tuple[int, ...], int]:
    try:
        ids_text, count_text = text.split("/")
        ids = tuple(int(i) for i in ids_text.split(",") if i.strip())
        count = int(count_text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--shards expects IDS/COUNT such as 0,1/4, got {text!r}"
        ) from None
    if count < 1 or not ids or any(not 0 <= i < count for i in ids):
        raise argparse.ArgumentTypeError(
            f"--shards {text!r}: give at least one shard id, each below the count {count}"
        )
    return ids, count


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="greenlight",
        description="Greenlight: film production-status alerts from entertainment news feeds.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument(
            "--config",
            metavar="F",
            help=f"TOML config file (default: ${ENV_CONFIG}, else ./{DEFAULT_CONFIG} if present)",
        )
        return p

    run = command("run", "run the Discord bot (token from GREENLIGHT_DISCORD_TOKEN or the config)")
    run.add_argument(
        "--role",
        choices=("all", "discord", "poller"),
        default="all",
        help="all: poll and serve Discord in one process (default); poller: only poll "
        "(no token needed); discord: only serve Discord and deliver alerts",
    )
    run.add_argument(
        "--shards",
        metavar="IDS/COUNT",
        type=_parse_shards,
        help="this process's shards out of the total, e.g. 0,1/4 (overrides [discord] "
        "shard_ids and shard_count; for several processes on one bot)",
    )
    poll = command("poll", "poll the feeds, record, and print every alert as one JSON line")
    poll.add_argument("--once", action="store_true", help="one cycle, then exit")
    poll.add_argument("--now", type=_parse_now, metavar="ISO8601", help="the bot's clock")
    command("classify", "classify stories: JSONL on stdin, JSONL on stdout")
    command("migrate", "upgrade the database to the newest schema (alembic upgrade head)")
    command("check-config", "validate the config and explain every problem (exit 1 on any)")
    demo = command("demo", "poll the bundled offline demo feeds into SQLite and print the alerts")
    demo.add_argument(
        "--database",
        metavar="URL",
        help="database URL (default: a fresh SQLite file in a temporary folder)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        config_path = _config_path(args.config)
        if args.command == "demo":
            return _demo(args)
        config = load(config_path)
    except ConfigError as e:
        for problem in e.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 1
    _setup_logging(config.logging.level)

    if args.command == "check-config":
        where = config_path or "built-in defaults"
        print(
            f"{where}: OK — {len(config.films)} film(s), {len(config.feeds)} feed(s), "
            f"database {config.database.url}"
        )
        return 0
    try:
        if args.command == "run" and args.shards:
            ids, count = args.shards
            config = dataclasses.replace(
                config,
                discord=dataclasses.replace(config.discord, shard_ids=ids, shard_count=count),
            )
        if args.command == "run" and args.role == "poller":
            return eventloop.run(_poller_role(config))
        if args.command == "run":
            try:
                from cogs._runtime import run  # the only door from the core to discord.py
            except ImportError as e:
                print(f"error: the Discord side cannot start: {e}", file=sys.stderr)
                return 1
            return run(config, role=args.role)
        if args.command == "poll":
            return eventloop.run(_poll(config, once=args.once, now=args.now))
        if args.command == "classify":
            return _classify(config, sys.stdin, sys.stdout)
        if args.command == "migrate":
            return eventloop.run(_migrate(config))
    except GreenlightError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    raise AssertionError(args.command)


def _config_path(arg: str | None) -> str | None:
    if arg:
        return arg
    if env := os.environ.get(ENV_CONFIG):
        return env
    return DEFAULT_CONFIG if Path(DEFAULT_CONFIG).exists() else None


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        stream=sys.stderr,
        level=getattr(logging, level, logging.INFO),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
    )
    if level != "DEBUG":
        # Alembic narrates every step at INFO; only its warnings concern an operator.
        logging.getLogger("alembic").setLevel(logging.WARNING)


def _emit(alerts: Sequence[Alert], out: TextIO) -> None:
    for alert in alerts:
        out.write(json.dumps(alert.to_json(), ensure_ascii=False) + "\n")
    out.flush()


async def _poll(config: Config, *, once: bool, now: datetime | None) -> int:
    from bot.runner import poll_forever
    from bot.service import Greenlight

    core = await Greenlight.open(config, now=now)
    try:
        await poll_forever(
            core,
            _stop_on_signals(),
            once=once,
            start=now,
            on_alerts=lambda alerts: _emit(alerts, sys.stdout),
        )
    finally:
        await core.close()
    return 0


async def _poller_role(config: Config) -> int:
    """``run --role poller``: poll forever, alerts to the outbox (and the log), health beside."""
    from bot.health import HealthServer
    from bot.runner import poll_forever
    from bot.service import Greenlight

    core = await Greenlight.open(config)
    health = HealthServer(core, "poller", config.health.host, config.health.port)
    lag = asyncio.create_task(core.metrics.watch_loop_lag())
    try:
        if config.health.port:
            log.info("health on http://%s:%d/healthz", config.health.host, await health.start())
        await poll_forever(
            core,
            _stop_on_signals(),
            on_alerts=_log_alerts,
        )
    finally:
        lag.cancel()
        await health.close()
        await core.close()
    return 0


def _log_alerts(alerts: Sequence[Alert]) -> None:
    for alert in alerts:
        log.info("alert queued: %s", json.dumps(alert.to_json(), ensure_ascii=False))


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    return stop


async def _migrate(config: Config) -> int:
    from bot.service import Greenlight

    core = await Greenlight.open(config, migrate=True)
    try:
        from bot.store.migrate import current_revision

        print(f"database at revision {await current_revision(core.engine)}", file=sys.stderr)
    finally:
        await core.close()
    return 0


def _classify(config: Config, stdin: TextIO, stdout: TextIO) -> int:
    from bot.classify import Classifier
    from bot.textnorm import html_to_text
    from bot.types import FilmRef

    classifier = Classifier(
        FilmRef(id=f.id, title=f.title, aliases=(f.title, *f.aliases), originals=f.originals)
        for f in config.films
    )
    bad = 0
    for n, line in enumerate(stdin, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            if not isinstance(item, dict):
                raise ValueError("expected a JSON object")
            published = _parse_now(item["published"]) if item.get("published") else None
            title = html_to_text(str(item.get("title") or ""))
            summary = html_to_text(str(item.get("summary") or ""))
        except (ValueError, argparse.ArgumentTypeError) as e:
            bad += 1
            print(f"error: stdin line {n}: {e}", file=sys.stderr)
            result = {
                "id": None,
                "film": None,
                "status": None,
                "evidence": None,
                "confidence": 0.0,
                "error": f"line {n}: {e}",
            }
            stdout.write(json.dumps(result) + "\n")
            continue
        signals = classifier.classify(title, summary, published)
        best = signals[0] if signals else None
        result = {
            "id": item.get("id"),
            "film": best.film if best else None,
            "status": best.status if best else None,
            "evidence": best.evidence if best else None,
            "confidence": round(best.confidence, 3) if best else 0.0,
        }
        stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
    stdout.flush()
    return 1 if bad else 0


def _demo(args: argparse.Namespace) -> int:
    """The poll path, end to end, over feeds bundled with the package (read through ``file:``
    URLs, so no network is needed), with the clock set before the first story so every story
    counts as news rather than silent backfill."""
    demo_dir = resources.files("bot") / "demo"
    with resources.as_file(demo_dir) as folder, tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite+aiosqlite:///{Path(tmp) / 'greenlight-demo.db'}"
        config = load(folder / "config.toml", env={"GREENLIGHT_DATABASE_URL": url})
        _setup_logging(config.logging.level)
        try:
            return eventloop.run(_poll(config, once=True, now=_parse_now(DEMO_START)))
        except GreenlightError as e:
            print(f"error: {e}", file=sys.stderr)
            return 1

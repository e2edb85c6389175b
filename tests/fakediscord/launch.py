"""Run the real Greenlight bot process against a fake Discord::

    python -m fakediscord.launch --api http://127.0.0.1:PORT/api/v10 \\
        --gateway ws://127.0.0.1:PORT/gateway --config greenlight.toml

It points discord.py's two base URLs at the fake and then hands over to ``cogs._runtime.run``
exactly as ``python -m bot run`` does (the token comes from the config or
``GREENLIGHT_DISCORD_TOKEN``), so a test can SIGKILL or SIGTERM a real bot process.
Extra ``--option name=value`` pairs are passed to ``run`` as GreenlightBot keyword
arguments (numbers parsed).
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="fakediscord.launch")
    parser.add_argument("--api", required=True, help="discord.http.Route.BASE")
    parser.add_argument("--gateway", required=True, help="DiscordWebSocket.DEFAULT_GATEWAY")
    parser.add_argument("--config", required=True)
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)

    import discord.gateway
    import discord.http
    import yarl

    discord.http.Route.BASE = args.api
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(args.gateway)

    from bot.config import ConfigError, load
    from cogs import _runtime

    try:
        config = load(args.config)
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    options: dict[str, object] = {}
    for pair in args.option:
        name, _, raw = pair.partition("=")
        if raw in ("True", "False", "true", "false"):
            options[name] = raw in ("True", "true")
            continue
        try:
            options[name] = float(raw) if "." in raw else int(raw)
        except ValueError:
            options[name] = raw
    return _runtime.run(config, **options)


if __name__ == "__main__":
    sys.exit(main())

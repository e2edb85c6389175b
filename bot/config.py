"""Configuration: a TOML file validated against one schema, with every problem reported.

A file that names only some keys is valid; everything else takes the default documented in
``config.example.toml``. Secrets come from the environment.
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_DB_URL = "sqlite+aiosqlite:///greenlight.db"
ENV_TOKEN = "GREENLIGHT_DISCORD_TOKEN"
ENV_DB_URL = "GREENLIGHT_DATABASE_URL"
USER_AGENT = "Greenlight/0.1 (film production-status bot; +https://github.com/greenlight-bot)"

FILM_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class ConfigError(Exception):
    """Every problem found in a config file, each naming the file and the key."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass(frozen=True, slots=True)
class DatabaseConfig:
    url: str = DEFAULT_DB_URL
    busy_timeout: float = 30.0


@dataclass(frozen=True, slots=True)
class FetchConfig:
    allow_private_networks: bool = False
    allow_file_urls: bool = False
    timeout: float = 30.0
    connect_timeout: float = 10.0
    max_body_bytes: int = 5_000_000
    max_redirects: int = 5
    max_connections: int = 100
    max_connections_per_host: int = 4
    user_agent: str = USER_AGENT


@dataclass(frozen=True, slots=True)
class PollConfig:
    interval: float = 900.0
    max_backoff: float = 6 * 3600.0
    disable_after_failures: int = 20
    dedupe_window_days: float = 3.0
    parse_workers: int = 0  # 0: one per core


@dataclass(frozen=True, slots=True)
class DiscordConfig:
    token: str | None = None
    prefix: str = "!"
    dev_guild_id: int = 0
    shard_count: int = 0  # 0: one process, AutoShardedBot decides
    shard_ids: tuple[int, ...] = ()
    sync_commands: bool = True
    delivery_interval: float = 2.0
    send_rate: float = 40.0  # messages per second, shared by every process of this bot


@dataclass(frozen=True, slots=True)
class HealthConfig:
    host: str = "127.0.0.1"
    port: int = 0  # 0: no health server


@dataclass(frozen=True, slots=True)
class LoggingConfig:
    level: str = "INFO"


@dataclass(frozen=True, slots=True)
class FilmSpec:
    id: str
    title: str
    aliases: tuple[str, ...] = ()
    originals: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FeedSpec:
    url: str
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Config:
    path: Path | None = None
    database: DatabaseConfig = field(default_factory=DatabaseConfig)
    fetch: FetchConfig = field(default_factory=FetchConfig)
    poll: PollConfig = field(default_factory=PollConfig)
    discord: DiscordConfig = field(default_factory=DiscordConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    health: HealthConfig = field(default_factory=HealthConfig)
    films: tuple[FilmSpec, ...] = ()
    feeds: tuple[FeedSpec, ...] = ()


# --- schema -----------------------------------------------------------------------------------

Check = Callable[[Any], str | None]  # returns a problem description, or None when fine


def _number(minimum: float, maximum: float | None = None) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int | float):
            return f"expected a number, got {_show(v)}"
        if v < minimum or (maximum is not None and v > maximum):
            top = f" and at most {maximum:g}" if maximum is not None else ""
            return f"must be at least {minimum:g}{top}, got {v!r}"
        return None

    return check


def _integer(minimum: int, maximum: int | None = None) -> Check:
    def check(v: Any) -> str | None:
        if isinstance(v, bool) or not isinstance(v, int):
            return f"expected a whole number, got {_show(v)}"
        if v < minimum or (maximum is not None and v > maximum):
            top = f" and at most {maximum}" if maximum is not None else ""
            return f"must be at least {minimum}{top}, got {v!r}"
        return None

    return check


def _boolean(v: Any) -> str | None:
    return None if isinstance(v, bool) else f"expected true or false, got {_show(v)}"


def _string(v: Any) -> str | None:
    return None if isinstance(v, str) else f"expected a string, got {_show(v)}"


def _nonempty_string(v: Any) -> str | None:
    if not isinstance(v, str):
        return f"expected a string, got {_show(v)}"
    return None if v.strip() else "must not be empty"


def _string_list(v: Any) -> str | None:
    if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
        return f"expected a list of non-empty strings, got {_show(v)}"
    return None


def _int_list(v: Any) -> str | None:
    ok = isinstance(v, list) and all(isinstance(x, int) and not isinstance(x, bool) for x in v)
    return (
        None
        if ok and all(x >= 0 for x in v)
        else f"expected a list of shard numbers ≥ 0, got {_show(v)}"
    )


def _db_url(v: Any) -> str | None:
    if not isinstance(v, str):
        return f"expected a string, got {_show(v)}"
    if not (v.startswith("sqlite+aiosqlite://") or v.startswith("postgresql+asyncpg://")):
        return (
            f"unsupported database URL {v!r}: use sqlite+aiosqlite:///FILE "
            "or postgresql+asyncpg://USER@HOST/DB"
        )
    return None


def _log_level(v: Any) -> str | None:
    levels = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
    if not isinstance(v, str) or v.upper() not in levels:
        return f"expected one of {', '.join(levels)}, got {_show(v)}"
    return None


def _show(v: Any) -> str:
    kind = {bool: "a boolean", int: "a number", float: "a number", str: "a string"}
    name = kind.get(type(v), "a list" if isinstance(v, list) else "a table")
    return f"{name} ({v!r})" if not isinstance(v, dict) else name


SECTIONS: dict[str, dict[str, Check]] = {
    "database": {"url": _db_url, "busy_timeout": _number(0.1, 3600)},
    "fetch": {
        "allow_private_networks": _boolean,
        "allow_file_urls": _boolean,
        "timeout": _number(0.1, 600),
        "connect_timeout": _number(0.1, 600),
        "max_body_bytes": _integer(1024, 1 << 30),
        "max_redirects": _integer(0, 20),
        "max_connections": _integer(1, 10_000),
        "max_connections_per_host": _integer(1, 1_000),
        "user_agent": _nonempty_string,
    },
    "poll": {
        "interval": _number(1, 7 * 86400),
        "max_backoff": _number(1, 30 * 86400),
        "disable_after_failures": _integer(1, 10_000),
        "dedupe_window_days": _number(0, 60),
        "parse_workers": _integer(0, 256),
    },
    "discord": {
        "token": _string,
        "prefix": _nonempty_string,
        "dev_guild_id": _integer(0),
        "shard_count": _integer(0, 10_000),
        "shard_ids": _int_list,
        "sync_commands": _boolean,
        "delivery_interval": _number(0.05, 3600),
        "send_rate": _number(0.1, 50),
    },
    "logging": {"level": _log_level},
    "health": {"host": _nonempty_string, "port": _integer(0, 65535)},
}
FILM_KEYS: dict[str, Check] = {
    "id": _nonempty_string,
    "title": _nonempty_string,
    "aliases": _string_list,
    "originals": _string_list,
}
FEED_KEYS: dict[str, Check] = {"url": _nonempty_string, "name": _nonempty_string}
LIST_SECTIONS = {"films": FILM_KEYS, "feeds": FEED_KEYS}
_DATACLASSES = {
    "database": DatabaseConfig,
    "fetch": FetchConfig,
    "poll": PollConfig,
    "discord": DiscordConfig,
    "logging": LoggingConfig,
    "health": HealthConfig,
}


def _did_you_mean(word: str, choices: list[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def load(path: str | Path | None, env: dict[str, str] | None = None) -> Config:
    """Read and validate a config file; ``None`` means all defaults. Raises ConfigError."""
    env = dict(os.environ) if env is None else env
    if path is None:
        return from_mapping({}, None, env)
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError([f"{p}: file not found"]) from None
    except OSError as e:
        raise ConfigError([f"{p}: cannot read: {e.strerror or e}"]) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError([f"{p}: not UTF-8 text"]) from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{p}: not valid TOML: {e}"]) from None
    return from_mapping(data, p, env)


def from_mapping(data: dict[str, Any], path: Path | None, env: dict[str, str]) -> Config:
    where = str(path) if path else "<defaults>"
    problems: list[str] = []
    values: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}

    for name, body in data.items():
        if name in LIST_SECTIONS:
            continue
        if name not in SECTIONS:
            hint = _did_you_mean(name, [*SECTIONS, *LIST_SECTIONS])
            problems.append(f"{where}: unknown section [{name}]{hint}")
            continue
        if not isinstance(body, dict):
            problems.append(f"{where}: [{name}] must be a table, got {_show(body)}")
            continue
        for key, value in body.items():
            check = SECTIONS[name].get(key)
            if check is None:
                hint = _did_you_mean(key, list(SECTIONS[name]))
                problems.append(f"{where}: [{name}] unknown key {key!r}{hint}")
                continue
            problem = check(value)
            if problem:
                problems.append(f"{where}: [{name}] {key}: {problem}")
            else:
                values[name][key] = value

    films = _load_films(data.get("films", []), where, problems)
    feeds = _load_feeds(data.get("feeds", []), where, path, problems)

    if token := env.get(ENV_TOKEN, "").strip():
        values["discord"]["token"] = token
    if db_url := env.get(ENV_DB_URL, "").strip():
        problem = _db_url(db_url)
        if problem:
            problems.append(f"environment {ENV_DB_URL}: {problem}")
        else:
            values["database"]["url"] = db_url
    dc = values["discord"]
    if "shard_ids" in dc:
        dc["shard_ids"] = tuple(dc["shard_ids"])
        count = dc.get("shard_count", 0)
        if dc["shard_ids"] and not count:
            problems.append(f"{where}: [discord] shard_ids needs shard_count to be set too")
        bad = [i for i in dc["shard_ids"] if count and i >= count]
        if bad:
            problems.append(f"{where}: [discord] shard_ids {bad} must be below shard_count {count}")
    if "level" in values["logging"]:
        values["logging"]["level"] = values["logging"]["level"].upper()

    if problems:
        raise ConfigError(problems)
    built = {name: cls(**values[name]) for name, cls in _DATACLASSES.items()}
    return Config(path=path, films=tuple(films), feeds=tuple(feeds), **built)


def _table_list(raw: Any, name: str, where: str, problems: list[str]) -> list[dict[str, Any]]:
    if not isinstance(raw, list) or not all(isinstance(x, dict) for x in raw):
        problems.append(f"{where}: {name} must be written as [[{name}]] tables")
        return []
    return raw


def _check_table(
    item: dict[str, Any],
    keys: dict[str, Check],
    label: str,
    required: tuple[str, ...],
    where: str,
    problems: list[str],
) -> bool:
    ok = True
    for key, value in item.items():
        check = keys.get(key)
        if check is None:
            problems.append(f"{where}: {label} unknown key {key!r}{_did_you_mean(key, list(keys))}")
            ok = False
        elif problem := check(value):
            problems.append(f"{where}: {label} {key}: {problem}")
            ok = False
    for key in required:
        if key not in item:
            problems.append(f"{where}: {label} is missing required key {key!r}")
            ok = False
    return ok


def _load_films(raw: Any, where: str, problems: list[str]) -> list[FilmSpec]:
    films: list[FilmSpec] = []
    seen: set[str] = set()
    for n, item in enumerate(_table_list(raw, "films", where, problems), 1):
        label = f"[[films]] #{n}" + (
            f" ({item['id']!r})" if isinstance(item.get("id"), str) else ""
        )
        if not _check_table(item, FILM_KEYS, label, ("id", "title"), where, problems):
            continue
        fid = item["id"]
        if not FILM_ID_RE.match(fid):
            problems.append(
                f"{where}: {label} id: use lowercase letters, digits, '-' or '_' "
                f"(at most 64), got {fid!r}"
            )
            continue
        if fid in seen:
            problems.append(f"{where}: {label} id {fid!r} is used by an earlier film")
            continue
        seen.add(fid)
        films.append(
            FilmSpec(
                id=fid,
                title=item["title"].strip(),
                aliases=tuple(a.strip() for a in item.get("aliases", [])),
                originals=tuple(o.strip() for o in item.get("originals", [])),
            )
        )
    return films


def _load_feeds(raw: Any, where: str, path: Path | None, problems: list[str]) -> list[FeedSpec]:
    feeds: list[FeedSpec] = []
    seen: set[str] = set()
    for n, item in enumerate(_table_list(raw, "feeds", where, problems), 1):
        label = f"[[feeds]] #{n}"
        if not _check_table(item, FEED_KEYS, label, ("url",), where, problems):
            continue
        url = item["url"].strip()
        if url.startswith("file:"):
            url = _resolve_file_url(url, path)
        elif not re.match(r"^https?://[^/\s]+", url, re.I):
            problems.append(f"{where}: {label} url: expected an http(s):// address, got {url!r}")
            continue
        if url in seen:
            problems.append(f"{where}: {label} url {url!r} is listed twice")
            continue
        seen.add(url)
        feeds.append(FeedSpec(url=url, name=item.get("name")))
    return feeds


def _resolve_file_url(url: str, path: Path | None) -> str:
    """``file:feeds/x.xml`` is relative to the config file, so a bundled demo works anywhere."""
    rest = url[len("file:") :]
    if rest.startswith("//"):
        return url
    base = path.parent if path else Path.cwd()
    return (base / rest).resolve().as_uri()

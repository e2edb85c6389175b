"""Bad configs, unreachable databases and hostile slash-command input: one clear message each,
exit code 1 and no traceback on the command line; the service's own words for every refusal.

tests/test_cli.py and tests/test_config.py cover check-config's report and a PostgreSQL that
refuses connections for ``migrate``; these add the other commands and the other failures.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from feedgen import Item, rss
from feedserver import FeedServer
from support import make_config

from bot.errors import FeedRejected, InvalidInput
from bot.service import Greenlight

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
FILMS = [{"id": "dune-3", "title": "Dune Part Three"}]


def cli(*args: str, cwd: Path, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GREENLIGHT_")}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120, env={**base, **(env or {})})


def assert_clean_failure(res: subprocess.CompletedProcess[str], *phrases: str) -> list[str]:
    assert res.returncode == 1, (res.returncode, res.stderr)
    assert "Traceback" not in res.stderr, res.stderr
    lines = res.stderr.strip().splitlines()
    assert lines and all(line.startswith("error: ") for line in lines), res.stderr
    for phrase in phrases:
        assert phrase in res.stderr, res.stderr
    return lines


# --- config files -----------------------------------------------------------------------------

BAD_CONFIGS = {
    "bad-toml": ('[fetch\ntimeout = 3\n', ["not valid TOML", "line 1"]),
    "unknown-key": ('[poll]\nintervall = 60\n',
                    ["[poll] unknown key 'intervall' (did you mean 'interval'?)"]),
    "unknown-section": ('[databse]\nurl = "x"\n', ["unknown section [databse]"]),
    "wrong-type": ('[fetch]\ntimeout = "fast"\nallow_private_networks = "yes"\n',
                   ["[fetch] timeout: expected a number", "allow_private_networks: expected "
                    "true or false"]),
    "not-tables": ('films = "x"\nfeeds = [1]\n', ["films must be written as [[films]] tables",
                                                  "feeds must be written as [[feeds]] tables"]),
    "bad-feed-url": ('[[feeds]]\nurl = "ftp://x.example/feed"\n',
                     ["expected an http(s):// address"]),
}


@pytest.mark.parametrize("command", [["poll", "--once"], ["migrate"], ["classify"],
                                     ["run", "--role", "poller"]])
@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_config_is_named_for_every_command(tmp_path: Path, case: str,
                                               command: list[str]) -> None:
    text, phrases = BAD_CONFIGS[case]
    path = tmp_path / "greenlight.toml"
    path.write_text(text)
    res = cli(*command, "--config", str(path), cwd=tmp_path)
    lines = assert_clean_failure(res, *phrases)
    # One line per problem, each naming the file.
    assert len(lines) == (1 if case == "bad-toml" else len(phrases)), lines
    assert all("greenlight.toml" in line for line in lines)


# --- databases --------------------------------------------------------------------------------

def test_unreachable_postgres_for_poll(tmp_path: Path) -> None:
    res = cli("poll", "--once", cwd=tmp_path, env={
        "GREENLIGHT_DATABASE_URL": "postgresql+asyncpg://nobody:hunter2@127.0.0.1:1/none"})
    lines = assert_clean_failure(res, "cannot use the database",
                                 "connection refused: is the database server running")
    assert len(lines) == 1
    assert "hunter2" not in res.stderr  # the password is masked


def test_sqlite_file_that_cannot_be_opened(tmp_path: Path) -> None:
    # The URL names a directory: SQLite cannot open it as a database file.
    res = cli("poll", "--once", cwd=tmp_path,
              env={"GREENLIGHT_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}"})
    assert len(assert_clean_failure(res, "cannot use the database",
                                    "unable to open database file")) == 1


def test_sqlite_folder_that_cannot_be_created(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    res = cli("poll", "--once", cwd=tmp_path, env={
        "GREENLIGHT_DATABASE_URL": f"sqlite+aiosqlite:///{blocker}/sub/greenlight.db"})
    assert_clean_failure(res, "cannot use the database")


def test_unsupported_database_url(tmp_path: Path) -> None:
    res = cli("poll", "--once", cwd=tmp_path, env={"GREENLIGHT_DATABASE_URL": "mysql://x/y"})
    assert len(assert_clean_failure(res, "GREENLIGHT_DATABASE_URL",
                                    "unsupported database URL")) == 1


# --- slash-command input (the service API the cogs call) -------------------------------------

@pytest.fixture
async def core(sqlite_url: str) -> AsyncIterator[Greenlight]:
    # The production address policy: private networks refused.
    cfg = make_config(sqlite_url, films=FILMS, fetch={"allow_private_networks": False})
    c = await Greenlight.open(cfg, now=T0)
    try:
        yield c
    finally:
        await c.close()


NAME_CASES = [
    ("", "The {what} must not be empty."),
    ("   \t ", "The {what} must not be empty."),
    ("@everyone Dune", "The {what} must not contain mentions."),
    ("Dune @here", "The {what} must not contain mentions."),
    ("Dune <@&123>", "The {what} must not contain mentions."),
    ("Dune <@456>", "The {what} must not contain mentions."),
    ("Dune <#789>", "The {what} must not contain mentions."),
    ("!!!", "The {what} '!!!' needs at least one letter or digit."),
]


@pytest.mark.parametrize(("text", "message"), NAME_CASES)
async def test_watch_add_refusals(core: Greenlight, text: str, message: str) -> None:
    with pytest.raises(InvalidInput) as e:
        await core.watch_add(1, text)
    assert str(e.value) == message.format(what="title")


@pytest.mark.parametrize(("text", "message"), NAME_CASES)
async def test_alias_add_refusals(core: Greenlight, text: str, message: str) -> None:
    film = await core.watch_add(1, "Heat Two")
    with pytest.raises(InvalidInput) as e:
        await core.alias_add(1, film.key, text)
    assert str(e.value) == message.format(what="alias")


async def test_names_too_long(core: Greenlight) -> None:
    with pytest.raises(InvalidInput, match=r"^The title is 201 characters long; at most 200\.$"):
        await core.watch_add(1, "x" * 201)
    film = await core.watch_add(1, "x" * 200)
    with pytest.raises(InvalidInput, match=r"^The alias is 101 characters long; at most 100\.$"):
        await core.alias_add(1, film.key, "y" * 101)


@pytest.mark.parametrize("text", ["Dune\x00", "Dune\x1b[31m", "Du\x07ne", "\x7f"])
async def test_control_characters_are_refused_and_shown_escaped(core: Greenlight,
                                                                text: str) -> None:
    with pytest.raises(InvalidInput) as e:
        await core.watch_add(1, text)
    # The message goes back to Discord: the character is shown escaped, never sent raw.
    assert repr(text.strip())[1:-1] in str(e.value)
    assert not any(ord(c) < 32 or ord(c) == 127 for c in str(e.value))


@pytest.mark.parametrize("text", ["Dune\u202e", "Dune\u2066x", "Du\x85ne"])
async def test_format_and_c1_characters_are_refused(core: Greenlight, text: str) -> None:
    with pytest.raises(InvalidInput):
        await core.watch_add(1, text)


async def test_feed_add_refuses_an_address_too_long(core: Greenlight) -> None:
    too_long = r"^That address is 2118 characters long; at most 2048\.$"
    with pytest.raises(InvalidInput, match=too_long):
        await core.feed_add(1, "https://x.example/" + "a" * 2100)


NOT_WEB = "{shown} is not a web address. Give the feed's full http:// or https:// URL."


@pytest.mark.parametrize("url", [
    "", "ftp://x.example/feed", "file:///etc/passwd", "javascript:alert(1)",
    "http://exa mple.com/feed", "feeds.example.com/rss",
])
async def test_feed_add_refuses_what_is_not_a_web_address(core: Greenlight, url: str) -> None:
    with pytest.raises(InvalidInput) as e:
        await core.feed_add(1, url)
    assert str(e.value) == NOT_WEB.format(shown=repr(url.strip()[:100]))


@pytest.mark.parametrize(("url", "reason"), [
    ("http://127.0.0.1:9/feed", "address 127.0.0.1 is not allowed (loopback)"),
    ("http://[::ffff:127.0.0.1]/feed", "IPv4-mapped form of 127.0.0.1, loopback"),
    ("http://2130706433/feed", "address 127.0.0.1 is not allowed (loopback)"),
    ("http://169.254.169.254/latest/meta-data/", "link-local, where cloud metadata"),
    ("http://localhost:9/feed", "localhost resolves to a refused address"),
])
async def test_feed_add_refuses_private_addresses(core: Greenlight, url: str,
                                                  reason: str) -> None:
    with pytest.raises(FeedRejected) as e:
        await core.feed_add(1, url)
    assert str(e.value).startswith(f"Could not add {url}: ") and reason in str(e.value)
    assert await core.feed_list(1) == []


async def test_feed_add_refuses_what_is_not_a_feed(sqlite_url: str) -> None:
    cfg = make_config(sqlite_url, films=FILMS)  # loopback allowed: the server is local
    c = await Greenlight.open(cfg, now=T0)
    try:
        async with FeedServer() as srv:
            srv.feed("/page", b"<!DOCTYPE html><html><head><title>Hi</title></head>"
                              b"<body>news</body></html>", content_type="text/html")
            srv.feed("/data.json", b'{"items": []}', content_type="application/json")
            srv.status("/gone", 404)
            srv.feed("/ok.xml", rss([Item("Dune Part Three news", "x", T0)]))
            cases = {
                "/page": "not an RSS/Atom feed: looks like an HTML page",
                "/data.json": "not an RSS/Atom feed: looks like JSON (JSON Feed is not supported)",
                "/gone": "HTTP 404 Not Found",
            }
            for path, reason in cases.items():
                with pytest.raises(FeedRejected) as e:
                    await c.feed_add(1, srv.url(path))
                assert str(e.value) == f"Could not add {srv.url(path)}: {reason}"
            added = await c.feed_add(1, srv.url("/ok.xml"))
            assert [f.url for f in await c.feed_list(1)] == [added.url]
    finally:
        await c.close()

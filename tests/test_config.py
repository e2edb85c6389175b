from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import DEFAULT_DB_URL, ConfigError, load

EXAMPLE = Path(__file__).resolve().parent.parent / "config.example.toml"


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "greenlight.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_example_config_is_valid_and_documents_every_default() -> None:
    cfg = load(EXAMPLE, env={})
    defaults = load(None, env={})
    # The example spells out the defaults: apart from its sample film and feed it is the same.
    assert cfg.database == defaults.database
    assert cfg.fetch == defaults.fetch
    assert cfg.poll == defaults.poll
    assert cfg.discord.prefix == defaults.discord.prefix
    assert cfg.logging == defaults.logging
    text = EXAMPLE.read_text()
    from bot.config import SECTIONS

    for section, keys in SECTIONS.items():
        assert f"[{section}]" in text
        for key in keys:
            assert f"\n{key} = " in text, f"[{section}] {key} is not documented"


def test_partial_file_takes_defaults(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, "[poll]\ninterval = 60\n"), env={})
    assert cfg.poll.interval == 60
    assert cfg.poll.max_backoff == 6 * 3600
    assert cfg.database.url == DEFAULT_DB_URL
    assert cfg.fetch.allow_private_networks is False


def test_every_problem_is_reported_with_file_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[fetch]
timout = 3
max_redirects = "five"

[poll]
interval = -1

[databse]
url = "x"

[[films]]
id = "Bad Id"
title = "X"

[[films]]
title = "No id"
alias = ["y"]

[[feeds]]
url = "ftp://example.com/feed"
""",
    )
    with pytest.raises(ConfigError) as info:
        load(path, env={})
    problems = info.value.problems
    text = "\n".join(problems)
    assert all(str(path) in p for p in problems)
    assert "[fetch] unknown key 'timout' (did you mean 'timeout'?)" in text
    assert "[fetch] max_redirects: expected a whole number, got a string ('five')" in text
    assert "[poll] interval: must be at least 1" in text
    assert "unknown section [databse] (did you mean 'database'?)" in text
    assert "id: use lowercase letters" in text
    assert "unknown key 'alias' (did you mean 'aliases'?)" in text
    assert "is missing required key 'id'" in text
    assert "url: expected an http(s):// address, got 'ftp://example.com/feed'" in text
    assert len(problems) == 8


def test_bad_toml_names_the_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(write(tmp_path, "[poll]\ninterval = = 3\n"), env={})
    assert "not valid TOML" in str(info.value) and "line 2" in str(info.value)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load(tmp_path / "nope.toml", env={})


def test_environment_overrides_secrets_and_database(tmp_path: Path) -> None:
    path = write(tmp_path, '[discord]\ntoken = "from-file"\n')
    cfg = load(
        path,
        env={
            "GREENLIGHT_DISCORD_TOKEN": "from-env",
            "GREENLIGHT_DATABASE_URL": "postgresql+asyncpg://postgres@127.0.0.1/test",
        },
    )
    assert cfg.discord.token == "from-env"
    assert cfg.database.url.startswith("postgresql+asyncpg://")
    with pytest.raises(ConfigError, match="GREENLIGHT_DATABASE_URL: unsupported database URL"):
        load(path, env={"GREENLIGHT_DATABASE_URL": "mysql://x"})


def test_file_feed_urls_are_relative_to_the_config(tmp_path: Path) -> None:
    path = write(tmp_path, '[[feeds]]\nurl = "file:feeds/a.xml"\n')
    cfg = load(path, env={})
    assert cfg.feeds[0].url == (tmp_path / "feeds" / "a.xml").as_uri()


def test_duplicates_and_shards(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[discord]
shard_ids = [0, 3]
shard_count = 2

[[films]]
id = "a"
title = "A"
[[films]]
id = "a"
title = "A again"

[[feeds]]
url = "https://x.example/rss"
[[feeds]]
url = "https://x.example/rss"
""",
    )
    with pytest.raises(ConfigError) as info:
        load(path, env={})
    text = str(info.value)
    assert "shard_ids [3] must be below shard_count 2" in text
    assert "id 'a' is used by an earlier film" in text
    assert "is listed twice" in text

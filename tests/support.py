"""Helpers for tests (imported as ``support``; tests/ is on sys.path)."""

from __future__ import annotations

from typing import Any

from bot.config import Config, from_mapping


def make_config(db_url: str, **sections: Any) -> Config:
    """A Config as a user would write it in TOML, for a test on loopback servers."""
    data: dict[str, Any] = {"database": {"url": db_url}}
    fetch = {"allow_private_networks": True, "timeout": 5.0, "connect_timeout": 2.0}
    fetch.update(sections.pop("fetch", {}))
    data["fetch"] = fetch
    data["poll"] = {"parse_workers": 1, **sections.pop("poll", {})}
    data.update(sections)
    return from_mapping(data, None, env={})

"""Shared fixtures: databases (a real SQLite file, and the real PostgreSQL server when
``GREENLIGHT_TEST_POSTGRES_URL`` names one) and configs built the way users write them."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

PG_ENV = "GREENLIGHT_TEST_POSTGRES_URL"


def _pg_admin_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def pytest_report_header(config: pytest.Config) -> str:
    url = _pg_admin_url()
    if url:
        return f"PostgreSQL tests: ON ({url})"
    return f"PostgreSQL tests: OFF — set {PG_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # In CI a missing PostgreSQL is an error, never a quiet skip.
    if os.environ.get("CI") and not _pg_admin_url():
        raise pytest.UsageError(f"CI=true but {PG_ENV} is not set: PostgreSQL tests would not run")


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite+aiosqlite:///{tmp_path / 'greenlight.db'}"


@contextlib.asynccontextmanager
async def fresh_postgres_db() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database, dropped afterwards."""
    admin = _pg_admin_url()
    if not admin:
        pytest.skip(f"PostgreSQL not configured: set {PG_ENV} to run this test")
    import asyncpg

    name = f"gl_test_{uuid.uuid4().hex[:12]}"
    dsn = admin.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    base = dsn.rsplit("/", 1)[0].replace("postgresql://", "postgresql+asyncpg://")
    try:
        yield f"{base}/{name}"
    finally:
        conn = await asyncpg.connect(dsn)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    async with fresh_postgres_db() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """Both backends: every test using this runs on a SQLite file and on PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'greenlight.db'}"
        return
    async with fresh_postgres_db() as url:
        yield url


@pytest.fixture
def no_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in ("GREENLIGHT_DISCORD_TOKEN", "GREENLIGHT_DATABASE_URL", "GREENLIGHT_CONFIG"):
        monkeypatch.delenv(var, raising=False)
    yield

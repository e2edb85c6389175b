"""The schema exists only through migrations: they must go up, down and up again on both
backends, and agree exactly with the table definitions the code uses."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from bot.store import migrate
from bot.store.engine import create_engine
from bot.store.schema import metadata

TABLES = {
    "feeds",
    "guild_feeds",
    "films",
    "film_aliases",
    "guild_films",
    "stories",
    "status_events",
    "film_status",
    "subscriptions",
    "outbox",
}


async def _tables(engine) -> set[str]:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_upgrade_downgrade_upgrade(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await migrate.upgrade(engine)
        assert TABLES <= await _tables(engine)
        assert await migrate.current_revision(engine) is not None
        await migrate.downgrade(engine, "base")
        assert not (TABLES & await _tables(engine))
        assert await migrate.current_revision(engine) is None
        await migrate.upgrade(engine)
        assert TABLES <= await _tables(engine)
    finally:
        await engine.dispose()


async def test_models_and_migrations_agree(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"compare_type": True}), metadata
                )
            )
        assert diff == [], f"autogenerate finds differences: {diff}"
    finally:
        await engine.dispose()

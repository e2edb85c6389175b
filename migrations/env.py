"""Alembic environment.

Greenlight runs migrations in-process (``python -m bot migrate`` and on start) by handing a
live connection in ``config.attributes["connection"]``; the plain ``alembic`` command (used for
autogenerate) gets a URL from ``-x url=…``, ``GREENLIGHT_DATABASE_URL`` or the default.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy.engine import Connection

from bot.config import DEFAULT_DB_URL, ENV_DB_URL
from bot.store.engine import create_engine
from bot.store.schema import UTCDateTime, metadata

config = context.config
target_metadata = metadata


def _render_item(type_: str, obj: object, autogen_context: object) -> str | bool:
    # Migrations must not import application types that may change later: UTCDateTime is
    # stored as a plain timezone-aware DATETIME.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        # SQLite cannot ALTER most things in place; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.run_sync(_configure)
            await conn.commit()
    finally:
        await engine.dispose()


def main() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get(
        ENV_DB_URL, DEFAULT_DB_URL
    )
    asyncio.run(_run_with_own_engine(url))


main()

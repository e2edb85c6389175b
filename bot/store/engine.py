"""Database engines: one URL picks SQLite (embedded) or PostgreSQL (several processes)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

# An arbitrary constant: the advisory lock id Greenlight's processes agree on.
STARTUP_LOCK_KEY = 0x6772656E6C74


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, busy_timeout: float = 30.0) -> AsyncEngine:
    if not is_sqlite(url):
        return create_async_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)

    parsed = make_url(url)
    if parsed.database and parsed.database != ":memory:":
        path = Path(parsed.database)
        if path.is_dir():
            # Caught here rather than by sqlite: a failed aiosqlite connect leaves a worker
            # thread that prints a traceback when the event loop has closed.
            raise IsADirectoryError(f"unable to open database file: {path} is a folder")
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_async_engine(url, connect_args={"timeout": busy_timeout})

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Hand transaction control to us so every transaction can start with BEGIN IMMEDIATE:
        # a plain deferred BEGIN lets two read-modify-write transactions both read, then one
        # fails or loses its update when both try to write.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        # Checkpoint the WAL every ~40 MB instead of every 4 MB: a cold cycle writes hundreds
        # of megabytes, and each checkpoint copies every page touched since the last one, so
        # frequent checkpoints copied the same index pages over and over (+25-40 % stored
        # stories/s at 150,000 stories). The file is cut back to 64 MB after a checkpoint.
        cur.execute("PRAGMA wal_autocheckpoint=10000")
        cur.execute("PRAGMA journal_size_limit=67108864")
        # Sorts (the tracking pass's publication order, claim order) stay off the disk.
        cur.execute("PRAGMA temp_store=MEMORY")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


@contextlib.asynccontextmanager
async def startup_lock(engine: AsyncEngine) -> AsyncIterator[None]:
    """Serialise start-up work (migrations, config sync) across processes on PostgreSQL,
    where several pollers and shards may start at once; SQLite's BEGIN IMMEDIATE already
    serialises writers."""
    if engine.dialect.name != "postgresql":
        yield
        return
    async with engine.connect() as conn:
        await conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": STARTUP_LOCK_KEY})
        await conn.commit()
        try:
            yield
        finally:
            await conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": STARTUP_LOCK_KEY})
            await conn.commit()

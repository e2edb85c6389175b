"""A token bucket in the database: one send budget for every Discord process of the bot."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.dialect import insert
from bot.store.schema import rate_buckets


async def take(
    conn: AsyncConnection, name: str, *, rate: float, burst: float, now: datetime
) -> float:
    """Take one token; return 0 when taken, else the seconds to wait before trying again.
    The row lock (PostgreSQL ``FOR UPDATE``; SQLite's ``BEGIN IMMEDIATE``) serialises takers."""
    await conn.execute(
        insert(conn, rate_buckets)
        .values(name=name, tokens=burst, updated_at=now)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    tokens, updated = (
        await conn.execute(
            select(rate_buckets.c.tokens, rate_buckets.c.updated_at)
            .where(rate_buckets.c.name == name)
            .with_for_update()
        )
    ).one()
    elapsed = max(0.0, (now - updated).total_seconds())
    tokens = min(burst, tokens + elapsed * rate)
    if tokens >= 1.0:
        tokens -= 1.0
        wait = 0.0
    else:
        wait = (1.0 - tokens) / rate
    await conn.execute(
        update(rate_buckets)
        .where(rate_buckets.c.name == name)
        .values(tokens=tokens, updated_at=max(now, updated))
    )
    return wait

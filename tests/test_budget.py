"""The Discord send budget is one token bucket in the database, shared by every process."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.store import budget, migrate
from bot.store.engine import create_engine

T0 = datetime(2025, 1, 1, tzinfo=UTC)


async def test_bucket_refills_at_its_rate(db_url: str) -> None:
    engine = create_engine(db_url)
    try:
        await migrate.upgrade(engine)
        waits = []
        for _ in range(4):
            async with engine.begin() as conn:
                waits.append(await budget.take(conn, "send", rate=2.0, burst=3.0, now=T0))
        assert waits[:3] == [0.0, 0.0, 0.0] and waits[3] == 0.5
        async with engine.begin() as conn:
            assert (
                await budget.take(
                    conn, "send", rate=2.0, burst=3.0, now=T0 + timedelta(seconds=0.5)
                )
                == 0.0
            )
    finally:
        await engine.dispose()


async def test_two_processes_share_one_budget(db_url: str) -> None:
    """Two engines (as two processes would have) racing for tokens at one instant get, between
    them, exactly the burst — never each their own."""
    first, second = create_engine(db_url), create_engine(db_url)
    try:
        await migrate.upgrade(first)

        async def take(engine) -> float:  # type: ignore[no-untyped-def]
            async with engine.begin() as conn:
                return await budget.take(conn, "send", rate=1.0, burst=5.0, now=T0)

        results = await asyncio.gather(*(take(e) for e in [first, second] * 6))
        assert sum(1 for w in results if w == 0.0) == 5
        assert all(w > 0 for w in results if w != 0.0)
    finally:
        await first.dispose()
        await second.dispose()

"""Subscriptions and the outbox: who hears of a change, and what is still to be sent."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import Integer, Row, and_, delete, exists, func, literal, select, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.orm import aliased

from bot.store import events
from bot.store.schema import films, outbox, subscriptions
from bot.views import OutboxItem, SubscriptionView

_SUB_COLUMNS = (
    subscriptions.c.id,
    subscriptions.c.guild_id,
    subscriptions.c.channel_id,
    films.c.key,
    subscriptions.c.role_id,
    subscriptions.c.disabled_reason,
)


def _sub_query():  # type: ignore[no-untyped-def]
    return select(*_SUB_COLUMNS).outerjoin(films, films.c.id == subscriptions.c.film_id)


def _view(row: Row[tuple[int, int, int, str | None, int | None, str | None]]) -> SubscriptionView:
    return SubscriptionView(*row)


def scope_of(film_pk: int | None) -> str:
    return "*" if film_pk is None else str(film_pk)


async def subscribe(
    conn: AsyncConnection,
    guild_id: int,
    channel_id: int,
    film_pk: int | None,
    role_id: int | None,
    now: datetime,
) -> SubscriptionView:
    """Create the subscription, or renew an existing one (new role, disabled state cleared)."""
    key = (
        subscriptions.c.guild_id == guild_id,
        subscriptions.c.channel_id == channel_id,
        subscriptions.c.scope == scope_of(film_pk),
    )
    existing = (await conn.execute(select(subscriptions.c.id).where(*key))).scalar()
    if existing is None:
        await conn.execute(
            subscriptions.insert().values(
                guild_id=guild_id,
                channel_id=channel_id,
                film_id=film_pk,
                scope=scope_of(film_pk),
                role_id=role_id,
                created_at=now,
            )
        )
    else:
        await conn.execute(
            update(subscriptions)
            .where(subscriptions.c.id == existing)
            .values(role_id=role_id, disabled_at=None, disabled_reason=None)
        )
    return _view((await conn.execute(_sub_query().where(*key))).one())


async def unsubscribe(
    conn: AsyncConnection, guild_id: int, channel_id: int, film_pk: int | None
) -> SubscriptionView | None:
    key = (
        subscriptions.c.guild_id == guild_id,
        subscriptions.c.channel_id == channel_id,
        subscriptions.c.scope == scope_of(film_pk),
    )
    row = (await conn.execute(_sub_query().where(*key))).first()
    if row is None:
        return None
    await conn.execute(delete(outbox).where(outbox.c.subscription_id == row[0]))
    await conn.execute(delete(subscriptions).where(subscriptions.c.id == row[0]))
    return _view(row)


async def list_for_guild(conn: AsyncConnection, guild_id: int) -> list[SubscriptionView]:
    rows = await conn.execute(
        _sub_query()
        .where(subscriptions.c.guild_id == guild_id)
        .order_by(subscriptions.c.channel_id, subscriptions.c.id)
    )
    return [_view(r) for r in rows]


async def disable(conn: AsyncConnection, subscription_id: int, reason: str, now: datetime) -> bool:
    """Stop delivering to a subscription Discord refused; True the first time (so the guild's
    admins are told once)."""
    res = await conn.execute(
        update(subscriptions)
        .where(subscriptions.c.id == subscription_id, subscriptions.c.disabled_at.is_(None))
        .values(disabled_at=now, disabled_reason=reason)
    )
    await conn.execute(
        update(outbox)
        .where(outbox.c.subscription_id == subscription_id, outbox.c.state == "pending")
        .values(state="dropped", last_error=reason, lease_until=None)
    )
    return bool(res.rowcount)


async def claim(
    conn: AsyncConnection,
    now: datetime,
    *,
    limit: int,
    lease: timedelta,
    shard_count: int = 1,
    shard_ids: Sequence[int] | None = None,
) -> list[OutboxItem]:
    """Lease the next rows to send. Only the oldest pending row of each channel is eligible,
    so a channel's alerts arrive in order even across retries and outages."""
    older = aliased(outbox)
    stmt = (
        select(
            outbox.c.id,
            outbox.c.guild_id,
            outbox.c.channel_id,
            outbox.c.role_id,
            outbox.c.subscription_id,
            outbox.c.attempts,
            outbox.c.event_id,
        )
        .where(
            outbox.c.state == "pending",
            outbox.c.next_attempt_at <= now,
            (outbox.c.lease_until.is_(None)) | (outbox.c.lease_until < now),
            ~exists().where(
                and_(
                    older.c.channel_id == outbox.c.channel_id,
                    older.c.state == "pending",
                    older.c.id < outbox.c.id,
                )
            ),
        )
        .order_by(outbox.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=outbox)
    )
    stmt = _shard_filter(stmt, shard_count, shard_ids)
    rows = list(await conn.execute(stmt))
    if not rows:
        return []
    ids = [r[0] for r in rows]
    await conn.execute(
        update(outbox)
        .where(outbox.c.id.in_(ids))
        .values(lease_until=now + lease, attempts=outbox.c.attempts + 1)
    )
    alerts = {a.event_id: a for a in await events.alerts(conn, [r[6] for r in rows])}
    return [
        OutboxItem(
            id=oid,
            guild_id=gid,
            channel_id=cid,
            role_id=rid,
            subscription_id=sid,
            nonce=nonce_for(oid),
            attempts=attempts + 1,
            alert=alerts[eid],
        )
        for oid, gid, cid, rid, sid, attempts, eid in rows
    ]


def nonce_for(outbox_id: int) -> str:
    """Stable per row (Discord allows 25 characters): a re-send after a crash carries the same
    nonce, and Discord returns the first message instead of posting a second."""
    return f"greenlight-{outbox_id}"


async def mark_sent(conn: AsyncConnection, outbox_id: int, message_id: int, now: datetime) -> None:
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == outbox_id)
        .values(state="sent", message_id=message_id, sent_at=now, lease_until=None, last_error=None)
    )


async def mark_retry(conn: AsyncConnection, outbox_id: int, error: str, retry_at: datetime) -> None:
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == outbox_id, outbox.c.state == "pending")
        .values(next_attempt_at=retry_at, lease_until=None, last_error=error[:500])
    )


async def pending_count(conn: AsyncConnection) -> int:
    return int(
        (await conn.execute(select(func.count()).where(outbox.c.state == "pending"))).scalar_one()
    )


async def remove_film_subscriptions(conn: AsyncConnection, guild_id: int, film_pk: int) -> None:
    """A guild stopped watching a film: its subscriptions for that film go with it."""
    ids = select(subscriptions.c.id).where(
        subscriptions.c.guild_id == guild_id, subscriptions.c.film_id == film_pk
    )
    await conn.execute(delete(outbox).where(outbox.c.subscription_id.in_(ids)))
    await conn.execute(
        delete(subscriptions).where(
            subscriptions.c.guild_id == guild_id, subscriptions.c.film_id == film_pk
        )
    )


def _shard_filter(stmt, shard_count: int, shard_ids: Sequence[int] | None):  # type: ignore[no-untyped-def]
    if shard_ids is not None and shard_count > 1:
        # Typed literals: PostgreSQL has bigint >> integer but no bigint >> bigint.
        shard = outbox.c.guild_id.op(">>")(literal(22, Integer)) % literal(shard_count, Integer)
        stmt = stmt.where(shard.in_(list(shard_ids)))
    return stmt


async def release_leases(
    conn: AsyncConnection, shard_count: int = 1, shard_ids: Sequence[int] | None = None
) -> int:
    """A process starting for these shards owns their rows: leases a crashed predecessor held
    need not be waited out (a re-send carries the same nonce, so Discord collapses it)."""
    stmt = update(outbox).where(outbox.c.state == "pending", outbox.c.lease_until.is_not(None))
    res = await conn.execute(_shard_filter(stmt, shard_count, shard_ids).values(lease_until=None))
    return max(res.rowcount or 0, 0)


async def mark_failed(conn: AsyncConnection, outbox_id: int, error: str, now: datetime) -> None:
    """Discord rejected the message itself (400): sending it again cannot help."""
    await conn.execute(
        update(outbox)
        .where(outbox.c.id == outbox_id, outbox.c.state == "pending")
        .values(state="failed", last_error=error[:500], lease_until=None, sent_at=now)
    )


async def remove_subscription(
    conn: AsyncConnection, guild_id: int, subscription_id: int
) -> SubscriptionView | None:
    row = (
        await conn.execute(
            _sub_query().where(
                subscriptions.c.guild_id == guild_id, subscriptions.c.id == subscription_id
            )
        )
    ).first()
    if row is None:
        return None
    await conn.execute(delete(outbox).where(outbox.c.subscription_id == subscription_id))
    await conn.execute(delete(subscriptions).where(subscriptions.c.id == subscription_id))
    return _view(row)

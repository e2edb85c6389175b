"""Films, their aliases, and which guild watches which film."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, delete, exists, not_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.config import FilmSpec
from bot.names import fold
from bot.store.dialect import insert
from bot.store.schema import film_aliases, film_status, films, guild_films


@dataclass(frozen=True, slots=True)
class FilmRow:
    pk: int
    key: str
    title: str
    owner_guild_id: int
    added_at: datetime
    originals: tuple[str, ...]
    aliases: tuple[str, ...]
    status: str | None


async def sync_config(conn: AsyncConnection, specs: Sequence[FilmSpec], now: datetime) -> None:
    """Make the shared films match the config: add new ones (dated now, for the backfill
    rule), refresh titles and aliases, and retire films the config no longer names."""
    rows = await conn.execute(select(films.c.id, films.c.key).where(films.c.owner_guild_id == 0))
    known = {key: pk for pk, key in rows}
    wanted = {s.id for s in specs}
    for spec in specs:
        pk = known.get(spec.id)
        values = {"title": spec.title, "originals": list(spec.originals), "active": True}
        if pk is None:
            result = await conn.execute(
                films.insert().values(key=spec.id, owner_guild_id=0, added_at=now, **values)
            )
            pk = result.inserted_primary_key[0]
        else:
            await conn.execute(update(films).where(films.c.id == pk).values(**values))
        await conn.execute(delete(film_aliases).where(film_aliases.c.film_id == pk))
        await add_aliases(conn, pk, [spec.title, *spec.aliases])
    retired = [pk for key, pk in known.items() if key not in wanted]
    if retired:
        await conn.execute(update(films).where(films.c.id.in_(retired)).values(active=False))


async def add_aliases(conn: AsyncConnection, film_pk: int, aliases: Sequence[str]) -> None:
    rows = {fold(a): a.strip() for a in aliases if fold(a)}
    if rows:
        await conn.execute(
            insert(conn, film_aliases)
            .values([{"film_id": film_pk, "norm": n, "alias": a} for n, a in rows.items()])
            .on_conflict_do_nothing(index_elements=["film_id", "norm"])
        )


async def remove_alias(conn: AsyncConnection, film_pk: int, alias: str) -> bool:
    res = await conn.execute(
        delete(film_aliases).where(
            film_aliases.c.film_id == film_pk, film_aliases.c.norm == fold(alias)
        )
    )
    return bool(res.rowcount)


def watched_by(guild_id: int):  # type: ignore[no-untyped-def]
    """Active films this guild watches: its own, and the shared ones it has not removed."""
    removed = exists().where(
        and_(
            guild_films.c.guild_id == guild_id,
            guild_films.c.film_id == films.c.id,
            guild_films.c.watching.is_(False),
        )
    )
    return and_(
        films.c.active.is_(True),
        or_(
            films.c.owner_guild_id == guild_id,
            and_(films.c.owner_guild_id == 0, not_(removed)),
        ),
    )


async def load(conn: AsyncConnection, where: object | None = None) -> list[FilmRow]:
    stmt = (
        select(
            films.c.id,
            films.c.key,
            films.c.title,
            films.c.owner_guild_id,
            films.c.added_at,
            films.c.originals,
            film_status.c.status,
        )
        .outerjoin(film_status, film_status.c.film_id == films.c.id)
        .order_by(films.c.title, films.c.id)
    )
    stmt = stmt.where(films.c.active.is_(True) if where is None else where)  # type: ignore[arg-type]
    rows = list(await conn.execute(stmt))
    aliases: dict[int, list[str]] = {}
    if rows:
        ids = [r[0] for r in rows]
        for fid, alias in await conn.execute(
            select(film_aliases.c.film_id, film_aliases.c.alias)
            .where(film_aliases.c.film_id.in_(ids))
            .order_by(film_aliases.c.alias)
        ):
            aliases.setdefault(fid, []).append(alias)
    return [
        FilmRow(pk, key, title, owner, added, tuple(orig or ()), tuple(aliases.get(pk, ())), status)
        for pk, key, title, owner, added, orig, status in rows
    ]


async def add_guild_film(
    conn: AsyncConnection, guild_id: int, key: str, title: str, now: datetime
) -> int:
    existing = (
        await conn.execute(
            select(films.c.id).where(films.c.owner_guild_id == guild_id, films.c.key == key)
        )
    ).scalar()
    if existing is not None:
        # A film this guild removed earlier and now adds again keeps its history.
        await conn.execute(
            update(films).where(films.c.id == existing).values(active=True, title=title)
        )
        return int(existing)
    res = await conn.execute(
        films.insert().values(
            key=key, owner_guild_id=guild_id, title=title, originals=[], added_at=now, active=True
        )
    )
    return int(res.inserted_primary_key[0])


async def set_guild_watching(
    conn: AsyncConnection, guild_id: int, film_pk: int, watching: bool, now: datetime
) -> None:
    stmt = insert(conn, guild_films).values(
        guild_id=guild_id, film_id=film_pk, watching=watching, changed_at=now
    )
    await conn.execute(
        stmt.on_conflict_do_update(
            index_elements=["guild_id", "film_id"],
            set_={"watching": watching, "changed_at": now},
        )
    )


async def deactivate(conn: AsyncConnection, film_pk: int) -> None:
    await conn.execute(update(films).where(films.c.id == film_pk).values(active=False))

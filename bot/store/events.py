"""Reading status events back: the alerts of a cycle, a film's history and current status."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncConnection

from bot.store.schema import feeds, films, status_events, stories
from bot.types import Alert
from bot.views import ChangeView


def _outlet(outlet: str | None, feed_name: str | None) -> str:
    return feed_name or outlet or "unknown outlet"


async def also_reported_by(conn: AsyncConnection, story_ids: Sequence[int]) -> dict[int, list[str]]:
    if not story_ids:
        return {}
    rows = await conn.execute(
        select(stories.c.duplicate_of, stories.c.outlet, feeds.c.name)
        .join(feeds, feeds.c.id == stories.c.feed_id)
        .where(stories.c.duplicate_of.in_(story_ids))
        .order_by(stories.c.published, stories.c.id)
    )
    out: dict[int, list[str]] = {}
    for original, outlet, feed_name in rows:
        name = _outlet(outlet, feed_name)
        names = out.setdefault(original, [])
        if name not in names:
            names.append(name)
    return out


_EVENT_COLUMNS = (
    status_events.c.id,
    films.c.key,
    films.c.title,
    status_events.c.from_status,
    status_events.c.to_status,
    status_events.c.evidence,
    status_events.c.published,
    status_events.c.recorded_at,
    status_events.c.alerted,
    stories.c.id,
    stories.c.link,
    stories.c.title,
    stories.c.outlet,
    feeds.c.name,
)


def _event_query():  # type: ignore[no-untyped-def]
    return (
        select(*_EVENT_COLUMNS)
        .join(films, films.c.id == status_events.c.film_id)
        .join(stories, stories.c.id == status_events.c.story_id)
        .join(feeds, feeds.c.id == stories.c.feed_id)
    )


async def alerts(conn: AsyncConnection, event_ids: Sequence[int]) -> list[Alert]:
    """The alerts for these events, oldest first, with every outlet known to have re-run each."""
    if not event_ids:
        return []
    rows = list(await conn.execute(_event_query().where(status_events.c.id.in_(event_ids))))
    dupes = await also_reported_by(conn, [r[9] for r in rows])
    result = [
        Alert(
            film=key,
            film_title=ftitle,
            from_status=frm,
            to_status=to,
            link=link,
            title=stitle,
            evidence=evidence,
            published=published,
            outlet=_outlet(outlet, feed_name),
            also_reported_by=tuple(
                o for o in dupes.get(sid, []) if o != _outlet(outlet, feed_name)
            ),
            event_id=eid,
        )
        for (
            eid,
            key,
            ftitle,
            frm,
            to,
            evidence,
            published,
            _rec,
            _al,
            sid,
            link,
            stitle,
            outlet,
            feed_name,
        ) in rows
    ]
    order = {eid: n for n, eid in enumerate(event_ids)}
    result.sort(key=lambda a: order[a.event_id])
    return result


def _change(row: Row[Any], dupes: dict[int, list[str]]) -> ChangeView:
    return ChangeView(
        from_status=row[3],
        to_status=row[4],
        at=row[6] or row[7],
        evidence=row[5],
        title=row[11],
        link=row[10],
        outlet=_outlet(row[12], row[13]),
        alerted=row[8],
        also_reported_by=tuple(dupes.get(row[9], [])),
    )


async def history(conn: AsyncConnection, film_pk: int) -> list[ChangeView]:
    rows = list(
        await conn.execute(
            _event_query()
            .where(status_events.c.film_id == film_pk)
            .order_by(status_events.c.published, status_events.c.id)
        )
    )
    dupes = await also_reported_by(conn, [r[9] for r in rows])
    return [_change(r, dupes) for r in rows]


async def event_change(conn: AsyncConnection, event_id: int) -> ChangeView | None:
    row = (await conn.execute(_event_query().where(status_events.c.id == event_id))).first()
    if row is None:
        return None
    return _change(row, await also_reported_by(conn, [row[9]]))

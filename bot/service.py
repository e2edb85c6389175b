"""The core's service API: everything the CLI and the Discord cogs may ask of Greenlight.

Cogs call these methods and never run SQL or HTTP themselves. Every method that takes a
``guild_id`` acts on that guild only. Errors a user can act on are ``bot.errors`` exceptions
whose message is fit to show as it is.
"""

from __future__ import annotations

import asyncio
import difflib
import errno
import logging
import re
import time
import unicodedata
from collections.abc import Sequence
from concurrent.futures import Executor
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from bot.config import Config
from bot.errors import (
    AlreadyExists,
    FeedRejected,
    GreenlightError,
    InvalidInput,
    NotAllowed,
    UnknownFeed,
    UnknownFilm,
)
from bot.fetch import Fetcher
from bot.metrics import Metrics
from bot.names import fold, slug
from bot.poller import CycleReport, Poller, make_parse_pool
from bot.pollerlock import PollerLock
from bot.record import PollPolicy
from bot.store import budget, delivery, events, migrate
from bot.store import feeds as feed_store
from bot.store import films as film_store
from bot.store.engine import create_engine, is_sqlite, startup_lock
from bot.store.films import FilmRow
from bot.store.schema import feeds, film_status, films
from bot.tracking import FilmInfo
from bot.types import Alert, FilmRef
from bot.views import ChangeView, FeedView, FilmView, OutboxItem, StatusView, SubscriptionView
from bot.work import parse_and_classify

log = logging.getLogger(__name__)

MAX_TITLE = 200
MAX_ALIAS = 100
MAX_ALIASES = 25
MAX_URL = 2048
OUTBOX_LEASE = timedelta(seconds=60)


class DatabaseUnavailable(GreenlightError):
    pass


class Greenlight:
    """One open Greenlight core: database, fetcher, classifier and poller."""

    def __init__(self, config: Config, engine: AsyncEngine, now: datetime | None) -> None:
        self.config = config
        self.engine = engine
        self._fixed_now = now
        self.fetcher = Fetcher(config.fetch)
        self._pool: Executor | None = None
        self._poller_lock = PollerLock(config.database.url)
        self._films: tuple[dict[int, FilmInfo], tuple[FilmRef, ...]] = ({}, ())
        self.last_report: CycleReport | None = None
        self.metrics = Metrics()
        p = config.poll
        self.policy = PollPolicy(
            interval=timedelta(seconds=p.interval),
            max_backoff=timedelta(seconds=p.max_backoff),
            disable_after_failures=p.disable_after_failures,
            dedupe_window=timedelta(days=p.dedupe_window_days),
        )

    # --- life cycle ------------------------------------------------------------------------
    @classmethod
    async def open(
        cls, config: Config, *, migrate: bool = True, now: datetime | None = None
    ) -> Greenlight:
        """Open the database (upgrading it to the newest migration unless told not to) and
        load the config's films and feeds. ``now`` fixes the clock (replays and tests)."""
        try:
            engine = create_engine(config.database.url, busy_timeout=config.database.busy_timeout)
        except OSError as e:  # e.g. the SQLite file's folder cannot be created
            raise DatabaseUnavailable(
                f"cannot use the database {_safe_url(config.database.url)}: {e}"
            ) from e
        core = cls(config, engine, now)
        try:
            async with startup_lock(engine):
                if migrate:
                    await core.migrate()
                async with engine.begin() as conn:
                    await film_store.sync_config(conn, config.films, core.now())
                    await feed_store.sync_config(conn, config.feeds, core.now())
            await core._reload_films()
        except (OperationalError, DBAPIError, OSError) as e:
            await engine.dispose()
            raise DatabaseUnavailable(
                f"cannot use the database {_safe_url(config.database.url)}: {_db_reason(e)}"
            ) from e
        except BaseException:
            await engine.dispose()
            raise
        return core

    async def migrate(self) -> None:
        await migrate.upgrade(self.engine)

    async def close(self) -> None:
        self._poller_lock.release()
        await self.fetcher.close()
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None
        await self.engine.dispose()

    def now(self) -> datetime:
        return self._fixed_now or datetime.now(UTC)

    def set_clock(self, now: datetime | None) -> None:
        self._fixed_now = now

    @property
    def feed_lease(self) -> timedelta:
        """How long a claimed feed stays another poller's: enough for a slow fetch and its
        write; a poller that dies mid-cycle frees its feeds when this runs out."""
        return timedelta(seconds=max(30.0, 4 * self.config.fetch.timeout))

    @property
    def is_sqlite(self) -> bool:
        return is_sqlite(self.config.database.url)

    def _parse_pool(self) -> Executor:
        if self._pool is None:
            self._pool = make_parse_pool(self.config.poll.parse_workers)
        return self._pool

    async def _reload_films(self) -> None:
        async with self.engine.connect() as conn:
            rows = await film_store.load(conn)
        info = {r.pk: FilmInfo(r.pk, r.key, r.title, r.owner_guild_id, r.added_at) for r in rows}
        refs = tuple(
            FilmRef(id=str(r.pk), title=r.title, aliases=r.aliases, originals=r.originals)
            for r in rows
        )
        self._films = (info, refs)

    # --- polling ---------------------------------------------------------------------------
    async def poll_once(self, now: datetime | None = None) -> list[Alert]:
        """Fetch every due feed once, record what it says, queue outbox rows; return the alerts
        (accepted status changes) of this cycle in publication order."""
        now = now or self.now()
        self._poller_lock.acquire()
        await self._reload_films()  # another process (a guild's admin) may have changed them
        poller = Poller(
            self.engine,
            self.fetcher,
            self._parse_pool(),
            self.policy,
            lambda: self._films,
            concurrency=self.config.fetch.max_connections,
            lease=self.feed_lease,
            per_host=self.config.fetch.max_connections_per_host,
        )
        started = time.perf_counter()
        report = await poller.cycle(now)
        self.last_report = report
        self._count(report, time.perf_counter() - started)
        async with self.engine.connect() as conn:
            alerts = await events.alerts(conn, report.alerted_event_ids)
        alerts.sort(key=lambda a: (a.published or now, a.event_id))
        return alerts

    def _count(self, report: CycleReport, seconds: float) -> None:
        m = self.metrics
        for result, n in (
            ("fetched", report.fetched - report.unchanged_body),
            ("unchanged", report.unchanged_body),
            ("not_modified", report.not_modified),
            ("failed", report.failed),
        ):
            m.feeds_polled.labels(result).inc(max(n, 0))
        m.stories.inc(report.stories_new)
        m.changes.inc(len(report.alerted_event_ids))
        m.alerts_queued.inc(report.outbox_rows)
        m.cycle_seconds.observe(seconds)
        m.last_cycle.set(time.time())

    # --- members ---------------------------------------------------------------------------
    async def _watched(self, conn: AsyncConnection, guild_id: int) -> list[FilmRow]:
        return await film_store.load(conn, film_store.watched_by(guild_id))

    async def search_films(self, guild_id: int, text: str, limit: int = 25) -> list[FilmView]:
        """Films this guild watches whose title or alias matches ``text`` (case- and
        punctuation-insensitive prefix/substring, then fuzzy); best first. Empty text: all."""
        async with self.engine.connect() as conn:
            rows = await self._watched(conn, guild_id)
        query = fold(text)
        scored: list[tuple[float, str, FilmRow]] = []
        for row in rows:
            score = _match_score(query, _names(row))
            if score is not None:
                scored.append((score, row.title.casefold(), row))
        scored.sort(key=lambda t: (t[0], t[1]))
        return [_film_view(r) for _, _, r in scored[:limit]]

    async def resolve_film(self, guild_id: int, text: str) -> FilmView:
        async with self.engine.connect() as conn:
            return _film_view(await self._resolve(conn, guild_id, text))

    async def _resolve(self, conn: AsyncConnection, guild_id: int, text: str) -> FilmRow:
        """The one watched film ``text`` names: an exact id, title or alias first, then a
        unique prefix or substring; else UnknownFilm with "did you mean" suggestions."""
        query = fold(text)
        if not query:
            raise InvalidInput("Give a film's title, id or alias, e.g. `!status romy`.")
        rows = await self._watched(conn, guild_id)
        scores = [(_match_score(query, _names(r)), r) for r in rows]
        for level in (0.0, 1.0, 2.0):
            hits = [r for score, r in scores if score is not None and score <= level]
            if len(hits) == 1:
                return hits[0]
            if len(hits) > 1:
                names = ", ".join(f"{r.title} (`{r.key}`)" for r in hits[:5])
                raise InvalidInput(f"{text!r} matches several films: {names}. Be more specific.")
        names = {n: r.title for r in rows for n in _names(r)}
        close = difflib.get_close_matches(query, list(names), n=3, cutoff=0.6)
        suggestions = list(dict.fromkeys(names[c] for c in close))
        raise UnknownFilm(text, suggestions)

    async def film_status(self, guild_id: int, text: str, recent: int = 5) -> StatusView:
        async with self.engine.connect() as conn:
            row = await self._resolve(conn, guild_id, text)
            status = (
                await conn.execute(
                    select(film_status.c.status, film_status.c.since, film_status.c.event_id).where(
                        film_status.c.film_id == row.pk
                    )
                )
            ).first()
            history = await events.history(conn, row.pk)
            current = await events.event_change(conn, status[2]) if status and status[2] else None
        return StatusView(
            film=_film_view(row),
            status=status[0] if status else None,
            since=status[1] if status else None,
            current=current,
            recent=tuple(reversed(history[-recent:])) if recent else (),
        )

    async def film_history(self, guild_id: int, text: str) -> list[ChangeView]:
        """Every recorded change of the film, oldest first (alerted or not)."""
        async with self.engine.connect() as conn:
            row = await self._resolve(conn, guild_id, text)
            return await events.history(conn, row.pk)

    # --- admins: films ---------------------------------------------------------------------
    async def watch_add(self, guild_id: int, title: str, aliases: Sequence[str] = ()) -> FilmView:
        title = _check_name(title, "title", MAX_TITLE)
        clean = [_check_name(a, "alias", MAX_ALIAS) for a in aliases if a.strip()]
        if len(clean) > MAX_ALIASES:
            raise InvalidInput(f"At most {MAX_ALIASES} aliases per film, got {len(clean)}.")
        now = self.now()
        async with self.engine.begin() as conn:
            watched = await self._watched(conn, guild_id)
            taken = {n: r for r in watched for n in _names(r)}
            for name in [title, *clean]:
                if fold(name) in taken:
                    other = taken[fold(name)]
                    raise AlreadyExists(
                        f"{name!r} already names {other.title} (`{other.key}`), which this "
                        "server watches."
                    )
            shared = await self._removed_shared_film(conn, guild_id, title)
            if shared is not None and not clean:
                await film_store.set_guild_watching(conn, guild_id, shared, True, now)
                pk = shared
            else:
                pk = await film_store.add_guild_film(conn, guild_id, slug(title), title, now)
                await film_store.add_aliases(conn, pk, [title, *clean])
            row = (await film_store.load(conn, films.c.id == pk))[0]
        await self._reload_films()
        return _film_view(row)

    async def _removed_shared_film(
        self, conn: AsyncConnection, guild_id: int, title: str
    ) -> int | None:
        """A shared film this guild once removed, named again: watch it again, history intact."""
        for row in await film_store.load(conn, (films.c.owner_guild_id == 0) & films.c.active):
            if fold(title) in _names(row):
                return row.pk
        return None

    async def watch_remove(self, guild_id: int, text: str) -> FilmView:
        now = self.now()
        async with self.engine.begin() as conn:
            row = await self._resolve(conn, guild_id, text)
            if row.owner_guild_id == 0:
                await film_store.set_guild_watching(conn, guild_id, row.pk, False, now)
            else:
                await film_store.deactivate(conn, row.pk)
            await delivery.remove_film_subscriptions(conn, guild_id, row.pk)
        await self._reload_films()
        return _film_view(row)

    async def watch_list(self, guild_id: int) -> list[FilmView]:
        async with self.engine.connect() as conn:
            return [_film_view(r) for r in await self._watched(conn, guild_id)]

    async def alias_add(self, guild_id: int, film: str, alias: str) -> FilmView:
        alias = _check_name(alias, "alias", MAX_ALIAS)
        async with self.engine.begin() as conn:
            row = await self._resolve(conn, guild_id, film)
            _own(row)
            for other in await self._watched(conn, guild_id):
                if other.pk != row.pk and fold(alias) in _names(other):
                    raise AlreadyExists(f"{alias!r} already names {other.title} (`{other.key}`).")
            if len(row.aliases) >= MAX_ALIASES + 1:
                raise InvalidInput(f"{row.title} already has {MAX_ALIASES} aliases.")
            await film_store.add_aliases(conn, row.pk, [alias])
            row = (await film_store.load(conn, films.c.id == row.pk))[0]
        await self._reload_films()
        return _film_view(row)

    async def alias_remove(self, guild_id: int, film: str, alias: str) -> FilmView:
        async with self.engine.begin() as conn:
            row = await self._resolve(conn, guild_id, film)
            _own(row)
            if fold(alias) == fold(row.title):
                raise InvalidInput(
                    "A film's title is always one of its names; it can't be removed."
                )
            if not await film_store.remove_alias(conn, row.pk, alias):
                known = ", ".join(a for a in row.aliases if fold(a) != fold(row.title)) or "none"
                raise InvalidInput(f"{row.title} has no alias {alias!r} (aliases: {known}).")
            row = (await film_store.load(conn, films.c.id == row.pk))[0]
        await self._reload_films()
        return _film_view(row)

    # --- admins: feeds ---------------------------------------------------------------------
    async def feed_add(self, guild_id: int, url: str, name: str | None = None) -> FeedView:
        """Fetch ``url`` now; raise FeedRejected (with the reason) unless it is a working feed."""
        url = url.strip()
        if len(url) > MAX_URL:
            raise InvalidInput(f"That address is {len(url)} characters long; at most {MAX_URL}.")
        if not re.match(r"^https?://[^\s/]+", url, re.I) or " " in url:
            raise InvalidInput(
                f"{url[:100]!r} is not a web address. Give the feed's full http:// or https:// URL."
            )
        if name is not None:
            name = _check_name(name, "name", MAX_TITLE)
        fetched = await self.fetcher.fetch(url)
        if fetched.error or fetched.body is None:
            raise FeedRejected(f"Could not add {url}: {fetched.error or 'the server sent nothing'}")
        loop = asyncio.get_running_loop()
        parsed, _ = await loop.run_in_executor(
            self._parse_pool(), parse_and_classify, fetched.body, fetched.final_url, name, ()
        )
        if parsed.error:
            raise FeedRejected(f"Could not add {url}: {parsed.error}")
        now = self.now()
        async with self.engine.begin() as conn:
            pk = await feed_store.get_or_create(conn, url, name or parsed.title, now)
            await feed_store.set_guild_watching(conn, guild_id, pk, True, now)
            await feed_store.enable(conn, pk)
        return next(f for f in await self.feed_list(guild_id) if f.id == pk)

    async def feed_remove(self, guild_id: int, url_or_id: str) -> FeedView:
        text = url_or_id.strip()
        watched = await self.feed_list(guild_id)
        hit = [f for f in watched if str(f.id) == text or f.url == text or f.url == text + "/"]
        if not hit:
            raise UnknownFeed(
                f"This server watches no feed {text!r}. `/feeds list` shows each feed's number "
                "and address."
            )
        async with self.engine.begin() as conn:
            await feed_store.set_guild_watching(conn, guild_id, hit[0].id, False, self.now())
        return hit[0]

    async def feed_list(self, guild_id: int) -> list[FeedView]:
        async with self.engine.connect() as conn:
            rows = list(
                await conn.execute(
                    select(
                        feeds.c.id,
                        feeds.c.url,
                        feeds.c.name,
                        feeds.c.shared,
                        feeds.c.last_polled_at,
                        feeds.c.last_error,
                        feeds.c.failure_count,
                        feeds.c.disabled_reason,
                    )
                    .where(feed_store.watched_by(guild_id))
                    .order_by(feeds.c.id)
                )
            )
            counts = await feed_store.story_counts(conn, [r[0] for r in rows])
        return [FeedView(*r, stories=counts.get(r[0], 0)) for r in rows]

    # --- subscriptions ---------------------------------------------------------------------
    async def subscribe(
        self, guild_id: int, channel_id: int, film: str | None = None, role_id: int | None = None
    ) -> SubscriptionView:
        async with self.engine.begin() as conn:
            pk = (await self._resolve(conn, guild_id, film)).pk if film else None
            return await delivery.subscribe(conn, guild_id, channel_id, pk, role_id, self.now())

    async def unsubscribe(
        self, guild_id: int, channel_id: int, film: str | None = None
    ) -> SubscriptionView:
        async with self.engine.begin() as conn:
            pk = (await self._resolve(conn, guild_id, film)).pk if film else None
            removed = await delivery.unsubscribe(conn, guild_id, channel_id, pk)
        if removed is None:
            what = f"for {film!r}" if film else "for every film"
            raise InvalidInput(
                f"That channel has no subscription {what}. `/subscriptions` lists this server's."
            )
        return removed

    async def remove_subscription(self, guild_id: int, subscription_id: int) -> SubscriptionView:
        """By number, as ``/subscriptions`` lists them: the way to remove a subscription whose
        channel was deleted (Discord's channel picker cannot name it any more)."""
        async with self.engine.begin() as conn:
            removed = await delivery.remove_subscription(conn, guild_id, subscription_id)
        if removed is None:
            raise InvalidInput(
                f"This server has no subscription #{subscription_id}. "
                "`/subscriptions` lists them with their numbers."
            )
        return removed

    async def subscriptions(self, guild_id: int) -> list[SubscriptionView]:
        async with self.engine.connect() as conn:
            return await delivery.list_for_guild(conn, guild_id)

    # --- delivery --------------------------------------------------------------------------
    async def claim_outbox(
        self,
        limit: int = 20,
        *,
        shard_count: int = 1,
        shard_ids: Sequence[int] | None = None,
        now: datetime | None = None,
    ) -> list[OutboxItem]:
        """Due, unsent outbox rows, oldest first, for guilds whose shard
        ``(guild_id >> 22) % shard_count`` is in ``shard_ids`` (all when None). A claimed row
        is leased for a while so another process does not take it meanwhile."""
        async with self.engine.begin() as conn:
            return await delivery.claim(
                conn,
                now or self.now(),
                limit=limit,
                lease=OUTBOX_LEASE,
                shard_count=shard_count,
                shard_ids=shard_ids,
            )

    async def mark_sent(self, outbox_id: int, message_id: int) -> None:
        async with self.engine.begin() as conn:
            await delivery.mark_sent(conn, outbox_id, message_id, self.now())
        self.metrics.alerts_sent.inc()

    async def mark_failed(self, outbox_id: int, error: str) -> None:
        """Discord refused the message itself (a 400): keep the reason, never send it again."""
        async with self.engine.begin() as conn:
            await delivery.mark_failed(conn, outbox_id, error, self.now())
        self.metrics.alerts_failed.labels("rejected").inc()

    async def release_leases(
        self, *, shard_count: int = 1, shard_ids: Sequence[int] | None = None
    ) -> int:
        """At start-up: take back the rows of our shards that a crashed process had leased."""
        async with self.engine.begin() as conn:
            return await delivery.release_leases(conn, shard_count, shard_ids)

    async def mark_retry(self, outbox_id: int, error: str, retry_in: float) -> None:
        """The send failed in a way worth retrying (5xx, timeout, 429): try again later."""
        async with self.engine.begin() as conn:
            await delivery.mark_retry(
                conn, outbox_id, error, self.now() + timedelta(seconds=retry_in)
            )
        self.metrics.alerts_failed.labels("retry").inc()

    async def disable_subscription(self, subscription_id: int, reason: str) -> bool:
        """403/404 from Discord: stop delivering there, keep the reason for /subscriptions,
        and drop that subscription's pending rows. True the first time, so the caller tells
        the guild's admins once."""
        self.metrics.alerts_failed.labels("disabled").inc()
        async with self.engine.begin() as conn:
            return await delivery.disable(conn, subscription_id, reason, self.now())

    async def acquire_send_slot(self) -> None:
        """Wait for the bot-wide send budget before one Discord send. discord.py paces its
        own process only; the bucket lives in the database so every shard process shares it."""
        rate = self.config.discord.send_rate
        while True:
            async with self.engine.begin() as conn:
                wait = await budget.take(
                    conn, "discord-send", rate=rate, burst=max(1.0, rate), now=datetime.now(UTC)
                )
            if wait <= 0:
                return
            await asyncio.sleep(wait)

    async def pending_alerts(self) -> int:
        async with self.engine.connect() as conn:
            return await delivery.pending_count(conn)


# --- helpers -------------------------------------------------------------------------------


def _names(row: FilmRow) -> set[str]:
    return {fold(row.key.replace("-", " ")), fold(row.title), *(fold(a) for a in row.aliases)}


def _match_score(query: str, names: set[str]) -> float | None:
    """0 exact, 1 prefix, 2 substring (of a name or of a word in it), 3 fuzzy; None: no match."""
    if not query:
        return 2.0
    if query in names:
        return 0.0
    if any(n.startswith(query) for n in names):
        return 1.0
    if any(query in n for n in names):
        return 2.0
    best = max((difflib.SequenceMatcher(None, query, n).ratio() for n in names), default=0.0)
    return 3.0 + (1 - best) if best >= 0.6 else None


def _film_view(row: FilmRow) -> FilmView:
    return FilmView(
        key=row.key,
        title=row.title,
        aliases=tuple(a for a in row.aliases if fold(a) != fold(row.title)),
        status=row.status,
        shared=row.owner_guild_id == 0,
    )


def _own(row: FilmRow) -> None:
    if row.owner_guild_id == 0:
        raise NotAllowed(
            f"{row.title} comes from the bot's config file and is shared by every server; its "
            "aliases are set there by the bot's operator."
        )


def _invisible(text: str) -> str | None:
    """The first control or format character (C0, C1, DEL, bidi overrides, zero-width…),
    which would make a name look like something it is not, or None."""
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf"):
            return ch
    return None


def _check_name(text: str, what: str, limit: int) -> str:
    clean = " ".join(text.split())
    if not clean:
        raise InvalidInput(f"The {what} must not be empty.")
    if len(clean) > limit:
        raise InvalidInput(f"The {what} is {len(clean)} characters long; at most {limit}.")
    # Checked before whitespace is folded: str.split() also splits on some controls (NEL).
    if (bad := _invisible(text.strip())) is not None:
        raise InvalidInput(
            f"The {what} {clean[:50]!r} contains an invisible or control character "
            f"(U+{ord(bad):04X}); type it again without."
        )
    if not fold(clean):
        raise InvalidInput(f"The {what} {clean[:50]!r} needs at least one letter or digit.")
    if "@everyone" in clean or "@here" in clean or re.search(r"<[@#]", clean):
        raise InvalidInput(f"The {what} must not contain mentions.")
    return clean


def _safe_url(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", url)


def _db_reason(e: BaseException) -> str:
    orig = getattr(e, "orig", None) or e
    if isinstance(orig, OSError) and orig.errno == errno.ECONNREFUSED:
        # The event loops word this differently ("Connect call failed", "Connection
        # refused"); say it one way, with what to check.
        return "connection refused: is the database server running, and listening there?"
    return str(orig).splitlines()[0] if str(orig) else type(orig).__name__
